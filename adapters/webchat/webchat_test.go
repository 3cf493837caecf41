package webchat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/webchat"
	"opsbot/bot"
	"opsbot/core"
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

func TestTokenRequiredOutsideDevMode(t *testing.T) {
	t.Parallel()
	ts := server(t, webchat.Config{Token: "s3cret"})
	body := `{"user":"u","channel":"","text":"/whoami"}`
	code, out := post(t, ts.URL+"/webchat/api/messages", "", body)
	require.Equal(t, 401, code, out)
	code, _ = post(t, ts.URL+"/webchat/api/messages", "wrong", body)
	require.Equal(t, 401, code)
	code, out = post(t, ts.URL+"/webchat/api/messages", "s3cret", body)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"text":"/whoami"`)
	// The page itself needs no token.
	resp, err := http.Get(ts.URL + "/webchat/")
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

// TestPersonalSignIn: a personal token acts only as its own user; the
// service token may act as anyone; an unknown token is refused.
func TestPersonalSignIn(t *testing.T) {
	t.Parallel()
	sessions := func(_ context.Context, token string) (string, error) {
		if token == "tok-zhengmin" {
			return "zhengmin", nil
		}
		return "", fmt.Errorf("no such token: %w", core.ErrNotFound)
	}
	ts := server(t, webchat.Config{Token: "svc", Sessions: sessions})
	u := ts.URL + "/webchat/api/"

	code, out := post(t, u+"messages", "tok-zhengmin", `{"channel":"","text":"/whoami"}`)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"title":"zhengmin"`, "the signed-in user acts, no user field needed")
	code, out = post(t, u+"messages", "tok-zhengmin", `{"user":"admin","channel":"","text":"/whoami"}`)
	require.Equal(t, 403, code, out)
	require.Contains(t, out, "signed in as zhengmin")
	code, _ = get(t, u+"inbox?user=admin&after=0", "tok-zhengmin")
	require.Equal(t, 403, code)
	code, _ = get(t, u+"inbox?after=0", "tok-zhengmin")
	require.Equal(t, 200, code)
	code, out = get(t, u+"channel?name=ops&after=0", "tok-zhengmin")
	require.Equal(t, 403, code, "not a member: %s", out)
	code, out = get(t, u+"me", "tok-zhengmin")
	require.Equal(t, 200, code)
	require.Contains(t, out, `"user":"zhengmin"`)

	code, out = post(t, u+"messages", "tok-unknown", `{"user":"zhengmin","channel":"","text":"/whoami"}`)
	require.Equal(t, 401, code)
	require.Contains(t, out, "/webchat link")
	code, out = post(t, u+"messages", "svc", `{"user":"admin","channel":"","text":"/whoami"}`)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"title":"admin"`)
}
