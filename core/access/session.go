package access

import (
	"context"
	"errors"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Ways a browser session was started.
const (
	SignInLink  = "link"  // a personal link from /webchat link
	SignInWeCom = "wecom" // WeCom web login (企业微信网页授权 / 扫码登录)
	SignInOIDC  = "oidc"  // an OIDC provider (Keycloak, Authing, ADFS …)
	SignInDev   = "dev"   // dev mode's user picker (loopback only)
)

// PlatformWebchat is the platform recorded for what a session does.
const PlatformWebchat = core.PlatformWebchat

// touchEvery is how stale last_seen may get before a use writes it again:
// idle expiry is exact to within this.
const touchEvery = time.Minute

// flowTTL is how long a started sign-in may take to come back.
const flowTTL = 10 * time.Minute

// Session is a server-side sign-in session of a browser. Only the hash of
// its secret (the cookie's value) is stored.
type Session struct {
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	UserID    string    `json:"user"`
	Via       string    `json:"via"`
	CSRF      string    `json:"-"`
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"` // absolute expiry
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// IdleUntil is when the session expires unless used again.
func (s Session) IdleUntil(idle time.Duration) time.Time { return s.LastSeen.Add(idle) }

// LoginFlow is a sign-in started at a provider and not yet back: kept
// server-side so any replica can finish it, and usable once.
type LoginFlow struct {
	State     string    `json:"-"`
	Via       string    `json:"via"`
	Verifier  string    `json:"-"` // PKCE code verifier
	Nonce     string    `json:"-"`
	Return    string    `json:"return"` // local path to land on
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionTx is one transaction of the session store.
type SessionTx interface {
	core.Recorder
	org.UserReader
	InsertSession(ctx context.Context, s Session) error
	// SessionByHash returns a session by its secret's hash, ended or not
	// (core.ErrNotFound when unknown).
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// SessionByID returns a session by id (core.ErrNotFound when unknown).
	SessionByID(ctx context.Context, id string) (Session, error)
	// TouchSession sets a session's last use.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// EndSession ends a live session and reports whether it was live.
	EndSession(ctx context.Context, id string, at time.Time) (bool, error)
	// EndUserSessions ends a user's live sessions (not ended, not
	// expired at at, used after seenAfter) and says how many.
	EndUserSessions(ctx context.Context, userID string, at, seenAfter time.Time) (int, error)
	// InsertLoginFlow stores a pending sign-in (dropping expired ones).
	InsertLoginFlow(ctx context.Context, f LoginFlow) error
	// TakeLoginFlow removes and returns the pending sign-in of a state
	// (core.ErrNotFound when unknown or taken already).
	TakeLoginFlow(ctx context.Context, state string) (LoginFlow, error)
}

// SessionStore runs session work in transactions.
type SessionStore interface {
	InTx(ctx context.Context, fn func(tx SessionTx) error) error
}

// SessionPolicy is how long sessions last.
type SessionPolicy struct {
	// Idle ends a session unused this long (default 8h).
	Idle time.Duration
	// Absolute ends a session this long after sign-in, used or not
	// (default 7 days).
	Absolute time.Duration
}

// Sessions starts, resolves and ends browser sessions.
type Sessions struct {
	store  SessionStore
	clock  core.Clock
	policy SessionPolicy
}

// NewSessions returns the session service.
func NewSessions(store SessionStore, clock core.Clock, p SessionPolicy) *Sessions {
	if p.Idle <= 0 {
		p.Idle = 8 * time.Hour
	}
	if p.Absolute <= 0 {
		p.Absolute = 7 * 24 * time.Hour
	}
	return &Sessions{store: store, clock: clock, policy: p}
}

// Policy returns the session lifetimes in force.
func (s *Sessions) Policy() SessionPolicy { return s.policy }

// sessionActor is the actor a session's user acts as.
func sessionActor(u org.User) core.Actor {
	return core.Actor{UserID: u.ID, Name: u.Name, Platform: PlatformWebchat}
}

// activeUser returns the active user id, or core.Forbidden
// not_registered / user_removed.
func activeUser(ctx context.Context, tx org.UserReader, id string) (org.User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return org.User{}, core.Forbidden("not_registered", "id", id)
	}
	if err != nil {
		return org.User{}, err
	}
	if u.Removed {
		return org.User{}, core.Forbidden("user_removed", "id", u.ID)
	}
	return u, nil
}

// Start signs an active org user in (via SignInLink, SignInWeCom,
// SignInOIDC or SignInDev, from address) and returns the session's secret
// for the cookie, shown this once.
func (s *Sessions) Start(ctx context.Context, userID, via, address string) (string, Session, error) {
	switch via {
	case SignInLink, SignInWeCom, SignInOIDC, SignInDev:
	default:
		return "", Session{}, core.Invalid("sign_in_via", "value", via)
	}
	secret, err := core.RandomSecret(32)
	if err != nil {
		return "", Session{}, err
	}
	id, err := core.RandomSecret(12)
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := core.RandomSecret(24)
	if err != nil {
		return "", Session{}, err
	}
	var out Session
	err = s.store.InTx(ctx, func(tx SessionTx) error {
		u, err := activeUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		out = Session{ID: id, Hash: core.HashSecret(secret), UserID: u.ID, Via: via, CSRF: csrf, Address: address,
			CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.policy.Absolute)}
		if err := tx.InsertSession(ctx, out); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, sessionActor(u), "session.start", "user:"+u.ID, nil, out)
	})
	if err != nil {
		return "", Session{}, err
	}
	return secret, out, nil
}

// Resolve returns who a session secret signs in, and the session (for its
// CSRF token and expiry). An unknown, ended, idle or expired session, or
// one of a removed user, is ErrUnauthenticated. A use refreshes the idle
// expiry (written at most once a minute).
func (s *Sessions) Resolve(ctx context.Context, secret string) (Principal, Session, error) {
	var p Principal
	var out Session
	err := s.store.InTx(ctx, func(tx SessionTx) error {
		ses, err := tx.SessionByHash(ctx, core.HashSecret(secret))
		if errors.Is(err, core.ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if !ses.EndedAt.IsZero() || !now.Before(ses.ExpiresAt) || !now.Before(ses.IdleUntil(s.policy.Idle)) {
			return ErrUnauthenticated
		}
		u, err := tx.User(ctx, ses.UserID)
		if errors.Is(err, core.ErrNotFound) || err == nil && u.Removed {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		if now.Sub(ses.LastSeen) >= touchEvery {
			if err := tx.TouchSession(ctx, ses.ID, now); err != nil {
				return err
			}
			ses.LastSeen = now
		}
		out = ses
		p = Principal{Actor: sessionActor(u), Via: ViaSession, Scope: ScopeWrite, SessionID: ses.ID}
		return nil
	})
	return p, out, err
}

// Expiry is when a session ends unless ended before: the earlier of its
// idle and absolute expiry.
func (s *Sessions) Expiry(ses Session) time.Time {
	if idle := ses.IdleUntil(s.policy.Idle); idle.Before(ses.ExpiresAt) {
		return idle
	}
	return ses.ExpiresAt
}

// End signs one session out: the actor's own (sign out in this browser).
// Ending an ended or unknown session changes nothing.
func (s *Sessions) End(ctx context.Context, actor core.Actor, id string) error {
	return s.store.InTx(ctx, func(tx SessionTx) error {
		ses, err := tx.SessionByID(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if ses.UserID != actor.UserID {
			return core.Forbidden("not_your_session", "id", id)
		}
		now := s.clock.Now()
		live, err := tx.EndSession(ctx, id, now)
		if err != nil || !live {
			return err
		}
		ses.EndedAt = now
		return core.Record(ctx, tx, now, actor, "session.end", "user:"+ses.UserID, nil, ses)
	})
}

// EndAll signs userID out everywhere: the user themselves, or an admin
// covering their unit (as for /webchat logout). It says how many sessions
// were live.
func (s *Sessions) EndAll(ctx context.Context, actor core.Actor, userID string) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(tx SessionTx) error {
		if err := org.CoversUser(ctx, tx, actor, userID, "session.end_all"); err != nil {
			return err
		}
		now := s.clock.Now()
		var err error
		if n, err = tx.EndUserSessions(ctx, userID, now, now.Add(-s.policy.Idle)); err != nil || n == 0 {
			return err
		}
		return core.Record(ctx, tx, now, actor, "session.end_all", "user:"+userID, nil, map[string]int{"ended": n})
	})
	return n, err
}

// Attempt is one sign-in attempt, for the audit trail.
type Attempt struct {
	Via     string `json:"via"`
	Claim   string `json:"claim,omitempty"` // who the attempt claimed to be: a user id, a WeCom id, a claim value
	User    string `json:"user,omitempty"`  // the org user it mapped to, when it did
	Address string `json:"address"`
	Outcome string `json:"outcome"` // ok, or why not
}

// Failed records a refused sign-in attempt in the audit trail (a
// successful one is the session.start entry of Start).
func (s *Sessions) Failed(ctx context.Context, a Attempt) error {
	return s.store.InTx(ctx, func(tx SessionTx) error {
		actor := core.Actor{UserID: "anonymous", Platform: PlatformWebchat}
		if a.User != "" {
			actor.UserID = a.User
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "session.sign_in_failed", "sign_in:"+a.Via, nil, a)
	})
}

// BeginFlow stores a pending sign-in via a provider and returns it with a
// fresh state, PKCE verifier and nonce; returnPath must be local (see
// LocalPath).
func (s *Sessions) BeginFlow(ctx context.Context, via, returnPath string) (LoginFlow, error) {
	var f LoginFlow
	var err error
	if f.State, err = core.RandomSecret(24); err != nil {
		return f, err
	}
	if f.Verifier, err = core.RandomSecret(48); err != nil {
		return f, err
	}
	if f.Nonce, err = core.RandomSecret(24); err != nil {
		return f, err
	}
	f.Via, f.Return = via, LocalPath(returnPath)
	err = s.store.InTx(ctx, func(tx SessionTx) error {
		f.ExpiresAt = s.clock.Now().Add(flowTTL)
		stored := f
		stored.State = core.HashSecret(f.State)
		return tx.InsertLoginFlow(ctx, stored)
	})
	return f, err
}

// TakeFlow returns the pending sign-in of state via a provider, once:
// an unknown, used, expired or other provider's state is
// core.Invalid("sign_in_state").
func (s *Sessions) TakeFlow(ctx context.Context, via, state string) (LoginFlow, error) {
	var f LoginFlow
	err := s.store.InTx(ctx, func(tx SessionTx) error {
		var err error
		f, err = tx.TakeLoginFlow(ctx, core.HashSecret(state))
		if errors.Is(err, core.ErrNotFound) || err == nil && (f.Via != via || !s.clock.Now().Before(f.ExpiresAt)) {
			return core.Invalid("sign_in_state")
		}
		return err
	})
	if err != nil {
		return LoginFlow{}, err
	}
	f.State = state
	return f, nil
}

// LocalPath returns p when it is a path on this site ("/…", not "//…" or
// "/\…", no scheme or host), else "/webchat/": sign-in never redirects
// elsewhere.
func LocalPath(p string) string {
	const home = "/webchat/"
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') || len(p) > 2048 {
		return home
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return home
		}
	}
	return p
}
