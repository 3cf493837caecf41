// Package pagingtest holds local stand-ins of the paging providers' APIs
// for tests: HTTP servers that check each request's signature the way the
// provider documents it (recomputed from the request with the test
// secret), answer a wrong one with the provider's documented error, record
// what they accepted and can be told to fail.
package pagingtest

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Failure is an answer a stand-in gives instead of accepting a request:
// an HTTP status and the provider's error code.
type Failure struct {
	Status int
	Code   string
}

// failures is a queue of Failures, shared by the stand-ins.
type failures struct {
	mu   sync.Mutex
	next []Failure
}

// FailNext makes the next len(f) accepted requests fail, in order.
func (q *failures) FailNext(f ...Failure) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next = append(q.next, f...)
}

// pop returns the next queued failure, if any.
func (q *failures) pop() (Failure, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.next) == 0 {
		return Failure{}, false
	}
	f := q.next[0]
	q.next = q.next[1:]
	return f, true
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
