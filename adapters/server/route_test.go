package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRequestsCountedByTheirRoute: requests are counted under the pattern
// their handler was registered with (path values not spelled out), a
// path no pattern matches as "unmatched", and a handler that panics as
// its route with code 500.
func TestRequestsCountedByTheirRoute(t *testing.T) {
	m := NewMetrics()
	s := New(m, nil, slog.New(slog.DiscardHandler))
	s.Mux.HandleFunc("GET /incidents/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.PathValue("id")))
	})
	s.Mux.HandleFunc("POST /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	do := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	w := do("GET", "/incidents/7")
	require.Equal(t, "7", w.Body.String(), "the handler sees its path values")
	do("GET", "/incidents/8")
	require.Equal(t, http.StatusNotFound, do("GET", "/nothing/here").Code)
	require.Equal(t, http.StatusInternalServerError, do("POST", "/boom").Code)

	var counted []string
	for _, l := range strings.Split(do("GET", "/metrics").Body.String(), "\n") {
		if strings.HasPrefix(l, "http_requests_total{") {
			counted = append(counted, l)
		}
	}
	require.ElementsMatch(t, []string{
		`http_requests_total{code="200",method="GET",route="GET /incidents/{id}"} 2`,
		`http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`http_requests_total{code="500",method="POST",route="POST /boom"} 1`,
	}, counted)
}
