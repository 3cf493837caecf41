package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"opsbot/storage/postgres"
	"opsbot/tasks/faulttest"
)

// multiHost joins two private servers into one libpq multi-host URL that
// asks for a read-write session.
func multiHost(first, second int) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2", first, second)
}

func serverPort(t *testing.T, s *postgres.Store) int {
	t.Helper()
	var port int
	require.NoError(t, s.Pool().QueryRow(context.Background(), "SELECT inet_server_port()").Scan(&port))
	return port
}

func TestMultiHostURLSkipsADeadHost(t *testing.T) {
	live := faulttest.StartPostgres(t)
	dead := faulttest.FreePort(t) // nobody listens there
	ctx := context.Background()
	s, err := postgres.Open(ctx, multiHost(dead, live.Port), postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx))
	require.Equal(t, live.Port, serverPort(t, s))
}

func TestMultiHostURLPicksTheReadWriteServer(t *testing.T) {
	ro := faulttest.StartPostgres(t)
	rw := faulttest.StartPostgres(t)
	ctx := context.Background()
	admin, err := postgres.Open(ctx, ro.URL(), postgres.Options{MaxConns: 1})
	require.NoError(t, err)
	_, err = admin.Pool().Exec(ctx, "ALTER SYSTEM SET default_transaction_read_only = on")
	require.NoError(t, err)
	_, err = admin.Pool().Exec(ctx, "SELECT pg_reload_conf()")
	require.NoError(t, err)
	admin.Close()

	s, err := postgres.Open(ctx, multiHost(ro.Port, rw.Port), postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx), "migrations must run on the read-write server")
	require.Equal(t, rw.Port, serverPort(t, s))
}

func TestPoolReconnectsAfterPostgresRestarts(t *testing.T) {
	pg := faulttest.StartPostgres(t)
	ctx := context.Background()
	s := pg.Store(t)
	_, err := s.Webchat().Inbox(ctx, "nobody", nil, 0, 10)
	require.NoError(t, err)

	pg.Stop(t)
	pg.Start(t)

	// The next store call succeeds after at most two retries, without a
	// new store.
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if _, last = s.Webchat().Inbox(ctx, "nobody", nil, 0, 10); last == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, last)
}

func TestStatementTimeoutCutsALongQuery(t *testing.T) {
	pg := faulttest.StartPostgres(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, pg.URL(), postgres.Options{MaxConns: 2, StatementTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()
	start := time.Now()
	_, err = s.Pool().Exec(ctx, "SELECT pg_sleep(3)")
	require.Error(t, err)
	require.Less(t, time.Since(start), 2*time.Second)
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "57014", pgErr.Code) // query_canceled
	require.Contains(t, err.Error(), "statement timeout")
	// A short query still runs.
	_, err = s.Pool().Exec(ctx, "SELECT pg_sleep(0.05)")
	require.NoError(t, err)
}

// Waiting on a lock and running migrations are not bounded by
// database.statement_timeout: a replica that waits for another's
// migration or seeding longer than the timeout still starts.
func TestStatementTimeoutSparesLocksAndMigrations(t *testing.T) {
	pg := faulttest.StartPostgres(t)
	ctx := context.Background()
	holder, err := postgres.Open(ctx, pg.URL(), postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	defer holder.Close()
	s, err := postgres.Open(ctx, pg.URL(), postgres.Options{MaxConns: 2, StatementTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()

	held, release := make(chan struct{}), make(chan struct{})
	holderDone := make(chan error, 1)
	go func() {
		holderDone <- holder.Exclusive(ctx, "seed", func(context.Context) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	time.AfterFunc(time.Second, func() { close(release) })
	ran := false
	require.NoError(t, s.Exclusive(ctx, "seed", func(context.Context) error { ran = true; return nil }),
		"waiting for the lock longer than the statement timeout")
	require.True(t, ran)
	require.NoError(t, <-holderDone)

	// A replica migrating waits for another's migration (tern's advisory
	// lock, held here for 1s) past the timeout, and the connection gets the
	// timeout back afterwards.
	const ternLock = int64(9628173550095224) // github.com/jackc/tern/v2/migrate lockNum
	conn, err := holder.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1)", ternLock)
	require.NoError(t, err)
	time.AfterFunc(time.Second, func() { _, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", ternLock) })
	one, err := postgres.Open(ctx, pg.URL(), postgres.Options{MaxConns: 1, StatementTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer one.Close()
	require.NoError(t, one.Migrate(ctx), "waiting for another replica's migration longer than the statement timeout")
	var got string
	require.NoError(t, one.Pool().QueryRow(ctx, "SHOW statement_timeout").Scan(&got))
	require.Equal(t, "300ms", got)
}
