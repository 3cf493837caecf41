package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/configs"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks/faulttest"
)

// seeded counts what starting opsbot seeds in schema.
func seeded(t *testing.T, schema string) map[string]int {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(), postgres.Options{MaxConns: 1, SearchPath: schema})
	require.NoError(t, err)
	defer s.Close()
	counts := map[string]int{}
	for _, table := range []string{"units", "users", "role_grants", "apps", "duty_rotations", "audit_log", "webchat_channel_members"} {
		var n int
		require.NoError(t, s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
		counts[table] = n
	}
	return counts
}

// startTogether starts n opsbot processes (`all`: migrations, bootstrap,
// demo, HTTP, worker, scheduler) on one empty schema at the same instant
// and returns each one's start error, then stops those that came up.
func startTogether(t *testing.T, n int, demo bool) (schema string, errs []error) {
	t.Helper()
	schema = pgtest.Schema(t)
	dbURL := pgtest.URL()
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	cfg, err := configs.Load("configs/dev.yaml", append([]string{
		"OPSBOT_DATABASE_URL=" + dbURL + sep + "search_path=" + schema,
		"OPSBOT_REDIS_URL=" + redistest.URL(1),
		"OPSBOT_SERVER_LISTEN=127.0.0.1:0",
		"OPSBOT_WORKER_QUEUE=" + redistest.Name("e2e"),
		"OPSBOT_LOG_LEVEL=warn",
		fmt.Sprintf("OPSBOT_DEMO_ENABLED=%v", demo),
	}, auditFiles(t)...))
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs = make([]error, n)
	gate := make(chan struct{})
	var started, stopped sync.WaitGroup
	for i := range n {
		started.Add(1)
		stopped.Add(1)
		go func() {
			defer stopped.Done()
			once := sync.OnceFunc(started.Done)
			defer once()
			<-gate
			err := run(ctx, cfg, logger, modes["all"], &hooks{ready: func(string) { once() }})
			if ctx.Err() == nil {
				errs[i] = fmt.Errorf("exited before it was stopped: %w", err)
			}
		}()
	}
	close(gate)
	waited := make(chan struct{})
	go func() { started.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(60 * time.Second):
		t.Fatal("the replicas did not start within 60s")
	}
	cancel()
	stopped.Wait()
	return schema, errs
}

// TestE2EReplicasStartTogether: two replicas started at the same instant
// on an empty database both come up, and the org is seeded once — the
// same rows and audit entries as one replica starting alone.
//
// It is a case of the fault suite (scripts/faults.sh): lost counts the
// replicas that did not come up, duplicated the org rows and audit
// entries beyond one start's.
func TestFaultReplicasStartTogether(t *testing.T) {
	var lost, duplicated int
	t.Cleanup(func() { faulttest.Report(t, "replicas-start-together", lost, duplicated) })
	for _, demo := range []bool{false, true} {
		alone, errs := startTogether(t, 1, demo)
		require.NoError(t, errs[0])
		want := seeded(t, alone)
		for trial := range 3 {
			t.Run(fmt.Sprintf("demo=%v/trial=%d", demo, trial), func(t *testing.T) {
				schema, errs := startTogether(t, 2, demo)
				for i, err := range errs {
					if err != nil {
						lost++
					}
					require.NoErrorf(t, err, "replica %d", i)
				}
				got := seeded(t, schema)
				for table, n := range got {
					if n > want[table] {
						duplicated += n - want[table]
					}
				}
				require.Equal(t, want, got)
			})
		}
	}
}
