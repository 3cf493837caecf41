package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Token kinds.
const (
	KindPersonal = "personal" // acts as the person who made it
	KindService  = "service"  // acts as a service user (integrations)
)

// Token is an API token as stored: only the SHA-256 of its secret, and a
// non-secret display prefix ("opsb_Ab12Cd…") to tell tokens apart.
type Token struct {
	ID     int64  `json:"id"`
	Hash   string `json:"-"`
	Prefix string `json:"prefix"`
	Name   string `json:"name"`
	UserID string `json:"user"`
	Kind   string `json:"kind"`
	Scope  string `json:"scope"`
	// FromConfig marks a service token registered from the config
	// (api.service_users, webchat.token); reconciling revokes those no
	// longer configured.
	FromConfig bool      `json:"from_config,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero: never
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
	LastUsedAt time.Time `json:"-"` // bookkeeping, not audited
}

// Live reports whether t still authenticates at now.
func (t Token) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// TokenRevoked tells a token's owner that someone else revoked it.
type TokenRevoked struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	By     string `json:"by"`
	ByName string `json:"by_name"`
}

// NoticeType is "token.revoked".
func (TokenRevoked) NoticeType() string { return "token.revoked" }

// Secret format: TokenPrefix, then secretBody characters of base62 (32
// random bytes), then checksumLen characters of base62 (the CRC-32 of the
// body), so a scanner can tell a real token from a look-alike offline.
const (
	secretBody  = 43
	checksumLen = 6
	// SecretLen is the length of a token secret.
	SecretLen    = len(TokenPrefix) + secretBody + checksumLen
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	displayChars = 6
)

// MaxTokenName is the longest token name, in characters.
const MaxTokenName = 64

// encode62 writes n in base62, left-padded with '0' to width.
func encode62(n *big.Int, width int) string {
	var out []byte
	b := new(big.Int).Set(n)
	base, mod := big.NewInt(62), new(big.Int)
	for b.Sign() > 0 {
		b.DivMod(b, base, mod)
		out = append(out, base62[mod.Int64()])
	}
	for len(out) < width {
		out = append(out, '0')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// checksum is the base62 CRC-32 of a secret's body.
func checksum(body string) string {
	return encode62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))), checksumLen)
}

// NewSecret returns a fresh token secret: "opsb_" + 43 base62 characters
// of 32 random bytes + a 6-character base62 CRC-32 of those.
func NewSecret() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("access: token secret: %w", err)
	}
	body := encode62(new(big.Int).SetBytes(raw[:]), secretBody)
	return TokenPrefix + body + checksum(body), nil
}

// ValidShape reports whether s looks like a token opsbot made: the
// prefix, the length, base62 and a matching checksum.
func ValidShape(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(s) != SecretLen {
		return false
	}
	for _, r := range rest {
		if !strings.ContainsRune(base62, r) {
			return false
		}
	}
	return checksum(rest[:secretBody]) == rest[secretBody:]
}

// displayPrefix is the part of a secret shown in lists.
func displayPrefix(secret string) string {
	if ValidShape(secret) {
		return secret[:len(TokenPrefix)+displayChars] + "…"
	}
	return "legacy…"
}

// TokenQuery selects tokens to list; empty fields match all. Revoked
// tokens are left out unless Revoked is set.
type TokenQuery struct {
	UserID     string
	Kind       string
	FromConfig bool
	Revoked    bool
}

// TokenTx is one transaction of the token store: the tokens, the org
// reads that decide who may see or revoke one, and the audit log.
type TokenTx interface {
	core.Recorder
	org.UserReader
	// InsertToken stores a token and returns its id.
	InsertToken(ctx context.Context, t Token) (int64, error)
	// Token returns a token by id (an error wrapping core.ErrNotFound).
	Token(ctx context.Context, id int64) (Token, error)
	// TokenByHash returns the token with a secret's hash (core.ErrNotFound).
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens lists the tokens q selects, newest first.
	Tokens(ctx context.Context, q TokenQuery) ([]Token, error)
	// UpdateToken writes a token's scope and revocation.
	UpdateToken(ctx context.Context, t Token) error
	// TouchToken sets last_used_at to at unless it is after before.
	TouchToken(ctx context.Context, id int64, at, before time.Time) error
}

// TokenStore runs token work in transactions.
type TokenStore interface {
	InTx(ctx context.Context, fn func(tx TokenTx) error) error
	// Exclusive runs fn holding the lock name across replicas.
	Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// Limiter spaces uses of a key across replicas: it takes the key's next
// slot, interval after the one before, when that slot is at most maxWait
// away, else reports ok false and the wait (storage/redis.Shared).
type Limiter interface {
	Reserve(ctx context.Context, key string, interval, maxWait time.Duration) (wait time.Duration, ok bool, err error)
}

// TokenConfig tunes the token service.
type TokenConfig struct {
	// DefaultTTL is a personal token's life when --expires is not given
	// (default 90 days).
	DefaultTTL time.Duration
	// MaxTTL is the longest life a personal token may ask for (default
	// 365 days).
	MaxTTL time.Duration
	// PerMinute is each token's sustained rate of requests (0: no limit).
	PerMinute int
	// Burst is how many requests a token may make at once (default
	// PerMinute/10, at least 1).
	Burst int
	// RateKey prefixes the limiter's keys (default "opsbot:token-rate:").
	RateKey string
}

// TokenService issues, lists, revokes and authenticates API tokens.
type TokenService struct {
	store TokenStore
	clock core.Clock
	limit Limiter // nil: no rate limit
	cfg   TokenConfig
}

// NewTokenService returns the token service; limit may be nil (no rate
// limit).
func NewTokenService(store TokenStore, clock core.Clock, limit Limiter, cfg TokenConfig) *TokenService {
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = 90 * 24 * time.Hour
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = 365 * 24 * time.Hour
	}
	if cfg.DefaultTTL > cfg.MaxTTL {
		cfg.DefaultTTL = cfg.MaxTTL
	}
	if cfg.RateKey == "" {
		cfg.RateKey = "opsbot:token-rate:"
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(cfg.PerMinute/10, 1)
	}
	return &TokenService{store: store, clock: clock, limit: limit, cfg: cfg}
}

// ParseTTL reads a token life: a number and a unit, d (days) or h
// (hours), e.g. "90d", "12h".
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "h"):
		unit = time.Hour
	}
	n, err := strconv.Atoi(strings.TrimRight(s[:max(len(s)-1, 0)], " "))
	if unit == 0 || err != nil || n <= 0 || n > 100*366 {
		return 0, core.Invalid("token_expires", "value", s)
	}
	return time.Duration(n) * unit, nil
}

// checkScope validates a scope ("" means write).
func checkScope(scope string) (string, error) {
	switch scope {
	case "":
		return ScopeWrite, nil
	case ScopeRead, ScopeWrite:
		return scope, nil
	}
	return "", core.Invalid("token_scope", "value", scope)
}

// serviceUser returns the active service user id, or core.NotFound
// user_not_found, or core.Invalid not_service_user.
func serviceUser(ctx context.Context, tx TokenTx, id string) (org.User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, core.ErrNotFound) || err == nil && u.Removed {
		return u, core.NotFound("user_not_found", "id", id)
	}
	if err == nil && !u.Service {
		return u, core.Invalid("not_service_user", "id", id)
	}
	return u, err
}

// insert stores t with a fresh secret and audits it as actor's action.
func (s *TokenService) insert(ctx context.Context, tx TokenTx, actor core.Actor, t Token) (string, Token, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", Token{}, err
	}
	t.Hash, t.Prefix = core.HashSecret(secret), displayPrefix(secret)
	if err := checkName(ctx, tx, t); err != nil {
		return "", Token{}, err
	}
	if t.ID, err = tx.InsertToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, core.Record(ctx, tx, t.CreatedAt, actor, "token.create", tokenRef(t.ID), nil, t)
}

// checkName refuses an empty or long name, or one the user's live tokens
// already use.
func checkName(ctx context.Context, tx TokenTx, t Token) error {
	if err := core.CheckName("name", t.Name, MaxTokenName); err != nil {
		return err
	}
	have, err := tx.Tokens(ctx, TokenQuery{UserID: t.UserID})
	if err != nil {
		return err
	}
	for _, h := range have {
		if h.Name == t.Name {
			return core.Conflict("token_name_taken", "name", t.Name, "user", t.UserID)
		}
	}
	return nil
}

func tokenRef(id int64) string { return "token:" + strconv.FormatInt(id, 10) }

// Create makes a personal token for the actor, acting as them with their
// roles (scope write) or reading only (scope read), living ttl (0: the
// default; at most the configured maximum). The secret is returned once;
// only its hash is kept.
func (s *TokenService) Create(ctx context.Context, actor core.Actor, name, scope string, ttl time.Duration) (string, Token, error) {
	scope, err := checkScope(scope)
	if err != nil {
		return "", Token{}, err
	}
	if ttl == 0 {
		ttl = s.cfg.DefaultTTL
	}
	if ttl < 0 || ttl > s.cfg.MaxTTL {
		return "", Token{}, core.Invalid("token_ttl", "max", strconv.Itoa(int(s.cfg.MaxTTL/(24*time.Hour)))+"d")
	}
	var secret string
	var t Token
	err = s.store.InTx(ctx, func(tx TokenTx) error {
		u, err := activeUser(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if u.Service {
			return core.Forbidden("service_user_personal_token", "id", u.ID)
		}
		now := s.clock.Now()
		secret, t, err = s.insert(ctx, tx, actor, Token{Name: strings.TrimSpace(name), UserID: u.ID, Kind: KindPersonal,
			Scope: scope, CreatedBy: actor.UserID, CreatedAt: now, ExpiresAt: now.Add(ttl)})
		return err
	})
	return secret, t, err
}

// CreateService makes another token for a service user (sys admin only).
// It does not expire; it is revoked with Revoke.
func (s *TokenService) CreateService(ctx context.Context, actor core.Actor, userID, name, scope string) (string, Token, error) {
	scope, err := checkScope(scope)
	if err != nil {
		return "", Token{}, err
	}
	var secret string
	var t Token
	err = s.store.InTx(ctx, func(tx TokenTx) error {
		if err := org.CheckSysAdmin(ctx, tx, actor, "token.service.create"); err != nil {
			return err
		}
		u, err := serviceUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		secret, t, err = s.insert(ctx, tx, actor, Token{Name: strings.TrimSpace(name), UserID: u.ID, Kind: KindService,
			Scope: scope, CreatedBy: actor.UserID, CreatedAt: s.clock.Now()})
		return err
	})
	return secret, t, err
}

// List returns the live and expired (not revoked) personal tokens of a
// user: the actor's own ("" userID), or, for an admin covering them,
// someone else's.
func (s *TokenService) List(ctx context.Context, actor core.Actor, userID string) ([]Token, error) {
	if userID == "" {
		userID = actor.UserID
	}
	var out []Token
	err := s.store.InTx(ctx, func(tx TokenTx) error {
		if userID != actor.UserID {
			if err := org.CheckAdminOf(ctx, tx, actor, userID, "token.list"); err != nil {
				return err
			}
		}
		var err error
		out, err = tx.Tokens(ctx, TokenQuery{UserID: userID, Kind: KindPersonal})
		return err
	})
	return out, err
}

// ListService returns every unrevoked service token (sys admin only).
func (s *TokenService) ListService(ctx context.Context, actor core.Actor) ([]Token, error) {
	var out []Token
	err := s.store.InTx(ctx, func(tx TokenTx) error {
		if err := org.CheckSysAdmin(ctx, tx, actor, "token.service.list"); err != nil {
			return err
		}
		var err error
		out, err = tx.Tokens(ctx, TokenQuery{Kind: KindService})
		return err
	})
	return out, err
}

// Revoke ends a token at once: the owner's own, a personal token of a
// user the actor is an admin covering, or (sys admin) a service token.
func (s *TokenService) Revoke(ctx context.Context, actor core.Actor, id int64) (Token, error) {
	var after Token
	err := s.store.InTx(ctx, func(tx TokenTx) error {
		t, err := tx.Token(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("token_not_found", "id", strconv.FormatInt(id, 10))
		}
		if err != nil {
			return err
		}
		switch {
		case t.Kind == KindService:
			err = org.CheckSysAdmin(ctx, tx, actor, "token.revoke")
		case t.UserID != actor.UserID:
			err = org.CheckAdminOf(ctx, tx, actor, t.UserID, "token.revoke")
			if errors.Is(err, core.ErrNotFound) { // the owner was removed: their admin still may
				err = org.CheckSysAdmin(ctx, tx, actor, "token.revoke")
			}
		}
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return core.AlreadyDecided("token_revoked", "id", strconv.FormatInt(id, 10), "by", t.RevokedBy)
		}
		after = t
		after.RevokedAt, after.RevokedBy = s.clock.Now(), actor.UserID
		if err := tx.UpdateToken(ctx, after); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, after.RevokedAt, actor, "token.revoke", tokenRef(id), t, after); err != nil {
			return err
		}
		return tellOwner(ctx, tx, actor, t)
	})
	return after, err
}

// tellOwner tells an active person that someone else revoked their token.
func tellOwner(ctx context.Context, tx TokenTx, actor core.Actor, t Token) error {
	if t.UserID == actor.UserID {
		return nil
	}
	u, err := tx.User(ctx, t.UserID)
	if err != nil || u.Removed || u.Service {
		return err
	}
	return tx.Notify(ctx, core.Notice{Ref: tokenRef(t.ID), To: core.Recipient{User: u.ID},
		Body: TokenRevoked{ID: t.ID, Name: t.Name, By: actor.UserID, ByName: actor.Name}})
}

// Authenticate resolves a bearer secret to the principal it acts as. An
// unknown, expired or revoked token, or one whose owner was removed, is
// ErrUnauthenticated at once: nothing is cached. A token over its rate is
// *RateLimited. It is the bearer half of the HTTP side's authentication.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" || (strings.HasPrefix(secret, TokenPrefix) && !ValidShape(secret)) {
		return Principal{}, ErrUnauthenticated
	}
	var p Principal
	err := s.store.InTx(ctx, func(tx TokenTx) error {
		now := s.clock.Now()
		t, err := tx.TokenByHash(ctx, core.HashSecret(secret))
		if errors.Is(err, core.ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		if !t.Live(now) {
			return ErrUnauthenticated
		}
		u, err := tx.User(ctx, t.UserID)
		if errors.Is(err, core.ErrNotFound) || (err == nil && (u.Removed || u.Service != (t.Kind == KindService))) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		if t.LastUsedAt.IsZero() || !now.Before(t.LastUsedAt.Add(touchEvery)) {
			if err := tx.TouchToken(ctx, t.ID, now, now.Add(-touchEvery)); err != nil {
				return err
			}
		}
		via := ViaToken
		if t.Kind == KindService {
			via = ViaService
		}
		p = Principal{Actor: core.Actor{UserID: u.ID, Name: u.Name, Platform: PlatformAPI}, Via: via, Scope: t.Scope, TokenID: t.ID}
		return nil
	})
	if err != nil {
		return Principal{}, err
	}
	return p, s.allow(ctx, p.TokenID)
}

// allow takes one request of a token's rate (GCRA: a slot every
// interval, Burst of them at once), or says how long to wait.
func (s *TokenService) allow(ctx context.Context, id int64) error {
	if s.limit == nil || s.cfg.PerMinute <= 0 {
		return nil
	}
	interval := time.Minute / time.Duration(s.cfg.PerMinute)
	tolerance := time.Duration(s.cfg.Burst-1) * interval
	wait, ok, err := s.limit.Reserve(ctx, s.cfg.RateKey+strconv.FormatInt(id, 10), interval, tolerance)
	if err != nil {
		return fmt.Errorf("access: token rate: %w", err)
	}
	if !ok {
		return &RateLimited{RetryAfter: wait - tolerance}
	}
	return nil
}

// ConfiguredToken is a service token the config declares: its service
// user, its secret or the secret's SHA-256 (hex), and its scope.
type ConfiguredToken struct {
	UserID string
	Secret string // "" when only SHA256 is configured
	SHA256 string
	Scope  string // "" means write
}

// EnsureConfigured registers the configured service tokens (kind service,
// FromConfig) and revokes every token registered from the config before
// that is no longer configured; each change is audited as the system's.
// It runs under the seed lock, after the service users are reconciled.
// A configured token that was revoked stays revoked: configure a new one.
func (s *TokenService) EnsureConfigured(ctx context.Context, tokens []ConfiguredToken) error {
	want := map[string]ConfiguredToken{}
	for i, c := range tokens {
		if c.Secret != "" {
			c.SHA256 = core.HashSecret(c.Secret)
		}
		c.SHA256 = strings.ToLower(c.SHA256)
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != sha256.Size {
			return core.Invalid("token_sha256", "user", c.UserID)
		}
		var err error
		if c.Scope, err = checkScope(c.Scope); err != nil {
			return err
		}
		if prev, dup := want[c.SHA256]; dup && prev.UserID != c.UserID {
			return core.Conflict("token_reused", "user", c.UserID)
		}
		tokens[i], want[c.SHA256] = c, c
	}
	return s.store.Exclusive(ctx, org.SeedLock, func(ctx context.Context) error {
		return s.store.InTx(ctx, func(tx TokenTx) error { return s.ensureConfigured(ctx, tx, tokens, want) })
	})
}

func (s *TokenService) ensureConfigured(ctx context.Context, tx TokenTx, tokens []ConfiguredToken, want map[string]ConfiguredToken) error {
	actor, now := core.SystemActor(), s.clock.Now()
	old, err := tx.Tokens(ctx, TokenQuery{FromConfig: true})
	if err != nil {
		return err
	}
	for _, t := range old {
		if c, ok := want[t.Hash]; ok && c.UserID == t.UserID {
			continue
		}
		after := t
		after.RevokedAt, after.RevokedBy = now, actor.UserID
		if err := tx.UpdateToken(ctx, after); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "token.revoke", tokenRef(t.ID), t, after); err != nil {
			return err
		}
	}
	for _, c := range tokens {
		t, err := tx.TokenByHash(ctx, c.SHA256)
		switch {
		case errors.Is(err, core.ErrNotFound):
			if _, err := serviceUser(ctx, tx, c.UserID); err != nil {
				return err
			}
			t = Token{Hash: c.SHA256, Prefix: displayPrefix(c.Secret), Name: "config-" + c.SHA256[:8], UserID: c.UserID, Kind: KindService,
				Scope: c.Scope, FromConfig: true, CreatedBy: actor.UserID, CreatedAt: now}
			if c.Secret == "" {
				t.Prefix = "sha256:" + c.SHA256[:8] + "…"
			}
			if t.ID, err = tx.InsertToken(ctx, t); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, now, actor, "token.create", tokenRef(t.ID), nil, t); err != nil {
				return err
			}
		case err != nil:
			return err
		case t.UserID != c.UserID || t.Kind != KindService:
			return core.Conflict("token_reused", "user", c.UserID)
		case t.Scope != c.Scope && t.RevokedAt.IsZero():
			after := t
			after.Scope = c.Scope
			if err := tx.UpdateToken(ctx, after); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, now, actor, "token.scope", tokenRef(t.ID), t, after); err != nil {
				return err
			}
		}
	}
	return nil
}
