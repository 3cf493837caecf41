package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// countingConn counts the writes the client makes: pgx flushes once per
// round trip, so this counts round trips.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// testURL is the test database's URL.
func testURL() string {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		return url
	}
	return "postgres://postgres@127.0.0.1:5432/opsbot_test?sslmode=disable"
}

// countedPool is a pool of one connection (in schema, when set) whose
// round trips are counted.
func countedPool(t *testing.T, schema string) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testURL())
	require.NoError(t, err)
	cfg.MaxConns = 1
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	writes := &atomic.Int64{}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, writes}, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool, writes
}

// lazyPool is a pool of one connection whose round trips are counted, and
// a table of the test's own.
func lazyPool(t *testing.T) (*pgxpool.Pool, *atomic.Int64, string) {
	t.Helper()
	pool, writes := countedPool(t, "")
	table := fmt.Sprintf("lazytx_%d", time.Now().UnixNano())
	_, err := pool.Exec(context.Background(), "CREATE TABLE "+table+" (n int PRIMARY KEY)")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE "+table) })
	return pool, writes, table
}

// BEGIN goes with the first statement: a transaction of one query costs
// two round trips (the query, COMMIT), and its statements share one
// transaction.
func TestLazyTxSendsBeginWithTheFirstStatement(t *testing.T) {
	ctx := context.Background()
	pool, writes, table := lazyPool(t)
	// pgx prepares a statement the first time a connection sees it (a
	// round trip of its own): warm the statement cache, as a busy pool is.
	for _, sql := range []string{"INSERT INTO " + table + " VALUES (1)", "INSERT INTO " + table + " VALUES (1) RETURNING n",
		"SELECT pg_current_xact_id()::text", "SELECT 1"} {
		tx := &lazyTx{pool: pool}
		_, err := tx.Exec(ctx, sql)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
	}
	before := writes.Load()
	tx := &lazyTx{pool: pool}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	var x1, x2 string
	require.NoError(t, tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text").Scan(&x1))
	require.Equal(t, int64(1), writes.Load()-before, "BEGIN and the query in one round trip")
	rows, err := tx.Query(ctx, "SELECT pg_current_xact_id()::text")
	require.NoError(t, err)
	require.True(t, rows.Next())
	require.NoError(t, rows.Scan(&x2))
	rows.Close()
	require.Equal(t, x1, x2, "one transaction")
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, int64(3), writes.Load()-before)

	// Each first call: Exec, Query, SendBatch.
	for name, first := range map[string]func(tx *lazyTx) error{
		"exec": func(tx *lazyTx) error {
			_, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES (1)")
			return err
		},
		"query": func(tx *lazyTx) error {
			rows, err := tx.Query(ctx, "INSERT INTO "+table+" VALUES (1) RETURNING n")
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err()
		},
		"batch": func(tx *lazyTx) error {
			b := &pgx.Batch{}
			b.Queue("INSERT INTO " + table + " VALUES (1)")
			b.Queue("SELECT 1")
			return tx.SendBatch(ctx, b).Close()
		},
	} {
		before := writes.Load()
		tx := &lazyTx{pool: pool}
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		require.NoError(t, first(tx), name)
		require.NoError(t, tx.Rollback(ctx), name)
		require.Equal(t, int64(2), writes.Load()-before, name)
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
		require.Zero(t, n, "%s: rolled back with the transaction", name)
	}
}

// A transaction that sends nothing takes no connection; a failing first
// statement, an unread query and an aborted transaction's commit all
// leave the one connection fit for the next transaction.
func TestLazyTxFailuresLeaveTheConnectionUsable(t *testing.T) {
	ctx := context.Background()
	pool, writes, table := lazyPool(t)
	before, acquired := writes.Load(), pool.Stat().AcquireCount()
	tx := &lazyTx{pool: pool}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, before, writes.Load())
	require.Equal(t, acquired, pool.Stat().AcquireCount(), "nothing sent, no connection taken")

	tx = &lazyTx{pool: pool}
	_, err := tx.Exec(ctx, "INSERT INTO nope VALUES (1)")
	require.ErrorContains(t, err, "nope")
	require.NoError(t, tx.Rollback(ctx))

	tx = &lazyTx{pool: pool}
	var n int
	require.ErrorIs(t, tx.QueryRow(ctx, "SELECT n FROM "+table).Scan(&n), pgx.ErrNoRows)
	rows, err := tx.Query(ctx, "SELECT generate_series(1, 100)")
	require.NoError(t, err)
	require.True(t, rows.Next())
	rows.Close() // not read to the end
	_, err = tx.Exec(ctx, "INSERT INTO "+table+" VALUES (1)")
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "INSERT INTO "+table+" VALUES (1)")
	require.Error(t, err, "a duplicate aborts the transaction")
	require.ErrorIs(t, tx.Commit(ctx), pgx.ErrTxCommitRollback)

	tx = &lazyTx{pool: pool}
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
	require.NoError(t, tx.Commit(ctx))
	require.Zero(t, n, "the aborted transaction stored nothing")
	_, err = tx.Exec(ctx, "SELECT 1")
	require.ErrorIs(t, err, errTxEnded)
}

// A transaction whose writes are all deferred to its end (and chains no
// audit entry) is one round trip: BEGIN, the writes and COMMIT together.
// One that fails there stores nothing and leaves the connection usable.
func TestWithTxCommitsWithTheFinalWrites(t *testing.T) {
	ctx := context.Background()
	pool, writes, table := lazyPool(t)
	s := &Store{pool: pool}
	insert := queued{sql: "INSERT INTO " + table + " VALUES (7)", what: "insert"}
	for range 2 { // the first prepares the statements
		require.NoError(t, s.WithTx(ctx, func(tx *Tx) error {
			tx.tx.later = append(tx.tx.later, insert)
			return nil
		}))
		_, err := pool.Exec(ctx, "DELETE FROM "+table)
		require.NoError(t, err)
	}
	before := writes.Load()
	require.NoError(t, s.WithTx(ctx, func(tx *Tx) error {
		tx.tx.later = append(tx.tx.later, insert)
		return nil
	}))
	require.Equal(t, int64(1), writes.Load()-before, "one round trip")
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
	require.Equal(t, 1, n, "committed")

	err := s.WithTx(ctx, func(tx *Tx) error {
		tx.tx.later = append(tx.tx.later, queued{sql: "INSERT INTO " + table + " VALUES (8)", what: "insert"}, insert)
		return nil
	})
	require.ErrorContains(t, err, "duplicate")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
	require.Equal(t, 1, n, "the failed transaction's first write is rolled back too")
}

// A read sends each statement as a read-only transaction of its own in
// one round trip (BEGIN READ ONLY and COMMIT with it), so a read of one
// query costs one round trip, not two; Postgres refuses a write or a row
// lock in it; a failed statement leaves the connection fit for the next
// transaction; and a read that queued writes refuses to end.
func TestReadSendsOneRoundTripAStatementAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	pool, writes, table := lazyPool(t)
	s := &Store{pool: pool}
	for i := range 2 { // the first warms the statement cache
		before := writes.Load()
		var n int
		require.NoError(t, s.read(ctx, func(tx *Tx) error {
			return tx.tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		}))
		require.Zero(t, n)
		if i > 0 {
			require.Equal(t, int64(1), writes.Load()-before, "one statement, one round trip")
		}
	}
	selectOne := func(tx *Tx) error { _, err := tx.tx.Exec(ctx, "SELECT 1"); return err }
	require.NoError(t, s.read(ctx, selectOne)) // warms its statement too
	before := writes.Load()
	require.NoError(t, s.read(ctx, func(tx *Tx) error {
		if err := selectOne(tx); err != nil {
			return err
		}
		return selectOne(tx)
	}))
	require.Equal(t, int64(2), writes.Load()-before, "two statements, two round trips, no COMMIT of its own")

	for name, write := range map[string]string{
		"insert":     "INSERT INTO " + table + " VALUES (1)",
		"row lock":   "SELECT n FROM " + table + " FOR UPDATE",
		"insert cte": "WITH x AS (INSERT INTO " + table + " VALUES (2) RETURNING n) SELECT n FROM x",
	} {
		err := s.read(ctx, func(tx *Tx) error {
			rows, err := tx.tx.Query(ctx, write)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err()
		})
		require.ErrorContains(t, err, "read-only transaction", name)
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n), name)
		require.Zero(t, n, name)
		require.NoError(t, s.read(ctx, selectOne),
			"%s: the connection is fit for the next read", name)
	}
	_, err := pool.Exec(ctx, "INSERT INTO "+table+" VALUES (1)")
	require.NoError(t, err, "and for the next write")

	err = s.read(ctx, func(tx *Tx) error { return tx.Schedule(ctx, core.Timer{Kind: "k", Ref: "r:1", DueAt: time.Now()}) })
	require.ErrorContains(t, err, "a read cannot write")
	err = s.read(ctx, func(tx *Tx) error { return tx.Audit(ctx, core.AuditEntry{Action: "a"}) })
	require.ErrorContains(t, err, "a read cannot write")
	require.Equal(t, int32(1), pool.Stat().TotalConns(), "no connection lost on the way")
}

// A write whose answer nobody reads (deferExec) goes with the
// transaction's next statement, in its round trip and before it, so the
// statement sees it; the last ones go with COMMIT. One that fails fails
// the statement it went with, named, and the transaction stores nothing.
func TestDeferredWritesGoWithTheNextStatement(t *testing.T) {
	ctx := context.Background()
	pool, writes, table := lazyPool(t)
	insert := "INSERT INTO " + table + " VALUES ($1)"
	count := "SELECT count(*) FROM " + table
	// newTx gives its connection back even when the test fails.
	newTx := func() *lazyTx {
		tx := &lazyTx{pool: pool}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		return tx
	}
	// Warm the statement cache, as a busy pool is.
	warm := newTx()
	_, err := warm.Exec(ctx, insert, 0)
	if err == nil {
		var n int
		err = warm.QueryRow(ctx, count).Scan(&n) // Exec without arguments is not prepared
	}
	require.NoError(t, err)
	warm.deferExec("warm commit", insert, -1)
	require.NoError(t, warm.Commit(ctx)) // COMMIT in a batch is prepared too
	_, err = pool.Exec(ctx, "DELETE FROM "+table)
	require.NoError(t, err)

	tx := newTx()
	tx.deferExec("insert one", insert, 1)
	tx.deferExec("insert two", insert, 2)
	before := writes.Load()
	var n int
	require.NoError(t, tx.QueryRow(ctx, count).Scan(&n))
	require.Equal(t, 2, n, "the statement sees the writes deferred before it")
	require.Equal(t, int64(1), writes.Load()-before, "BEGIN, the two writes and the read: one round trip")
	tx.deferExec("insert three", insert, 3)
	before = writes.Load()
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, int64(1), writes.Load()-before, "the last write with COMMIT")
	require.NoError(t, pool.QueryRow(ctx, count).Scan(&n))
	require.Equal(t, 3, n)

	// Deferred alone, then committed: BEGIN, the write and COMMIT in one.
	tx = newTx()
	tx.deferExec("insert four", insert, 4)
	before = writes.Load()
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, int64(1), writes.Load()-before)

	// A failed deferred write fails the statement it went with.
	tx = newTx()
	tx.deferExec("insert five", insert, 5)
	tx.deferExec("insert nothing", insert, nil)
	_, err = tx.Exec(ctx, count)
	require.ErrorContains(t, err, "insert nothing")
	require.ErrorIs(t, tx.Commit(ctx), pgx.ErrTxCommitRollback)
	// … or COMMIT, when it went with that.
	tx = newTx()
	tx.deferExec("insert six", insert, 6)
	tx.deferExec("insert two again", insert, 2)
	require.ErrorIs(t, tx.Commit(ctx), core.ErrConflict, "a duplicate is a conflict, as any statement's")
	require.NoError(t, pool.QueryRow(ctx, count).Scan(&n))
	require.Equal(t, 4, n, "neither failed transaction stored anything")
	// A rolled-back transaction sends nothing it deferred.
	tx = newTx()
	tx.deferExec("insert seven", insert, 7)
	require.NoError(t, tx.Rollback(ctx))
	require.NoError(t, pool.QueryRow(ctx, count).Scan(&n))
	require.Equal(t, 4, n)
}
