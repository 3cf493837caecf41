package auth

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/access"
)

//go:embed pages.html
var pageFS embed.FS

var pages = template.Must(template.New("pages.html").Funcs(template.FuncMap{
	"t": func(lang, key string) string { return text(lang, key) },
}).ParseFS(pageFS, "pages.html"))

// pageCSS is the pages' one inline style block; the policy allows it by hash.
const pageCSS = `body{margin:0;font:15px/1.6 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f2f4f7;color:#1f2933}
main{max-width:420px;margin:40px auto;padding:24px 20px;background:#fff;border:1px solid #dde3ea;border-radius:12px}
h1{font-size:20px;margin:0 0 16px}p{margin:8px 0}.muted{color:#66788a;font-size:13px}
a.btn,button{display:block;box-sizing:border-box;width:100%;margin:10px 0;padding:11px 14px;border:0;border-radius:8px;
background:#1664d9;color:#fff;text-align:center;text-decoration:none;font:inherit;cursor:pointer}
a.btn.alt{background:#0f8b5f}select{width:100%;padding:9px;font:inherit;border:1px solid #c5cdd8;border-radius:8px}
.err{color:#b42318}code{background:#f2f4f7;padding:1px 4px;border-radius:4px;word-break:break-all}
@media (max-width:480px){main{margin:0;border:0;border-radius:0;min-height:100vh}}`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// Limiter takes slots of a per-minute quota shared by every replica
// (storage/redis Shared.Take): how many of want it got, 0 when full.
type Limiter interface {
	Take(ctx context.Context, key string, now time.Time, perMinute, perHour, want int) (int, error)
}

// WeComUsers turns a WeCom web-login code into the member's userid
// (GET /cgi-bin/auth/getuserinfo); "" for someone who is not a member.
type WeComUsers interface {
	UserIDByCode(ctx context.Context, code string) (string, error)
}

// DevUser is a user the dev-mode picker offers.
type DevUser struct {
	ID   string
	Name string
}

// WeComConfig turns on WeCom web login.
type WeComConfig struct {
	CorpID  string
	AgentID int64
	// RedirectBase is the public http(s) address WeCom sends the browser
	// back to (its host must be the app's trusted domain, 可信域名); ""
	// takes the request's own address.
	RedirectBase string
	// AuthorizeURL is the in-client OAuth2 page (default
	// https://open.weixin.qq.com/connect/oauth2/authorize).
	AuthorizeURL string
	// SSOURL is the QR-code login page for other browsers (default
	// https://login.work.weixin.qq.com/wwlogin/sso/login).
	SSOURL string
	Users  WeComUsers
}

// Config configures the sign-in pages.
type Config struct {
	Language string // zh-CN (default) or en
	// DevMode offers the user picker (to loopback clients only).
	DevMode bool
	// AttemptsPerMinute limits sign-in attempts per client address and
	// per account (default 10).
	AttemptsPerMinute int
	// KeyPrefix starts the rate-limit keys in Redis (one deployment's
	// namespace, e.g. its worker queue name).
	KeyPrefix string
	WeCom     *WeComConfig // nil: not offered
	OIDC      *OIDCConfig  // nil: not offered
	Now       func() time.Time
}

// Deps are the services the pages use.
type Deps struct {
	Sessions Sessions
	Guard    *Guard
	// Resolve maps a platform identity to its active org user
	// (org.Service.Resolve; platform "webchat" takes a user id as is).
	Resolve func(ctx context.Context, platform, externalID string) (core.Actor, error)
	// LinkUser returns the user of a personal link's token
	// (org.Service.WebTokenUser; core.ErrNotFound when unknown).
	LinkUser func(ctx context.Context, token string) (string, error)
	Limiter  Limiter
	// DevUsers lists the users the dev-mode picker offers.
	DevUsers func(ctx context.Context) ([]DevUser, error)
	// ErrorText says a core error in the bot's language (bot.ErrorReply).
	ErrorText func(err error) string
}

// Handler serves /auth/.
type Handler struct {
	cfg  Config
	deps Deps
	oidc *oidcClient
	log  *slog.Logger
}

// New returns the sign-in pages.
func New(cfg Config, deps Deps, logger *slog.Logger) (*Handler, error) {
	if deps.Sessions == nil || deps.Guard == nil || deps.Resolve == nil || deps.Limiter == nil {
		return nil, errors.New("auth: sessions, guard, resolve and limiter are required")
	}
	if cfg.AttemptsPerMinute <= 0 {
		cfg.AttemptsPerMinute = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.ErrorText == nil {
		deps.ErrorText = func(err error) string { return err.Error() }
	}
	if w := cfg.WeCom; w != nil {
		if w.AuthorizeURL == "" {
			w.AuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
		}
		if w.SSOURL == "" {
			w.SSOURL = "https://login.work.weixin.qq.com/wwlogin/sso/login"
		}
		if w.Users == nil || w.CorpID == "" {
			return nil, errors.New("auth: WeCom login needs the corp id and the WeCom client")
		}
	}
	h := &Handler{cfg: cfg, deps: deps, log: logger.With("component", "auth")}
	if cfg.OIDC != nil {
		var err error
		if h.oidc, err = newOIDC(*cfg.OIDC); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Routes registers the pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /auth/login", h.login)
	mux.HandleFunc("GET /auth/link", h.link)
	mux.HandleFunc("POST /auth/dev", h.dev)
	mux.HandleFunc("POST /auth/logout", h.logout)
	mux.HandleFunc("POST /auth/logout-all", h.logoutAll)
	mux.HandleFunc("GET /auth/session", h.session)
	if h.cfg.WeCom != nil {
		mux.HandleFunc("GET /auth/wecom/start", h.wecomStart)
		mux.HandleFunc("GET /auth/wecom/callback", h.wecomCallback)
	}
	if h.oidc != nil {
		mux.HandleFunc("GET /auth/oidc/start", h.oidcStart)
		mux.HandleFunc("GET /auth/oidc/callback", h.oidcCallback)
	}
}

// pageData is what the template shows.
type pageData struct {
	Lang    string
	Title   string
	Lines   []string
	Error   bool
	Ways    []way
	Dev     []DevUser
	Return  string
	Again   string // "sign in again" link, when set
	Command string // a command to show, when set
	CSS     template.CSS
}

// way is one sign-in button.
type way struct {
	ID    string
	Href  string
	Label string
	Alt   bool
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, status int, d pageData) {
	d.Lang = h.cfg.Language
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer a browser posts
	// the dev picker's form with "Origin: null", which dev refuses.
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	d.CSS = template.CSS(pageCSS)
	if err := pages.ExecuteTemplate(w, "page", d); err != nil {
		h.log.Error("render failed", "err", err)
	}
}

// t translates in the pages' language.
func (h *Handler) t(key string, kv ...string) string { return text(h.cfg.Language, key, kv...) }

// clientIP is the request's client address (the server has put the
// trusted proxies' client there already).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// loopback reports whether the request comes from this machine.
func loopback(r *http.Request) bool {
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) devOffered(r *http.Request) bool {
	return h.cfg.DevMode && h.deps.DevUsers != nil && loopback(r)
}

// login is the chooser: only the ways that are on.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ret := access.LocalPath(r.URL.Query().Get("return"))
	q := "?return=" + url.QueryEscape(ret)
	d := pageData{Title: h.t("login.title"), Return: ret}
	if h.cfg.WeCom != nil {
		d.Ways = append(d.Ways, way{ID: "signin-wecom", Href: "/auth/wecom/start" + q, Label: h.t("login.wecom"), Alt: true})
	}
	if h.oidc != nil {
		d.Ways = append(d.Ways, way{ID: "signin-oidc", Href: "/auth/oidc/start" + q, Label: h.t("login.oidc", "name", h.oidc.name)})
	}
	if h.devOffered(r) {
		users, err := h.deps.DevUsers(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Dev = users
	}
	if len(d.Ways) == 0 && len(d.Dev) == 0 {
		d.Lines = append(d.Lines, h.t("login.none"))
	}
	d.Lines = append(d.Lines, h.t("login.link_hint"))
	h.render(w, http.StatusOK, d)
}

// limit takes one sign-in attempt of key's quota; *access.RateLimited
// when it is spent.
func (h *Handler) limit(ctx context.Context, key string) error {
	n, err := h.deps.Limiter.Take(ctx, h.cfg.KeyPrefix+"auth:signin:"+key, h.cfg.Now(), h.cfg.AttemptsPerMinute, 0, 1)
	if err != nil {
		return err
	}
	if n == 0 {
		return &access.RateLimited{RetryAfter: time.Minute}
	}
	return nil
}

// limitAddress limits attempts from the request's client address.
func (h *Handler) limitAddress(w http.ResponseWriter, r *http.Request, via string) bool {
	err := h.limit(r.Context(), "addr:"+clientIP(r))
	if err == nil {
		return true
	}
	h.refuse(w, r, access.Attempt{Via: via, Address: clientIP(r)}, err)
	return false
}

// signIn starts a session for user (after the per-account limit) and
// lands the browser on ret.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, a access.Attempt, ret string) {
	ctx := r.Context()
	if err := h.limit(ctx, "user:"+a.User); err != nil {
		h.refuse(w, r, a, err)
		return
	}
	secret, ses, err := h.deps.Sessions.Start(ctx, a.User, a.Via, a.Address)
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	h.deps.Guard.setCookie(w, secret, ses.ExpiresAt.Sub(ses.CreatedAt))
	http.Redirect(w, r, access.LocalPath(ret), http.StatusSeeOther)
}

// refuse audits a failed attempt and shows why.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, a access.Attempt, why error) {
	a.Outcome = outcome(why)
	if a.Address == "" {
		a.Address = clientIP(r)
	}
	if err := h.deps.Sessions.Failed(r.Context(), a); err != nil {
		h.log.Error("sign-in attempt not audited", "err", err, "via", a.Via)
	}
	again := "/auth/login"
	var rl *access.RateLimited
	var ce *core.Error
	switch {
	case errors.As(why, &rl):
		RetryAfter(w, why)
		secs := strconv.Itoa(int(rl.RetryAfter.Round(time.Second) / time.Second))
		h.render(w, http.StatusTooManyRequests, pageData{Title: h.t("limited.title"), Error: true, Lines: []string{h.t("limited.body", "n", secs)}})
	case errors.As(why, &ce) && (ce.Code == "not_linked" || ce.Code == "not_registered" || ce.Code == "not_member"):
		d := pageData{Title: h.t("unknown.title"), Error: true, Lines: []string{h.t("unknown.body")}, Again: again}
		if a.Claim != "" {
			d.Lines = append(d.Lines, h.t("unknown.claim", "claim", a.Claim))
		}
		d.Command = linkCommand(a)
		h.render(w, http.StatusForbidden, d)
	case errors.Is(why, errBadLink):
		h.render(w, http.StatusUnauthorized, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.link")}, Again: again})
	case errors.As(why, &ce) && ce.Code == "sign_in_state":
		h.render(w, http.StatusBadRequest, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.state")}, Again: again})
	case errors.As(why, &ce):
		h.render(w, refusalStatus(why), pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.deps.ErrorText(why)}, Again: again})
	case errors.Is(why, errProvider):
		h.render(w, http.StatusBadGateway, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.provider", "error", why.Error())}, Again: again})
	default:
		h.fail(w, r, why)
	}
}

// refusalStatus is the status of a refused sign-in: 401, 403 or 429 as
// Status says, 400 for other core errors.
func refusalStatus(err error) int {
	if s := Status(err); s != http.StatusInternalServerError {
		return s
	}
	return http.StatusBadRequest
}

// linkCommand is the command an admin runs to link the person who tried.
func linkCommand(a access.Attempt) string {
	kind, value, ok := strings.Cut(a.Claim, "=")
	if !ok || value == "" {
		return ""
	}
	switch kind {
	case "email", "phone", "wecom":
		return "/org user link <userid> --platform " + kind + " --id " + value
	}
	return "/org user add " + value + " <name> --unit <unit>"
}

// outcome names why an attempt failed, for the audit trail.
func outcome(err error) string {
	var ce *core.Error
	var rl *access.RateLimited
	switch {
	case errors.As(err, &ce):
		return ce.Code
	case errors.As(err, &rl):
		return "rate_limited"
	case errors.Is(err, errBadLink):
		return "bad_link"
	case errors.Is(err, errProvider):
		return "provider"
	}
	return "error"
}

var (
	// errBadLink is an unknown, expired or revoked personal link.
	errBadLink = errors.New("auth: the personal link is unknown, expired or revoked")
	// errProvider is a refusal or failure at the identity provider.
	errProvider = errors.New("auth: identity provider")
)

// fail answers an internal error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("sign-in failed", "path", r.URL.Path, "err", err)
	h.render(w, http.StatusInternalServerError, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.internal")}, Again: "/auth/login"})
}

// link exchanges a personal link from /webchat link for a session; the
// token leaves the address bar with the redirect.
func (h *Handler) link(w http.ResponseWriter, r *http.Request) {
	if !h.limitAddress(w, r, access.SignInLink) {
		return
	}
	a := access.Attempt{Via: access.SignInLink, Address: clientIP(r)}
	token := r.URL.Query().Get("token")
	if token == "" || h.deps.LinkUser == nil {
		h.refuse(w, r, a, errBadLink)
		return
	}
	user, err := h.deps.LinkUser(r.Context(), token)
	if errors.Is(err, core.ErrNotFound) {
		h.refuse(w, r, a, errBadLink)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a.User, a.Claim = user, "user="+user
	h.signIn(w, r, a, "/webchat/")
}

// dev signs in as the picked user: dev mode, loopback, this site only.
func (h *Handler) dev(w http.ResponseWriter, r *http.Request) {
	if !h.devOffered(r) || r.Header.Get("Origin") == "" && r.Header.Get("Referer") == "" || !sameOrigin(r) {
		h.render(w, http.StatusForbidden, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.dev")}, Again: "/auth/login"})
		return
	}
	if !h.limitAddress(w, r, access.SignInDev) {
		return
	}
	user := r.PostFormValue("user")
	a := access.Attempt{Via: access.SignInDev, Address: clientIP(r), Claim: "user=" + user}
	actor, err := h.deps.Resolve(r.Context(), core.PlatformWebchat, user)
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	a.User = actor.UserID
	h.signIn(w, r, a, r.PostFormValue("return"))
}

// wantsJSON reports whether the caller is a script (fetch) rather than a form.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// signedIn resolves the request's session for the sign-out endpoints.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (access.Principal, bool) {
	p, _, err := h.deps.Guard.session(r)
	if err == nil && p.Via != access.ViaSession {
		err = core.Forbidden("csrf") // sign-out is for browser sessions
	}
	if err != nil {
		status := Status(err)
		if status == http.StatusUnauthorized {
			h.deps.Guard.clearCookie(w)
		}
		if wantsJSON(r) {
			writeJSON(w, status, errorBody(status, h.t("failed.signout")))
		} else {
			h.render(w, status, pageData{Title: h.t("failed.title"), Error: true, Lines: []string{h.t("failed.signout")}, Again: "/auth/login"})
		}
		return p, false
	}
	return p, true
}

// signedOut answers a sign-out.
func (h *Handler) signedOut(w http.ResponseWriter, r *http.Request, n int) {
	h.deps.Guard.clearCookie(w)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"signed_out": n})
		return
	}
	http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
}

// logout ends this browser's session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	p, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if err := h.deps.Sessions.End(r.Context(), p.Actor, p.SessionID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.signedOut(w, r, 1)
}

// logoutAll ends every session of the signed-in user.
func (h *Handler) logoutAll(w http.ResponseWriter, r *http.Request) {
	p, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	n, err := h.deps.Sessions.EndAll(r.Context(), p.Actor, p.Actor.UserID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.signedOut(w, r, n)
}

// session tells the pages who is signed in and the CSRF token to send.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	p, ses, err := h.deps.Guard.session(r)
	if err == nil && p.Via != access.ViaSession {
		err = access.ErrUnauthenticated
	}
	if err != nil {
		status := Status(err)
		if status == http.StatusInternalServerError {
			h.log.Error("session lookup failed", "err", err)
		}
		RetryAfter(w, err)
		writeJSON(w, status, errorBody(status, h.t("session.none")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user": p.Actor.UserID, "name": p.Actor.Name, "via": ses.Via, "csrf_token": ses.CSRF,
		"expires_at": h.deps.Sessions.Expiry(ses), "signed_in_at": ses.CreatedAt,
	})
}

// errorBody is the API's error shape, {"error":{"code","message"}}.
func errorBody(status int, msg string) map[string]any {
	code := map[int]string{401: "unauthenticated", 403: "forbidden", 429: "rate_limited"}[status]
	if code == "" {
		code = "internal"
	}
	return map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func itoa(n int) string { return strconv.Itoa(n) }

// callbackURL is where a provider sends the browser back: path on base,
// or on the request's own address when base is "".
func callbackURL(base string, r *http.Request, path string) string {
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/") + path
}

// callback starts a provider's callback to sign-in via: the client
// address's rate limit, then the pending sign-in its state names, taken
// once. The attempt describes the sign-in for the audit; ok is false when
// the answer (429 or the refusal page) is written already.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request, via string) (access.LoginFlow, access.Attempt, bool) {
	a := access.Attempt{Via: via, Address: clientIP(r)}
	if !h.limitAddress(w, r, via) {
		return access.LoginFlow{}, a, false
	}
	f, err := h.deps.Sessions.TakeFlow(r.Context(), via, r.URL.Query().Get("state"))
	if err != nil {
		h.refuse(w, r, a, err)
		return access.LoginFlow{}, a, false
	}
	return f, a, true
}
