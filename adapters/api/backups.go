// Package api is opsbot's REST API, /api/v1: a table of routes (Route),
// each served on the mux and described in the OpenAPI 3.1 document
// generated from the same table, calling the same core services as the
// chat commands. Backup scripts report their results here too (W 8.4.4),
// so a check needs no person to type it.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"opsbot/core"
	"opsbot/core/backup"
)

// Reporter records backup reports.
type Reporter interface {
	Report(ctx context.Context, actor core.Actor, system string, ok bool, kind, note, source string) (backup.ReportResult, error)
}

// Explain turns an error into the message a person would read.
type Explain func(err error) string

// Backups serves POST /api/v1/backups/report.
type Backups struct {
	token    string
	reporter Reporter
	explain  Explain
	maxBody  int64
	log      *slog.Logger
}

// NewBackups returns the endpoint; an empty token leaves it off (404).
func NewBackups(token string, reporter Reporter, explain Explain, maxBody int64, logger *slog.Logger) *Backups {
	if maxBody <= 0 {
		maxBody = 64 << 10
	}
	return &Backups{token: token, reporter: reporter, explain: explain, maxBody: maxBody, log: logger.With("component", "api")}
}

// Routes registers the endpoint when a token is configured.
func (b *Backups) Routes(mux Registrar) {
	if b.token == "" {
		return
	}
	mux.HandleFunc("POST /api/v1/backups/report", b.report)
}

// ReportRequest is what a backup script posts.
type ReportRequest struct {
	System string `json:"system"`
	Status string `json:"status"` // ok | fail
	Kind   string `json:"kind"`   // full | incremental | "" (full on the plan's full-backup day)
	Note   string `json:"note"`
}

// ReportResponse is the answer.
type ReportResponse struct {
	Report   int64   `json:"report"`
	Day      string  `json:"day"`
	Fault    int64   `json:"fault,omitempty"`
	Incident int64   `json:"incident,omitempty"`
	Closed   []int64 `json:"closed_faults,omitempty"`
	// NotFull: an incremental backup on the full-backup day, accepted but
	// counted as a missing full backup (the operators are told).
	NotFull bool `json:"not_full,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *Backups) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(b.token)) == 1
}

// unstorable refuses a field Postgres could not store (a NUL character,
// invalid UTF-8), naming it: a script's report is not silently changed.
func unstorable(req ReportRequest) error {
	for _, f := range [][2]string{{"system", req.System}, {"kind", req.Kind}, {"note", req.Note}} {
		if err := core.CheckText(f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backups) report(w http.ResponseWriter, r *http.Request) {
	if !b.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	var req ReportRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, b.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_json", "message": err.Error()})
		return
	}
	var ok bool
	switch strings.ToLower(req.Status) {
	case "ok", "success":
		ok = true
	case "fail", "failed", "error":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_status", "message": `status must be "ok" or "fail"`})
		return
	}
	actor := core.Actor{UserID: core.SystemUser, Name: "backup script", Platform: core.PlatformAPI}
	err := unstorable(req)
	var res backup.ReportResult
	if err == nil {
		res, err = b.reporter.Report(r.Context(), actor, req.System, ok, req.Kind, req.Note, "api")
	}
	if err != nil {
		code := http.StatusInternalServerError
		var ce *core.Error
		if errors.As(err, &ce) {
			switch {
			case errors.Is(err, core.ErrNotFound):
				code = http.StatusNotFound
			case errors.Is(err, core.ErrInvalid):
				code = http.StatusBadRequest
			case errors.Is(err, core.ErrConflict):
				code = http.StatusConflict
			case errors.Is(err, core.ErrForbidden):
				code = http.StatusForbidden
			}
			writeJSON(w, code, map[string]string{"error": ce.Code, "message": b.explain(err)})
			return
		}
		b.log.Error("backup report failed", "system", req.System, "err", err)
		writeJSON(w, code, map[string]string{"error": "internal", "message": b.explain(err)})
		return
	}
	out := ReportResponse{Report: res.Report.ID, Day: res.Report.Day, NotFull: res.NotFull}
	if res.Fault != nil {
		out.Fault, out.Incident = res.Fault.ID, res.Incident.ID
	}
	for _, f := range res.Closed {
		out.Closed = append(out.Closed, f.ID)
	}
	writeJSON(w, http.StatusOK, out)
}
