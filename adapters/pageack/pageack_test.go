package pageack_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/pageack"
	"opsbot/core"
	"opsbot/core/paging"
)

type acker struct{ used map[string]bool }

func (a *acker) AckReply(context.Context, paging.Reply) error { return nil }
func (a *acker) AckLink(_ context.Context, token string) error {
	switch token {
	case "gone":
		return core.NotFound("ack_link_not_found")
	case "broken":
		return errors.New("postgres: connection refused")
	}
	if a.used[token] {
		return core.AlreadyDecided("ack_link_used")
	}
	a.used[token] = true
	return nil
}

// TestConfirmThenAckOnce: GET shows a confirm form and acknowledges
// nothing; POST acknowledges; a second POST is refused (409).
func TestConfirmThenAckOnce(t *testing.T) {
	a := &acker{used: map[string]bool{}}
	mux := http.NewServeMux()
	pageack.New(pageack.Config{Text: func(lang, key string) string { return lang + ":" + key },
		Explain: func(lang string, err error) string { return lang + ":refused" }}, a, slog.Default()).Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, lang string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+"/page/ack/tok1", nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("GET", "zh-CN,zh;q=0.9")
	require.Equal(t, 200, code)
	require.Contains(t, body, "zh-CN:confirm")
	require.Contains(t, body, `<form method="post">`)
	require.Empty(t, a.used, "GET changes nothing")
	code, body = do("POST", "en-US")
	require.Equal(t, 200, code)
	require.Contains(t, body, "en:done")
	code, body = do("POST", "zh-CN")
	require.Equal(t, 409, code)
	require.Contains(t, body, "zh-CN:refused")
	code, _ = do("DELETE", "zh-CN")
	require.Equal(t, 405, code)
}

// TestRefusalsHaveTheirStatus: an unknown link is 404, a used one 409, a
// failure of opsbot's own 500 (the person may try again), never all 409.
func TestRefusalsHaveTheirStatus(t *testing.T) {
	mux := http.NewServeMux()
	pageack.New(pageack.Config{Text: func(lang, key string) string { return key },
		Explain: func(lang string, err error) string { return "refused" }}, &acker{used: map[string]bool{"used": true}}, slog.Default()).Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for token, want := range map[string]int{"gone": 404, "used": 409, "broken": 500, "fresh": 200} {
		resp, err := http.Post(srv.URL+"/page/ack/"+token, "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, token)
	}
}
