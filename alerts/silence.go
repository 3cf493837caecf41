package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/alert"
)

// Client talks to Alertmanager's v2 API.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client for the Alertmanager at base (e.g. http://127.0.0.1:9093).
func NewClient(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

type matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// CreateSilence silences alerts matching every label until end.
func (c *Client) CreateSilence(ctx context.Context, labels map[string]string, start, end time.Time, createdBy, comment string) (string, error) {
	if len(labels) == 0 {
		return "", fmt.Errorf("alertmanager: no matchers to silence with")
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ms := make([]matcher, len(keys))
	for i, k := range keys {
		ms[i] = matcher{Name: k, Value: labels[k], IsEqual: true}
	}
	body, _ := json.Marshal(map[string]any{"matchers": ms, "startsAt": start.UTC().Format(time.RFC3339),
		"endsAt": end.UTC().Format(time.RFC3339), "createdBy": createdBy, "comment": comment})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v2/silences", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("alertmanager: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("alertmanager: create silence: %w", err)
		}
		// Refused, timed out, no such host: in dev there is often no
		// Alertmanager at all, which the user should be told plainly.
		return "", core.Invalid("alertmanager_unreachable", "url", c.base)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("alertmanager: create silence: %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	var r struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.SilenceID == "" {
		return "", fmt.Errorf("alertmanager: create silence: unexpected answer %q", out)
	}
	return r.SilenceID, nil
}

// Targets finds the matchers of an alert incident's group for an actor
// who may silence it, and records a silence (the alert service).
type Targets interface {
	SilenceTarget(ctx context.Context, actor core.Actor, id int64) (alert.SilenceTarget, error)
	RecordSilence(ctx context.Context, actor core.Actor, id int64, silenceID string, matchers []alert.Matcher, until time.Time) error
}

// Silencer creates silences for alert incidents and records who did.
type Silencer struct {
	targets Targets
	client  *Client
	loc     *time.Location
	clock   core.Clock
}

// NewSilencer returns a silencer; client may be nil when no Alertmanager URL is configured.
func NewSilencer(targets Targets, client *Client, loc *time.Location, clock core.Clock) *Silencer {
	return &Silencer{targets: targets, client: client, loc: loc, clock: clock}
}

// Until turns a button's span ("1h", "4h", "tomorrow": the next 09:00) into an end time.
func (s *Silencer) Until(span string) (time.Time, error) {
	now := s.clock.Now()
	if span == "tomorrow" {
		// "Until tomorrow morning": the next 09:00, which after midnight is today's.
		t := now.In(s.loc)
		nine := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, s.loc)
		if !nine.After(t) {
			nine = nine.AddDate(0, 0, 1)
		}
		return nine, nil
	}
	if h, err := strconv.Atoi(strings.TrimSuffix(span, "h")); err == nil && h > 0 && h <= 72 && strings.HasSuffix(span, "h") {
		return now.Add(time.Duration(h) * time.Hour), nil
	}
	return time.Time{}, core.Invalid("silence_span", "value", span)
}

// Silence silences an alert incident's group for span, when actor may
// (nothing reaches Alertmanager otherwise), and records it on the incident
// and in the audit log with its matchers.
func (s *Silencer) Silence(ctx context.Context, actor core.Actor, id int64, span string) (string, time.Time, error) {
	if s.client == nil {
		return "", time.Time{}, core.Invalid("no_alertmanager")
	}
	until, err := s.Until(span)
	if err != nil {
		return "", time.Time{}, err
	}
	t, err := s.targets.SilenceTarget(ctx, actor, id)
	if err != nil {
		return "", time.Time{}, err
	}
	sid, err := s.client.CreateSilence(ctx, t.Labels, s.clock.Now(), until, actor.Name+" ("+actor.UserID+") via opsbot",
		fmt.Sprintf("opsbot incident #%d: %s", id, t.Incident.Title))
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.targets.RecordSilence(ctx, actor, id, sid, alert.Matchers(t.Labels), until); err != nil {
		return sid, until, err
	}
	return sid, until, nil
}
