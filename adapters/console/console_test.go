package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// fakeAuth signs requests in by a header naming the user (X-Test-Scope:
// read makes it a read-only token); "Bearer bad" is a refused token.
type fakeAuth struct{}

func (fakeAuth) Authenticate(r *http.Request) (access.Principal, error) {
	if r.Header.Get("Authorization") == "Bearer bad" {
		return access.Principal{}, access.ErrUnauthenticated
	}
	user := r.Header.Get("X-Test-User")
	if user == "" {
		return access.Principal{}, access.ErrUnauthenticated
	}
	scope := access.ScopeWrite
	if r.Header.Get("X-Test-Scope") == access.ScopeRead { // a read-only API token
		scope = access.ScopeRead
	}
	return access.Principal{Actor: core.Actor{UserID: user, Name: "name of " + user, Platform: "webchat"}, Via: access.ViaSession, Scope: scope}, nil
}

func (fakeAuth) CSRF(*http.Request) string { return "csrf-token" }

// fakeViews gives every user a view of the east district.
type fakeViews struct{}

func (fakeViews) View(_ context.Context, actor core.Actor) (org.View, error) {
	if actor.UserID == "gone" {
		return org.View{}, core.Forbidden("user_removed", "id", actor.UserID)
	}
	tree := []org.Unit{{Code: "east", Name: "东区", Path: "/city/east/"}, {Code: "edu", Name: "教育局", Path: "/city/east/edu/"}}
	return org.View{Basis: org.ViewUnits, Units: []string{"east", "edu"}, Tree: tree}, nil
}

// fakeIncidents lists one incident of the view's first unit.
type fakeIncidents struct{ got incident.Filter }

func (f *fakeIncidents) Query(_ context.Context, _ core.Actor, flt incident.Filter) ([]incident.Incident, error) {
	f.got = flt
	return []incident.Incident{{ID: 7, Title: "门户无法访问", Level: 2, State: incident.StateDeclared, Unit: "edu"}}, nil
}

func (f *fakeIncidents) Show(_ context.Context, _ core.Actor, id int64) (incident.Detail, error) {
	if id != 7 {
		return incident.Detail{}, core.NotFound("incident_not_found", "id", "8")
	}
	return incident.Detail{Incident: incident.Incident{ID: 7, Title: "门户无法访问", Level: 2, State: incident.StateDeclared, Unit: "west"}}, nil
}

func newTestConsole(t *testing.T) (*http.ServeMux, *fakeIncidents) {
	t.Helper()
	inc := &fakeIncidents{}
	c, err := New(Config{}, Services{Auth: fakeAuth{}, Views: fakeViews{}, Incidents: inc,
		Explain: explain}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	c.Routes(mux)
	return mux, inc
}

// explain stands for bot.ErrorReply: the error's code (and its hint).
func explain(err error) string {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return "explained"
	}
	if h := ce.Args["hint"]; h != "" {
		return "explained: " + ce.Code + " " + h
	}
	return "explained: " + ce.Code
}

func get(mux *http.ServeMux, path, user string, header ...string) *httptest.ResponseRecorder {
	return send(mux, httptest.NewRequest(http.MethodGet, path, nil), user, header...)
}

// send serves r as user (none when "") with the header pairs.
func send(mux *http.ServeMux, r *http.Request, user string, header ...string) *httptest.ResponseRecorder {
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

// TestSignInAndErrors: no session sends a page to sign in and back and a
// data endpoint to 401; a refused bearer token is 401, not a redirect;
// core errors show the chat's text with their status; the unit filter
// refuses a unit outside the view.
func TestSignInAndErrors(t *testing.T) {
	t.Parallel()
	mux, inc := newTestConsole(t)
	for _, path := range []string{"/console", "/dashboard"} {
		w := get(mux, path, "")
		require.Equal(t, http.StatusMovedPermanently, w.Code, path)
		require.Equal(t, "/console/", w.Header().Get("Location"), path)
	}
	w := get(mux, "/console/incidents?state=open", "")
	require.Equal(t, http.StatusSeeOther, w.Code)
	require.Equal(t, "/auth/login?return=%2Fconsole%2Fincidents%3Fstate%3Dopen", w.Header().Get("Location"))
	w = get(mux, "/console/incidents", "", "Authorization", "Bearer bad")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Contains(t, w.Body.String(), "explained: api_unauthenticated")

	w = get(mux, "/console/incidents?unit=edu&level=2&q=门户", "zhang")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	body := w.Body.String()
	require.Contains(t, body, "name of zhang（zhang）")
	require.Contains(t, body, `value="csrf-token"`)
	require.Contains(t, body, `<option value="edu" selected>`)
	// Picking another unit keeps the page's other filters.
	require.Contains(t, body, `id="unit-filter" method="get" action="">
<input type="hidden" name="level" value="2"><input type="hidden" name="q" value="门户">
<label for="unit">`)
	require.Contains(t, body, `href="/console/incidents/7?unit=edu"`)
	require.Equal(t, []string{"edu"}, inc.got.View.Units, "the list reads the narrowed view")
	require.Equal(t, 2, inc.got.Level)
	require.Equal(t, "门户", inc.got.Text)
	require.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src 'self'")

	w = get(mux, "/console/incidents?unit=west", "zhang")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "explained: outside_view")
	w = get(mux, "/console/incidents?level=x", "zhang")
	require.Equal(t, http.StatusBadRequest, w.Code)
	w = get(mux, "/console/incidents/8", "zhang")
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Contains(t, w.Body.String(), "explained: incident_not_found")
	w = get(mux, "/console/incidents/7", "zhang")
	require.Equal(t, http.StatusForbidden, w.Code, "an incident outside the view is refused")
	w = get(mux, "/console/incidents", "gone")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "explained: user_removed")
}

// TestPageTable: every registered page has its template; the nav lists
// only registered pages; a Data page's download is written as is.
func TestPageTable(t *testing.T) {
	t.Parallel()
	c, err := New(Config{}, Services{Auth: fakeAuth{}, Views: fakeViews{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, []string{"/console/pages.json"}, c.Paths(), "no services: only the page index")
	c.pages = append(c.pages, Page{Path: "/console/reports/x.csv", Data: true, Handle: func(r *Request) (any, error) {
		return &Download{Name: "事件.csv", ContentType: "text/csv; charset=utf-8", Body: []byte("\uFEFFa,b\n")}, nil
	}})
	mux := http.NewServeMux()
	c.Routes(mux)
	w := get(mux, "/console/reports/x.csv", "zhang")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "\uFEFFa,b\n", w.Body.String())
	require.True(t, strings.HasPrefix(w.Header().Get("Content-Disposition"), `attachment; filename="__.csv"; filename*=UTF-8''%E4%BA%8B%E4%BB%B6.csv`))
	w = get(mux, "/console/reports/x.csv", "")
	require.Equal(t, http.StatusUnauthorized, w.Code, "a download never redirects")
	w = get(mux, "/console/pages.json", "zhang")
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `[{"path":"/console/pages.json","method":"GET","data":true},{"path":"/console/reports/x.csv","method":"GET","data":true}]`,
		w.Body.String(), "the index lists every page of the table (make bench walks it)")

	mux2, _ := newTestConsole(t)
	body := get(mux2, "/console/incidents", "zhang").Body.String()
	require.Contains(t, body, `data-key="incidents"`)
	require.NotContains(t, body, `data-key="duty"`, "pages not registered yet have no nav entry")
	w = get(mux2, "/console/static/console.css", "")
	require.Equal(t, http.StatusOK, w.Code)
}

// TestEnglish: with bot.language en the console speaks English.
func TestEnglish(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Language: "en"}, Services{Auth: fakeAuth{}, Views: fakeViews{}, Incidents: &fakeIncidents{}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	c.Routes(mux)
	body := get(mux, "/console/incidents", "zhang").Body.String()
	require.Contains(t, body, `<html lang="en">`)
	require.Contains(t, body, "Sign out")
	require.Contains(t, body, "All (your units)")
	require.Contains(t, body, "unacknowledged")
}
