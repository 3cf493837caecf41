package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
	"opsbot/storage/postgres/pgtest"
)

// TestSessionsOnPostgres: sessions and pending sign-ins round-trip through
// Postgres with the service's rules (hash only, idle and absolute expiry,
// ended at once, audited in the same transaction, flows used once).
func TestSessionsOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t)
	clock := &routinetest.Clock{T: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	orgs := org.NewService(store.Org(), clock)
	_, err := orgs.Bootstrap(ctx, "root", "Root", "city", "City")
	require.NoError(t, err)
	_, err = orgs.AddUser(ctx, core.SystemActor(), "alice", "Alice", "city")
	require.NoError(t, err)

	s := access.NewSessions(store.Sessions(), clock, access.SessionPolicy{Idle: time.Hour, Absolute: 3 * time.Hour})
	secret, ses, err := s.Start(ctx, "alice", access.SignInOIDC, "10.0.0.9")
	require.NoError(t, err)
	var n int
	require.NoError(t, store.Pool().QueryRow(ctx, `SELECT count(*) FROM web_sessions WHERE hash = $1`, secret).Scan(&n))
	assert.Zero(t, n, "the secret itself is not stored")
	require.NoError(t, store.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'session.start' AND entity = 'user:alice'`).Scan(&n))
	assert.Equal(t, 1, n)

	p, got, err := s.Resolve(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, "alice", p.Actor.UserID)
	assert.Equal(t, ses.CSRF, got.CSRF)
	assert.Equal(t, "10.0.0.9", got.Address)
	assert.True(t, got.CreatedAt.Equal(ses.CreatedAt))

	clock.T = clock.T.Add(50 * time.Minute)
	_, _, err = s.Resolve(ctx, secret) // touches
	require.NoError(t, err)
	clock.T = clock.T.Add(50 * time.Minute)
	_, _, err = s.Resolve(ctx, secret)
	require.NoError(t, err, "used 50 minutes ago: still live")
	clock.T = clock.T.Add(61 * time.Minute)
	_, _, err = s.Resolve(ctx, secret)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "idle")

	two, ses2, err := s.Start(ctx, "alice", access.SignInWeCom, "")
	require.NoError(t, err)
	require.NoError(t, s.End(ctx, p.Actor, ses2.ID))
	_, _, err = s.Resolve(ctx, two)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "ended")

	three, _, err := s.Start(ctx, "alice", access.SignInLink, "")
	require.NoError(t, err)
	ended, err := s.EndAll(ctx, core.Actor{UserID: "root", Platform: "webchat"}, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, ended)
	_, _, err = s.Resolve(ctx, three)
	assert.ErrorIs(t, err, access.ErrUnauthenticated)

	four, _, err := s.Start(ctx, "alice", access.SignInLink, "")
	require.NoError(t, err)
	clock.T = clock.T.Add(3 * time.Hour)
	_, _, err = s.Resolve(ctx, four)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "absolute")

	f, err := s.BeginFlow(ctx, access.SignInOIDC, "/webchat/?c=ops")
	require.NoError(t, err)
	back, err := s.TakeFlow(ctx, access.SignInOIDC, f.State)
	require.NoError(t, err)
	assert.Equal(t, f.Verifier, back.Verifier)
	assert.Equal(t, f.Nonce, back.Nonce)
	assert.Equal(t, "/webchat/?c=ops", back.Return)
	_, err = s.TakeFlow(ctx, access.SignInOIDC, f.State)
	var ce *core.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "sign_in_state", ce.Code, "a state is used once")

	five, _, err := s.Start(ctx, "alice", access.SignInLink, "")
	require.NoError(t, err)
	require.NoError(t, orgs.RemoveUser(ctx, core.SystemActor(), "alice"))
	_, _, err = s.Resolve(ctx, five)
	assert.ErrorIs(t, err, access.ErrUnauthenticated, "removed users never resolve")
}
