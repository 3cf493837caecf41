// Package alerts receives Alertmanager webhooks (version 4) and turns each
// notification into the state of one incident per group, and creates
// Alertmanager silences from chat buttons.
//
// Alertmanager delivers at least once and retries 5xx and network errors,
// never 4xx: a malformed body, or one that can never be stored, gets 400
// with the reason and is dropped by Alertmanager; text Postgres cannot
// hold is cleaned and an alert repeated within a payload is kept once; a
// store failure gets 500 so Alertmanager tries again; ingestion is
// idempotent for a repeated post.
package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/alertmanager/template"

	"opsbot/core"
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
	// MaxInFlight bounds the notifications being applied at once (queued
	// for a batch or in one); beyond it a post gets 503 with Retry-After
	// at once, which Alertmanager retries. 0: DefaultMaxInFlight.
	MaxInFlight int
	// OnBusy counts a post turned away so (nil: not counted).
	OnBusy func()
}

// DefaultMaxInFlight sizes admission for the machine: 32 notifications a
// core, at least 64 — enough to keep every batch worker's batches full,
// few enough that a post admitted waits a few batches at most.
func DefaultMaxInFlight() int { return max(64, 32*runtime.GOMAXPROCS(0)) }

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
	cfg      Config
	in       Ingester
	log      *slog.Logger
	inFlight atomic.Int64
}

// New returns the receiver.
func New(cfg Config, in Ingester, logger *slog.Logger) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight()
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

// reply answers with v as JSON (as json.Encoder writes it, a newline
// after it).
func reply(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	writeJSON(w, code, append(b, '\n'))
}

// writeJSON answers with the JSON body b.
func writeJSON(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// ServeHTTP receives one notification.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc, ok := h.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
		reply(w, http.StatusUnauthorized, map[string]string{"error": "alerts: missing or wrong credentials"})
		return
	}
	// Admission: a post beyond the bound is turned away before any work,
	// so the posts admitted keep a short wait.
	if h.inFlight.Add(1) > int64(h.cfg.MaxInFlight) {
		h.inFlight.Add(-1)
		if h.cfg.OnBusy != nil {
			h.cfg.OnBusy()
		}
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": "alerts: busy, try again"})
		return
	}
	defer h.inFlight.Add(-1)
	buf := bodies.Get().(*bytes.Buffer)
	defer putBody(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	body := buf.Bytes()
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
	if errors.Is(err, core.ErrInvalid) {
		// Retrying cannot help: say why, and Alertmanager drops it.
		h.log.Warn("notification refused", "group_key", g.GroupKey, "err", err)
		reply(w, http.StatusBadRequest, map[string]string{"error": "alerts: the notification cannot be stored: " + err.Error()})
		return
	}
	if errors.Is(err, core.ErrRetry) {
		// A conflict with concurrent work that outlasted the batcher's retry.
		h.log.Warn("ingest gave way to concurrent work; Alertmanager will retry", "group_key", g.GroupKey, "err", err)
		w.Header().Set("Retry-After", "5")
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": "alerts: busy, try again"})
		return
	}
	if err != nil {
		h.log.Error("ingest failed; Alertmanager will retry", "group_key", g.GroupKey, "err", err)
		reply(w, http.StatusInternalServerError, map[string]string{"error": "alerts: could not store the notification"})
		return
	}
	replyOK(w, res)
}

// bodies holds buffers that webhook bodies are read into: a body is
// decoded into strings of their own (encoding/json copies), so its buffer
// is free again once Decode returns.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns a body's buffer to bodies, unless a large body grew it.
func putBody(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	bodies.Put(b)
}

// replyOK answers an applied notification, as reply would encode it (its
// fields in encoding/json's order), without a map and an encoder per post.
func replyOK(w http.ResponseWriter, res alert.IngestResult) {
	b := make([]byte, 0, 96)
	b = strconv.AppendBool(append(b, `{"created":`...), res.Created)
	b = strconv.AppendInt(append(b, `,"incident":`...), res.IncidentID, 10)
	b = strconv.AppendBool(append(b, `,"resolved":`...), res.Resolved)
	writeJSON(w, http.StatusOK, append(b, `,"status":"ok"}`+"\n"...))
}

// Limits on the keys an alert is stored under (Postgres indexes hold at
// most about 2,700 bytes per row). Alertmanager's own are far shorter.
const (
	maxGroupKey    = 2000
	maxFingerprint = 200
	// longLabels is the length from which a fingerprint computed from
	// labels is their SHA-256 rather than the labels themselves.
	longLabels = 200
)

// Decode parses and checks a webhook body. Text Postgres cannot store (a
// NUL character, invalid UTF-8) is cleaned with core.CleanText; an alert
// sent twice in one payload (the same fingerprint, or the same labels
// when there is none) is kept once, the last time; keys too long to
// index are refused.
func Decode(body []byte) (alert.Group, error) {
	var p payload
	if err := unmarshal(body, &p); err != nil {
		return alert.Group{}, fmt.Errorf("alerts: malformed JSON: %w", err)
	}
	if p.Version != "4" {
		return alert.Group{}, fmt.Errorf("alerts: webhook version %q is not supported (want \"4\")", p.Version)
	}
	p.GroupKey = core.CleanText(p.GroupKey)
	if p.GroupKey == "" {
		return alert.Group{}, errors.New("alerts: groupKey is missing")
	}
	if len(p.GroupKey) > maxGroupKey {
		return alert.Group{}, fmt.Errorf("alerts: groupKey is %d bytes long, more than the %d that can be stored", len(p.GroupKey), maxGroupKey)
	}
	if p.Status != "firing" && p.Status != "resolved" {
		return alert.Group{}, fmt.Errorf("alerts: status %q is neither firing nor resolved", p.Status)
	}
	g := alert.Group{Receiver: core.CleanText(p.Receiver), GroupKey: p.GroupKey, Status: p.Status, GroupLabels: cleanMap(p.GroupLabels),
		CommonLabels: cleanMap(p.CommonLabels), CommonAnnotations: cleanMap(p.CommonAnnotations),
		ExternalURL: core.CleanText(p.ExternalURL), Truncated: p.TruncatedAlerts}
	at := map[string]int{} // fingerprint → index in g.Alerts
	for i, a := range p.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return alert.Group{}, fmt.Errorf("alerts: alert %d: status %q is neither firing nor resolved", i, a.Status)
		}
		labels := cleanMap(a.Labels)
		fp := core.CleanText(a.Fingerprint)
		if fp == "" {
			fp = fingerprint(labels)
		}
		if len(fp) > maxFingerprint {
			return alert.Group{}, fmt.Errorf("alerts: alert %d: fingerprint is %d bytes long, more than the %d that can be stored", i, len(fp), maxFingerprint)
		}
		al := alert.Alert{Fingerprint: fp, Status: a.Status, Labels: labels, Annotations: cleanMap(a.Annotations),
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: core.CleanText(a.GeneratorURL)}
		if j, seen := at[fp]; seen {
			g.Alerts[j] = al
			continue
		}
		at[fp] = len(g.Alerts)
		g.Alerts = append(g.Alerts, al)
	}
	return g, nil
}

// cleanMap returns m with its keys and values cleaned for storage.
func cleanMap(m template.KV) template.KV {
	dirty := false
	for k, v := range m {
		if core.TextProblem(k) != "" || core.TextProblem(v) != "" {
			dirty = true
			break
		}
	}
	if !dirty {
		return m
	}
	out := make(template.KV, len(m))
	for k, v := range m {
		out[core.CleanText(k)] = core.CleanText(v)
	}
	return out
}

// fingerprint identifies an alert sent without one by its sorted labels,
// or by their SHA-256 when they are long.
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
	if b.Len() > longLabels {
		sum := sha256.Sum256([]byte(b.String()))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return b.String()
}
