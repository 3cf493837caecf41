package alerts_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/alerts"
	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/tasks/faulttest"
)

// realReceiver serves the webhook over the real alert service and Postgres.
func realReceiver(t *testing.T) (*httptest.Server, *postgres.Store) {
	t.Helper()
	ctx := context.Background()
	store := pgtest.New(t)
	_, err := org.NewService(store.Org(), core.SystemClock{}).Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	cal := calendar.New(time.UTC, nil)
	rotations := duty.NewService(store.Duty(), core.SystemClock{}, cal)
	incidents := incident.NewService(store.Incidents(), core.SystemClock{}, cal, incident.Config{Policy: incident.DefaultPolicy()},
		incident.Deps{Roster: rotations, Coverer: rotations})
	svc := alert.NewService(store.Alerts(), core.SystemClock{}, cal, alert.Config{SeverityLevels: map[string]int{"critical": 1},
		LevelLabel: "level", ReopenWindow: 30 * time.Minute, UpdateEvery: 30 * time.Second}, incidents)
	h := alerts.New(alerts.Config{Receivers: []alerts.Receiver{{Name: "am", BearerToken: "tok"}}}, svc,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h.Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts, store
}

// TestReceiverPoisonInput: what Postgres cannot store as sent (a NUL in a
// label or annotation, the same alert twice in one payload) is cleaned or
// deduplicated and stored (200), or refused with the reason (400) — never
// a 500 that Alertmanager would retry for ever.
//
// It is a case of the fault suite (scripts/faults.sh): lost counts the
// answers Alertmanager would retry for ever (5xx), duplicated the alerts
// stored more than once.
func TestFaultReceiverPoisonInput(t *testing.T) {
	t.Parallel()
	ts, store := realReceiver(t)
	var lost, duplicated atomic.Int64
	t.Cleanup(func() { faulttest.Report(t, "poison-input-alertmanager", int(lost.Load()), int(duplicated.Load())) })
	var long [3000]byte
	_, _ = rand.Read(long[:])
	tests := []struct {
		name   string
		body   string
		code   int
		want   string
		alerts int // alerts stored for the group
	}{
		{name: "NUL in a label value", code: 200, alerts: 1,
			body: strings.Replace(body, `"instance":"a"`, `"instance":"a\u0000b"`, 1)},
		{name: "NUL in a label name", code: 200, alerts: 1,
			body: strings.Replace(body, `"instance":"a"`, `"inst\u0000ance":"a"`, 1)},
		{name: "NUL in an annotation", code: 200, alerts: 1,
			body: strings.Replace(body, `"annotations":{}`, `"annotations":{"summary":"disk\u0000full"}`, 1)},
		{name: "NUL in a common annotation and the group key", code: 200, alerts: 1,
			body: strings.Replace(strings.Replace(body, `"site down"`, `"site\u0000down"`, 1), `"Down\"}"`, `"Do\u0000wn\"}"`, 1)},
		{name: "NUL in the fingerprint", code: 200, alerts: 1,
			body: strings.Replace(body, `"fingerprint":"abc"`, `"fingerprint":"a\u0000bc"`, 1)},
		{name: "two identical alerts without fingerprints", code: 200, alerts: 1,
			body: strings.Replace(twice(body), `,"fingerprint":"abc"`, ``, 2)},
		{name: "two alerts with one fingerprint", code: 200, alerts: 1, body: twice(body)},
		{name: "a group key longer than an index holds", code: 400, want: "groupKey",
			body: strings.Replace(body, `"groupKey":"{}:{alertname=\"Down\"}"`, `"groupKey":"`+hex.EncodeToString(long[:])+`"`, 1)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case is its own group, so the counts are its own.
			b := strings.ReplaceAll(tt.body, `alertname=\"`, `alertname=\"`+string(rune('a'+i)))
			for range 2 { // Alertmanager's retry gets the same answer
				code, out := post(t, ts, b, bearer("tok"))
				if code >= 500 {
					lost.Add(1)
				}
				require.Equal(t, tt.code, code, out)
				require.Contains(t, out, tt.want)
			}
			if tt.code != 200 {
				return
			}
			var n int
			require.NoError(t, store.Pool().QueryRow(context.Background(),
				`SELECT count(*) FROM alerts a JOIN alert_groups g USING (group_key) WHERE g.group_key LIKE '%' || $1 || '%'`,
				string(rune('a'+i))+"Down").Scan(&n))
			if strings.Contains(tt.name, "group key") {
				require.NoError(t, store.Pool().QueryRow(context.Background(),
					`SELECT count(*) FROM alerts WHERE group_key LIKE '%' || $1 || '%'`, string(rune('a'+i))+"Do").Scan(&n))
			}
			if n > tt.alerts {
				duplicated.Add(int64(n - tt.alerts))
			}
			require.Equal(t, tt.alerts, n)
		})
	}
}

// twice repeats the one alert of a webhook body.
func twice(b string) string {
	start := strings.Index(b, `"alerts":[`) + len(`"alerts":[`)
	end := strings.LastIndex(b, `]`)
	one := b[start:end]
	return b[:start] + one + "," + one + b[end:]
}
