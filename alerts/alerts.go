// Package alerts receives Alertmanager webhooks (version 4) and turns each
// notification into the state of one incident per group, and creates
// Alertmanager silences from chat buttons.
//
// Alertmanager delivers at least once and retries 5xx and network errors,
// never 4xx: a malformed body gets 400 and is dropped by Alertmanager; a
// store failure gets 500 so Alertmanager tries again; ingestion is
// idempotent for a repeated post.
package alerts

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/alertmanager/template"

	"opsbot/core/alert"
)

// Receiver is one set of credentials Alertmanager's http_config uses.
type Receiver struct {
	Name        string
	BearerToken string
	Username    string
	Password    string
}

// Config configures the receiver.
type Config struct {
	Receivers    []Receiver
	MaxBodyBytes int64
}

// Ingester applies a notification (the batcher, or the alert service).
type Ingester interface {
	Ingest(ctx context.Context, g alert.Group) (alert.IngestResult, error)
}

// payload is Alertmanager's webhook body: template.Data plus the webhook's own fields.
type payload struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts int    `json:"truncatedAlerts"`
}

// Handler is the webhook receiver.
type Handler struct {
	cfg Config
	in  Ingester
	log *slog.Logger
}

// New returns the receiver.
func New(cfg Config, in Ingester, logger *slog.Logger) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	return &Handler{cfg: cfg, in: in, log: logger.With("component", "alerts")}
}

// Routes registers the webhook.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("POST /alerts/alertmanager", h)
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authorize returns the receiver whose credentials the request carries.
func (h *Handler) authorize(r *http.Request) (Receiver, bool) {
	auth := r.Header.Get("Authorization")
	user, pass, basic := r.BasicAuth()
	for _, rc := range h.cfg.Receivers {
		if rc.BearerToken != "" && strings.HasPrefix(auth, "Bearer ") && eq(strings.TrimPrefix(auth, "Bearer "), rc.BearerToken) {
			return rc, true
		}
		if rc.Username != "" && basic && eq(user, rc.Username) && eq(pass, rc.Password) {
			return rc, true
		}
	}
	return Receiver{}, false
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP receives one notification.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc, ok := h.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
		reply(w, http.StatusUnauthorized, map[string]string{"error": "alerts: missing or wrong credentials"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reply(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "alerts: body too large"})
			return
		}
		reply(w, http.StatusBadRequest, map[string]string{"error": "alerts: reading body: " + err.Error()})
		return
	}
	g, err := Decode(body)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if g.Receiver == "" {
		g.Receiver = rc.Name
	}
	res, err := h.in.Ingest(r.Context(), g)
	if err != nil {
		h.log.Error("ingest failed; Alertmanager will retry", "group_key", g.GroupKey, "err", err)
		reply(w, http.StatusInternalServerError, map[string]string{"error": "alerts: could not store the notification"})
		return
	}
	reply(w, http.StatusOK, map[string]any{"status": "ok", "incident": res.IncidentID, "created": res.Created, "resolved": res.Resolved})
}

// Decode parses and checks a webhook body.
func Decode(body []byte) (alert.Group, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return alert.Group{}, fmt.Errorf("alerts: malformed JSON: %w", err)
	}
	if p.Version != "4" {
		return alert.Group{}, fmt.Errorf("alerts: webhook version %q is not supported (want \"4\")", p.Version)
	}
	if p.GroupKey == "" {
		return alert.Group{}, errors.New("alerts: groupKey is missing")
	}
	if p.Status != "firing" && p.Status != "resolved" {
		return alert.Group{}, fmt.Errorf("alerts: status %q is neither firing nor resolved", p.Status)
	}
	g := alert.Group{Receiver: p.Receiver, GroupKey: p.GroupKey, Status: p.Status, GroupLabels: p.GroupLabels,
		CommonLabels: p.CommonLabels, CommonAnnotations: p.CommonAnnotations, ExternalURL: p.ExternalURL, Truncated: p.TruncatedAlerts}
	for i, a := range p.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return alert.Group{}, fmt.Errorf("alerts: alert %d: status %q is neither firing nor resolved", i, a.Status)
		}
		fp := a.Fingerprint
		if fp == "" {
			fp = fingerprint(a.Labels)
		}
		g.Alerts = append(g.Alerts, alert.Alert{Fingerprint: fp, Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL})
	}
	return g, nil
}

// fingerprint identifies an alert sent without one by its sorted labels.
func fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + labels[k] + ";")
	}
	return b.String()
}
