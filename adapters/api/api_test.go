package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/api/apitest"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
)

// fakeAuth resolves "Authorization: Bearer <name>" through its map;
// "limited" is rate limited, "csrf" a session without its CSRF token.
type fakeAuth map[string]access.Principal

func (f fakeAuth) Authenticate(r *http.Request) (access.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return access.Principal{}, access.ErrUnauthenticated
	case tok == "limited":
		return access.Principal{}, &access.RateLimited{RetryAfter: 2500 * time.Millisecond}
	case tok == "csrf":
		return access.Principal{}, core.Forbidden("csrf")
	}
	if p, ok := f[tok]; ok {
		return p, nil
	}
	return access.Principal{}, access.ErrUnauthenticated
}

type fakeProfiles struct{}

func (fakeProfiles) Whoami(_ context.Context, actor core.Actor) (org.Profile, error) {
	if actor.UserID != "zhengmin" {
		return org.Profile{}, core.Forbidden("not_registered", "id", actor.UserID)
	}
	return org.Profile{User: org.User{ID: "zhengmin", Name: "郑敏", Unit: "dc-edu"},
		Grants: []org.Grant{{UserID: "zhengmin", Role: org.RoleUnitContact, Scope: "dc-edu"}}}, nil
}

func (fakeProfiles) View(_ context.Context, actor core.Actor) (org.View, error) {
	return org.View{Own: actor.UserID}, nil
}

// explain stands in for bot.ErrorReply: the code, marked, or a reference.
func explain(err error) string {
	var ce *core.Error
	if errors.As(err, &ce) {
		return "explained " + ce.Code
	}
	return "internal, ref 1234"
}

// Thing is the test routes' resource.
type Thing struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Note string `json:"note,omitempty"`
}

// NewThing is the test routes' request body.
type NewThing struct {
	Name string `json:"name"`
}

// testRoutes exercise the framework: a write with a body, a read with an
// id that fails in each way, and a paged list.
func testRoutes() []Route {
	things := []Thing{{1, "a", ""}, {2, "b", ""}, {3, "c", ""}, {4, "d", ""}, {5, "e", "x"}}
	return []Route{
		{Method: http.MethodPost, Path: "/api/v1/things", OperationID: "createThing", Tag: "test", Summary: "Create",
			Body: NewThing{}, Response: Thing{}, Status: http.StatusCreated,
			Handle: func(c *Call) (any, error) {
				b := BodyOf[NewThing](c)
				if b.Name == "" {
					return nil, core.Invalid("thing_name_required")
				}
				return Thing{ID: 9, Name: b.Name + "@" + c.Actor.UserID}, nil
			}},
		{Method: http.MethodGet, Path: "/api/v1/things/{id}", OperationID: "getThing", Tag: "test", Summary: "Show",
			Params: []Param{{Name: "id", Type: TypeInteger}, {Name: "at", Type: TypeTime}, {Name: "flag", Type: TypeBoolean},
				{Name: "color", Enum: []string{"red", "blue"}}},
			Response: Thing{},
			Handle: func(c *Call) (any, error) {
				switch c.Int("id") {
				case 1:
					return Thing{ID: 1, Name: c.String("color") + strconv.FormatBool(c.Bool("flag")) + c.Time("at").UTC().Format(time.RFC3339)}, nil
				case 409:
					return nil, core.AlreadyDecided("thing_decided")
				case 410:
					return nil, core.Conflict("thing_busy")
				case 500:
					return nil, errors.New("disk on fire")
				}
				return nil, core.NotFound("thing_not_found")
			}},
		{Method: http.MethodGet, Path: "/api/v1/things", OperationID: "listThings", Tag: "test", Summary: "List", Paged: true,
			Response: Page[Thing]{},
			Handle:   func(c *Call) (any, error) { return PageOf(c, things) }},
	}
}

type bundle struct {
	api *API
	mux *Mux
	h   *apitest.Harness
	url string
}

func setup(t *testing.T, dev bool, explainer Explain) bundle {
	t.Helper()
	auth := fakeAuth{
		"rw": {Actor: core.Actor{UserID: "zhengmin", Name: "郑敏", Platform: access.PlatformAPI}, Via: access.ViaToken, Scope: access.ScopeWrite},
		"ro": {Actor: core.Actor{UserID: "zhengmin", Name: "郑敏", Platform: access.PlatformAPI}, Via: access.ViaToken, Scope: access.ScopeRead},
	}
	a, err := newAPI(Config{Auth: auth, DevMode: dev, Explain: explainer, MaxBodyBytes: 64, Profiles: fakeProfiles{}},
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(a *API) []Route { return append(a.metaRoutes(), testRoutes()...) })
	require.NoError(t, err)
	mux := NewMux(http.NewServeMux())
	a.Routes(mux)
	srv := httptest.NewServer(mux.mux)
	t.Cleanup(srv.Close)
	return bundle{api: a, mux: mux, h: apitest.New(t, srv.URL), url: srv.URL}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func errorOf(t *testing.T, body []byte) ErrorDetail {
	t.Helper()
	var e ErrorBody
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	return e.Error
}

func TestSpecIsValidOpenAPI31(t *testing.T) {
	b := setup(t, false, explain)
	require.Equal(t, "3.1.0", b.h.Doc().OpenAPI)
	require.True(t, b.h.HasOperation("getMe"))
	require.Contains(t, b.h.Doc().Components.SecuritySchemes, SchemeBearer)
	require.Contains(t, b.h.Doc().Components.SecuritySchemes, SchemeSession)
	// The body schema refuses unknown fields and names what is required.
	s := b.h.Doc().Components.Schemas["Thing"].Value
	require.Equal(t, []string{"id", "name"}, s.Required)
	require.False(t, *s.AdditionalProperties.Has)
	// A document that is not 3.1 is refused.
	_, err := apitest.Load([]byte(`{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":{}}`))
	require.Error(t, err)
}

func TestEveryRouteHasASpecEntry(t *testing.T) {
	b := setup(t, false, explain)
	require.Contains(t, b.mux.Patterns(), "GET /api/v1/me")
	require.Empty(t, b.api.Undocumented(b.mux.Patterns()), "every route under /api/v1 is declared in the route table")
	// A route registered beside the table is caught.
	b.mux.HandleFunc("GET /api/v1/rogue", func(http.ResponseWriter, *http.Request) {})
	b.mux.HandleFunc("/api/v1/catchall/", func(http.ResponseWriter, *http.Request) {})
	require.Equal(t, []string{"GET /api/v1/rogue", "/api/v1/catchall/"}, b.api.Undocumented(b.mux.Patterns()))
}

func TestAuthentication(t *testing.T) {
	b := setup(t, false, explain)
	dev := http.Header{DevUserHeader: {"zhengmin"}}
	tests := []struct {
		name   string
		header http.Header
		status int
		code   string
	}{
		{"no credentials", nil, 401, "unauthenticated"},
		{"unknown token", bearer("nope"), 401, "unauthenticated"},
		{"dev header outside dev mode", dev, 401, "unauthenticated"},
		{"rate limited", bearer("limited"), 429, "rate_limited"},
		{"session without csrf", bearer("csrf"), 403, "csrf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := b.h.Do("GET", "/api/v1/me", tt.header, nil)
			require.Equal(t, tt.status, code, string(body))
			e := errorOf(t, body)
			require.Equal(t, tt.code, e.Code)
			require.True(t, strings.HasPrefix(e.Message, "explained "), e.Message)
		})
	}
	// Retry-After is whole seconds, rounded up.
	resp, err := b.h.Client().Do(mustReq(t, "GET", b.url+"/api/v1/me", bearer("limited")))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "3", resp.Header.Get("Retry-After"))

	code, body := b.h.Do("GET", "/api/v1/me", bearer("rw"), nil)
	require.Equal(t, 200, code, string(body))
	var me Me
	require.NoError(t, json.Unmarshal(body, &me))
	require.Equal(t, Me{User: "zhengmin", Name: "郑敏", Unit: "dc-edu", Roles: []Grant{{"unit_contact", "dc-edu"}}, Via: "token", Scope: "write"}, me)

	// A read-only token reads but may not write.
	code, _ = b.h.Do("GET", "/api/v1/things/1", bearer("ro"), nil)
	require.Equal(t, 200, code)
	code, body = b.h.Do("POST", "/api/v1/things", bearer("ro"), NewThing{Name: "x"})
	require.Equal(t, 403, code)
	require.Equal(t, ErrorDetail{Code: "read_only_token", Message: "explained read_only_token"}, errorOf(t, body))
	code, body = b.h.Do("POST", "/api/v1/things", bearer("rw"), NewThing{Name: "x"})
	require.Equal(t, 201, code, string(body))
	require.JSONEq(t, `{"id":9,"name":"x@zhengmin"}`, string(body))
}

func mustReq(t *testing.T, method, url string, h http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	req.Header = h
	return req
}

func TestDevModeHeader(t *testing.T) {
	b := setup(t, true, explain)
	code, body := b.h.Do("GET", "/api/v1/me", http.Header{DevUserHeader: {"zhengmin"}}, nil)
	require.Equal(t, 200, code, string(body))
	var me Me
	require.NoError(t, json.Unmarshal(body, &me))
	require.Equal(t, "dev", me.Via)
	require.Equal(t, "write", me.Scope)
	code, body = b.h.Do("POST", "/api/v1/things", http.Header{DevUserHeader: {"zhengmin"}}, NewThing{Name: "y"})
	require.Equal(t, 201, code, string(body))
	require.JSONEq(t, `{"id":9,"name":"y@zhengmin"}`, string(body))
	// Credentials win over the header, even in dev mode: a read token stays read-only.
	code, body = b.h.Do("POST", "/api/v1/things", http.Header{DevUserHeader: {"zhengmin"}, "Authorization": {"Bearer ro"}}, NewThing{Name: "y"})
	require.Equal(t, 403, code, string(body))
	// No header, no credentials: still 401.
	code, _ = b.h.Do("GET", "/api/v1/me", nil, nil)
	require.Equal(t, 401, code)
	// The core refuses an unknown user, as it would in chat.
	code, body = b.h.Do("GET", "/api/v1/me", http.Header{DevUserHeader: {"nobody"}}, nil)
	require.Equal(t, 403, code)
	require.Equal(t, "not_registered", errorOf(t, body).Code)
}

func TestErrorsMeanWhatTheySay(t *testing.T) {
	b := setup(t, false, explain)
	rw := bearer("rw")
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", "/api/v1/things", `{"name":`, 400, "api_bad_json"},
		{"unknown field", "POST", "/api/v1/things", `{"name":"x","extra":1}`, 400, "api_bad_json"},
		{"two values", "POST", "/api/v1/things", `{"name":"x"} {}`, 400, "api_bad_json"},
		{"body too large", "POST", "/api/v1/things", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413, "api_body_too_large"},
		{"rule broken", "POST", "/api/v1/things", NewThing{}, 422, "thing_name_required"},
		{"id not a number", "GET", "/api/v1/things/abc", nil, 400, "api_bad_param"},
		{"bad time", "GET", "/api/v1/things/1?at=yesterday", nil, 400, "api_bad_param"},
		{"bad boolean", "GET", "/api/v1/things/1?flag=maybe", nil, 400, "api_bad_param"},
		{"bad enum", "GET", "/api/v1/things/1?color=green", nil, 400, "api_bad_param"},
		{"not found", "GET", "/api/v1/things/2", nil, 404, "thing_not_found"},
		{"already decided", "GET", "/api/v1/things/409", nil, 409, "thing_decided"},
		{"conflict", "GET", "/api/v1/things/410", nil, 409, "thing_busy"},
		{"internal", "GET", "/api/v1/things/500", nil, 500, "internal"},
		{"limit too big", "GET", "/api/v1/things?limit=201", nil, 400, "api_bad_param"},
		{"limit zero", "GET", "/api/v1/things?limit=0", nil, 400, "api_bad_param"},
		{"bad cursor", "GET", "/api/v1/things?cursor=zzz", nil, 400, "api_bad_param"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, b.url+tt.path, bodyReader(t, tt.body))
			require.NoError(t, err)
			req.Header = rw.Clone()
			if tt.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.status == 400 || tt.status == 413 {
				req = apitest.Malformed(req) // the request breaks the spec on purpose
			}
			resp, err := b.h.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			require.Equal(t, tt.status, resp.StatusCode, string(body))
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			e := errorOf(t, body)
			require.Equal(t, tt.code, e.Code)
			if tt.code == "internal" {
				require.Equal(t, "internal, ref 1234", e.Message, "only the reference, never the cause")
			} else {
				require.Equal(t, "explained "+tt.code, e.Message)
			}
		})
	}
	code, body := b.h.Do("GET", "/api/v1/things/1?color=red&flag=true&at=2026-11-23T10:00:00%2B08:00", rw, nil)
	require.Equal(t, 200, code, string(body))
	require.JSONEq(t, `{"id":1,"name":"redtrue2026-11-23T02:00:00Z"}`, string(body))
}

func TestInternalErrorWithoutExplainNamesOnlyAReference(t *testing.T) {
	b := setup(t, false, nil)
	code, body := b.h.Do("GET", "/api/v1/things/500", bearer("rw"), nil)
	require.Equal(t, 500, code)
	msg := errorOf(t, body).Message
	require.Regexp(t, `^internal error \(ref [0-9a-f]{8}\)$`, msg)
	require.NotContains(t, msg, "fire")
}

func bodyReader(t *testing.T, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	}
	j, err := json.Marshal(body)
	require.NoError(t, err)
	return strings.NewReader(string(j))
}

func TestPagingWalksTheList(t *testing.T) {
	b := setup(t, false, explain)
	var names []string
	path := "/api/v1/things?limit=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		code, body := b.h.Do("GET", path, bearer("rw"), nil)
		require.Equal(t, 200, code, string(body))
		var p Page[Thing]
		require.NoError(t, json.Unmarshal(body, &p))
		for _, th := range p.Items {
			names = append(names, th.Name)
		}
		if p.NextCursor == "" {
			require.NotContains(t, string(body), "next_cursor", "omitted at the end")
			break
		}
		path = "/api/v1/things?limit=2&cursor=" + p.NextCursor
	}
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, names)
	// Default limit: everything at once here.
	code, body := b.h.Do("GET", "/api/v1/things", bearer("rw"), nil)
	require.Equal(t, 200, code)
	require.NotContains(t, string(body), "next_cursor")
}

func TestHarnessCatchesDrift(t *testing.T) {
	b := setup(t, false, explain)
	require.Equal(t, []string{"createThing", "getMe", "getOpenAPI", "getThing", "listThings"}, b.h.Uncovered())
	// Serve a route whose answer differs from its declaration.
	drift, err := newAPI(Config{Auth: fakeAuth{"rw": {Actor: core.Actor{UserID: "u"}, Scope: access.ScopeWrite}}, Explain: explain},
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(a *API) []Route {
			return append(a.metaRoutes(), Route{Method: "GET", Path: "/api/v1/drift", OperationID: "drift", Tag: "t",
				Summary: "s", Response: Thing{}, Handle: func(*Call) (any, error) { return map[string]any{"id": "one"}, nil }})
		})
	require.NoError(t, err)
	mux := http.NewServeMux()
	drift.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ft := &fakeT{TB: t}
	h := apitest.New(ft, srv.URL)
	code, _ := h.Do("GET", "/api/v1/drift", bearer("rw"), nil)
	require.Equal(t, 200, code)
	require.True(t, ft.failed, "a response breaking the spec fails the test")
	ft.failed = false
	h.AssertCovered(ft)
	require.True(t, ft.failed, "getOpenAPI and getMe were never exercised")
	ft.failed = false
	h.Do("GET", "/api/v1/nowhere", bearer("rw"), nil)
	require.True(t, ft.failed, "a path outside the spec fails the test")
}

// fakeT records failures instead of failing.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Helper()               {}

func TestEveryOperationCovered(t *testing.T) {
	b := setup(t, true, explain)
	dev := http.Header{DevUserHeader: {"zhengmin"}}
	for _, c := range []struct{ method, path string }{{"GET", SpecPath}, {"GET", "/api/v1/me"}, {"GET", "/api/v1/things/1"}, {"GET", "/api/v1/things"}} {
		code, body := b.h.Do(c.method, c.path, dev, nil)
		require.Equal(t, 200, code, string(body))
	}
	code, _ := b.h.Do("POST", "/api/v1/things", dev, NewThing{Name: "z"})
	require.Equal(t, 201, code)
	b.h.AssertCovered(t)
	require.Empty(t, b.h.Uncovered())
}

// TestTheTableMakesAValidSpec: the real route table builds, every route
// is documented, and operation ids are unique.
func TestTheTableMakesAValidSpec(t *testing.T) {
	a, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := NewMux(http.NewServeMux())
	a.Routes(mux)
	require.Empty(t, a.Undocumented(mux.Patterns()))
	doc, err := apitest.Load(a.spec)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, r := range a.routes {
		require.Falsef(t, seen[r.OperationID], "operation id %s twice", r.OperationID)
		seen[r.OperationID] = true
		require.NotNil(t, doc.Paths.Value(r.Path).GetOperation(r.Method))
	}
}
