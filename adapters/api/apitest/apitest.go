// Package apitest checks the REST API against its own OpenAPI document:
// a client whose every /api/v1 request and response is validated against
// the served spec (a mismatch fails the test), and which records the
// operations exercised, so a test can demand that every one was.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
)

// SpecPath is where the API serves its OpenAPI document.
const SpecPath = "/api/v1/openapi.json"

// Harness is a validating client of one running API.
type Harness struct {
	t      testing.TB
	base   string
	doc    *openapi3.T
	router routers.Router
	next   http.RoundTripper

	mu      *sync.Mutex     // shared by the harnesses of With
	covered map[string]bool // operation id → answered with a 2xx
}

type skipKey struct{}

// Malformed marks req as deliberately breaking the spec (bad JSON, a bad
// parameter): its request is not validated, its response still is.
func Malformed(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), skipKey{}, true))
}

// New loads and validates the OpenAPI document served at base (e.g.
// "http://127.0.0.1:8080") and returns a harness calling it.
func New(t testing.TB, base string) *Harness {
	t.Helper()
	resp, err := http.Get(base + SpecPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	doc, err := Load(body)
	require.NoError(t, err)
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return &Harness{t: t, base: base, doc: doc, router: router, next: http.DefaultTransport,
		mu: &sync.Mutex{}, covered: map[string]bool{}}
}

// Load parses an OpenAPI document and validates it (3.1).
func Load(spec []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, err
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q: want 3.1", doc.OpenAPI)
	}
	return doc, doc.Validate(context.Background())
}

// With returns a harness reporting to t (a subtest) that shares h's
// record of the operations exercised.
func (h *Harness) With(t testing.TB) *Harness {
	c := *h
	c.t = t
	return &c
}

// Doc is the loaded spec.
func (h *Harness) Doc() *openapi3.T { return h.doc }

// Client returns an HTTP client whose calls go through the harness.
func (h *Harness) Client() *http.Client { return &http.Client{Transport: h} }

// RoundTrip sends req, validating the request (unless Malformed) and the
// response against the spec; a mismatch fails the test.
func (h *Harness) RoundTrip(req *http.Request) (*http.Response, error) {
	h.t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return h.next.RoundTrip(req)
	}
	route, params, err := h.router.FindRoute(req)
	if err != nil {
		h.t.Errorf("apitest: %s %s is not in the spec: %v", req.Method, req.URL.Path, err)
		return h.next.RoundTrip(req)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if skip, _ := req.Context().Value(skipKey{}).(bool); !skip {
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(reqBody))
		in.Request = check
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			h.t.Errorf("apitest: request %s %s breaks the spec: %v", req.Method, req.URL.Path, err)
		}
		in.Request = req
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp, err := h.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		h.t.Errorf("apitest: response %d to %s %s breaks the spec: %v\n%s", resp.StatusCode, req.Method, req.URL.Path, err, respBody)
	}
	h.mu.Lock()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		h.covered[route.Operation.OperationID] = true
	}
	h.mu.Unlock()
	return resp, nil
}

// Do sends method path with header and body and returns the status and
// body. The body is JSON-encoded, except a []byte (sent as is) and a
// string (sent as is and marked Malformed: for bad JSON).
func (h *Harness) Do(method, path string, header http.Header, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(h.t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if _, isString := body.(string); isString {
		req = Malformed(req)
	}
	resp, err := h.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, out
}

// Operations lists every operation id of the spec, sorted.
func (h *Harness) Operations() []string {
	var ops []string
	for _, item := range h.doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	sort.Strings(ops)
	return ops
}

// Uncovered lists the operations never answered with a 2xx, sorted.
func (h *Harness) Uncovered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, op := range h.Operations() {
		if !h.covered[op] {
			out = append(out, op)
		}
	}
	return out
}

// AssertCovered fails t when an operation of the spec was never
// answered with a 2xx through the harness.
func (h *Harness) AssertCovered(t testing.TB) {
	t.Helper()
	if missing := h.Uncovered(); len(missing) > 0 {
		t.Errorf("apitest: operations never exercised with a 2xx: %s", strings.Join(missing, ", "))
	}
}

// Covered reports whether operation id was answered with a 2xx.
func (h *Harness) Covered(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.covered[id]
}

// HasOperation reports whether the spec declares operation id.
func (h *Harness) HasOperation(id string) bool { return slices.Contains(h.Operations(), id) }
