package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPprofLoopbackOnly: with server.pprof the profiles are served to a
// loopback peer, not to another address nor through a proxy; without it
// there are none.
func TestPprofLoopbackOnly(t *testing.T) {
	get := func(s *Server, remote, forwarded string) int {
		r := httptest.NewRequest("GET", "/debug/pprof/heap?debug=1", nil)
		r.RemoteAddr = remote
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		_, _ = io.Copy(io.Discard, w.Body)
		return w.Code
	}
	off := New(NewMetrics(), nil, slog.New(slog.DiscardHandler))
	require.Equal(t, http.StatusNotFound, get(off, "127.0.0.1:5000", ""))
	on := New(NewMetrics(), nil, slog.New(slog.DiscardHandler))
	on.ServePprof()
	require.Equal(t, http.StatusOK, get(on, "127.0.0.1:5000", ""))
	require.Equal(t, http.StatusOK, get(on, "[::1]:5000", ""))
	require.Equal(t, http.StatusNotFound, get(on, "10.1.2.3:5000", ""))
	require.Equal(t, http.StatusNotFound, get(on, "127.0.0.1:5000", "10.1.2.3"))
}
