package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/paging"
)

// gateway is a test gateway that verifies signatures and answers status.
type gateway struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := Verify("s3cret", r.Header, body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, r)
	g.bodies = append(g.bodies, body)
	w.WriteHeader(g.status)
	if g.status == 200 {
		_, _ = w.Write([]byte(`{"id":"gw-1","status":"queued"}`))
	}
}

func TestSend(t *testing.T) {
	g := &gateway{status: 200}
	srv := httptest.NewServer(g)
	defer srv.Close()
	p, err := New(Config{URL: srv.URL, Secret: "s3cret"})
	require.NoError(t, err)
	pg := paging.Page{Key: "inc-42-step-2-sunli", Kind: paging.KindIncident, Method: paging.MethodSMS, Address: "13800138000",
		UserID: "sunli", IncidentID: 42, Level: 2, Title: "数据库不可用", Text: "【值班】事件 #42 …", AckURL: "https://ops.example.gov.cn/ack/tok"}
	rc, err := p.Send(context.Background(), pg)
	require.NoError(t, err)
	require.Equal(t, paging.Receipt{Provider: "webhook", MessageID: "gw-1", Status: "queued"}, rc)
	require.Equal(t, "inc-42-step-2-sunli", g.got[0].Header.Get(HeaderIdempotency))
	var body map[string]any
	require.NoError(t, json.Unmarshal(g.bodies[0], &body))
	require.Equal(t, map[string]any{"key": "inc-42-step-2-sunli", "kind": "incident", "method": "sms", "address": "13800138000",
		"user": "sunli", "incident_id": float64(42), "level": float64(2), "title": "数据库不可用", "text": "【值班】事件 #42 …",
		"ack_url": "https://ops.example.gov.cn/ack/tok"}, body)

	wrong, err := New(Config{URL: srv.URL, Secret: "other"})
	require.NoError(t, err)
	_, err = wrong.Send(context.Background(), pg)
	require.True(t, paging.IsPermanent(err), "a 401 for a wrong secret is permanent")
}

func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{400, true}, {404, true}, {408, false}, {429, false}, {500, false}, {503, false}} {
		g := &gateway{status: tc.status}
		srv := httptest.NewServer(g)
		p, err := New(Config{URL: srv.URL, Secret: "s3cret"})
		require.NoError(t, err)
		_, err = p.Send(context.Background(), paging.Page{Key: "k", Method: paging.MethodSMS})
		require.Error(t, err)
		require.Equal(t, tc.permanent, paging.IsPermanent(err), tc.status)
		srv.Close()
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"from":"13800138000","text":"1"}`)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1700000000")
	h.Set(HeaderSignature, Sign("s3cret", 1700000000, body))
	require.NoError(t, Verify("s3cret", h, body, now))
	require.ErrorIs(t, Verify("other", h, body, now), ErrBadSignature)
	require.ErrorIs(t, Verify("s3cret", h, []byte(`{"text":"2"}`), now), ErrBadSignature)
	require.ErrorIs(t, Verify("s3cret", h, body, now.Add(10*time.Minute)), ErrBadSignature, "replayed later")
	_, err := New(Config{URL: "ftp://x", Secret: "s"})
	require.ErrorContains(t, err, "http://")
}
