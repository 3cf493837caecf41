package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

// TestOrgCacheAcrossReplicas (issue 20 item 4): two replicas (two stores,
// each its own pool and org cache) share Postgres and Redis; a role grant
// or revoke committed on one is seen by the very next transaction on the
// other, although the other answers the same reads from its cache. Without
// the version bump the other replica would go on answering from its cache.
func TestOrgCacheAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.Schema(t)
	shared := redis.NewShared(redistest.Client(t, 10))
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, pgtest.URL(), postgres.Options{MaxConns: 4, SearchPath: schema})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		s.CacheOrg(shared.OrgVersion)
		s.OnOrgChange(func(ctx context.Context) { require.NoError(t, shared.BumpOrgVersion(ctx)) })
		return s
	}
	a, b := open(), open()
	require.NoError(t, a.Migrate(ctx))
	orgA, orgB := org.NewService(a.Org(), core.SystemClock{}), org.NewService(b.Org(), core.SystemClock{})
	_, err := orgA.Bootstrap(ctx, "root", "Root", "city", "City")
	require.NoError(t, err)
	_, err = orgA.AddUser(ctx, core.SystemActor(), "alice", "Alice", "city")
	require.NoError(t, err)

	alice := core.Actor{UserID: "alice", Name: "Alice", Platform: core.PlatformWebchat}
	sysAdmin := func(s *postgres.Store) error {
		return s.Org().InTx(ctx, func(tx org.Ports) error { return org.CheckSysAdmin(ctx, tx, alice, "test") })
	}
	// B reads alice twice: the second time from its cache.
	require.ErrorIs(t, sysAdmin(b), core.ErrForbidden)
	_, before := b.OrgCacheStats()
	require.ErrorIs(t, sysAdmin(b), core.ErrForbidden)
	hits, misses := b.OrgCacheStats()
	require.Positive(t, hits)
	require.Equal(t, before, misses, "the second check reads nothing from Postgres")

	_, err = orgA.GrantRole(ctx, core.SystemActor(), "alice", org.RoleSysAdmin, "city")
	require.NoError(t, err)
	require.NoError(t, sysAdmin(b), "B sees A's grant on its next transaction")
	actor, err := orgB.Resolve(ctx, core.PlatformWebchat, "alice")
	require.NoError(t, err)
	require.Equal(t, "Alice", actor.Name)

	_, err = orgA.RevokeRole(ctx, core.SystemActor(), "alice", org.RoleSysAdmin, "city")
	require.NoError(t, err)
	require.ErrorIs(t, sysAdmin(b), core.ErrForbidden, "B sees A's revoke on its next transaction")

	// The control: a replica that does not bump leaves B on its cache.
	a.OnOrgChange(nil)
	require.ErrorIs(t, sysAdmin(b), core.ErrForbidden)
	_, err = orgA.GrantRole(ctx, core.SystemActor(), "alice", org.RoleSysAdmin, "city")
	require.NoError(t, err)
	err = sysAdmin(b)
	require.True(t, errors.Is(err, core.ErrForbidden), "without the bump B answers from its cache (got %v)", err)
	require.NoError(t, sysAdmin(a), "A, which wrote, reads its own write")
}

// TestOrgScopeReadsTheVersionOncePerCommand: in one command's scope every
// transaction reads the org at the version its first read found (one
// Redis read for the command); a change committed meanwhile on another
// replica is seen by the next command, and outside a scope by the next
// transaction.
func TestOrgScopeReadsTheVersionOncePerCommand(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.Schema(t)
	shared := redis.NewShared(redistest.Client(t, 11))
	open := func(reads *atomic.Int64) *postgres.Store {
		s, err := postgres.Open(ctx, pgtest.URL(), postgres.Options{MaxConns: 4, SearchPath: schema})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		s.CacheOrg(func(ctx context.Context) (string, error) {
			reads.Add(1)
			return shared.OrgVersion(ctx)
		})
		s.OnOrgChange(func(ctx context.Context) { require.NoError(t, shared.BumpOrgVersion(ctx)) })
		return s
	}
	var reads atomic.Int64 // B's
	a, b := open(&atomic.Int64{}), open(&reads)
	require.NoError(t, a.Migrate(ctx))
	orgA := org.NewService(a.Org(), core.SystemClock{})
	_, err := orgA.Bootstrap(ctx, "root", "Root", "city", "City")
	require.NoError(t, err)
	_, err = orgA.AddUser(ctx, core.SystemActor(), "alice", "Alice", "city")
	require.NoError(t, err)
	alice := core.Actor{UserID: "alice", Name: "Alice", Platform: core.PlatformWebchat}
	sysAdmin := func(ctx context.Context) error {
		return b.Org().InTx(ctx, func(tx org.Ports) error { return org.CheckSysAdmin(ctx, tx, alice, "test") })
	}

	command := b.OrgScope(ctx)
	before := reads.Load()
	require.ErrorIs(t, sysAdmin(command), core.ErrForbidden)
	_, err = orgA.GrantRole(ctx, core.SystemActor(), "alice", org.RoleSysAdmin, "city")
	require.NoError(t, err)
	require.ErrorIs(t, sysAdmin(command), core.ErrForbidden, "the command goes on at the version it began with")
	require.ErrorIs(t, sysAdmin(command), core.ErrForbidden)
	require.Equal(t, int64(1), reads.Load()-before, "one version read for the command's three transactions")

	require.NoError(t, sysAdmin(b.OrgScope(ctx)), "the next command sees the grant")
	_, err = orgA.RevokeRole(ctx, core.SystemActor(), "alice", org.RoleSysAdmin, "city")
	require.NoError(t, err)
	require.ErrorIs(t, sysAdmin(ctx), core.ErrForbidden, "outside a command, the next transaction sees the revoke")
}
