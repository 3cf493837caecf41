package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
)

// Claim kinds: how an OIDC claim names the org user.
const (
	ClaimUserID = "userid" // the claim's value is the org user id
	ClaimEmail  = "email"  // the value is an email linked to the user (/org user link --platform email)
	ClaimPhone  = "phone"  // the value is a phone number linked to the user (--platform phone)
)

// OIDCConfig turns on sign-in with an OIDC provider (Keycloak, Authing,
// ADFS …): authorization code with PKCE S256, state and nonce.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this site's /auth/oidc/callback as registered at the
	// provider ("": derived from the request's host).
	RedirectURL string
	// Scopes besides openid (default profile, email).
	Scopes []string
	// Claim is ClaimUserID, ClaimEmail or ClaimPhone.
	Claim string
	// ClaimName is the ID token claim read (default preferred_username,
	// email or phone_number by Claim).
	ClaimName string
	// DisplayName names the provider on the sign-in page (default "OIDC").
	DisplayName string
	// HTTPClient talks to the provider (default http.DefaultClient).
	HTTPClient *http.Client
}

// oidcClient is a configured provider, discovered on first use (so
// opsbot starts while the provider is down).
type oidcClient struct {
	cfg  OIDCConfig
	name string

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDC(cfg OIDCConfig) (*oidcClient, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("auth: OIDC needs an issuer and a client id")
	}
	switch cfg.Claim {
	case "":
		cfg.Claim = ClaimUserID
	case ClaimUserID, ClaimEmail, ClaimPhone:
	default:
		return nil, fmt.Errorf("auth: OIDC claim %q is not userid, email or phone", cfg.Claim)
	}
	if cfg.ClaimName == "" {
		cfg.ClaimName = map[string]string{ClaimUserID: "preferred_username", ClaimEmail: "email", ClaimPhone: "phone_number"}[cfg.Claim]
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email"}
	}
	name := cfg.DisplayName
	if name == "" {
		name = "OIDC"
	}
	return &oidcClient{cfg: cfg, name: name}, nil
}

// ctx carries the provider's HTTP client.
func (c *oidcClient) ctx(ctx context.Context) context.Context {
	if c.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, c.cfg.HTTPClient)
	}
	return ctx
}

// discover returns the provider, fetching its discovery document once.
func (c *oidcClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := oidc.NewProvider(c.ctx(ctx), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %v", errProvider, err)
	}
	c.provider = p
	return p, nil
}

// oauth returns the OAuth2 client for a request (its redirect URL).
func (c *oidcClient) oauth(p *oidc.Provider, r *http.Request) *oauth2.Config {
	redirect := c.cfg.RedirectURL
	if redirect == "" {
		redirect = callbackURL("", r, "/auth/oidc/callback")
	}
	scopes := append([]string{oidc.ScopeOpenID}, slices.DeleteFunc(slices.Clone(c.cfg.Scopes), func(s string) bool { return s == oidc.ScopeOpenID })...)
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: scopes}
}

// oidcStart sends the browser to the provider with state, nonce and a
// PKCE S256 challenge.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	p, err := h.oidc.discover(r.Context())
	if err != nil {
		h.refuse(w, r, access.Attempt{Via: access.SignInOIDC}, err)
		return
	}
	f, err := h.deps.Sessions.BeginFlow(r.Context(), access.SignInOIDC, r.URL.Query().Get("return"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	to := h.oidc.oauth(p, r).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce))
	http.Redirect(w, r, to, http.StatusFound)
}

// oidcCallback finishes an OIDC sign-in: the state once, the code for
// tokens with the PKCE verifier, the ID token verified (signature,
// issuer, audience, expiry, nonce), its claim mapped to the org user.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	f, a, ok := h.callback(w, r, access.SignInOIDC)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		h.refuse(w, r, a, fmt.Errorf("%w: %s %s", errProvider, e, q.Get("error_description")))
		return
	}
	p, err := h.oidc.discover(ctx)
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	pctx := h.oidc.ctx(ctx)
	tok, err := h.oidc.oauth(p, r).Exchange(pctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.refuse(w, r, a, fmt.Errorf("%w: token: %v", errProvider, err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.refuse(w, r, a, fmt.Errorf("%w: no id_token in the token response", errProvider))
		return
	}
	id, err := p.Verifier(&oidc.Config{ClientID: h.oidc.cfg.ClientID, Now: h.cfg.Now}).Verify(pctx, raw)
	if err != nil {
		h.refuse(w, r, a, fmt.Errorf("%w: id_token: %v", errProvider, err))
		return
	}
	if id.Nonce != f.Nonce {
		h.refuse(w, r, a, fmt.Errorf("%w: id_token nonce does not match", errProvider))
		return
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		h.refuse(w, r, a, fmt.Errorf("%w: claims: %v", errProvider, err))
		return
	}
	platform, value, err := h.oidc.identity(claims)
	a.Claim = h.oidc.cfg.Claim + "=" + value
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	actor, err := h.deps.Resolve(ctx, platform, value)
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	a.User = actor.UserID
	h.signIn(w, r, a, f.Return)
}

// identity reads the configured claim: the platform and id to resolve.
func (c *oidcClient) identity(claims map[string]any) (platform, value string, err error) {
	value, _ = claims[c.cfg.ClaimName].(string)
	value = strings.TrimSpace(value)
	if value == "" {
		return "", "", core.Forbidden("not_registered", "id", c.cfg.ClaimName+"?")
	}
	switch c.cfg.Claim {
	case ClaimEmail:
		if v, ok := claims["email_verified"].(bool); ok && !v {
			return "", value, core.Forbidden("email_unverified", "email", value)
		}
		return org.IdentityEmail, strings.ToLower(value), nil
	case ClaimPhone:
		return org.IdentityPhone, value, nil
	}
	return core.PlatformWebchat, value, nil
}
