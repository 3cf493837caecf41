package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/core/org"
)

// auditLock is the advisory lock that serialises appends to the chain.
const auditLock = int64(0x6f7073626f74) // "opsbot"

// ErrAuditKeyRequired means the chain is keyed and this process has no key:
// an unkeyed append would break it, so nothing is written.
var ErrAuditKeyRequired = errors.New("postgres: the audit chain is sealed with a key; configure audit.key_file")

// The end of an audited transaction is two round trips (Tx.flushWrites):
// its writes with the chain lock and the head read (queueAuditHead,
// readAuditHead), then the sealed entries, the new head and COMMIT
// (appendAudit). The lock is taken last, after every row lock, and held
// across one round trip.

// queueAuditHead queues the chain lock and the head read under it.
func queueAuditHead(b *pgx.Batch) {
	b.Queue("SELECT pg_advisory_xact_lock($1)", auditLock)
	b.Queue("SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1")
}

// auditHead is the chain's last entry (nil: none yet) and the seq from
// which it is keyed (0: unkeyed).
type auditHead struct {
	prev      *core.AuditEntry
	keyedFrom int64
}

// readAuditHead reads what queueAuditHead queued.
func readAuditHead(br pgx.BatchResults) (auditHead, error) {
	if _, err := br.Exec(); err != nil {
		return auditHead{}, mapErr(fmt.Errorf("postgres: audit lock: %w", err))
	}
	var head core.AuditEntry
	var h auditHead
	if err := br.QueryRow().Scan(&head.Seq, &head.Hash, &h.keyedFrom); err != nil {
		return auditHead{}, mapErr(fmt.Errorf("postgres: audit head: %w", err))
	}
	if head.Seq > 0 {
		h.prev = &head
	}
	return h, nil
}

// appendAudit seals the queued entries with key after h and sends them,
// the new head and COMMIT in one round trip; the first keyed append
// writes the rekey checkpoint before them.
func (t *Tx) appendAudit(ctx context.Context, h auditHead, key *audit.Key, commit *lazyTx) error {
	if key == nil && h.keyedFrom > 0 {
		return ErrAuditKeyRequired
	}
	prev, keyedFrom := h.prev, h.keyedFrom
	batch := &pgx.Batch{}
	if key != nil && keyedFrom == 0 {
		rk := audit.Rekey(t.audits[0].At, prev, key)
		prev, keyedFrom = &rk, rk.Seq
		queueAudit(batch, rk)
	}
	for _, e := range t.audits {
		sealed := audit.Seal(e, prev, key)
		prev = &sealed
		queueAudit(batch, sealed)
	}
	batch.Queue("UPDATE audit_head SET seq = $1, hash = $2, keyed_from = $3 WHERE id = 1", prev.Seq, prev.Hash, keyedFrom)
	batch.Queue("COMMIT")
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	for range len(batch.QueuedQueries) - 1 {
		if _, err := br.Exec(); err != nil {
			return mapErr(fmt.Errorf("postgres: audit append: %w", err))
		}
	}
	if err := commit.commitRead(br); err != nil {
		return mapErr(fmt.Errorf("postgres: commit: %w", err))
	}
	t.audits = nil
	return nil
}

const insertAuditSQL = `INSERT INTO audit_log (seq, at, actor, platform, action, entity, before, after, prev_hash, hash)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func queueAudit(b *pgx.Batch, e core.AuditEntry) {
	b.Queue(insertAuditSQL, e.Seq, e.At, e.Actor, e.Platform, e.Action, e.Entity, e.Before, e.After, e.PrevHash, e.Hash)
}

const auditColumns = "seq, at, actor, platform, action, entity, before, after, prev_hash, hash"

func scanAudit(row pgx.Row) (core.AuditEntry, error) {
	var e core.AuditEntry
	err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Platform, &e.Action, &e.Entity, &e.Before, &e.After, &e.PrevHash, &e.Hash)
	return e, err
}

// AuditTrail returns the entries about entity, oldest first.
func (t *Tx) AuditTrail(ctx context.Context, entity string) ([]core.AuditEntry, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE entity = $1 ORDER BY seq", entity)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit trail: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEntry, error) { return scanAudit(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: audit trail: %w", err)
	}
	return out, nil
}

// AuditSearch returns the entries q selects, newest first.
func (t *Tx) AuditSearch(ctx context.Context, q org.AuditQuery) ([]core.AuditEntry, error) {
	var since, until *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	if !q.Until.IsZero() {
		until = &q.Until
	}
	rows, err := t.tx.Query(ctx, "SELECT "+auditColumns+` FROM audit_log
		WHERE ($1 = '' OR actor = $1) AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
		AND ($4 = 0 OR seq < $4)
		AND ($6 = '' OR action = $6 OR (right($6, 1) = '.' AND starts_with(action, $6)))
		AND ($7 = '' OR entity = $7)
		ORDER BY seq DESC LIMIT $5`, q.Actor, since, until, q.Before, q.Limit, q.Action, q.Entity)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEntry, error) { return scanAudit(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: audit search: %w", err)
	}
	return out, nil
}

// AuditKey returns the key the store seals the chain with (nil: unkeyed).
func (s *Store) AuditKey() *audit.Key { return s.auditKey }

// Tx implements the audit service's transaction port.
var _ audit.Tx = (*Tx)(nil)

// auditStore is the audit service's store.
type auditStore struct{ s *Store }

// Audit returns the audit service's store.
func (s *Store) Audit() audit.Store { return auditStore{s} }

// InTx runs fn in one transaction.
func (k auditStore) InTx(ctx context.Context, fn func(audit.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Walk calls fn with every entry in sequence order from one read-only
// snapshot and returns the head record; fn's error ends the walk.
func (k auditStore) Walk(ctx context.Context, fn func(core.AuditEntry) error) (int64, string, error) {
	tx, err := k.s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, "", fmt.Errorf("postgres: audit walk: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// The walk streams the whole chain, as long as the chain is: not bounded
	// by database.statement_timeout.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return 0, "", fmt.Errorf("postgres: audit walk: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return 0, "", fmt.Errorf("postgres: audit walk: head: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT "+auditColumns+" FROM audit_log ORDER BY seq")
	if err != nil {
		return 0, "", fmt.Errorf("postgres: audit walk: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return 0, "", fmt.Errorf("postgres: audit walk: %w", err)
		}
		if err := fn(e); err != nil {
			return headSeq, headHash, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("postgres: audit walk: %w", err)
	}
	return headSeq, headHash, nil
}

// RecordVerification keeps the outcome of a walk of the chain.
func (t *Tx) RecordVerification(ctx context.Context, v audit.Verification) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO audit_verifications (at, by_user, count, seq, broken_seq, broken, signed, took_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.At, v.By, v.Count, v.Seq, v.BrokenSeq, v.Broken, v.Signed, v.Took.Milliseconds())
	return wrap(err, "record audit verification")
}

// LastVerification is the newest walk recorded; false when none was.
func (k auditStore) LastVerification(ctx context.Context) (audit.Verification, bool, error) {
	var v audit.Verification
	var ms int64
	err := k.s.pool.QueryRow(ctx, `SELECT at, by_user, count, seq, broken_seq, broken, signed, took_ms FROM audit_verifications
		ORDER BY id DESC LIMIT 1`).Scan(&v.At, &v.By, &v.Count, &v.Seq, &v.BrokenSeq, &v.Broken, &v.Signed, &ms)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Verification{}, false, nil
	}
	if err != nil {
		return audit.Verification{}, false, fmt.Errorf("postgres: last audit verification: %w", err)
	}
	v.Took = time.Duration(ms) * time.Millisecond
	return v, true, nil
}

// VerifyAudit walks the whole chain in order with the store's key and
// returns how many entries checked out and the first break, or nil when
// the chain is whole.
func (s *Store) VerifyAudit(ctx context.Context) (int64, *audit.Break, error) {
	r, err := audit.NewService(s.Audit(), s.auditKey, nil).Verify(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: verify: %w", err)
	}
	return r.Count, r.Break, nil
}

// CheckAuditKey makes sure the store's key is the one that sealed the
// chain: the rekey checkpoint must verify with it. Without a key it makes
// sure the chain is not keyed. Run at start, it turns a wrong or missing
// key into a clear refusal instead of a broken chain.
func (s *Store) CheckAuditKey(ctx context.Context) error {
	var keyedFrom int64
	if err := s.pool.QueryRow(ctx, "SELECT keyed_from FROM audit_head WHERE id = 1").Scan(&keyedFrom); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	if keyedFrom == 0 {
		return nil
	}
	if s.auditKey == nil {
		return ErrAuditKeyRequired
	}
	e, err := scanAudit(s.pool.QueryRow(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE seq = $1", keyedFrom))
	if none, err := missing(err, "audit rekey entry"); none || err != nil {
		if err == nil {
			err = fmt.Errorf("postgres: the audit chain's rekey checkpoint (entry %d) is gone; run opsbot audit verify", keyedFrom)
		}
		return err
	}
	if !audit.IsRekey(e) || s.auditKey.MAC(e) != e.Hash {
		return fmt.Errorf("postgres: audit.key_file (key %s) is not the key that sealed the audit chain at entry %d, or that entry was changed; run opsbot audit verify",
			s.auditKey.ID(), keyedFrom)
	}
	return nil
}
