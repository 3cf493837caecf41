package access_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/core/org/orgtest"
	"opsbot/core/routine/routinetest"
)

// fakeSessions is an in-memory session store over an in-memory org; a
// failed transaction leaves nothing behind.
type fakeSessions struct {
	*orgtest.Org
	sessions map[string]access.Session // by id
	flows    map[string]access.LoginFlow
}

func (f *fakeSessions) InTx(ctx context.Context, fn func(access.SessionTx) error) error {
	org, ses, flows := f.Org.Clone(), maps.Clone(f.sessions), maps.Clone(f.flows)
	if err := fn(f); err != nil {
		f.Org, f.sessions, f.flows = org, ses, flows
		return err
	}
	return nil
}

func (f *fakeSessions) InsertSession(_ context.Context, s access.Session) error {
	f.sessions[s.ID] = s
	return nil
}

func (f *fakeSessions) SessionByHash(_ context.Context, hash string) (access.Session, error) {
	for _, s := range f.sessions {
		if s.Hash == hash {
			return s, nil
		}
	}
	return access.Session{}, orgtest.NotFound("session", hash)
}

func (f *fakeSessions) SessionByID(_ context.Context, id string) (access.Session, error) {
	s, ok := f.sessions[id]
	if !ok {
		return s, orgtest.NotFound("session", id)
	}
	return s, nil
}

func (f *fakeSessions) TouchSession(_ context.Context, id string, at time.Time) error {
	s := f.sessions[id]
	s.LastSeen = at
	f.sessions[id] = s
	return nil
}

func (f *fakeSessions) EndSession(_ context.Context, id string, at time.Time) (bool, error) {
	s, ok := f.sessions[id]
	if !ok || !s.EndedAt.IsZero() {
		return false, nil
	}
	s.EndedAt = at
	f.sessions[id] = s
	return true, nil
}

func (f *fakeSessions) EndUserSessions(_ context.Context, user string, at, seenAfter time.Time) (int, error) {
	n := 0
	for id, s := range f.sessions {
		if s.UserID == user && s.EndedAt.IsZero() && at.Before(s.ExpiresAt) && s.LastSeen.After(seenAfter) {
			s.EndedAt = at
			f.sessions[id] = s
			n++
		}
	}
	return n, nil
}

func (f *fakeSessions) InsertLoginFlow(_ context.Context, fl access.LoginFlow) error {
	f.flows[fl.State] = fl
	return nil
}

func (f *fakeSessions) TakeLoginFlow(_ context.Context, state string) (access.LoginFlow, error) {
	fl, ok := f.flows[state]
	if !ok {
		return fl, orgtest.NotFound("flow", state)
	}
	delete(f.flows, state)
	return fl, nil
}

func newFixture(t *testing.T) (*access.Sessions, *fakeSessions, *routinetest.Clock) {
	t.Helper()
	o := orgtest.New()
	o.AddUnit("city", org.LevelCity, "")
	o.AddUnit("d1", org.LevelDistrict, "city")
	o.AddUnit("d2", org.LevelDistrict, "city")
	o.AddUser("alice", "d1", "", "")
	o.AddUser("bob", "d1", "", "")
	o.AddUser("carol", "d2", "", "")
	o.AddUser("admin1", "d1", org.RoleDistrictAdmin, "d1")
	store := &fakeSessions{Org: o, sessions: map[string]access.Session{}, flows: map[string]access.LoginFlow{}}
	clock := &routinetest.Clock{T: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return access.NewSessions(store, clock, access.SessionPolicy{Idle: time.Hour, Absolute: 24 * time.Hour}), store, clock
}

func actions(o *orgtest.Org) []string {
	var out []string
	for _, a := range o.Audits {
		out = append(out, a.Action+" "+a.Actor+" "+a.Entity)
	}
	return out
}

func TestSessionStartResolve(t *testing.T) {
	ctx := context.Background()
	s, store, _ := newFixture(t)
	secret, ses, err := s.Start(ctx, "alice", access.SignInOIDC, "10.0.0.7")
	require.NoError(t, err)
	require.NotEmpty(t, secret)
	assert.NotEqual(t, secret, ses.Hash, "only the hash is stored")
	assert.Equal(t, core.HashSecret(secret), store.sessions[ses.ID].Hash)
	assert.NotEmpty(t, ses.CSRF)
	assert.Equal(t, []string{"session.start alice user:alice"}, actions(store.Org))

	p, got, err := s.Resolve(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, access.Principal{Actor: core.Actor{UserID: "alice", Name: "name of alice", Platform: "webchat"},
		Via: access.ViaSession, Scope: access.ScopeWrite, SessionID: ses.ID}, p)
	assert.Equal(t, ses.CSRF, got.CSRF)

	_, _, err = s.Resolve(ctx, secret+"x")
	assert.ErrorIs(t, err, access.ErrUnauthenticated)

	_, _, err = s.Start(ctx, "nobody", access.SignInOIDC, "")
	assert.True(t, hasCode(err, "not_registered"), "%v", err)
	_, _, err = s.Start(ctx, "alice", "password", "")
	assert.True(t, hasCode(err, "sign_in_via"), "%v", err)
}

func TestSessionIdleExpiry(t *testing.T) {
	ctx := context.Background()
	s, store, clock := newFixture(t)
	secret, ses, err := s.Start(ctx, "alice", access.SignInWeCom, "")
	require.NoError(t, err)

	// Used every 50 minutes, the session lives on past the idle hour.
	for range 4 {
		clock.T = clock.T.Add(50 * time.Minute)
		_, _, err := s.Resolve(ctx, secret)
		require.NoError(t, err)
	}
	assert.Equal(t, clock.T, store.sessions[ses.ID].LastSeen)
	// A use within a minute of the last write does not write again.
	clock.T = clock.T.Add(30 * time.Second)
	_, _, err = s.Resolve(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, clock.T.Add(-30*time.Second), store.sessions[ses.ID].LastSeen)
	// Idle for an hour: gone.
	clock.T = store.sessions[ses.ID].LastSeen.Add(time.Hour)
	_, _, err = s.Resolve(ctx, secret)
	assert.ErrorIs(t, err, access.ErrUnauthenticated)
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	s, _, clock := newFixture(t)
	start := clock.T
	secret, ses, err := s.Start(ctx, "alice", access.SignInLink, "")
	require.NoError(t, err)
	assert.Equal(t, start.Add(time.Hour), s.Expiry(ses), "idle expiry comes first")
	for clock.T.Before(start.Add(24*time.Hour - 30*time.Minute)) {
		clock.T = clock.T.Add(30 * time.Minute)
		_, _, err := s.Resolve(ctx, secret)
		require.NoError(t, err, "at %s", clock.T)
	}
	clock.T = start.Add(24 * time.Hour)
	_, _, err = s.Resolve(ctx, secret)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "in use or not, a day after sign-in it is over")
}

func TestSessionEndAtOnce(t *testing.T) {
	ctx := context.Background()
	s, store, _ := newFixture(t)
	one, ses1, err := s.Start(ctx, "alice", access.SignInOIDC, "")
	require.NoError(t, err)
	two, _, err := s.Start(ctx, "alice", access.SignInWeCom, "")
	require.NoError(t, err)
	alice := core.Actor{UserID: "alice", Platform: "webchat"}

	assert.True(t, hasCode(s.End(ctx, core.Actor{UserID: "bob"}, ses1.ID), "not_your_session"))
	require.NoError(t, s.End(ctx, alice, ses1.ID))
	_, _, err = s.Resolve(ctx, one)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "signed out: not found at once")
	_, _, err = s.Resolve(ctx, two)
	require.NoError(t, err, "the other browser stays signed in")
	require.NoError(t, s.End(ctx, alice, ses1.ID), "twice changes nothing")

	n, err := s.EndAll(ctx, alice, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _, err = s.Resolve(ctx, two)
	assert.ErrorIs(t, err, access.ErrUnauthenticated)
	assert.Equal(t, []string{"session.start alice user:alice", "session.start alice user:alice",
		"session.end alice user:alice", "session.end_all alice user:alice"}, actions(store.Org))
}

func TestSessionEndAllAuthority(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newFixture(t)
	secret, _, err := s.Start(ctx, "alice", access.SignInOIDC, "")
	require.NoError(t, err)
	_, err = s.EndAll(ctx, core.Actor{UserID: "bob"}, "alice")
	assert.True(t, hasCode(err, "not_covering"), "a peer cannot sign alice out: %v", err)
	_, err = s.EndAll(ctx, core.Actor{UserID: "carol"}, "alice")
	assert.True(t, hasCode(err, "not_covering"), "%v", err)
	n, err := s.EndAll(ctx, core.Actor{UserID: "admin1"}, "alice")
	require.NoError(t, err, "the district admin covering alice can")
	assert.Equal(t, 1, n)
	_, _, err = s.Resolve(ctx, secret)
	assert.ErrorIs(t, err, access.ErrUnauthenticated)
}

func TestSessionRemovedUser(t *testing.T) {
	ctx := context.Background()
	s, store, _ := newFixture(t)
	secret, _, err := s.Start(ctx, "alice", access.SignInOIDC, "")
	require.NoError(t, err)
	u := store.Users["alice"]
	u.Removed = true
	store.Users["alice"] = u
	_, _, err = s.Resolve(ctx, secret)
	assert.ErrorIs(t, err, access.ErrUnauthenticated)
	_, _, err = s.Start(ctx, "alice", access.SignInOIDC, "")
	assert.True(t, hasCode(err, "user_removed"), "%v", err)
}

func TestLoginFlowOnce(t *testing.T) {
	ctx := context.Background()
	s, store, clock := newFixture(t)
	f, err := s.BeginFlow(ctx, access.SignInOIDC, "/webchat/?x=1")
	require.NoError(t, err)
	assert.NotEmpty(t, f.State)
	assert.NotEmpty(t, f.Verifier)
	assert.NotEmpty(t, f.Nonce)
	_, kept := store.flows[f.State]
	assert.False(t, kept, "the state is kept hashed")

	_, err = s.TakeFlow(ctx, access.SignInWeCom, f.State)
	assert.True(t, hasCode(err, "sign_in_state"), "another provider's state: %v", err)
	f2, err := s.BeginFlow(ctx, access.SignInOIDC, "https://evil.example/")
	require.NoError(t, err)
	assert.Equal(t, "/webchat/", f2.Return, "never a foreign return path")
	got, err := s.TakeFlow(ctx, access.SignInOIDC, f2.State)
	require.NoError(t, err)
	assert.Equal(t, f2, got)
	_, err = s.TakeFlow(ctx, access.SignInOIDC, f2.State)
	assert.True(t, hasCode(err, "sign_in_state"), "used once: %v", err)

	f3, err := s.BeginFlow(ctx, access.SignInOIDC, "/")
	require.NoError(t, err)
	clock.T = clock.T.Add(11 * time.Minute)
	_, err = s.TakeFlow(ctx, access.SignInOIDC, f3.State)
	assert.True(t, hasCode(err, "sign_in_state"), "expired: %v", err)
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/webchat/":              "/webchat/",
		"/console/x?y=1#z":       "/console/x?y=1#z",
		"":                       "/webchat/",
		"//evil.example/":        "/webchat/",
		"/\\evil.example/":       "/webchat/",
		"https://evil.example/":  "/webchat/",
		"javascript:alert(1)":    "/webchat/",
		"/a\r\nLocation: http:x": "/webchat/",
		"webchat":                "/webchat/",
	} {
		assert.Equal(t, want, access.LocalPath(in), in)
	}
}

func TestFailedAttemptAudited(t *testing.T) {
	s, store, _ := newFixture(t)
	require.NoError(t, s.Failed(context.Background(), access.Attempt{Via: "oidc", Claim: "email=x@y.z", Address: "10.1.1.1", Outcome: "not_linked"}))
	require.Len(t, store.Audits, 1)
	e := store.Audits[0]
	assert.Equal(t, "session.sign_in_failed", e.Action)
	assert.Equal(t, "anonymous", e.Actor)
	assert.Contains(t, e.After, `"claim":"email=x@y.z"`)
	assert.Contains(t, e.After, `"address":"10.1.1.1"`)
}

// hasCode reports whether err is a core.Error with code.
func hasCode(err error, code string) bool {
	var ce *core.Error
	return errors.As(err, &ce) && ce.Code == code
}
