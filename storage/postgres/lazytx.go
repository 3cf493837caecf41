package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"opsbot/core/alert"
)

// lazyTx is a transaction that takes a pooled connection and sends BEGIN
// only with its first statement, in the same round trip (a batch of the
// two). A transaction answered entirely from memory (the org cache:
// resolving the actor of a command, /org tree) costs no connection and no
// round trip; one that sends nothing commits as a no-op; one that sends
// one query costs two round trips (the query, COMMIT), not three.
//
// A read (readOnly, Store.read) never opens a transaction that outlives a
// round trip: each statement goes as a read-only transaction of its own,
// BEGIN READ ONLY and COMMIT with it, so a read of one query costs one
// round trip. Under READ COMMITTED every statement of a transaction sees a
// snapshot of its own anyway, so a read loses nothing by it; Postgres
// refuses any write or row lock in it (SQLSTATE 25006).
//
// A write whose answer nobody reads (deferExec, and the alert writes that
// queue themselves) is not sent on its own: it waits in later and goes
// with the transaction's next statement, in the same round trip and
// before it (so the statement sees it), at the latest with COMMIT. One
// that fails fails the statement it went with, named by what it was.
type lazyTx struct {
	pool     *pgxpool.Pool
	conn     *pgxpool.Conn
	readOnly bool
	begun    bool // BEGIN was sent and answered
	ended    bool // COMMIT or ROLLBACK was sent; the connection is back in the pool
	err      error
	later    []queued         // deferred writes, in the order they were made
	written  map[string]int64 // the versions the alert group upserts among them wrote
}

// queued is a deferred write: a statement, a run of alert group upserts
// (distinct keys) sent as one statement, or a run of alert status updates
// (distinct alerts) sent as one statement.
type queued struct {
	sql      string
	args     []any
	what     string
	groups   []alert.GroupRow
	statuses []statusUpdate
}

// deferExec defers a write whose answer nobody reads to the transaction's
// next statement.
func (l *lazyTx) deferExec(what, sql string, args ...any) {
	l.later = append(l.later, queued{sql: sql, args: args, what: what})
}

// lastAlertRun is the last deferred write that is has among the alert
// group upserts and alert status updates at the end of the queue, nil
// when there is none. A group saved or a status updated again may join
// it: each of the two touches one table (alert_groups; alerts' status
// columns), so the run queued after it does not depend on it.
func (l *lazyTx) lastAlertRun(is func(*queued) bool) *queued {
	for i := len(l.later) - 1; i >= 0 && (l.later[i].groups != nil || l.later[i].statuses != nil); i-- {
		if is(&l.later[i]) {
			return &l.later[i]
		}
	}
	return nil
}

// queueLater moves the deferred writes onto b, in the order they were
// made; read their answers with execLater.
func (l *lazyTx) queueLater(b *pgx.Batch) []queued {
	later := l.later
	l.later = nil
	for _, q := range later {
		switch {
		case q.groups != nil:
			b.Queue(saveGroupsSQL, groupsArgs(q.groups)...)
		case q.statuses != nil:
			b.Queue(alertStatusesSQL, statusesArgs(q.statuses)...)
		default:
			b.Queue(q.sql, q.args...)
		}
	}
	return later
}

// execLater reads the answers of the writes queueLater queued: the
// versions of the alert groups written are noted for the alert cache.
func (l *lazyTx) execLater(br pgx.BatchResults, later []queued) error {
	for _, q := range later {
		if q.groups == nil {
			if _, err := br.Exec(); err != nil {
				return mapErr(fmt.Errorf("postgres: %s: %w", q.what, err))
			}
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return mapErr(fmt.Errorf("postgres: %s: %w", q.what, err))
		}
		if l.written == nil {
			l.written = map[string]int64{}
		}
		if _, err := collect(rows, func(r pgx.Row) (bool, error) {
			var key string
			var v int64
			err := r.Scan(&key, &v)
			l.written[key] = v
			return true, err
		}, q.what); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// errTxEnded is a statement sent after the transaction ended.
var errTxEnded = errors.New("postgres: transaction already ended")

// acquire takes the connection on first use.
func (l *lazyTx) acquire(ctx context.Context) error {
	if l.ended {
		return errTxEnded
	}
	if l.conn == nil && l.err == nil {
		if l.conn, l.err = l.pool.Acquire(ctx); l.err != nil {
			l.err = fmt.Errorf("postgres: begin: %w", l.err)
		}
	}
	return l.err
}

// errRead is a call a read cannot make (it holds no transaction).
var errRead = errors.New("postgres: a read holds no transaction (copy, prepare, a connection)")

// begin sends BEGIN alone, for the calls that cannot carry it.
func (l *lazyTx) begin(ctx context.Context) error {
	if l.readOnly {
		return errRead
	}
	if err := l.acquire(ctx); err != nil {
		return err
	}
	if !l.begun || len(l.later) > 0 {
		return l.send(ctx, &pgx.Batch{}).Close()
	}
	return nil
}

// sendOne sends sql as send does.
func (l *lazyTx) sendOne(ctx context.Context, sql string, args ...any) pgx.BatchResults {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return l.send(ctx, b)
}

// send sends b's statements with what must go first in the same round
// trip — BEGIN when it was not sent yet, then the deferred writes — and
// returns b's results, the others' read. In a read, COMMIT goes with them
// too (closing the results reads it), after a ROLLBACK of what a failed
// statement before left open.
func (l *lazyTx) send(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := l.acquire(ctx); err != nil {
		return errBatch{err}
	}
	if l.begun && len(l.later) == 0 {
		return l.conn.SendBatch(ctx, b)
	}
	full := &pgx.Batch{}
	if !l.begun {
		if l.readOnly && l.conn.Conn().PgConn().TxStatus() != 'I' {
			full.Queue("ROLLBACK")
		}
		begin := "BEGIN"
		if l.readOnly {
			begin = "BEGIN READ ONLY"
		}
		full.Queue(begin)
	}
	head := len(full.QueuedQueries)
	later := l.queueLater(full)
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	if l.readOnly {
		full.Queue("COMMIT")
	}
	br := l.conn.SendBatch(ctx, full)
	for range head {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			l.err = fmt.Errorf("postgres: begin: %w", err)
			return errBatch{l.err}
		}
	}
	l.begun = !l.readOnly
	if err := l.execLater(br, later); err != nil {
		_ = br.Close()
		return errBatch{err}
	}
	return br
}

// Begin would start a nested transaction (a savepoint); opsbot uses none.
func (l *lazyTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("postgres: nested transactions are not supported")
}

// Commit sends COMMIT (with the deferred writes) when a statement was
// sent or deferred, and gives the connection back (committed).
func (l *lazyTx) Commit(ctx context.Context) error {
	if l.ended || l.conn == nil && len(l.later) == 0 {
		return nil
	}
	if l.err != nil || l.readOnly {
		return l.Rollback(ctx)
	}
	defer l.committed()
	if l.begun && len(l.later) == 0 {
		return commitOutcome(l.conn.Exec(ctx, "COMMIT"))
	}
	return l.commitRead(l.sendOne(ctx, "COMMIT"))
}

// commitRead reads COMMIT's answer, the last of br's, closes br and, once
// committed, gives the connection back (committed): the end of Commit,
// Tx.flushWrites and Tx.appendAudit alike.
func (l *lazyTx) commitRead(br pgx.BatchResults) error {
	err := commitOutcome(br.Exec())
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		l.committed()
	}
	return err
}

// commitOutcome is what COMMIT's answer means: a transaction Postgres had
// already aborted answers ROLLBACK, which is an error
// (pgx.ErrTxCommitRollback), as in pgx's own transactions.
func commitOutcome(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return err
}

// committed records that COMMIT was sent (by Commit, or with the final
// writes: Tx.flushWrites) and answered: the connection goes back to the
// pool (closed instead when it is still in a transaction), and Commit and
// Rollback do nothing more.
func (l *lazyTx) committed() {
	if l.ended || l.conn == nil {
		return
	}
	l.ended = true
	l.conn.Release()
}

// Rollback sends ROLLBACK when a statement was sent, and gives the
// connection back; after Commit it does nothing.
func (l *lazyTx) Rollback(ctx context.Context) error {
	if l.ended || l.conn == nil {
		return nil
	}
	l.ended, l.later = true, nil
	defer l.conn.Release()
	// Nothing to roll back unless BEGIN was sent, or a read's statement
	// failed and left its transaction open (its COMMIT was skipped).
	if !l.begun && l.conn.Conn().PgConn().TxStatus() == 'I' {
		return nil
	}
	_, err := l.conn.Exec(ctx, "ROLLBACK")
	return err
}

func (l *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := l.begin(ctx); err != nil {
		return 0, err
	}
	return l.conn.CopyFrom(ctx, table, columns, src)
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return l.send(ctx, b)
}

func (l *lazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (l *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	return l.conn.Conn().Prepare(ctx, name, sql)
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := l.acquire(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	if l.begun && len(l.later) == 0 {
		return l.conn.Exec(ctx, sql, args...)
	}
	br := l.sendOne(ctx, sql, args...)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	if l.begun && len(l.later) == 0 {
		return l.conn.Query(ctx, sql, args...)
	}
	br := l.sendOne(ctx, sql, args...)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := l.Query(ctx, sql, args...)
	return row{rows: rows, err: err}
}

func (l *lazyTx) Conn() *pgx.Conn {
	if err := l.begin(context.Background()); err != nil {
		return nil
	}
	return l.conn.Conn()
}

// batchRows are the rows of a transaction's first query, sent in one
// batch with BEGIN: the batch is closed with them (when read to the end or
// closed), so the connection is free for the next statement.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error // closing the batch
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.br != nil {
		r.err = r.br.Close()
		r.br = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// row is QueryRow's answer, as pgx's: the first row scanned,
// pgx.ErrNoRows when there is none.
type row struct {
	rows pgx.Rows
	err  error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errBatch is the batch of a transaction that could not begin.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return row{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
