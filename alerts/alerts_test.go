package alerts_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/alerts"
	"opsbot/core/alert"
)

// recorder stands in for the incident service.
type recorder struct {
	got []alert.Group
	err error
}

func (r *recorder) Ingest(_ context.Context, g alert.Group) (alert.IngestResult, error) {
	r.got = append(r.got, g)
	return alert.IngestResult{IncidentID: 7, Created: true}, r.err
}

const body = `{"version":"4","groupKey":"{}:{alertname=\"Down\"}","truncatedAlerts":0,"status":"firing","receiver":"opsbot",
"groupLabels":{"alertname":"Down"},"commonLabels":{"alertname":"Down","severity":"critical"},"commonAnnotations":{"summary":"site down"},
"externalURL":"http://am:9093","alerts":[{"status":"firing","labels":{"alertname":"Down","instance":"a"},"annotations":{},
"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom","fingerprint":"abc"}]}`

func serve(t *testing.T, rec *recorder) *httptest.Server {
	t.Helper()
	h := alerts.New(alerts.Config{MaxBodyBytes: 4096, Receivers: []alerts.Receiver{
		{Name: "bearer", BearerToken: "tok"}, {Name: "basic", Username: "am", Password: "pw"},
	}}, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h.Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, ts *httptest.Server, b string, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/alerts/alertmanager", strings.NewReader(b))
	require.NoError(t, err)
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func TestReceiver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		auth   func(*http.Request)
		ingest error
		code   int
		want   string
	}{
		{name: "bearer", body: body, auth: bearer("tok"), code: 200, want: `"incident":7`},
		{name: "basic", body: body, auth: func(r *http.Request) { r.SetBasicAuth("am", "pw") }, code: 200},
		{name: "no credentials", body: body, code: 401},
		{name: "wrong token", body: body, auth: bearer("nope"), code: 401},
		{name: "wrong password", body: body, auth: func(r *http.Request) { r.SetBasicAuth("am", "x") }, code: 401},
		{name: "malformed JSON", body: `{"version":`, auth: bearer("tok"), code: 400, want: "malformed JSON"},
		{name: "old version", body: strings.Replace(body, `"version":"4"`, `"version":"3"`, 1), auth: bearer("tok"), code: 400, want: "version"},
		{name: "no group key", body: strings.Replace(body, `"groupKey":"{}:{alertname=\"Down\"}"`, `"groupKey":""`, 1), auth: bearer("tok"), code: 400, want: "groupKey"},
		{name: "bad status", body: strings.Replace(body, `"status":"firing","receiver"`, `"status":"weird","receiver"`, 1), auth: bearer("tok"), code: 400},
		{name: "too large", body: strings.Repeat(" ", 5000) + body, auth: bearer("tok"), code: 413},
		{name: "store down: Alertmanager retries", body: body, auth: bearer("tok"), ingest: errors.New("db down"), code: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{err: tt.ingest}
			code, out := post(t, serve(t, rec), tt.body, tt.auth)
			require.Equal(t, tt.code, code, out)
			require.Contains(t, out, tt.want)
			if tt.code == 401 || tt.code == 400 || tt.code == 413 {
				require.Empty(t, rec.got, "nothing processed")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	g, err := alerts.Decode([]byte(body))
	require.NoError(t, err)
	require.Equal(t, `{}:{alertname="Down"}`, g.GroupKey)
	require.Equal(t, "site down", g.CommonAnnotations["summary"])
	require.Len(t, g.Alerts, 1)
	require.Equal(t, "abc", g.Alerts[0].Fingerprint)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(body))
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"resolved","alerts":[{"status":"resolved","labels":{}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := alerts.Decode(b)
		if err == nil && g.GroupKey == "" {
			t.Fatal("decoded a notification without a group key")
		}
	})
}

// blocker holds every notification until released.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blocker) Ingest(ctx context.Context, _ alert.Group) (alert.IngestResult, error) {
	b.entered <- struct{}{}
	<-b.release
	return alert.IngestResult{IncidentID: 1}, nil
}

func TestAdmissionBoundsWorkInFlight(t *testing.T) {
	t.Parallel()
	b := &blocker{entered: make(chan struct{}, 10), release: make(chan struct{})}
	var busy atomic.Int64
	h := alerts.New(alerts.Config{Receivers: []alerts.Receiver{{Name: "am", BearerToken: "tok"}}, MaxInFlight: 2,
		OnBusy: func() { busy.Add(1) }}, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h.Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	codes := make(chan int, 2)
	for range 2 {
		go func() {
			code, _ := post(t, ts, body, bearer("tok"))
			codes <- code
		}()
	}
	<-b.entered
	<-b.entered
	// Two in flight: the third is turned away at once, not queued.
	req, err := http.NewRequest("POST", ts.URL+"/alerts/alertmanager", strings.NewReader(body))
	require.NoError(t, err)
	bearer("tok")(req)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Equal(t, int64(1), busy.Load())
	close(b.release)
	require.Equal(t, 200, <-codes)
	require.Equal(t, 200, <-codes)
	// Room again once they are done.
	code, _ := post(t, ts, body, bearer("tok"))
	require.Equal(t, 200, code)
	require.Equal(t, int64(1), busy.Load())
}

// TestReceiverKeepsNothingOfAnEarlierBody: bodies are read into reused
// buffers; a notification already handed on keeps its text when the next
// body is read over the buffer it came in, and the answer says what was
// applied, as JSON.
func TestReceiverKeepsNothingOfAnEarlierBody(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := serve(t, rec)
	other := strings.NewReplacer(`Down`, `Gone`, `"instance":"a"`, `"instance":"z"`, `site down`, `site gone`, `abc`, `xyz`).Replace(body)
	for range 3 {
		code, out := post(t, ts, body, bearer("tok"))
		require.Equal(t, 200, code)
		require.JSONEq(t, `{"status":"ok","incident":7,"created":true,"resolved":false}`, out)
		code, _ = post(t, ts, other, bearer("tok"))
		require.Equal(t, 200, code)
	}
	require.Len(t, rec.got, 6)
	for i, g := range rec.got {
		name, instance, fp, summary := "Down", "a", "abc", "site down"
		if i%2 == 1 {
			name, instance, fp, summary = "Gone", "z", "xyz", "site gone"
		}
		require.Equal(t, `{}:{alertname="`+name+`"}`, g.GroupKey, "notification %d", i)
		require.Equal(t, name, g.GroupLabels["alertname"])
		require.Equal(t, summary, g.CommonAnnotations["summary"])
		require.Equal(t, instance, g.Alerts[0].Labels["instance"])
		require.Equal(t, fp, g.Alerts[0].Fingerprint)
	}
}
