package org_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// orgCounts counts what a start seeds: units, users, grants, apps,
// rotations and audit entries.
func orgCounts(t *testing.T, s *postgres.Store) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range []string{"units", "users", "role_grants", "apps", "duty_rotations", "audit_log", "outbox"} {
		var n int
		require.NoError(t, s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
		counts[table] = n
	}
	return counts
}

// start is what a replica does at start: bootstrap, then the demo org.
func start(ctx context.Context, svc *org.Service, demo bool) error {
	if _, err := svc.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市"); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if demo {
		if err := svc.LoadDemo(ctx); err != nil {
			return fmt.Errorf("demo org: %w", err)
		}
	}
	return nil
}

// TestReplicasStartTogether starts two replicas (a pool each) on one empty
// schema at the same instant: both come up and the org is seeded once.
func TestReplicasStartTogether(t *testing.T) {
	t.Parallel()
	clock := fixedClock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	for _, demo := range []bool{false, true} {
		// What one start seeds, for comparison.
		one := pgtest.New(t)
		require.NoError(t, start(context.Background(), org.NewService(one.Org(), clock), demo))
		want := orgCounts(t, one)
		for trial := range 3 {
			t.Run(fmt.Sprintf("demo=%v/trial=%d", demo, trial), func(t *testing.T) {
				schema := pgtest.Schema(t)
				stores := make([]*postgres.Store, 2)
				for i := range stores {
					s, err := postgres.Open(context.Background(), pgtest.URL(), postgres.Options{MaxConns: 4, SearchPath: schema})
					require.NoError(t, err)
					t.Cleanup(s.Close)
					stores[i] = s
				}
				require.NoError(t, stores[0].Migrate(context.Background()))
				errs := make([]error, len(stores))
				gate := make(chan struct{})
				var wg sync.WaitGroup
				for i, s := range stores {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-gate
						errs[i] = start(context.Background(), org.NewService(s.Org(), clock), demo)
					}()
				}
				close(gate)
				wg.Wait()
				for i, err := range errs {
					require.NoErrorf(t, err, "replica %d", i)
				}
				require.Equal(t, want, orgCounts(t, stores[1]))
			})
		}
	}
}
