// Package postgres is opsbot's Postgres storage: a pgx v5 pool, embedded
// migrations applied with tern, and the implementations of core's store
// ports. Rows become core types at this boundary; pgx.ErrNoRows becomes
// core.ErrNotFound here and nowhere else.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/audit"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the Postgres store.
type Store struct {
	pool       *pgxpool.Pool
	kick       func(outboxIDs []int64)
	kickTimers func(timers []core.Timer)
	orgChanged func(ctx context.Context)
	orgCache   *orgCache
	auditKey   *audit.Key // seals the audit chain; nil: unkeyed
	webchat    *Webchat
	alertCache *alertCache
}

// Options tune Open.
type Options struct {
	MaxConns int32
	// SearchPath, when set, puts every connection in that schema (tests
	// use a fresh schema each).
	SearchPath string
	// AuditKey seals the audit chain (see core/audit); nil appends
	// unkeyed entries, refused once the chain is keyed.
	AuditKey *audit.Key
	// StatementTimeout, when positive, is set as statement_timeout on
	// every connection: a statement running longer fails with SQLSTATE
	// 57014 ("canceling statement due to statement timeout").
	StatementTimeout time.Duration
}

// Open connects to Postgres and checks the connection.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.SearchPath != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.SearchPath
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	// Failover: a host that does not answer (a frozen primary, a dropped
	// route) must not hold a connect or a liveness ping forever, so the
	// next host of a multi-host URL, or the promoted standby, is tried.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.PingTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	s := &Store{pool: pool, auditKey: opts.AuditKey}
	s.webchat = newWebchat(s)
	s.alertCache = newAlertCache()
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that Postgres answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// OnOutbox sets the function called after a commit with the ids of the
// outbox rows it wrote, so delivery can start at once.
func (s *Store) OnOutbox(fn func(outboxIDs []int64)) { s.kick = fn }

// OnTimers sets the function called after a commit with the timers it
// scheduled, so they can be enqueued at their due time.
func (s *Store) OnTimers(fn func(timers []core.Timer)) { s.kickTimers = fn }

// OnOrgChange sets the function called after a commit that wrote the org
// (units, users, role grants, identities), before WithTx returns, so
// every replica's org cache (core/org.Versions) sees the change on its
// next command.
func (s *Store) OnOrgChange(fn func(ctx context.Context)) { s.orgChanged = fn }

// Migrate applies the embedded migrations. tern holds an advisory lock
// meanwhile, so concurrent starts are safe.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	restore, err := untimed(ctx, conn)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer restore()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "schema_version")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	// tern runs RESET ALL after each migration: lift the timeout again
	// before the next one.
	m.OnStart = func(int32, string, string, string) {
		_, _ = conn.Exec(ctx, "SET statement_timeout = 0") // on failure the migration runs with the timeout
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("postgres: load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Exclusive runs fn while holding the advisory lock name, taken on a
// connection of its own: replicas sharing the database (and schema) run
// such work one at a time. The lock goes with the session, so a process
// that dies while holding it frees it.
func (s *Store) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	defer conn.Release()
	restore, err := untimed(ctx, conn)
	if err != nil {
		return fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	defer restore()
	const key = "hashtextextended(current_schema() || '/' || $1, 0)"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+key+")", name); err != nil {
		return fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")", name); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx)) // a closed session holds no lock
		}
	}()
	return fn(ctx)
}

// untimed lifts statement_timeout on conn for work that may rightly take
// long (migrations, waiting for another replica's lock); restore puts the
// connection's own value back (RESET returns to the value set at connect),
// or closes the connection when it cannot.
func untimed(ctx context.Context, conn *pgxpool.Conn) (restore func(), err error) {
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return nil, err
	}
	return func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout"); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}, nil
}

// Tx is one transaction. Audit entries and notices recorded on it are
// written just before commit.
type Tx struct {
	tx      *lazyTx
	audits  []core.AuditEntry
	notices []core.StoredNotice
	timers  []core.Timer
	org     bool // the org (units, users, grants, identities) was written
	// The alert cache (nil: none) and this transaction's part of it: the
	// version of each alert group as locked and its alerts as last saved
	// (the versions it wrote are its lazyTx's: written).
	alerts      *alertCache
	locked      map[string]int64
	alertStates map[string][]alert.Alert
	cache       *orgCache // the store's org cache (nil: none, or bypassed)
	ver         string    // the org version this transaction reads the cache at
}

// Audit queues an audit entry for this transaction.
func (t *Tx) Audit(_ context.Context, e core.AuditEntry) error {
	t.audits = append(t.audits, e)
	return nil
}

// Notify queues an outbox notice for this transaction.
func (t *Tx) Notify(_ context.Context, n core.Notice) error {
	sn, err := n.Encode()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if sn.To.User == "" && sn.To.Channel == "" && !core.IsUpdate(sn.Type) {
		return fmt.Errorf("postgres: notice %s has no recipient", sn.Type)
	}
	t.notices = append(t.notices, sn)
	return nil
}

// WithTx runs fn in a transaction and commits it with its audit entries and
// outbox rows, or rolls everything back when fn or the commit fails.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	// BEGIN goes with the first statement: a transaction answered from
	// the org cache alone takes no connection.
	ptx := &lazyTx{pool: s.pool}
	t := &Tx{tx: ptx, cache: s.orgCache, alerts: s.alertCache}
	committed := false
	defer func() {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		if !committed && len(t.alertStates) > 0 && t.alerts != nil {
			// It may have failed on what the cache told it
			// (alerts_not_stored): its groups are read afresh next time.
			t.alerts.forget(t.alertStates)
		}
	}()
	if err := fn(t); err != nil {
		return mapErr(err)
	}
	// COMMIT goes in the final writes' round trip, or in the audit
	// entries' after it.
	ids, timers, err := t.flushWrites(ctx, ptx, s.auditKey)
	if err != nil {
		return mapErr(err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return mapErr(fmt.Errorf("postgres: commit: %w", err))
	}
	committed = true
	if len(t.alertStates) > 0 && t.alerts != nil {
		t.alerts.keep(t.alertStates, t.tx.written)
	}
	if len(ids) > 0 && s.kick != nil {
		s.kick(ids)
	}
	if len(timers) > 0 && s.kickTimers != nil {
		s.kickTimers(timers)
	}
	if t.org && s.orgCache != nil {
		s.orgCache.forget()
	}
	if t.org && s.orgChanged != nil {
		s.orgChanged(context.WithoutCancel(ctx))
	}
	return nil
}

// errReadWrites is a read (Store.read) that queued writes.
var errReadWrites = errors.New("postgres: a read cannot write (audit entries, notices, timers or rows queued)")

// read runs fn as a read: each statement it sends is a read-only
// transaction of its own in one round trip (lazyTx's readOnly), with no
// BEGIN or COMMIT round trip of the read's own. Postgres refuses a write
// or a row lock; a read that queued writes fails without sending them.
func (s *Store) read(ctx context.Context, fn func(tx *Tx) error) error {
	ptx := &lazyTx{pool: s.pool, readOnly: true}
	t := &Tx{tx: ptx, cache: s.orgCache}
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(t); err != nil {
		return mapErr(err)
	}
	if len(t.audits)+len(t.notices)+len(t.timers)+len(t.tx.later) > 0 || t.org {
		return errReadWrites
	}
	return ptx.Commit(ctx)
}

// mapErr turns Postgres constraint errors into core conflicts, and a
// transaction given up for a deadlock (40P01) or a serialization failure
// (40001) into core.ErrRetry.
func mapErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return core.Conflict("duplicate", "constraint", pgErr.ConstraintName)
	}
	if pgErr != nil && (pgErr.Code == "40P01" || pgErr.Code == "40001") && !errors.Is(err, core.ErrRetry) {
		return fmt.Errorf("%w: %w", core.ErrRetry, err) // once, however often mapErr sees it
	}
	return err
}

// missing reports whether err is "no row" — for look-ups where absence is
// an answer, not an error — and otherwise wraps err with what. It is the
// one place pgx.ErrNoRows is read.
func missing(err error, what string) (bool, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return false, nil
}

// notFound maps pgx.ErrNoRows to core.ErrNotFound, once, here.
func notFound(err error, what string) error {
	none, err := missing(err, what)
	if none {
		return fmt.Errorf("postgres: %s: %w", what, core.ErrNotFound)
	}
	return err
}

// flushWrites ends the transaction: it sends the deferred writes, the
// outbox rows and the timers in one round trip, with COMMIT, and returns
// the new rows' ids. With audit entries queued, the chain's lock and head
// read go instead of COMMIT, and the entries follow with COMMIT in a
// second round trip (appendAudit). With nothing queued it sends nothing:
// Commit sends COMMIT when a statement was sent.
func (t *Tx) flushWrites(ctx context.Context, commit *lazyTx, key *audit.Key) ([]int64, []core.Timer, error) {
	if len(t.tx.later)+len(t.notices)+len(t.timers)+len(t.audits) == 0 {
		return nil, nil, nil
	}
	batch := &pgx.Batch{}
	for _, n := range t.notices {
		batch.Queue(`INSERT INTO outbox (kind, version, ref, to_user, to_channel, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			n.Type, n.Version, n.Ref, n.To.User, n.To.Channel, []byte(n.Payload))
	}
	for _, tm := range t.timers {
		batch.Queue(`INSERT INTO timers (kind, ref, due_at, data) VALUES ($1, $2, $3, $4) RETURNING id`, tm.Kind, tm.Ref, tm.DueAt, payloadJSON(tm.Data))
	}
	audited := len(t.audits) > 0
	if audited {
		queueAuditHead(batch)
	} else {
		batch.Queue("COMMIT")
	}
	br := t.tx.SendBatch(ctx, batch) // the deferred writes go first
	defer br.Close()
	ids := make([]int64, len(t.notices))
	for i := range t.notices {
		if err := br.QueryRow().Scan(&ids[i]); err != nil {
			return nil, nil, fmt.Errorf("postgres: outbox insert: %w", err)
		}
	}
	timers := make([]core.Timer, len(t.timers))
	for i, tm := range t.timers {
		if err := br.QueryRow().Scan(&tm.ID); err != nil {
			return nil, nil, fmt.Errorf("postgres: insert timer: %w", err)
		}
		timers[i] = tm
	}
	if !audited {
		if err := commit.commitRead(br); err != nil {
			return nil, nil, mapErr(fmt.Errorf("postgres: commit: %w", err))
		}
		t.notices, t.timers = nil, nil
		return ids, timers, nil
	}
	head, err := readAuditHead(br)
	if err != nil {
		return nil, nil, err
	}
	if err := br.Close(); err != nil {
		return nil, nil, mapErr(fmt.Errorf("postgres: final writes: %w", err))
	}
	t.notices, t.timers = nil, nil
	if err := t.appendAudit(ctx, head, key, commit); err != nil {
		return nil, nil, err
	}
	return ids, timers, nil
}

// lockable adds FOR UPDATE to a single-table query when lock is set.
func lockable(q string, lock bool) string {
	if lock {
		return q + " FOR UPDATE"
	}
	return q
}
