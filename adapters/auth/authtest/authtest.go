// Package authtest stands in for the identity providers in tests: an OIDC
// provider (discovery, JWKS, an authorize endpoint that approves one
// configured person, a token endpoint signing RS256 ID tokens) and WeCom's
// web-login pages, each checking requests the way the provider documents
// them (PKCE S256, redirect_uri, client credentials, state).
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

// OIDC is a test OIDC provider.
type OIDC struct {
	Server       *httptest.Server
	ClientID     string
	ClientSecret string
	// RedirectURL is the only redirect_uri it accepts ("" accepts any
	// http://127.0.0.1 URL ending in /auth/oidc/callback).
	RedirectURL string

	key *rsa.PrivateKey
	mu  sync.Mutex
	// claims are the ID token claims of the person who signs in next.
	claims map[string]any
	codes  map[string]grant
	// Problems lists every request refused, for the test to assert empty.
	problems []string
}

// grant is an issued authorization code.
type grant struct {
	challenge, nonce, redirect string
	claims                     map[string]any
}

// NewOIDC starts a provider for one client; claims are the signed-in
// person's ID token claims (sub is added when missing).
func NewOIDC(t testing.TB, clientID, clientSecret string, claims map[string]any) *OIDC {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &OIDC{ClientID: clientID, ClientSecret: clientSecret, key: key, codes: map[string]grant{}}
	o.SetPerson(claims)
	keys := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: "RS256"}}}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/openid-configuration", keys)
	mux.Handle("/keys", keys)
	mux.HandleFunc("/auth", o.authorize)
	mux.HandleFunc("/token", o.token)
	o.Server = httptest.NewServer(mux)
	keys.SetIssuer(o.Server.URL)
	t.Cleanup(o.Server.Close)
	return o
}

// Issuer is the provider's issuer URL.
func (o *OIDC) Issuer() string { return o.Server.URL }

// SetPerson sets who the authorize endpoint approves next.
func (o *OIDC) SetPerson(claims map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claims = map[string]any{"sub": "person-1"}
	for k, v := range claims {
		o.claims[k] = v
	}
}

// Problems returns the refused requests.
func (o *OIDC) Problems() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.problems...)
}

func (o *OIDC) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.mu.Lock()
	o.problems = append(o.problems, msg)
	o.mu.Unlock()
	http.Error(w, msg, status)
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize checks an authorization request (code flow, PKCE S256, the
// client's redirect_uri, openid scope, state and nonce) and approves it
// at once, sending the browser back with a code.
func (o *OIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("response_type") != "code":
		o.refuse(w, 400, "authorize: response_type %q, want code", q.Get("response_type"))
	case q.Get("client_id") != o.ClientID:
		o.refuse(w, 400, "authorize: unknown client_id %q", q.Get("client_id"))
	case !o.redirectOK(redirect):
		o.refuse(w, 400, "authorize: redirect_uri %q is not registered", redirect)
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		o.refuse(w, 400, "authorize: PKCE S256 required, got method %q challenge %q", q.Get("code_challenge_method"), q.Get("code_challenge"))
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		o.refuse(w, 400, "authorize: scope %q lacks openid", q.Get("scope"))
	case q.Get("state") == "" || q.Get("nonce") == "":
		o.refuse(w, 400, "authorize: state and nonce are required")
	default:
		code := random()
		o.mu.Lock()
		o.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: redirect, claims: o.claims}
		o.mu.Unlock()
		back, _ := url.Parse(redirect)
		v := back.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
}

func (o *OIDC) redirectOK(u string) bool {
	if o.RedirectURL != "" {
		return u == o.RedirectURL
	}
	return strings.HasPrefix(u, "http://127.0.0.1:") && strings.HasSuffix(u, "/auth/oidc/callback")
}

// token exchanges a code once, checking the client's credentials, the
// redirect_uri and the PKCE verifier, and answers a signed ID token.
func (o *OIDC) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		o.refuse(w, 405, "token: method %s", r.Method)
		return
	}
	if err := r.ParseForm(); err != nil {
		o.refuse(w, 400, "token: %v", err)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != o.ClientID || secret != o.ClientSecret {
		o.refuse(w, 401, "token: bad client credentials for %q", id)
		return
	}
	code := r.PostForm.Get("code")
	o.mu.Lock()
	g, ok := o.codes[code]
	delete(o.codes, code)
	o.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		o.refuse(w, 400, "token: grant_type %q", r.PostForm.Get("grant_type"))
		return
	case !ok:
		o.refuse(w, 400, "token: unknown or used code")
		return
	case r.PostForm.Get("redirect_uri") != g.redirect:
		o.refuse(w, 400, "token: redirect_uri %q differs from %q", r.PostForm.Get("redirect_uri"), g.redirect)
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		o.refuse(w, 400, "token: code_verifier does not match the S256 challenge")
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": o.Server.URL, "aud": o.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range g.claims {
		claims[k] = v
	}
	raw, _ := json.Marshal(claims)
	idToken := oidctest.SignIDToken(o.key, "k1", "RS256", string(raw))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": random(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

// WeComLogin stands in for WeCom's web-login pages (网页授权
// /connect/oauth2/authorize and 扫码登录 /wwlogin/sso/login): it checks the
// parameters WeCom documents and sends the browser back with a code for
// the member UserID; Codes maps the codes it issued to their userid, for
// the getuserinfo stand-in.
type WeComLogin struct {
	Server  *httptest.Server
	CorpID  string
	AgentID string
	mu      sync.Mutex
	userID  string
	codes   map[string]string
	// problems lists the requests refused.
	problems []string
}

// NewWeComLogin starts the stand-in for corpID's app agentID.
func NewWeComLogin(t testing.TB, corpID, agentID, userID string) *WeComLogin {
	t.Helper()
	wl := &WeComLogin{CorpID: corpID, AgentID: agentID, userID: userID, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/connect/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) { wl.login(w, r, false) })
	mux.HandleFunc("/wwlogin/sso/login", func(w http.ResponseWriter, r *http.Request) { wl.login(w, r, true) })
	wl.Server = httptest.NewServer(mux)
	t.Cleanup(wl.Server.Close)
	return wl
}

// SetMember sets who signs in next.
func (wl *WeComLogin) SetMember(userID string) {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	wl.userID = userID
}

// UserOf returns the userid a code was issued for, once (a code works
// once and only for five minutes at WeCom).
func (wl *WeComLogin) UserOf(code string) (string, bool) {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	u, ok := wl.codes[code]
	delete(wl.codes, code)
	return u, ok
}

// Problems returns the refused requests.
func (wl *WeComLogin) Problems() []string {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	return append([]string(nil), wl.problems...)
}

func (wl *WeComLogin) login(w http.ResponseWriter, r *http.Request, sso bool) {
	q := r.URL.Query()
	var bad []string
	if q.Get("appid") != wl.CorpID {
		bad = append(bad, "appid "+q.Get("appid"))
	}
	if q.Get("agentid") != wl.AgentID {
		bad = append(bad, "agentid "+q.Get("agentid"))
	}
	if q.Get("state") == "" {
		bad = append(bad, "no state")
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		bad = append(bad, "redirect_uri "+q.Get("redirect_uri"))
	}
	if sso {
		if q.Get("login_type") != "CorpApp" {
			bad = append(bad, "login_type "+q.Get("login_type"))
		}
	} else if q.Get("response_type") != "code" || q.Get("scope") != "snsapi_base" {
		bad = append(bad, "response_type/scope "+q.Get("response_type")+"/"+q.Get("scope"))
	}
	if len(bad) > 0 {
		wl.mu.Lock()
		wl.problems = append(wl.problems, strings.Join(bad, "; "))
		wl.mu.Unlock()
		http.Error(w, strings.Join(bad, "; "), http.StatusBadRequest)
		return
	}
	code := random()
	wl.mu.Lock()
	wl.codes[code] = wl.userID
	wl.mu.Unlock()
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}
