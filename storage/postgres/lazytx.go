package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
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
type lazyTx struct {
	pool     *pgxpool.Pool
	conn     *pgxpool.Conn
	readOnly bool
	begun    bool // BEGIN was sent and answered
	ended    bool // COMMIT or ROLLBACK was sent; the connection is back in the pool
	err      error
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
	if !l.begun {
		if _, err := l.conn.Exec(ctx, "BEGIN"); err != nil {
			l.err = fmt.Errorf("postgres: begin: %w", err)
			return l.err
		}
		l.begun = true
	}
	return nil
}

// firstOne sends sql as the transaction's first statement, with BEGIN.
func (l *lazyTx) firstOne(ctx context.Context, sql string, args ...any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return l.first(ctx, b)
}

// first sends BEGIN and b's statements in one round trip and returns
// their results, BEGIN's read. In a read, COMMIT goes with them too
// (closing the results reads it), after a ROLLBACK of what a failed
// statement before left open.
func (l *lazyTx) first(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	withBegin := &pgx.Batch{}
	if l.readOnly && l.conn.Conn().PgConn().TxStatus() != 'I' {
		withBegin.Queue("ROLLBACK")
	}
	begin := "BEGIN"
	if l.readOnly {
		begin = "BEGIN READ ONLY"
	}
	withBegin.Queue(begin)
	head := len(withBegin.QueuedQueries) // answered here
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	if l.readOnly {
		withBegin.Queue("COMMIT")
	}
	br := l.conn.SendBatch(ctx, withBegin)
	for range head {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			l.err = fmt.Errorf("postgres: begin: %w", err)
			return nil, l.err
		}
	}
	l.begun = !l.readOnly
	return br, nil
}

// Begin would start a nested transaction (a savepoint); opsbot uses none.
func (l *lazyTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("postgres: nested transactions are not supported")
}

// Commit sends COMMIT when a statement was sent, and gives the connection
// back (committed).
func (l *lazyTx) Commit(ctx context.Context) error {
	if l.ended || l.conn == nil {
		return nil
	}
	if l.err != nil || l.readOnly {
		return l.Rollback(ctx)
	}
	defer l.committed()
	return commitOutcome(l.conn.Exec(ctx, "COMMIT"))
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
	l.ended = true
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
	if err := l.acquire(ctx); err != nil {
		return errBatch{err}
	}
	if l.begun {
		return l.conn.SendBatch(ctx, b)
	}
	br, err := l.first(ctx, b)
	if err != nil {
		return errBatch{err}
	}
	return br
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
	if l.begun {
		return l.conn.Exec(ctx, sql, args...)
	}
	br, err := l.firstOne(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
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
	if l.begun {
		return l.conn.Query(ctx, sql, args...)
	}
	br, err := l.firstOne(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
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
