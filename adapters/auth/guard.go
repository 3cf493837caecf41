// Package auth is how a person signs in to opsbot's web side and how every
// web or API request is resolved to who it acts as: the Guard (bearer API
// tokens, or the opsbot_session cookie with CSRF protection) and the
// /auth/ pages (sign-in chooser, WeCom web login, OIDC with PKCE,
// personal-link exchange, dev-mode picker, sign-out, sign-out everywhere).
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/access"
)

// CookieName is the session cookie.
const CookieName = "opsbot_session"

// CSRFHeader carries a cookie session's CSRF token on state-changing
// requests; a form posts it as the hidden field CSRFField.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// Tokens resolves bearer API tokens (opsb_…) to their principal: errors
// access.ErrUnauthenticated, *access.RateLimited.
type Tokens interface {
	Authenticate(ctx context.Context, secret string) (access.Principal, error)
}

// Sessions is the session service (*access.Sessions).
type Sessions interface {
	Start(ctx context.Context, userID, via, address string) (string, access.Session, error)
	Resolve(ctx context.Context, secret string) (access.Principal, access.Session, error)
	Expiry(s access.Session) time.Time
	End(ctx context.Context, actor core.Actor, id string) error
	EndAll(ctx context.Context, actor core.Actor, userID string) (int, error)
	Failed(ctx context.Context, a access.Attempt) error
	BeginFlow(ctx context.Context, via, returnPath string) (access.LoginFlow, error)
	TakeFlow(ctx context.Context, via, state string) (access.LoginFlow, error)
}

// Guard resolves a request to its principal: a bearer token through
// Tokens, else the session cookie through Sessions. A cookie session's
// state-changing request (anything but GET, HEAD, OPTIONS) must carry the
// session's CSRF token and, when the browser names one, come from this
// site's origin; else core.ErrForbidden with code "csrf".
type Guard struct {
	sessions Sessions
	tokens   Tokens
	secure   bool
}

// NewGuard returns the guard. tokens may be nil (no API tokens: every
// bearer token is refused). secure marks the cookie Secure (off only for
// plain-http loopback development).
func NewGuard(sessions Sessions, tokens Tokens, secure bool) *Guard {
	return &Guard{sessions: sessions, tokens: tokens, secure: secure}
}

// Authenticate resolves who r acts as. Errors: access.ErrUnauthenticated,
// *access.RateLimited, core.ErrForbidden (code "csrf").
func (g *Guard) Authenticate(r *http.Request) (access.Principal, error) {
	p, _, err := g.session(r)
	return p, err
}

// session is Authenticate that also returns the cookie's session (zero
// for a bearer token).
func (g *Guard) session(r *http.Request) (access.Principal, access.Session, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" || g.tokens == nil {
			return access.Principal{}, access.Session{}, access.ErrUnauthenticated
		}
		p, err := g.tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
		return p, access.Session{}, err
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return access.Principal{}, access.Session{}, access.ErrUnauthenticated
	}
	p, ses, err := g.sessions.Resolve(r.Context(), c.Value)
	if err != nil {
		return access.Principal{}, access.Session{}, err
	}
	if changesState(r.Method) {
		if err := checkCSRF(r, ses.CSRF); err != nil {
			return access.Principal{}, access.Session{}, err
		}
	}
	return p, ses, nil
}

// changesState reports whether a method may change state.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// checkCSRF checks the synchronizer token (header, or form field of a
// form post) and, when present, that Origin or Referer is this site.
func checkCSRF(r *http.Request, want string) error {
	got := r.Header.Get(CSRFHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue(CSRFField)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return core.Forbidden("csrf")
	}
	if !sameOrigin(r) {
		return core.Forbidden("csrf")
	}
	return nil
}

// sameOrigin reports whether the request's Origin (else Referer), when
// the browser sent one, names this host.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true
	}
	if from == "null" {
		return false
	}
	u, err := url.Parse(from)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

// setCookie hands the browser a session that lasts at most ttl (as
// Max-Age, so the browser's clock does not matter).
func (g *Guard) setCookie(w http.ResponseWriter, secret string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", MaxAge: max(1, int(ttl/time.Second)),
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode})
}

// clearCookie drops the session cookie.
func (g *Guard) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode})
}

// Status is the HTTP status an Authenticate error means: 401, 429, 403,
// else 500.
func Status(err error) int {
	var rl *access.RateLimited
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.As(err, &rl):
		return http.StatusTooManyRequests
	case errors.Is(err, core.ErrForbidden):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// RetryAfter sets Retry-After (whole seconds, at least 1) for a rate
// limit error and reports whether err is one.
func RetryAfter(w http.ResponseWriter, err error) bool {
	var rl *access.RateLimited
	if !errors.As(err, &rl) {
		return false
	}
	secs := int((rl.RetryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", itoa(secs))
	return true
}

// CSRF returns the CSRF token of r's cookie session, for a page that
// posts a form (the console's sign-out); "" for a bearer token or no
// valid session.
func (g *Guard) CSRF(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		return ""
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return ""
	}
	_, ses, err := g.sessions.Resolve(r.Context(), c.Value)
	if err != nil {
		return ""
	}
	return ses.CSRF
}
