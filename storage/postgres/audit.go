package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/audit"
)

// auditLock is the advisory lock that serialises appends to the chain.
const auditLock = int64(0x6f7073626f74) // "opsbot"

// flushAudit appends the queued entries to the chain. It takes the chain
// lock last, so the lock is held only for the few statements before commit.
func (t *Tx) flushAudit(ctx context.Context) error {
	if len(t.audits) == 0 {
		return nil
	}
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLock); err != nil {
		return fmt.Errorf("postgres: audit lock: %w", err)
	}
	var prev *core.AuditEntry
	var head core.AuditEntry
	if err := t.tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	if head.Seq > 0 {
		prev = &head
	}
	batch := &pgx.Batch{}
	for _, e := range t.audits {
		sealed := audit.Seal(e, prev)
		prev = &sealed
		batch.Queue(`INSERT INTO audit_log (seq, at, actor, platform, action, entity, before, after, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			sealed.Seq, sealed.At, sealed.Actor, sealed.Platform, sealed.Action, sealed.Entity,
			sealed.Before, sealed.After, sealed.PrevHash, sealed.Hash)
	}
	batch.Queue("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", prev.Seq, prev.Hash)
	if err := t.tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("postgres: audit append: %w", err)
	}
	t.audits = nil
	return nil
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

// VerifyAudit walks the whole chain in order and returns how many entries
// checked out and the first break, or nil when the chain is whole.
func (s *Store) VerifyAudit(ctx context.Context) (int64, *audit.Break, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: verify: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var headSeq int64
	var headHash string
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return 0, nil, fmt.Errorf("postgres: verify: head: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT "+auditColumns+" FROM audit_log ORDER BY seq")
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: verify: %w", err)
	}
	defer rows.Close()
	var v audit.Verifier
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return v.Count(), nil, fmt.Errorf("postgres: verify: %w", err)
		}
		if b := v.Next(e); b != nil {
			return v.Count(), b, nil
		}
	}
	if err := rows.Err(); err != nil {
		return v.Count(), nil, fmt.Errorf("postgres: verify: %w", err)
	}
	return v.Count(), v.Finish(headSeq, headHash), nil
}
