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
//     with a 390×844 viewport when mobile; consoleSignIn(t, ctx, a, user)
//     switches it to another user; consolePage(t, ctx, a, path) opens a
//     console page in it and waits for the page's title (#title).
//   - shot(t, ctx, name) saves a full-page screenshot as
//     $OPSBOT_ARTIFACTS/<test name>/<name>.png (default t.TempDir()).
//   - evalJS[T](t, ctx, expr) evaluates a JavaScript expression;
//     waitJS(t, ctx, expr, why) waits until one holds, across navigations.
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
	"strings"
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
	consoleSignIn(t, ctx, a, user)
	if mobile {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
	}
	return ctx
}

// consoleSignIn signs the browser in as user (replacing any session
// cookie): one browser can act as several users in turn.
func consoleSignIn(t *testing.T, ctx context.Context, a *app, user string) {
	t.Helper()
	secret, _ := consoleSession(t, a, user)
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: consoleCookie, Value: secret,
		URL: a.base + "/", Path: "/", HTTPOnly: ptrTo(true)})
	require.NoError(t, err)
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

// waitJS waits (15 s at most) until expr is true in the page, across
// navigations (evaluation errors while a page loads are retried).
func waitJS(t *testing.T, ctx context.Context, expr, why string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s never held", why, expr)
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
	return replyID(t, a.say(user, fmt.Sprintf("/incident declare %q --level %d --unit %s", title, level, unit)))
}

// replyID is the number (#N) a successful reply names.
func replyID(t *testing.T, r wmsg) int64 {
	t.Helper()
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

// TestConsoleDevSignIn: under `make run` (dev mode) the console sends
// the browser to the sign-in page, whose dev picker signs in and comes
// back to the console; sign-out (a form with the session's CSRF token)
// ends the session.
func TestConsoleDevSignIn(t *testing.T) {
	a := startApp(t)
	ctx := browserCtx(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(a.base+"/console/sla"), chromedp.WaitVisible(chromedp.ID("dev-user"))))
	require.Equal(t, "/auth/login", evalJS[string](t, ctx, `location.pathname`))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("dev-user"), "liqiang"), chromedp.Click(chromedp.ID("dev-go"))))
	waitJS(t, ctx, `location.pathname === "/console/sla" && !!document.querySelector("#who")`, "not back on the console")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#who").textContent`), "李强")
	// Clicked from the page itself: a CDP click can lose its node to a
	// document still settling after the redirect.
	waitJS(t, ctx, `document.readyState === "complete" && (document.querySelector("#signout").click(), true)`, "no sign-out button")
	waitJS(t, ctx, `location.pathname === "/auth/login"`, "sign-out did not end at the sign-in page")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(a.base+"/console/")))
	waitJS(t, ctx, `location.pathname === "/auth/login"`, "the session did not end")
}

// openTicket opens a technical ticket as user about unit and returns its id.
func (a *app) openTicket(t *testing.T, user, title, unit string) int64 {
	t.Helper()
	return replyID(t, a.say(user, fmt.Sprintf("/ticket open tech %q --unit %s", title, unit)))
}

// shows reports which of the ids the overview lists under section (a
// CSS selector of the card).
func shows(t *testing.T, ctx context.Context, section string, ids ...int64) []bool {
	t.Helper()
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = evalJS[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, fmt.Sprintf(`%s li[data-id="%d"]`, section, id)))
	}
	return out
}

// TestConsoleScopeInBrowser is issue 15's "must show" for the overview,
// the incident page and the SLA board, in Chromium at 390 px: seeded with
// an incident and a ticket in dongcheng and another pair in xicheng, the
// district admin liqiang never sees xicheng's, the operator sees both,
// a member only their own; the unit filter narrows and refuses a unit
// outside the scope; the incident page shows its timeline; the overview
// shows a new incident without a reload; nothing scrolls sideways.
func TestConsoleScopeInBrowser(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	clock := &testClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, sh)} // a Tuesday
	a := startAppWith(t, clock, "OPSBOT_CONSOLE_REFRESH=2s")
	east := a.declareIn(t, "zhengmin", "东城门户无法访问", 2, "dc-edu")
	west := a.declareIn(t, "huangyu", "西城抽查系统缓慢", 3, "xc-market")
	eastTicket := a.openTicket(t, "zhengmin", "东城 VPN 无法登录", "dc-edu")
	westTicket := a.openTicket(t, "huangyu", "西城账号被锁定", "xc-market")
	clock.Set(time.Date(2026, 11, 26, 10, 0, 0, 0, sh)) // both tickets fall due at 17:30 today

	ctx := consoleBrowser(t, a, "liqiang", true)
	consolePage(t, ctx, a, "/console/")
	require.Equal(t, []bool{true, false}, shows(t, ctx, "#open-incidents", east, west), "the district admin sees dongcheng's incident only")
	require.Equal(t, []bool{true, false}, shows(t, ctx, "#tickets", eastTicket, westTicket), "and dongcheng's ticket only")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#duty").textContent`), "ops-oncall")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390, "no sideways scroll at 390 px")
	shot(t, ctx, "overview-liqiang-390")

	// The unit filter narrows inside the scope (choosing a unit reloads
	// the page with ?unit=) and refuses a unit outside it.
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.querySelector("#unit"); s.value = "dc-health"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)))
	waitJS(t, ctx, `location.search === "?unit=dc-health" && !!document.querySelector("#open-incidents")`, "the unit filter did not apply")
	require.Equal(t, []bool{false}, shows(t, ctx, "#open-incidents", east), "dc-health has no incident")
	consolePage(t, ctx, a, "/console/?unit=dc-edu")
	require.Equal(t, []bool{true}, shows(t, ctx, "#open-incidents", east))
	consolePage(t, ctx, a, "/console/?unit=xc-market")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#error").textContent`), "xc-market 不在您的管辖范围内")
	assert.Equal(t, http.StatusForbidden, a.consoleGet(t, "liqiang", "/console/?unit=xc-market").Status)
	assert.Equal(t, http.StatusForbidden, a.consoleGet(t, "liqiang", fmt.Sprintf("/console/incidents/%d", west)).Status)

	// Live: a new incident in the district appears without a reload.
	consolePage(t, ctx, a, "/console/")
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`)))
	fresh := a.declareIn(t, "maxin", "东城卫健委网站 502", 1, "dc-health")
	waitJS(t, ctx, fmt.Sprintf(`!!document.querySelector('#open-incidents li[data-id="%d"]')`, fresh), "the overview did not refresh itself")
	require.True(t, evalJS[bool](t, ctx, `window.notReloaded === true`), "refreshed in place, not reloaded")

	// The incident page: its timeline, people by name as in the chat.
	require.Contains(t, a.say("admin", fmt.Sprintf("/incident assign %d maxin", east)).all(), "马鑫")
	consolePage(t, ctx, a, fmt.Sprintf("/console/incidents/%d", east))
	timeline := evalJS[string](t, ctx, `document.querySelector("#timeline").textContent`)
	assert.Contains(t, timeline, "申报")
	assert.Contains(t, timeline, "郑敏")
	assert.Contains(t, timeline, "指派给 马鑫", "an assignment names the person, not the id")
	assert.NotContains(t, timeline, "maxin")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390)
	shot(t, ctx, "incident-390")

	// The SLA board: the district's ticket with its working-time clock.
	consolePage(t, ctx, a, "/console/sla")
	board := evalJS[string](t, ctx, `document.querySelector("#board").textContent`)
	assert.Contains(t, board, "东城 VPN 无法登录")
	assert.NotContains(t, board, "西城账号被锁定")
	assert.Contains(t, board, "5小时", "due at 17:30, 10:00 now: 2 h + 3.5 h of working time")
	shot(t, ctx, "sla-390")

	// The operator sees both districts.
	consoleSignIn(t, ctx, a, "sunli")
	consolePage(t, ctx, a, "/console/")
	require.Equal(t, []bool{true, true}, shows(t, ctx, "#open-incidents", east, west))
	require.Equal(t, []bool{true, true}, shows(t, ctx, "#tickets", eastTicket, westTicket))
	shot(t, ctx, "overview-operator-390")

	// A member sees their own items only.
	consoleSignIn(t, ctx, a, "zhengmin")
	consolePage(t, ctx, a, "/console/")
	require.Equal(t, []bool{true, false, false}, shows(t, ctx, "#open-incidents", east, west, fresh))
	require.Equal(t, []bool{true, false}, shows(t, ctx, "#tickets", eastTicket, westTicket))
	assert.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("#unit").length`), "no unit filter for own items")
	shot(t, ctx, "overview-member-390")
	assert.Equal(t, http.StatusForbidden, a.consoleGet(t, "zhengmin", fmt.Sprintf("/console/incidents/%d", west)).Status)
}

// TestConsoleIncidentList: the incident list filters by level, state,
// unit, system, dates and text inside the scope, a page at a time.
func TestConsoleIncidentList(t *testing.T) {
	a := startApp(t)
	east := a.declareIn(t, "zhengmin", "东城门户无法访问", 2, "dc-edu")
	east2 := a.declareIn(t, "maxin", "卫健委网站证书过期", 3, "dc-health")
	west := a.declareIn(t, "huangyu", "西城抽查系统缓慢", 3, "xc-market")
	row := func(id int64) string { return fmt.Sprintf(`<tr data-id="%d">`, id) }
	list := func(user, query string) string {
		t.Helper()
		r := a.consoleGet(t, user, "/console/incidents"+query)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		return r.Body
	}
	b := list("liqiang", "")
	assert.Contains(t, b, row(east))
	assert.Contains(t, b, row(east2))
	assert.NotContains(t, b, row(west))
	b = list("liqiang", "?level=3")
	assert.NotContains(t, b, row(east))
	assert.Contains(t, b, row(east2))
	b = list("liqiang", "?q="+"门户")
	assert.Contains(t, b, row(east))
	assert.NotContains(t, b, row(east2))
	b = list("liqiang", "?unit=dc-health&state=open")
	assert.Equal(t, []bool{false, true}, []bool{strings.Contains(b, row(east)), strings.Contains(b, row(east2))})
	b = list("liqiang", "?until=2000-01-01")
	assert.NotContains(t, b, row(east))
	b = list("sunli", "?unit=xc-market")
	assert.Contains(t, b, row(west))
	assert.NotContains(t, b, row(east))
	b = list("zhengmin", "")
	assert.Contains(t, b, row(east))
	assert.NotContains(t, b, row(east2), "a member lists their own incidents only")
	assert.Equal(t, http.StatusBadRequest, a.consoleGet(t, "liqiang", "/console/incidents?since=yesterday").Status)
	assert.Equal(t, http.StatusForbidden, a.consoleGet(t, "liqiang", "/console/incidents?unit=xc-market").Status)
}
