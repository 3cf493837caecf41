// Package access is who may reach opsbot's web side and API, and how they
// proved it: server-side sign-in sessions (WeCom web login, OIDC, personal
// links, dev mode) and API tokens (personal, or bound to a service user).
// A Principal is what every HTTP request resolves to before it reaches a
// core service; the core services then apply the same role and scope
// checks as for a chat command.
package access

import (
	"errors"
	"fmt"
	"time"

	"opsbot/core"
)

// PlatformAPI is the platform recorded on audit entries made through the
// REST API (core.Actor.Platform).
const PlatformAPI = core.PlatformAPI

// How a principal signed in.
const (
	ViaSession = "session" // a browser session cookie (web chat, console)
	ViaToken   = "token"   // a personal API token (opsb_…)
	ViaService = "service" // a service user's token (integrations)
	ViaDev     = "dev"     // dev mode: any org user, loopback only
)

// TokenPrefix starts every API token, so secret scanners and scripts
// recognise one.
const TokenPrefix = "opsb_"

// Token scopes.
const (
	ScopeRead  = "read"  // GET only
	ScopeWrite = "write" // read and act, within the user's own rights
)

// Principal is who a request acts as.
type Principal struct {
	// Actor is the org user the request acts as; core services check
	// their roles and scopes exactly as for a chat command.
	Actor core.Actor
	// Via says how the principal signed in (ViaSession, ViaToken,
	// ViaService, ViaDev).
	Via string
	// Scope is ScopeRead or ScopeWrite (sessions and dev mode: write).
	Scope string
	// SessionID identifies the session (ViaSession), for sign-out.
	SessionID string
	// TokenID identifies the token (ViaToken, ViaService).
	TokenID int64
}

// CanWrite reports whether the principal may change state.
func (p Principal) CanWrite() bool { return p.Scope == ScopeWrite }

// ErrUnauthenticated means the request carries no valid credential: none,
// an unknown, expired or revoked token or session (HTTP 401).
var ErrUnauthenticated = errors.New("unauthenticated")

// RateLimited means too many requests or sign-in attempts; retry after
// RetryAfter (HTTP 429 with Retry-After).
type RateLimited struct {
	RetryAfter time.Duration
}

// Error implements error.
func (e *RateLimited) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter.Round(time.Second))
}
