package access_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

// clock is moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// bundle is a token service on a real Postgres with the demo org.
type bundle struct {
	store  *postgres.Store
	orgs   *org.Service
	tokens *access.TokenService
	clock  *clock
}

func actor(id string) core.Actor {
	return core.Actor{UserID: id, Name: id, Platform: core.PlatformWebchat}
}

// setup seeds the demo org (admin is the sys admin; zhangwei the unit
// admin of dc-edu, which holds zhengmin; huangyu is a member of
// xc-market) and a service user svc-ci holding operator.
func setup(t *testing.T, limit access.Limiter, cfg access.TokenConfig) bundle {
	t.Helper()
	ctx := context.Background()
	s := pgtest.New(t)
	c := &clock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	orgs := org.NewService(s.Org(), c)
	_, err := orgs.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	require.NoError(t, orgs.LoadDemo(ctx))
	require.NoError(t, orgs.EnsureServiceUsers(ctx, []org.ServiceUser{{ID: "svc-ci", Name: "CI", Roles: []org.Grant{{Role: org.RoleOperator}}}}))
	return bundle{store: s, orgs: orgs, tokens: access.NewTokenService(s.Tokens(), c, limit, cfg), clock: c}
}

func trail(t *testing.T, s *postgres.Store, entity string) []core.AuditEntry {
	t.Helper()
	var out []core.AuditEntry
	require.NoError(t, s.WithTx(context.Background(), func(tx *postgres.Tx) error {
		var err error
		out, err = tx.AuditTrail(context.Background(), entity)
		return err
	}))
	return out
}

func requireCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	require.ErrorIs(t, err, kind)
	var ce *core.Error
	require.True(t, errors.As(err, &ce), "%v is a core.Error", err)
	require.Equal(t, code, ce.Code)
}

func TestSecretShape(t *testing.T) {
	t.Parallel()
	s, err := access.NewSecret()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s, access.TokenPrefix))
	require.Len(t, s, access.SecretLen)
	require.True(t, access.ValidShape(s))
	other, err := access.NewSecret()
	require.NoError(t, err)
	require.NotEqual(t, s, other)
	flipped := []byte(s)
	flipped[10] ^= 1 // still base62 for letters and digits, but the checksum no longer matches
	if flipped[10] == s[10] || !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", rune(flipped[10])) {
		flipped[10] = 'x'
		if s[10] == 'x' {
			flipped[10] = 'y'
		}
	}
	require.False(t, access.ValidShape(string(flipped)), "a changed character breaks the checksum")
	require.False(t, access.ValidShape(s[:len(s)-1]))
	require.False(t, access.ValidShape("ghp_"+s[5:]))
}

func TestParseTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"90d", 90 * 24 * time.Hour}, {"12h", 12 * time.Hour}, {"1d", 24 * time.Hour}} {
		got, err := access.ParseTTL(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"", "d", "0d", "-3d", "90", "3w", "1.5d", "abc"} {
		_, err := access.ParseTTL(bad)
		requireCode(t, err, core.ErrInvalid, "token_expires")
	}
}

func TestCreateAuthenticateExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{DefaultTTL: 90 * 24 * time.Hour, MaxTTL: 180 * 24 * time.Hour})
	secret, tok, err := b.tokens.Create(ctx, actor("zhengmin"), "deploy script", "", 12*time.Hour)
	require.NoError(t, err)
	require.True(t, access.ValidShape(secret))
	require.Equal(t, access.ScopeWrite, tok.Scope, "the default scope is write: the token acts as its owner")
	require.Equal(t, access.KindPersonal, tok.Kind)
	require.Equal(t, secret[:11]+"…", tok.Prefix)
	require.Equal(t, b.clock.Now().Add(12*time.Hour), tok.ExpiresAt)

	var stored string
	require.NoError(t, b.store.Pool().QueryRow(ctx, "SELECT hash FROM api_tokens WHERE id = $1", tok.ID).Scan(&stored))
	require.Equal(t, core.HashSecret(secret), stored, "only the hash is kept")
	require.NotContains(t, stored, secret[5:])

	p, err := b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, access.Principal{Actor: core.Actor{UserID: "zhengmin", Name: "郑敏", Platform: access.PlatformAPI},
		Via: access.ViaToken, Scope: access.ScopeWrite, TokenID: tok.ID}, p)

	// The audit trail has the creation, without the hash.
	entries := trail(t, b.store, "token:"+itoa(tok.ID))
	require.Len(t, entries, 1)
	require.Equal(t, "token.create", entries[0].Action)
	require.Equal(t, "zhengmin", entries[0].Actor)
	require.NotContains(t, entries[0].After, stored)

	b.clock.add(12*time.Hour - time.Second)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err, "still live a second before it expires")
	b.clock.add(time.Second)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "expired")

	// Unknown, malformed and empty secrets.
	other, _ := access.NewSecret()
	for _, s := range []string{other, "", "opsb_short", secret + "x"} {
		_, err = b.tokens.Authenticate(ctx, s)
		require.ErrorIs(t, err, access.ErrUnauthenticated, s)
	}

	// Default and maximum lives; bad names and scopes.
	_, tok2, err := b.tokens.Create(ctx, actor("zhengmin"), "default life", access.ScopeRead, 0)
	require.NoError(t, err)
	require.Equal(t, b.clock.Now().Add(90*24*time.Hour), tok2.ExpiresAt)
	_, _, err = b.tokens.Create(ctx, actor("zhengmin"), "too long", "", 181*24*time.Hour)
	requireCode(t, err, core.ErrInvalid, "token_ttl")
	_, _, err = b.tokens.Create(ctx, actor("zhengmin"), "default life", "", 0)
	requireCode(t, err, core.ErrConflict, "token_name_taken")
	_, _, err = b.tokens.Create(ctx, actor("zhengmin"), "x", "admin", 0)
	requireCode(t, err, core.ErrInvalid, "token_scope")
	_, _, err = b.tokens.Create(ctx, actor("zhengmin"), "  ", "", 0)
	requireCode(t, err, core.ErrInvalid, "name")
	_, _, err = b.tokens.Create(ctx, actor("nobody"), "x", "", 0)
	requireCode(t, err, core.ErrForbidden, "not_registered")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestReadScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	secret, _, err := b.tokens.Create(ctx, actor("huangyu"), "dashboard", access.ScopeRead, 0)
	require.NoError(t, err)
	p, err := b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, access.ScopeRead, p.Scope)
	require.False(t, p.CanWrite())
}

func TestRevokeIsImmediateAndAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	secret, tok, err := b.tokens.Create(ctx, actor("zhengmin"), "ci", "", 0)
	require.NoError(t, err)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err)

	// A member cannot list or revoke another's token.
	_, err = b.tokens.List(ctx, actor("huangyu"), "zhengmin")
	requireCode(t, err, core.ErrForbidden, "not_covering")
	_, err = b.tokens.Revoke(ctx, actor("huangyu"), tok.ID)
	requireCode(t, err, core.ErrForbidden, "not_covering")
	// Nor can the admin of another unit.
	_, err = b.tokens.Revoke(ctx, actor("chenjing"), tok.ID)
	requireCode(t, err, core.ErrForbidden, "not_covering")

	// The owner lists their own; the admin covering them lists theirs.
	own, err := b.tokens.List(ctx, actor("zhengmin"), "")
	require.NoError(t, err)
	require.Len(t, own, 1)
	theirs, err := b.tokens.List(ctx, actor("zhangwei"), "zhengmin")
	require.NoError(t, err)
	require.Equal(t, own, theirs)

	revoked, err := b.tokens.Revoke(ctx, actor("zhangwei"), tok.ID)
	require.NoError(t, err)
	require.Equal(t, "zhangwei", revoked.RevokedBy)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated, "the very next call after a revoke is refused")
	_, err = b.tokens.Revoke(ctx, actor("zhengmin"), tok.ID)
	requireCode(t, err, core.ErrAlreadyDecided, "token_revoked")
	_, err = b.tokens.Revoke(ctx, actor("zhengmin"), 99999)
	requireCode(t, err, core.ErrNotFound, "token_not_found")

	var to, kind string
	require.NoError(t, b.store.Pool().QueryRow(ctx, "SELECT to_user, kind FROM outbox WHERE ref = $1", "token:"+itoa(tok.ID)).Scan(&to, &kind))
	require.Equal(t, []string{"zhengmin", "token.revoked"}, []string{to, kind}, "the owner hears that their admin revoked it")

	entries := trail(t, b.store, "token:"+itoa(tok.ID))
	require.Len(t, entries, 2)
	require.Equal(t, []string{"token.create", "token.revoke"}, []string{entries[0].Action, entries[1].Action})
	require.Equal(t, "zhangwei", entries[1].Actor)

	own, err = b.tokens.List(ctx, actor("zhengmin"), "")
	require.NoError(t, err)
	require.Empty(t, own, "a revoked token is no longer listed")

	// Owners revoke their own tokens too.
	_, tok2, err := b.tokens.Create(ctx, actor("zhengmin"), "ci", "", 0)
	require.NoError(t, err, "a revoked token's name is free again")
	_, err = b.tokens.Revoke(ctx, actor("zhengmin"), tok2.ID)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.store.Pool().QueryRow(ctx, "SELECT count(*) FROM outbox WHERE ref = $1", "token:"+itoa(tok2.ID)).Scan(&n))
	require.Zero(t, n, "revoking one's own token tells nobody")
}

func TestRemovedOwnerIsUnauthenticated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	secret, _, err := b.tokens.Create(ctx, actor("maxin"), "script", "", 0)
	require.NoError(t, err)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.NoError(t, b.orgs.RemoveUser(ctx, actor("liuyang"), "maxin"))
	_, err = b.tokens.Authenticate(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated)
}

func TestServiceTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	// Only the sys admin issues service tokens, and only for service users.
	_, _, err := b.tokens.CreateService(ctx, actor("liqiang"), "svc-ci", "pipeline", "")
	requireCode(t, err, core.ErrForbidden, "need_sys_admin")
	_, _, err = b.tokens.CreateService(ctx, actor("admin"), "zhengmin", "pipeline", "")
	requireCode(t, err, core.ErrInvalid, "not_service_user")
	secret, tok, err := b.tokens.CreateService(ctx, actor("admin"), "svc-ci", "pipeline", access.ScopeRead)
	require.NoError(t, err)
	require.Equal(t, access.KindService, tok.Kind)
	require.True(t, tok.ExpiresAt.IsZero())
	p, err := b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, access.Principal{Actor: core.Actor{UserID: "svc-ci", Name: "CI", Platform: access.PlatformAPI},
		Via: access.ViaService, Scope: access.ScopeRead, TokenID: tok.ID}, p)

	// A service user makes no personal tokens.
	_, _, err = b.tokens.Create(ctx, actor("svc-ci"), "mine", "", 0)
	requireCode(t, err, core.ErrForbidden, "service_user_personal_token")

	_, err = b.tokens.ListService(ctx, actor("liqiang"))
	requireCode(t, err, core.ErrForbidden, "need_sys_admin")
	list, err := b.tokens.ListService(ctx, actor("admin"))
	require.NoError(t, err)
	require.Len(t, list, 1)

	// Only the sys admin revokes a service token, even its own user cannot.
	_, err = b.tokens.Revoke(ctx, actor("svc-ci"), tok.ID)
	requireCode(t, err, core.ErrForbidden, "need_sys_admin")
	_, err = b.tokens.Revoke(ctx, actor("admin"), tok.ID)
	require.NoError(t, err)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.ErrorIs(t, err, access.ErrUnauthenticated)
}

func TestConfiguredServiceTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	legacy := "a-long-legacy-webchat-token-0123456789"
	hashed, _ := access.NewSecret()
	cfg := []access.ConfiguredToken{{UserID: "svc-ci", Secret: legacy}, {UserID: "svc-ci", SHA256: core.HashSecret(hashed), Scope: access.ScopeRead}}
	require.NoError(t, b.tokens.EnsureConfigured(ctx, cfg))
	require.NoError(t, b.tokens.EnsureConfigured(ctx, cfg), "a second start changes nothing")
	list, err := b.tokens.ListService(ctx, actor("admin"))
	require.NoError(t, err)
	require.Len(t, list, 2)
	p, err := b.tokens.Authenticate(ctx, legacy)
	require.NoError(t, err, "a legacy secret without the opsb_ prefix still works")
	require.Equal(t, "svc-ci", p.Actor.UserID)
	require.Equal(t, access.ViaService, p.Via)
	p, err = b.tokens.Authenticate(ctx, hashed)
	require.NoError(t, err)
	require.Equal(t, access.ScopeRead, p.Scope)

	// Dropping a token from the config revokes it at the next start.
	require.NoError(t, b.tokens.EnsureConfigured(ctx, cfg[1:]))
	_, err = b.tokens.Authenticate(ctx, legacy)
	require.ErrorIs(t, err, access.ErrUnauthenticated)
	_, err = b.tokens.Authenticate(ctx, hashed)
	require.NoError(t, err)

	// A person's id cannot hold a configured token.
	err = b.tokens.EnsureConfigured(ctx, []access.ConfiguredToken{{UserID: "zhengmin", Secret: "another-legacy-secret-000000"}})
	requireCode(t, err, core.ErrInvalid, "not_service_user")
	err = b.tokens.EnsureConfigured(ctx, []access.ConfiguredToken{{UserID: "svc-ci", SHA256: "nothex"}})
	requireCode(t, err, core.ErrInvalid, "token_sha256")
}

func TestServiceUsersAreNotPeople(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, access.TokenConfig{})
	// svc-ci holds operator, but is never a holder notices and approvals go to.
	var holders []org.Grant
	require.NoError(t, b.store.Org().InTx(ctx, func(p org.Ports) error {
		var err error
		holders, err = p.Holders(ctx, org.RoleOperator)
		return err
	}))
	ids := []string{}
	for _, h := range holders {
		ids = append(ids, h.UserID)
	}
	require.ElementsMatch(t, []string{"sunli", "zhoujie"}, ids)

	// Chat sign-in as a service user is refused.
	_, _, err := b.orgs.IssueWebToken(ctx, actor("admin"), "svc-ci", time.Hour)
	requireCode(t, err, core.ErrForbidden, "service_user_signin")
	err = b.orgs.LinkIdentity(ctx, actor("admin"), "svc-ci", core.PlatformWeCom, "svc")
	requireCode(t, err, core.ErrForbidden, "service_user_signin")
	// Its roles come from the config only.
	_, err = b.orgs.GrantRole(ctx, actor("admin"), "svc-ci", org.RoleSysAdmin, "")
	requireCode(t, err, core.ErrForbidden, "service_user_roles")

	// Reconciling sets exactly the configured roles; a person's id is not taken over.
	require.NoError(t, b.orgs.EnsureServiceUsers(ctx, []org.ServiceUser{{ID: "svc-ci", Name: "CI bot", Unit: "xc-market",
		Roles: []org.Grant{{Role: org.RoleUnitContact, Scope: "xc-market"}}}}))
	require.NoError(t, b.store.Org().InTx(ctx, func(p org.Ports) error {
		grants, err := p.GrantsOf(ctx, "svc-ci")
		require.NoError(t, err)
		require.Len(t, grants, 1)
		require.Equal(t, org.RoleUnitContact, grants[0].Role)
		u, err := p.User(ctx, "svc-ci")
		require.NoError(t, err)
		require.Equal(t, org.User{ID: "svc-ci", Name: "CI bot", Unit: "xc-market", CreatedAt: u.CreatedAt, Service: true}, u)
		return nil
	}))
	err = b.orgs.EnsureServiceUsers(ctx, []org.ServiceUser{{ID: "zhengmin", Name: "郑敏"}})
	requireCode(t, err, core.ErrConflict, "not_service_user")
}

// TestRateLimit: a token may burst, is then refused with a short
// RetryAfter, and recovers once that has passed (Redis keeps the rate
// across replicas, on the server's clock).
func TestRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := redis.NewShared(redistest.Client(t, 6))
	b := setup(t, shared, access.TokenConfig{PerMinute: 600, Burst: 5, RateKey: redistest.Name("token-rate:")})
	secret, _, err := b.tokens.Create(ctx, actor("zhengmin"), "busy", "", 0)
	require.NoError(t, err)
	for i := range 5 {
		_, err := b.tokens.Authenticate(ctx, secret)
		require.NoErrorf(t, err, "request %d of the burst", i+1)
	}
	_, err = b.tokens.Authenticate(ctx, secret)
	var rl *access.RateLimited
	require.ErrorAs(t, err, &rl)
	require.Greater(t, rl.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, rl.RetryAfter, 100*time.Millisecond, "600/min frees a slot every 100ms")
	time.Sleep(rl.RetryAfter + 20*time.Millisecond)
	_, err = b.tokens.Authenticate(ctx, secret)
	require.NoError(t, err, "a slot is free again")

	// Another token has its own budget.
	other, _, err := b.tokens.Create(ctx, actor("huangyu"), "calm", "", 0)
	require.NoError(t, err)
	_, err = b.tokens.Authenticate(ctx, other)
	require.NoError(t, err)
}
