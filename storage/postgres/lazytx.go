package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a transaction that takes a pooled connection and sends BEGIN
// only when its first statement is sent. A transaction answered entirely
// from memory (the org cache: resolving the actor of a command, /org
// tree) costs no connection and no round trip; one that sends nothing
// commits as a no-op.
type lazyTx struct {
	pool *pgxpool.Pool
	tx   pgx.Tx
	err  error
}

// begin starts the transaction on first use.
func (l *lazyTx) begin(ctx context.Context) error {
	if l.tx == nil && l.err == nil {
		if l.tx, l.err = l.pool.Begin(ctx); l.err != nil {
			l.err = fmt.Errorf("postgres: begin: %w", l.err)
		}
	}
	return l.err
}

// begun reports whether a statement was sent.
func (l *lazyTx) begun() bool { return l.tx != nil }

func (l *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	return l.tx.Begin(ctx)
}

func (l *lazyTx) Commit(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Commit(ctx)
}

func (l *lazyTx) Rollback(ctx context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback(ctx)
}

func (l *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := l.begin(ctx); err != nil {
		return 0, err
	}
	return l.tx.CopyFrom(ctx, table, columns, src)
}

func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := l.begin(ctx); err != nil {
		return errBatch{err}
	}
	return l.tx.SendBatch(ctx, b)
}

func (l *lazyTx) LargeObjects() pgx.LargeObjects {
	_ = l.begin(context.Background())
	if l.tx == nil {
		return pgx.LargeObjects{}
	}
	return l.tx.LargeObjects()
}

func (l *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	return l.tx.Prepare(ctx, name, sql)
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := l.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return l.tx.Exec(ctx, sql, args...)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	return l.tx.Query(ctx, sql, args...)
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := l.begin(ctx); err != nil {
		return errRow{err}
	}
	return l.tx.QueryRow(ctx, sql, args...)
}

func (l *lazyTx) Conn() *pgx.Conn {
	if err := l.begin(context.Background()); err != nil {
		return nil
	}
	return l.tx.Conn()
}

// errRow is the row of a transaction that could not begin.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatch is the batch of a transaction that could not begin.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
