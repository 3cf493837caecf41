package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/api/apitest"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/backup"
)

// reportRecorder is a BackupService that records who reported.
type reportRecorder struct {
	BackupService
	actors []core.Actor
}

func (r *reportRecorder) Report(_ context.Context, actor core.Actor, system string, ok bool, kind, note, source string) (backup.ReportResult, error) {
	r.actors = append(r.actors, actor)
	return backup.ReportResult{Report: backup.Report{ID: 1, Day: "2026-11-25", OK: ok, Kind: "full", Source: source}}, nil
}

// TestBackupScriptToken: backups.token is the report route's own legacy
// credential, acting as the backup script; it opens no other route, a
// wrong one falls through to the authenticator, and "" turns it off.
func TestBackupScriptToken(t *testing.T) {
	for _, c := range []struct {
		name, configured, sent string
		status                 int
		actor                  core.Actor
	}{
		{"the script's token", "s3cret", "s3cret", 200, backup.ScriptActor()},
		{"a user's API token", "s3cret", "rw", 200, core.Actor{UserID: "zhengmin", Name: "郑敏", Platform: access.PlatformAPI}},
		{"a wrong token", "s3cret", "s3cre", 401, core.Actor{}},
		{"no token configured", "", "", 401, core.Actor{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &reportRecorder{}
			auth := fakeAuth{"rw": {Actor: core.Actor{UserID: "zhengmin", Name: "郑敏", Platform: access.PlatformAPI}, Via: access.ViaToken, Scope: access.ScopeWrite}}
			a, err := New(Config{Auth: auth, Explain: explain, Backups: rec, BackupsToken: c.configured, Profiles: fakeProfiles{}},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			mux := http.NewServeMux()
			a.Routes(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			h := apitest.New(t, srv.URL)
			code, body := h.Do("POST", "/api/v1/backups/report", bearer(c.sent), BackupReportRequest{System: "cmdb", Status: "ok"})
			require.Equal(t, c.status, code, string(body))
			if c.status == 200 {
				require.Equal(t, []core.Actor{c.actor}, rec.actors)
			} else {
				require.Empty(t, rec.actors)
			}
			code, _ = h.Do("GET", "/api/v1/me", bearer(c.sent), nil)
			require.Equal(t, map[bool]int{true: 200, false: 401}[c.sent == "rw"], code, "the script's token opens nothing else")
		})
	}
}
