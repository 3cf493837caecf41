package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/auth"
	"opsbot/adapters/auth/authtest"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

// clock is a controlled clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// prefixed keeps a test's rate-limit keys apart from other tests' on the
// shared Redis.
type prefixed struct {
	*redis.Shared
	prefix string
}

func (p prefixed) Take(ctx context.Context, key string, now time.Time, perMinute, perHour, want int) (int, error) {
	return p.Shared.Take(ctx, p.prefix+key, now, perMinute, perHour, want)
}

// fakeTokens accepts one API token.
type fakeTokens struct{}

func (fakeTokens) Authenticate(_ context.Context, secret string) (access.Principal, error) {
	if secret == "opsb_good" {
		return access.Principal{Actor: core.Actor{UserID: "bob", Platform: access.PlatformAPI}, Via: access.ViaToken, Scope: access.ScopeRead, TokenID: 7}, nil
	}
	return access.Principal{}, access.ErrUnauthenticated
}

// fakeWeCom turns the stand-in's codes into userids, as getuserinfo does.
type fakeWeCom struct{ login *authtest.WeComLogin }

func (f fakeWeCom) UserIDByCode(_ context.Context, code string) (string, error) {
	u, ok := f.login.UserOf(code)
	if !ok {
		return "", fmt.Errorf("errcode 40029 invalid code")
	}
	return u, nil
}

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	store  *postgres.Store
	orgs   *org.Service
	clock  *clock
	oidc   *authtest.OIDC
	wecom  *authtest.WeComLogin
	config auth.Config
}

// newFixture serves the sign-in pages, the guard at /x and a home page at
// /webchat/ on real Postgres and Redis, with OIDC (claim email) and WeCom
// login stood in locally; mutate changes the config first.
func newFixture(t *testing.T, mutate func(c *auth.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, store: pgtest.New(t), clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	f.orgs = org.NewService(f.store.Org(), f.clock)
	_, err := f.orgs.Bootstrap(ctx, "root", "Root", "city", "City")
	require.NoError(t, err)
	for _, u := range []string{"alice", "bob"} {
		_, err = f.orgs.AddUser(ctx, core.SystemActor(), u, "Name "+u, "city")
		require.NoError(t, err)
	}
	require.NoError(t, f.orgs.LinkIdentity(ctx, core.SystemActor(), "alice", org.IdentityEmail, "alice@example.gov.cn"))
	require.NoError(t, f.orgs.LinkIdentity(ctx, core.SystemActor(), "bob", core.PlatformWeCom, "BobW"))

	sessions := access.NewSessions(f.store.Sessions(), f.clock, access.SessionPolicy{Idle: 8 * time.Hour, Absolute: 7 * 24 * time.Hour})
	guard := auth.NewGuard(sessions, fakeTokens{}, false)
	f.oidc = authtest.NewOIDC(t, "opsbot", "client-secret", map[string]any{"email": "Alice@example.gov.cn", "email_verified": true})
	f.wecom = authtest.NewWeComLogin(t, "wwcorp", "1000002", "BobW")
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.config = auth.Config{AttemptsPerMinute: 100, Now: f.clock.Now,
		OIDC: &auth.OIDCConfig{Issuer: f.oidc.Issuer(), ClientID: "opsbot", ClientSecret: "client-secret", Claim: auth.ClaimEmail, DisplayName: "Keycloak"},
		WeCom: &auth.WeComConfig{CorpID: "wwcorp", AgentID: 1000002, RedirectBase: f.srv.URL, Users: fakeWeCom{f.wecom},
			AuthorizeURL: f.wecom.Server.URL + "/connect/oauth2/authorize", SSOURL: f.wecom.Server.URL + "/wwlogin/sso/login"}}
	if mutate != nil {
		mutate(&f.config)
	}
	h, err := auth.New(f.config, auth.Deps{Sessions: sessions, Guard: guard, Resolve: f.orgs.Resolve, LinkUser: f.orgs.WebTokenUser,
		Limiter: prefixed{redis.NewShared(redistest.Client(t, 0)), redistest.Name("authtest:")},
		DevUsers: func(context.Context) ([]auth.DevUser, error) {
			return []auth.DevUser{{ID: "alice", Name: "Name alice"}, {ID: "bob", Name: "Name bob"}}, nil
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	h.Routes(mux)
	who := func(w http.ResponseWriter, r *http.Request) {
		p, err := guard.Authenticate(r)
		if err != nil {
			auth.RetryAfter(w, err)
			http.Error(w, err.Error(), auth.Status(err))
			return
		}
		fmt.Fprintf(w, "%s via %s", p.Actor.UserID, p.Via)
	}
	mux.HandleFunc("GET /x", who)
	mux.HandleFunc("POST /x", who)
	mux.HandleFunc("GET /webchat/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "home "+r.URL.RequestURI()) })
	t.Cleanup(func() {
		assert.Empty(t, f.oidc.Problems(), "the OIDC provider refused requests")
		assert.Empty(t, f.wecom.Problems(), "the WeCom stand-in refused requests")
	})
	return f
}

// browser is a client with its own cookie jar.
func (f *fixture) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(f.t, err)
	return &http.Client{Jar: jar}
}

// do sends a request and returns status, final URL and body.
func (f *fixture) do(c *http.Client, method, path string, hdr map[string]string, body io.Reader) (int, string, string) {
	f.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = f.srv.URL + path
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(f.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.String(), string(b)
}

// session returns /auth/session's answer.
func (f *fixture) session(c *http.Client) (int, map[string]any) {
	code, _, body := f.do(c, "GET", "/auth/session", nil, nil)
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return code, out
}

// audit lists audit entries with action, as "actor entity after".
func (f *fixture) audit(action string) []string {
	rows, err := f.store.Pool().Query(context.Background(), `SELECT actor, entity, coalesce(after, '') FROM audit_log WHERE action = $1 ORDER BY seq`, action)
	require.NoError(f.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, e, after string
		require.NoError(f.t, rows.Scan(&a, &e, &after))
		out = append(out, a+" "+e+" "+after)
	}
	return out
}

func TestOIDCSignInAndCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.browser()
	code, final, body := f.do(b, "GET", "/auth/oidc/start?return=/webchat/%3Fc%3Dops", nil, nil)
	require.Equal(t, 200, code, body)
	assert.Equal(t, f.srv.URL+"/webchat/?c=ops", final, "lands where it started")
	code, s := f.session(b)
	require.Equal(t, 200, code)
	assert.Equal(t, "alice", s["user"], "the email claim (any case) maps to the user linked to it")
	assert.Equal(t, "oidc", s["via"])
	csrf, _ := s["csrf_token"].(string)
	require.NotEmpty(t, csrf)

	u, _ := url.Parse(f.srv.URL)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == auth.CookieName {
			assert.NotContains(t, f.audit("session.start")[0], c.Value, "the secret is not in the audit trail")
		}
	}
	code, _, body = f.do(b, "GET", "/x", nil, nil)
	assert.Equal(t, 200, code)
	assert.Equal(t, "alice via session", body)
	code, _, _ = f.do(b, "POST", "/x", nil, nil)
	assert.Equal(t, 403, code, "CSRF token missing")
	code, _, _ = f.do(b, "POST", "/x", map[string]string{auth.CSRFHeader: "wrong"}, nil)
	assert.Equal(t, 403, code, "CSRF token wrong")
	code, _, _ = f.do(b, "POST", "/x", map[string]string{auth.CSRFHeader: csrf, "Origin": "https://evil.example"}, nil)
	assert.Equal(t, 403, code, "another site's origin")
	code, _, body = f.do(b, "POST", "/x", map[string]string{auth.CSRFHeader: csrf, "Origin": f.srv.URL}, nil)
	assert.Equal(t, 200, code, body)
	code, _, _ = f.do(b, "POST", "/x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("csrf_token="+csrf))
	assert.Equal(t, 200, code, "a form posts the token as a hidden field")

	entries := f.audit("session.start")
	require.Len(t, entries, 1)
	assert.Contains(t, entries[0], `"via":"oidc"`)
	assert.Contains(t, entries[0], `"address":"127.0.0.1"`)
}

func TestOIDCUnknownPerson(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.oidc.SetPerson(map[string]any{"email": "stranger@example.gov.cn"})
	var before int
	require.NoError(t, f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&before))
	code, _, body := f.do(f.browser(), "GET", "/auth/oidc/start", nil, nil)
	assert.Equal(t, 403, code)
	assert.Contains(t, body, "你的账号尚未在 opsbot 中登记或关联，请联系管理员添加或关联（/org user link …）")
	assert.Contains(t, body, "/org user link &lt;userid&gt; --platform email --id stranger@example.gov.cn")
	var after int
	require.NoError(t, f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&after))
	assert.Equal(t, before, after, "nobody is created")
	failed := f.audit("session.sign_in_failed")
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0], `"claim":"email=stranger@example.gov.cn"`)
	assert.Contains(t, failed[0], `"outcome":"not_linked"`)
	assert.Empty(t, f.audit("session.start"))

	// An unverified email is refused too.
	f.oidc.SetPerson(map[string]any{"email": "alice@example.gov.cn", "email_verified": false})
	code, _, _ = f.do(f.browser(), "GET", "/auth/oidc/start", nil, nil)
	assert.Equal(t, 403, code)
}

func TestOIDCStateOnceAndForged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.browser()
	b.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.Path, "/auth/oidc/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := b.Get(f.srv.URL + "/auth/oidc/start")
	require.NoError(t, err)
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	require.Contains(t, callback, "/auth/oidc/callback?")
	code, _, body := f.do(f.browser(), "GET", callback, nil, nil)
	require.Equal(t, 200, code, body)
	code, _, body = f.do(f.browser(), "GET", callback, nil, nil)
	assert.Equal(t, 400, code, "a state is used once")
	assert.Contains(t, body, "登录请求已过期或已使用")
	code, _, _ = f.do(f.browser(), "GET", "/auth/oidc/callback?code=x&state=forged", nil, nil)
	assert.Equal(t, 400, code)
}

func TestOpenRedirectRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, ret := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		code, final, body := f.do(f.browser(), "GET", "/auth/oidc/start?return="+url.QueryEscape(ret), nil, nil)
		require.Equal(t, 200, code, body)
		assert.Equal(t, f.srv.URL+"/webchat/", final, ret)
	}
	_, _, body := f.do(f.browser(), "GET", "/auth/login?return="+url.QueryEscape("//evil.example/"), nil, nil)
	assert.NotContains(t, body, "evil.example")
}

func TestRateLimitAndAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *auth.Config) { c.AttemptsPerMinute = 3 })
	b := f.browser()
	for i := range 3 {
		code, _, body := f.do(b, "GET", "/auth/link?token=nope", nil, nil)
		require.Equal(t, 401, code, "attempt %d", i)
		assert.Contains(t, body, "/webchat link")
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/auth/link?token=nope", nil)
	resp, err := b.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	failed := f.audit("session.sign_in_failed")
	require.Len(t, failed, 4, "every attempt is audited")
	assert.Contains(t, failed[0], `"outcome":"bad_link"`)
	assert.Contains(t, failed[3], `"outcome":"rate_limited"`)
	assert.Contains(t, failed[3], `"address":"127.0.0.1"`)

	// A minute later the address may try again.
	f.clock.add(61 * time.Second)
	code, _, _ := f.do(b, "GET", "/auth/link?token=nope", nil, nil)
	assert.Equal(t, 401, code)
}

func TestPersonalLinkSignOutAndExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	link := func() string {
		tok, _, err := f.orgs.IssueWebToken(ctx, core.Actor{UserID: "alice", Platform: "webchat"}, "alice", time.Hour)
		require.NoError(t, err)
		return tok
	}
	tab1 := f.browser()
	code, final, _ := f.do(tab1, "GET", "/auth/link?token="+link(), nil, nil)
	require.Equal(t, 200, code)
	assert.Equal(t, f.srv.URL+"/webchat/", final, "the token leaves the address bar")
	tab2 := &http.Client{Jar: tab1.Jar} // another tab of the same browser
	other := f.browser()                // another browser
	code, _, _ = f.do(other, "GET", "/auth/link?token="+link(), nil, nil)
	require.Equal(t, 200, code)

	_, s := f.session(tab1)
	csrf := s["csrf_token"].(string)
	code, _, _ = f.do(tab1, "POST", "/auth/logout", map[string]string{"Accept": "application/json"}, nil)
	assert.Equal(t, 403, code, "sign-out needs the CSRF token too")
	code, _, body := f.do(tab1, "POST", "/auth/logout", map[string]string{"Accept": "application/json", auth.CSRFHeader: csrf}, nil)
	require.Equal(t, 200, code, body)
	code, _, _ = f.do(tab2, "GET", "/x", nil, nil)
	assert.Equal(t, 401, code, "signed out in one tab: the next call is 401 at once")
	code, _, _ = f.do(other, "GET", "/x", nil, nil)
	assert.Equal(t, 200, code, "the other browser stays signed in")

	// Idle expiry: 8 hours unused.
	f.clock.add(8*time.Hour + time.Second)
	code, _, _ = f.do(other, "GET", "/x", nil, nil)
	assert.Equal(t, 401, code, "idle")
	code, s = f.session(other)
	assert.Equal(t, 401, code, "%v", s)

	// Absolute expiry: used every 7 hours, gone after 7 days.
	b := f.browser()
	code, _, _ = f.do(b, "GET", "/auth/link?token="+link(), nil, nil)
	require.Equal(t, 200, code)
	for range 23 {
		f.clock.add(7 * time.Hour)
		code, _, _ = f.do(b, "GET", "/x", nil, nil)
		require.Equal(t, 200, code)
	}
	f.clock.add(7 * time.Hour) // 7 × 24 = 168 hours
	code, _, _ = f.do(b, "GET", "/x", nil, nil)
	assert.Equal(t, 401, code, "absolute")
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	one, two := f.browser(), f.browser()
	for _, b := range []*http.Client{one, two} {
		code, _, body := f.do(b, "GET", "/auth/oidc/start", nil, nil)
		require.Equal(t, 200, code, body)
	}
	_, s := f.session(one)
	code, _, body := f.do(one, "POST", "/auth/logout-all", map[string]string{"Accept": "application/json", auth.CSRFHeader: s["csrf_token"].(string)}, nil)
	require.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"signed_out":2}`, body)
	code, _, _ = f.do(two, "GET", "/x", nil, nil)
	assert.Equal(t, 401, code)
	require.Len(t, f.audit("session.end_all"), 1)
}

func TestBearerGoesToTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	c := http.DefaultClient
	code, _, body := f.do(c, "POST", "/x", map[string]string{"Authorization": "Bearer opsb_good"}, nil)
	assert.Equal(t, 200, code, "no CSRF for a bearer token")
	assert.Equal(t, "bob via token", body)
	for _, h := range []string{"Bearer opsb_bad", "Bearer ", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "opsb_good"} {
		code, _, _ = f.do(c, "GET", "/x", map[string]string{"Authorization": h}, nil)
		assert.Equal(t, 401, code, h)
	}
	code, _, _ = f.do(c, "GET", "/x", nil, nil)
	assert.Equal(t, 401, code, "nothing at all")
	code, _, _ = f.do(c, "GET", "/x", map[string]string{"Cookie": auth.CookieName + "=forged"}, nil)
	assert.Equal(t, 401, code, "an unknown session")
}

func TestWeComLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	// Another browser: the QR-code login page.
	b := f.browser()
	code, final, body := f.do(b, "GET", "/auth/wecom/start?return=/webchat/", nil, nil)
	require.Equal(t, 200, code, body)
	assert.Equal(t, f.srv.URL+"/webchat/", final)
	_, s := f.session(b)
	assert.Equal(t, "bob", s["user"])
	assert.Equal(t, "wecom", s["via"])

	// Inside the WeCom client: the OAuth2 page, in WeCom's documented form.
	nb := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", f.srv.URL+"/auth/wecom/start", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone) wxwork/4.1.22 MicroMessenger/7.0.1")
	resp, err := nb.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	assert.Regexp(t, `^`+f.wecom.Server.URL+`/connect/oauth2/authorize\?appid=wwcorp&redirect_uri=`+url.QueryEscape(f.srv.URL+"/auth/wecom/callback")+
		`&response_type=code&scope=snsapi_base&state=[A-Za-z0-9_-]+&agentid=1000002#wechat_redirect$`, loc)

	// A member who is not linked: the ask-your-admin page.
	f.wecom.SetMember("StrangerW")
	code, _, body = f.do(f.browser(), "GET", "/auth/wecom/start", nil, nil)
	assert.Equal(t, 403, code)
	assert.Contains(t, body, "请联系管理员添加或关联")
	assert.Contains(t, body, "--platform wecom --id StrangerW")
}

func TestDevPicker(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *auth.Config) { c.DevMode = true; c.OIDC = nil; c.WeCom = nil })
	b := f.browser()
	_, _, body := f.do(b, "GET", "/auth/login", nil, nil)
	assert.Contains(t, body, `action="/auth/dev"`)
	assert.NotContains(t, body, "/auth/oidc/start")
	code, _, _ := f.do(b, "POST", "/auth/dev", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("user=bob"))
	assert.Equal(t, 403, code, "no origin: refused")
	code, final, _ := f.do(b, "POST", "/auth/dev", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": f.srv.URL},
		strings.NewReader("user=bob&return=%2Fwebchat%2F"))
	require.Equal(t, 200, code)
	assert.Equal(t, f.srv.URL+"/webchat/", final)
	_, s := f.session(b)
	assert.Equal(t, "dev", s["via"])

	off := newFixture(t, func(c *auth.Config) { c.OIDC = nil })
	_, _, body = off.do(off.browser(), "GET", "/auth/login", nil, nil)
	assert.NotContains(t, body, `action="/auth/dev"`, "no picker outside dev mode")
	assert.Contains(t, body, "/auth/wecom/start")
	code, _, _ = off.do(off.browser(), "POST", "/auth/dev", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": off.srv.URL},
		strings.NewReader("user=bob"))
	assert.Equal(t, 403, code)
}
