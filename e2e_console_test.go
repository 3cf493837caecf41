package main

// The console's end-to-end harness, shared by every console test
// (e2e_console*_test.go):
//
//   - consoleSession(t, a, user) signs user in without clicking through:
//     a session started with the core session service on the app's store
//     (as /auth/dev would), returning the cookie's secret and its CSRF
//     token.
//   - a.consoleGet(t, user, path) is a plain HTTP GET as user (session
//     cookie, no redirects followed): status, body, headers.
//   - a.consoleGetToken(t, token, path) is the same with
//     "Authorization: Bearer <token>" (scripts fetching reports); mint
//     the token with a.mintToken(t, user, "--scope read").
//   - consoleBrowser(t, a, user, mobile) is a headless Chromium signed in
//     as user (the opsbot_session cookie set with network.SetCookie),
//     with a 390×844 viewport when mobile; consolePage(t, ctx, a, path)
//     opens a console page in it and waits for the page's title (#title).
//   - shot(t, ctx, name) saves a full-page screenshot as
//     $OPSBOT_ARTIFACTS/<test name>/<name>.png (default t.TempDir()).
//   - evalJS[T](t, ctx, expr) evaluates a JavaScript expression.
//
// The demo org (configs/dev.yaml) has liqiang (district admin of
// dongcheng), wangfang (district admin of xicheng), zhangwei (unit admin
// of dc-edu), sunli and zhoujie (operators), admin (sys admin) and members
// such as zhengmin (dc-edu-office) and huangyu (xc-market).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
)

// consoleCookie is the session cookie's name (adapters/auth.CookieName).
const consoleCookie = "opsbot_session"

// consoleSession starts a session for user as the dev sign-in does and
// returns the cookie's secret and the session's CSRF token.
func consoleSession(t *testing.T, a *app, user string) (secret, csrf string) {
	t.Helper()
	clock := a.clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	secret, ses, err := access.NewSessions(a.store.Sessions(), clock, access.SessionPolicy{}).
		Start(context.Background(), user, access.SignInDev, "127.0.0.1")
	require.NoError(t, err)
	return secret, ses.CSRF
}

// consoleResponse is an HTTP answer.
type consoleResponse struct {
	Status int
	Body   string
	Header http.Header
}

// consoleGet GETs path as user (a fresh session); redirects are not
// followed, so a 303 to sign in shows as such.
func (a *app) consoleGet(t *testing.T, user, path string) consoleResponse {
	t.Helper()
	secret, _ := consoleSession(t, a, user)
	return a.consoleDo(t, path, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: consoleCookie, Value: secret}) })
}

// consoleGetToken GETs path with a bearer API token ("" for none).
func (a *app) consoleGetToken(t *testing.T, token, path string) consoleResponse {
	t.Helper()
	return a.consoleDo(t, path, func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	})
}

// consoleDo sends a GET prepared by prep.
func (a *app) consoleDo(t *testing.T, path string, prep func(*http.Request)) consoleResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.base+path, nil)
	require.NoError(t, err)
	prep(req)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return consoleResponse{Status: resp.StatusCode, Body: string(body), Header: resp.Header}
}

// consoleBrowser returns a Chromium context signed in to a as user, with
// a phone-sized viewport (390×844) when mobile.
func consoleBrowser(t *testing.T, a *app, user string, mobile bool) context.Context {
	t.Helper()
	ctx := browserCtx(t)
	secret, _ := consoleSession(t, a, user)
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: consoleCookie, Value: secret,
		URL: a.base + "/", Path: "/", HTTPOnly: ptrTo(true)})
	require.NoError(t, err)
	if mobile {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
	}
	return ctx
}

func ptrTo[T any](v T) *T { return &v }

// consolePage opens a console page and waits until its title shows.
func consolePage(t *testing.T, ctx context.Context, a *app, path string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(a.base+path)))
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.ID("title"))); err != nil {
		text := evalJS[string](t, ctx, `location.href + "\n" + document.body.innerText`)
		t.Fatalf("console page %s did not show: %v; the browser shows %s", path, err, text)
	}
}

// evalJS evaluates expr in the page.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err)
	return out
}

// artifactDir is where a test's screenshots go: $OPSBOT_ARTIFACTS/<test>,
// else a temporary directory.
func artifactDir(t *testing.T) string {
	root := os.Getenv("OPSBOT_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// shot saves a full-page screenshot named name.png among the test's
// artefacts and returns its path.
func shot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(artifactDir(t), name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
	return path
}

// declareIn declares an incident as user in unit through the chat and
// returns its id.
func (a *app) declareIn(t *testing.T, user, title string, level int, unit string) int64 {
	t.Helper()
	r := a.say(user, fmt.Sprintf("/incident declare %q --level %d --unit %s", title, level, unit))
	require.Equal(t, "ok", r.Status, r.all())
	m := regexp.MustCompile(`#(\d+)`).FindStringSubmatch(r.Title + r.Text)
	require.NotNil(t, m, r.all())
	var id int64
	_, err := fmt.Sscan(m[1], &id)
	require.NoError(t, err)
	return id
}

// TestConsoleFramework: the console signs in as the API does (no session:
// a browser goes to sign in and back, a data endpoint gets 401; a bearer
// token works), shows who signed in with a sign-out form, the navigation
// and a unit filter of the scope's units; a unit outside the scope is
// refused with the chat's own reason and 403.
func TestConsoleFramework(t *testing.T) {
	a := signedOff(t)

	r := a.consoleGetToken(t, "", "/console/")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/auth/login?return=%2Fconsole%2F", r.Header.Get("Location"))
	r = a.consoleGetToken(t, "", "/console/overview.json")
	require.Equal(t, http.StatusUnauthorized, r.Status)

	r = a.consoleGet(t, "liqiang", "/console/")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.Contains(t, r.Body, "李强（liqiang）")
	assert.Contains(t, r.Body, `action="/auth/logout"`)
	assert.Contains(t, r.Body, `name="csrf_token"`)
	assert.Contains(t, r.Body, `<option value="dc-edu"`)
	assert.NotContains(t, r.Body, `<option value="xc-market"`, "the unit filter offers the scope's units only")
	assert.Contains(t, r.Body, `href="/console/incidents"`)

	r = a.consoleGet(t, "liqiang", "/console/?unit=xc-market")
	require.Equal(t, http.StatusForbidden, r.Status)
	assert.Contains(t, r.Body, "xc-market 不在您的管辖范围内")

	token := a.mintToken(t, "liqiang", "--scope read")
	r = a.consoleGetToken(t, token, "/console/overview.json")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &out))
	r = a.consoleGetToken(t, token, "/console/overview.json?unit=xc-market")
	require.Equal(t, http.StatusForbidden, r.Status)
	assert.Contains(t, r.Body, `"code":"forbidden"`)
}

// TestConsoleHarnessInBrowser: a browser signed in by the harness (no
// clicking through) opens the overview at 390 px: who signed in shows,
// nothing scrolls sideways, the screenshot is saved.
func TestConsoleHarnessInBrowser(t *testing.T) {
	a := startApp(t)
	ctx := consoleBrowser(t, a, "liqiang", true)
	consolePage(t, ctx, a, "/console/")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#who").textContent`), "liqiang")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390)
	shot(t, ctx, "overview-390")
}
