package alerts_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/alerts"
	"opsbot/core"
	"opsbot/core/alert"
)

// conflicted gives up its first fails calls with core.ErrRetry, as the
// store does for a deadlock victim.
type conflicted struct {
	mu    sync.Mutex
	fails int
	calls int
}

func (c *conflicted) IngestBatch(_ context.Context, gs []alert.Group) ([]alert.IngestResult, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	res, errs := make([]alert.IngestResult, len(gs)), make([]error, len(gs))
	for i := range gs {
		res[i] = alert.IngestResult{IncidentID: 7}
		if c.calls <= c.fails {
			errs[i] = fmt.Errorf("postgres: commit: %w", core.ErrRetry)
		}
	}
	return res, errs
}

// TestBatcherRetriesAConflictOnce: a notification whose transaction was
// given up for a deadlock is applied again once, counted; one that fails
// again gets 503 with Retry-After, never 500.
func TestBatcherRetriesAConflictOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fails   int
		code    int
		outcome string
	}{{fails: 1, code: 200, outcome: "ok"}, {fails: 2, code: 503, outcome: "failed"}} {
		in := &conflicted{fails: tc.fails}
		b := alerts.NewBatcher(in, 1, 1)
		var counted []string
		b.OnRetry(func(outcome string) { counted = append(counted, outcome) })
		h := alerts.New(alerts.Config{Receivers: []alerts.Receiver{{Name: "bearer", BearerToken: "tok"}}}, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
		mux := http.NewServeMux()
		h.Routes(mux)
		req, err := http.NewRequest("POST", "/alerts/alertmanager", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		require.Equal(t, tc.code, w.Code, w.Body.String())
		require.Equal(t, 2, in.calls, "applied again once, no more")
		require.Equal(t, []string{tc.outcome}, counted)
		if tc.code == 503 {
			require.Equal(t, "5", w.Header().Get("Retry-After"))
		}
	}
}
