// Package webhook pages through a generic HTTP gateway (a government SMS
// gateway, say): it POSTs each page as JSON, signed with HMAC-SHA256, and
// verifies the gateway's signed replies the same way.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opsbot/core/paging"
)

// Headers of a signed request.
const (
	HeaderSignature   = "X-Opsbot-Signature" // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
	HeaderTimestamp   = "X-Opsbot-Timestamp" // Unix seconds
	HeaderIdempotency = "X-Idempotency-Key"  // the page's key
	MaxSkew           = 5 * time.Minute      // how old (or new) a signed request may be
)

// Sign returns the X-Opsbot-Signature value for body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by Verify for a request that is not signed
// with the secret, or signed too long ago.
var ErrBadSignature = errors.New("webhook: bad or expired signature")

// Verify checks the signature headers h of body against secret at now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > MaxSkew {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(h.Get(HeaderSignature))) {
		return ErrBadSignature
	}
	return nil
}

// Config configures the provider.
type Config struct {
	URL     string          // the gateway; a webhook page whose address is an http(s) URL goes there instead
	Secret  string          // the HMAC key shared with the gateway
	Methods []paging.Method // what the gateway can deliver; default all four (its config entry's methods choose)

	HTTPClient *http.Client
	Now        func() time.Time
}

// Provider sends pages to the gateway.
type Provider struct{ cfg Config }

// New checks cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	if cfg.URL == "" || cfg.Secret == "" {
		return nil, errors.New("webhook: url and secret are required (缺少网关地址 url 或签名密钥 secret)")
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("webhook: url %q is not http(s) (网关地址须以 http:// 或 https:// 开头)", cfg.URL)
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = []paging.Method{paging.MethodSMS, paging.MethodVoice, paging.MethodEmail, paging.MethodWebhook}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg}, nil
}

// Name is "webhook".
func (p *Provider) Name() string { return "webhook" }

// Methods are the configured methods.
func (p *Provider) Methods() []paging.Method { return p.cfg.Methods }

// payload is the JSON a page is posted as.
type payload struct {
	Key        string `json:"key"`
	Kind       string `json:"kind"`
	Method     string `json:"method"`
	Address    string `json:"address"`
	User       string `json:"user"`
	IncidentID int64  `json:"incident_id,omitempty"`
	Level      int    `json:"level,omitempty"`
	Title      string `json:"title,omitempty"`
	Text       string `json:"text"`
	AckURL     string `json:"ack_url,omitempty"`
}

// Send posts pg to the gateway: 2xx is accepted, 408, 429 and 5xx are
// retried, any other 4xx is permanent.
func (p *Provider) Send(ctx context.Context, pg paging.Page) (paging.Receipt, error) {
	target := p.cfg.URL
	if pg.Method == paging.MethodWebhook && (strings.HasPrefix(pg.Address, "https://") || strings.HasPrefix(pg.Address, "http://")) {
		target = pg.Address
	}
	body, err := json.Marshal(payload{Key: pg.Key, Kind: string(pg.Kind), Method: string(pg.Method), Address: pg.Address,
		User: pg.UserID, IncidentID: pg.IncidentID, Level: pg.Level, Title: pg.Title, Text: pg.Text, AckURL: pg.AckURL})
	if err != nil {
		return paging.Receipt{}, paging.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("webhook: %w", err))
	}
	ts := p.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(p.cfg.Secret, ts, body))
	if pg.Key != "" {
		req.Header.Set(HeaderIdempotency, pg.Key)
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return paging.Receipt{}, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var r struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		_ = json.Unmarshal(raw, &r) // a gateway need not answer JSON
		if r.ID == "" {
			r.ID = pg.Key
		}
		if r.Status == "" {
			r.Status = strconv.Itoa(resp.StatusCode)
		}
		return paging.Receipt{Provider: "webhook", MessageID: r.ID, Status: r.Status}, nil
	case resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500:
		return paging.Receipt{}, fmt.Errorf("webhook: HTTP %d: %.200s", resp.StatusCode, raw)
	default:
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("webhook: HTTP %d: %.200s", resp.StatusCode, raw))
	}
}
