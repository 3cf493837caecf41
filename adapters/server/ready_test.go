package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/server"
	"opsbot/tasks/faulttest"
)

// readyz returns the status of GET /readyz and how long it took.
func readyz(t *testing.T, url string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(url + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	t.Logf("readyz %d in %s: %q", resp.StatusCode, time.Since(start).Round(time.Millisecond), body)
	return resp.StatusCode, time.Since(start)
}

// TestReadyzTellsTheTruth (issue 21 item 6): /readyz makes a real round
// trip to Postgres and Redis on every call under a short timeout: it
// answers 503 at once when Postgres stops or Redis freezes, and 200 again
// when they are back.
func TestReadyzTellsTheTruth(t *testing.T) {
	pg := faulttest.StartPostgres(t)
	rs := faulttest.StartRedis(t)
	store := pg.Store(t)
	opts, err := goredis.ParseURL(rs.URL())
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	srv := server.New(server.NewMetrics(), []server.Check{
		{Name: "postgres", Fn: store.Ping},
		{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	for range 3 { // warm connections in both pools
		code, _ := readyz(t, hs.URL)
		require.Equal(t, http.StatusOK, code)
	}
	pg.Stop(t)
	for range 3 {
		code, took := readyz(t, hs.URL)
		require.Equal(t, http.StatusServiceUnavailable, code, "Postgres is down")
		require.Less(t, took, 1500*time.Millisecond)
	}
	pg.Start(t)
	require.Eventually(t, func() bool { code, _ := readyz(t, hs.URL); return code == http.StatusOK }, 5*time.Second, 100*time.Millisecond)

	rs.Freeze(t)
	code, took := readyz(t, hs.URL)
	rs.Thaw(t)
	require.Equal(t, http.StatusServiceUnavailable, code, "Redis is frozen")
	require.Less(t, took, 1500*time.Millisecond, "a frozen store answers within the check's timeout")
	require.Eventually(t, func() bool { code, _ := readyz(t, hs.URL); return code == http.StatusOK }, 5*time.Second, 100*time.Millisecond)
}
