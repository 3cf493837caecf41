package webchat_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/webchat"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/storage/postgres/pgtest"
)

// echo stands in for the bot: it answers every event with its text.
type echo struct{}

func (echo) Handle(_ context.Context, ev bot.Event) []bot.Message {
	return []bot.Message{{Status: bot.StatusOK, Title: ev.UserRef, Text: ev.Text + ev.Action}}
}

func server(t *testing.T, cfg webchat.Config) *httptest.Server {
	t.Helper()
	a := webchat.New(cfg, pgtest.New(t).Webchat(), echo{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	return call(t, "POST", url, token, strings.NewReader(body))
}

// call sends one request, with a bearer token unless it is "".
func call(t *testing.T, method, url, token string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// fakeAuth stands in for the sign-in Guard: bearer "alice" is alice's
// session, "reader" a read-only token, "limited" over its rate limit,
// "nocsrf" a session without its CSRF token; anything else is refused.
type fakeAuth struct{}

func (fakeAuth) Authenticate(r *http.Request) (access.Principal, error) {
	who := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch who {
	case "alice":
		return access.Principal{Actor: core.Actor{UserID: "alice"}, Via: access.ViaSession, Scope: access.ScopeWrite}, nil
	case "reader":
		return access.Principal{Actor: core.Actor{UserID: "rita"}, Via: access.ViaToken, Scope: access.ScopeRead}, nil
	case "limited":
		return access.Principal{}, &access.RateLimited{RetryAfter: 1500 * time.Millisecond}
	case "nocsrf":
		return access.Principal{}, core.Forbidden("csrf")
	}
	return access.Principal{}, access.ErrUnauthenticated
}

// TestSignedInUserOnly: outside dev mode every call goes through the
// Authenticator and acts as its user only; user in a request must be
// empty or that user (403 otherwise).
func TestSignedInUserOnly(t *testing.T) {
	t.Parallel()
	ts := server(t, webchat.Config{Auth: fakeAuth{}})
	u := ts.URL + "/webchat/api/"
	code, out := post(t, u+"messages", "", `{"user":"alice","channel":"","text":"/whoami"}`)
	require.Equal(t, 401, code, out)
	require.Contains(t, out, "/auth/login")
	code, out = post(t, u+"messages", "alice", `{"channel":"","text":"/whoami"}`)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"title":"alice"`, "the signed-in user acts, no user field needed")
	code, out = post(t, u+"messages", "alice", `{"user":"admin","channel":"","text":"/whoami"}`)
	require.Equal(t, 403, code, out)
	require.Contains(t, out, "signed in as alice")
	code, _ = get(t, u+"inbox?user=admin&after=0", "alice")
	require.Equal(t, 403, code, "cannot read another's inbox")
	code, _ = get(t, u+"inbox?after=0", "alice")
	require.Equal(t, 200, code)
	code, out = get(t, u+"channel?name=ops&after=0", "alice")
	require.Equal(t, 403, code, "not a member: %s", out)
	code, out = get(t, u+"me", "alice")
	require.Equal(t, 200, code)
	require.Contains(t, out, `"user":"alice"`)

	code, out = post(t, u+"messages", "reader", `{"text":"/whoami"}`)
	require.Equal(t, 403, code, "a read-only token sends no commands: %s", out)
	code, _ = get(t, u+"inbox?after=0", "reader")
	require.Equal(t, 200, code, "but reads")
	code, out = post(t, u+"messages", "nocsrf", `{"text":"/whoami"}`)
	require.Equal(t, 403, code)
	require.Contains(t, out, "X-CSRF-Token")
	req, _ := http.NewRequest("GET", u+"inbox?after=0", nil)
	req.Header.Set("Authorization", "Bearer limited")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 429, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"))

	// Without an Authenticator nothing gets in; the page needs none.
	none := server(t, webchat.Config{})
	code, _ = post(t, none.URL+"/webchat/api/messages", "alice", `{"text":"/whoami"}`)
	require.Equal(t, 401, code)
	resp, err = http.Get(none.URL + "/webchat/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	ts := server(t, webchat.Config{DevMode: true, MaxBodyBytes: 256})
	code, out := post(t, ts.URL+"/webchat/api/messages", "", `{"user":"u","channel":"","text":"`+strings.Repeat("x", 300)+`"}`)
	require.Equal(t, 413, code, out)
	code, out = post(t, ts.URL+"/webchat/api/messages", "", `{"user":"u","channel":"Bad Name","text":"/x"}`)
	require.Equal(t, 400, code, out)
	require.Contains(t, out, "not a valid channel name")
	code, out = post(t, ts.URL+"/webchat/api/messages", "", `{"user":"","text":"/x"}`)
	require.Equal(t, 400, code, out)
	code, out = post(t, ts.URL+"/webchat/api/messages", "", `{"user":"u","text":"/x"} {}`)
	require.Equal(t, 400, code, out)
	code, out = post(t, ts.URL+"/webchat/api/actions", "", `{"user":"u","message_id":"abc","action":"x"}`)
	require.Equal(t, 400, code, out)
}

// TestChannelsAreClosed: posting into a channel one is not in is refused
// and joins nothing; a member posts and reads.
func TestChannelsAreClosed(t *testing.T) {
	t.Parallel()
	members := func(_ context.Context, user string) ([]string, error) {
		if user == "m" {
			return []string{"ops"}, nil
		}
		return nil, nil
	}
	ts := server(t, webchat.Config{DevMode: true, Channels: members})
	code, out := post(t, ts.URL+"/webchat/api/messages", "", `{"user":"u","channel":"ops","text":"/x"}`)
	require.Equal(t, 403, code, out)
	require.Contains(t, out, "not a member of channel ops")
	code, out = get(t, ts.URL+"/webchat/api/channels?user=u", "")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"channels":[]}`, out)
	code, out = get(t, ts.URL+"/webchat/api/channel?name=ops&user=u&after=0", "")
	require.Equal(t, 403, code, out)

	code, out = post(t, ts.URL+"/webchat/api/messages", "", `{"user":"m","channel":"ops","text":"/x"}`)
	require.Equal(t, 200, code, out)
	code, out = get(t, ts.URL+"/webchat/api/channel?name=ops&user=m&after=0", "")
	require.Equal(t, 200, code, out)
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	return call(t, "GET", url, token, nil)
}
