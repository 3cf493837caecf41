package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/auth/authtest"
	"opsbot/core"
	"opsbot/core/org"
)

// signedOff starts opsbot with dev mode off (sessions over plain http on
// loopback) and extra settings.
func signedOff(t *testing.T, extra ...string) *app {
	return startApp(t, append([]string{"OPSBOT_WEBCHAT_DEV_MODE=false", "OPSBOT_AUTH_COOKIE_SECURE=false"}, extra...)...)
}

// webUser is one browser: a cookie jar and the session's CSRF token.
type webUser struct {
	a    *app
	c    *http.Client
	csrf string
}

// newBrowser returns a browser with no session.
func (a *app) newBrowser() *webUser {
	jar, err := cookiejar.New(nil)
	require.NoError(a.t, err)
	return &webUser{a: a, c: &http.Client{Jar: jar}}
}

// issueLink makes a personal link token for user, as /webchat link does.
func (a *app) issueLink(user string) string {
	tok, _, err := org.NewService(a.store.Org(), core.SystemClock{}).IssueWebToken(context.Background(),
		core.Actor{UserID: user, Platform: core.PlatformWebchat}, user, time.Hour)
	require.NoError(a.t, err)
	return tok
}

// signedIn returns a browser signed in as user through a personal link.
func (a *app) signedIn(user string) *webUser {
	b := a.newBrowser()
	b.exchange(a.issueLink(user))
	return b
}

// exchange opens a personal link and takes the session's CSRF token.
func (b *webUser) exchange(token string) {
	t := b.a.t
	t.Helper()
	code, body := b.call("GET", "/auth/link?token="+url.QueryEscape(token), nil)
	require.Equal(t, 200, code, body)
	code, body = b.call("GET", "/auth/session", nil)
	require.Equal(t, 200, code, body)
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	b.csrf = s.CSRF
}

// call sends a request with the session cookie and, for a state change,
// the CSRF token.
func (b *webUser) call(method, path string, body any) (int, string) {
	t := b.a.t
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, b.a.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	if method != "GET" && b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	resp, err := b.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// say sends a command in the web chat and returns the raw answer.
func (b *webUser) say(text string) string {
	b.a.t.Helper()
	code, out := b.call("POST", "/webchat/api/messages", map[string]string{"text": text})
	require.Equal(b.a.t, 200, code, out)
	return out
}

// TestWebchatPersonalSignIn: outside dev mode people sign in with a
// personal link from /webchat link (exchanged for a session); the session
// acts only as them (changing user does nothing but 403), state changes
// need the CSRF token, and /webchat logout ends links and sessions at once.
func TestWebchatPersonalSignIn(t *testing.T) {
	a := signedOff(t, "OPSBOT_WEBCHAT_PUBLIC_URL=https://opsbot.example.gov.cn")
	code, _ := a.call("POST", "/webchat/api/messages", map[string]string{"user": "admin", "text": "/whoami"})
	require.Equal(t, 401, code, "no sign-in, no access")

	zm := a.signedIn("zhengmin")
	// A link asked for in chat is an /auth/link exchange away.
	out := zm.say("/网页版 登录")
	m := regexp.MustCompile(`https://opsbot\.example\.gov\.cn/webchat/#token=([A-Za-z0-9_-]+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	zm2 := a.newBrowser()
	zm2.exchange(m[1])

	require.Contains(t, zm2.say("/whoami"), "zhengmin")
	code, _ = zm2.call("POST", "/webchat/api/messages", map[string]string{"user": "admin", "text": "/org tree"})
	require.Equal(t, 403, code, "a session cannot act as someone else")
	code, _ = zm2.call("GET", "/webchat/api/inbox?user=admin&after=0", nil)
	require.Equal(t, 403, code)
	code, out = zm2.call("GET", "/webchat/api/users", nil)
	require.Equal(t, 200, code)
	require.Contains(t, out, `"id":"zhengmin"`)
	require.NotContains(t, out, `"id":"admin"`)
	csrf := zm2.csrf
	zm2.csrf = ""
	code, out = zm2.call("POST", "/webchat/api/messages", map[string]string{"text": "/whoami"})
	require.Equal(t, 403, code, "no CSRF token: %s", out)
	zm2.csrf = csrf

	// An admin covering a user may make a link for them; others may not.
	require.Contains(t, zm.say("/webchat link maxin"), `"status":"error"`)
	require.Contains(t, a.signedIn("liuyang").say("/webchat link maxin"), "maxin 的网页版登录链接")

	out = zm.say("/webchat logout")
	require.Contains(t, out, "2 个链接失效，2 个已登录的浏览器退出")
	code, _ = zm2.call("GET", "/webchat/api/inbox?after=0", nil)
	require.Equal(t, 401, code, "signed out everywhere at once")
	code, _ = zm.call("GET", "/webchat/api/inbox?after=0", nil)
	require.Equal(t, 401, code)
	r := a.signedIn("admin").say("/audit user:zhengmin")
	for _, action := range []string{"为用户 zhengmin 签发网页聊天令牌", "吊销用户 zhengmin 的网页聊天令牌", "以用户 zhengmin 身份登录", "退出用户 zhengmin 的全部登录会话"} {
		require.Contains(t, r, action)
	}
}

// browserCtx starts headless Chromium (skipped when there is none, unless
// OPSBOT_REQUIRE_BROWSER=1).
func browserCtx(t *testing.T) context.Context {
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("OPSBOT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("no browser at %s: %v", path, err)
		}
		t.Skipf("no browser at %s", path)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(bctx))
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// landsSignedIn opens the web chat, is sent to /auth/login, clicks the
// sign-in button (id button), and lands back on the chat signed in as who
// (shown in the header), sends /whoami and sees the answer, then signs out.
func landsSignedIn(t *testing.T, ctx context.Context, a *app, button, who, whoami string) {
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(a.base+"/webchat/"),
		chromedp.WaitVisible(chromedp.ID(button)),
	))
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	require.NoError(t, err)
	require.Equal(t, "/auth/login", path, "not signed in: the page sends the browser to sign in")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID(button))))
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.ID("who"))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("not signed in on the web chat: %v; the browser shows %s", err, page)
	}
	path, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	require.NoError(t, err)
	assert.Equal(t, "/webchat/", path)
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#who").textContent`))
	require.NoError(t, err)
	assert.Contains(t, shown, who)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#user").value === "`+who+`"`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/whoami\n")))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll(".msg.ok .title")].some(e => e.textContent.includes("`+whoami+`"))`))
	require.NoError(t, err, "the /whoami answer did not show")

	// Sign out: back at the sign-in page; the chat sends the browser there again.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID(button))))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(a.base+"/webchat/"), chromedp.WaitVisible(chromedp.ID(button))))
	path, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	require.NoError(t, err)
	assert.Equal(t, "/auth/login", path)
}

// TestOIDCSignInInBrowser: the OIDC flow (PKCE S256, state, nonce, RS256
// ID token) against a local provider ends signed in on the web chat
// page, which shows the user and sends a command.
func TestOIDCSignInInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	idp := authtest.NewOIDC(t, "opsbot-e2e", "e2e-secret", map[string]any{"preferred_username": "sunli", "name": "孙丽"})
	a := signedOff(t, "OPSBOT_AUTH_OIDC_ISSUER="+idp.Issuer(), "OPSBOT_AUTH_OIDC_CLIENT_ID=opsbot-e2e",
		"OPSBOT_AUTH_OIDC_CLIENT_SECRET=e2e-secret", "OPSBOT_AUTH_OIDC_DISPLAY_NAME=统一身份认证")
	landsSignedIn(t, ctx, a, "signin-oidc", "sunli", "（sunli）")
	assert.Empty(t, idp.Problems())
	r := a.signedIn("admin").say("/audit user:sunli")
	require.Contains(t, r, "以用户 sunli 身份登录")
	require.Contains(t, r, "退出用户 sunli 的登录会话")
}

// TestWeComSignInInBrowser: WeCom web login (扫码登录 outside the WeCom
// client) against local stand-ins of WeCom's login page and of
// getuserinfo (which checks the access token and the code, used once)
// ends signed in on the web chat as the org user linked to the member.
func TestWeComSignInInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	login := authtest.NewWeComLogin(t, wecomCorp, "1000002", "WangFangW")
	api := newWeComAPI(t, func(c apiCall, out map[string]any) {
		if c.Path != "/cgi-bin/auth/getuserinfo" {
			return
		}
		user, ok := login.UserOf(c.Query.Get("code"))
		switch {
		case c.Query.Get("access_token") != "tok":
			out["errcode"], out["errmsg"] = 40014, "invalid access_token"
		case !ok:
			out["errcode"], out["errmsg"] = 40029, "invalid code"
		default:
			out["userid"] = user
		}
	})
	a := startAppWith(t, nil, "OPSBOT_WEBCHAT_DEV_MODE=false", "OPSBOT_AUTH_COOKIE_SECURE=false",
		"OPSBOT_WECOM_ENABLED=true", "OPSBOT_WECOM_CORP_ID="+wecomCorp, "OPSBOT_WECOM_AGENT_ID=1000002",
		"OPSBOT_WECOM_SECRET=s3cret", "OPSBOT_WECOM_TOKEN="+wecomToken, "OPSBOT_WECOM_ENCODING_AES_KEY="+wecomKey,
		"OPSBOT_WECOM_API_BASE="+api.srv.URL, "OPSBOT_AUTH_WECOM_LOGIN=true",
		"OPSBOT_AUTH_WECOM_AUTHORIZE_URL="+login.Server.URL+"/connect/oauth2/authorize",
		"OPSBOT_AUTH_WECOM_SSO_URL="+login.Server.URL+"/wwlogin/sso/login")
	r := a.signedIn("admin").say("/org user link wangfang --platform wecom --id WangFangW")
	require.Contains(t, r, `"status":"ok"`)
	landsSignedIn(t, ctx, a, "signin-wecom", "wangfang", "（wangfang）")
	assert.Empty(t, login.Problems())
	require.Len(t, api.to("/cgi-bin/auth/getuserinfo"), 1)
}
