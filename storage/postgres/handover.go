package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"opsbot/core/duty"
)

// handoverStore adapts Store to duty.HandoverStore.
type handoverStore struct{ s *Store }

// Handovers returns the handover store.
func (s *Store) Handovers() duty.HandoverStore { return handoverStore{s} }

// InTx runs fn in one transaction.
func (h handoverStore) InTx(ctx context.Context, fn func(duty.HandoverTx) error) error {
	return h.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const handoverColumns = "id, rotation, shift_start, outgoing, incoming, state, notes, open_items, created_at, accepted_at"

func scanHandover(row pgx.Row) (duty.Handover, error) {
	var h duty.Handover
	err := row.Scan(&h.ID, &h.Rotation, &h.ShiftStart, &h.Outgoing, &h.Incoming, &h.State, &h.Notes, &h.OpenItems, &h.CreatedAt, &h.AcceptedAt)
	return h, err
}

// InsertHandover inserts a handover unless its rotation and shift have one.
func (t *Tx) InsertHandover(ctx context.Context, h *duty.Handover) (bool, error) {
	err := t.tx.QueryRow(ctx, `INSERT INTO handovers (rotation, shift_start, outgoing, incoming, state, notes, open_items, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (rotation, shift_start) DO NOTHING RETURNING id`,
		h.Rotation, h.ShiftStart, h.Outgoing, h.Incoming, h.State, h.Notes, h.OpenItems, h.CreatedAt).Scan(&h.ID)
	none, err := missing(err, "insert handover")
	return !none && err == nil, mapErr(err)
}

// Handover returns a handover, locked when lock is set.
func (t *Tx) Handover(ctx context.Context, id int64, lock bool) (duty.Handover, error) {
	q := lockable("SELECT "+handoverColumns+" FROM handovers WHERE id = $1", lock)
	h, err := scanHandover(t.tx.QueryRow(ctx, q, id))
	return h, notFound(err, "handover")
}

// UpdateHandover saves a handover's state and notes.
func (t *Tx) UpdateHandover(ctx context.Context, h duty.Handover) error {
	_, err := t.tx.Exec(ctx, `UPDATE handovers SET state = $2, notes = $3, accepted_at = $4 WHERE id = $1`, h.ID, h.State, h.Notes, h.AcceptedAt)
	return wrap(err, "update handover")
}

// Handovers lists handovers, newest first.
func (t *Tx) Handovers(ctx context.Context, rotation string, pendingOnly bool, limit int) ([]duty.Handover, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+handoverColumns+` FROM handovers
		WHERE ($1 = '' OR rotation = $1) AND (NOT $2 OR state = 'pending') ORDER BY id DESC LIMIT $3`, rotation, pendingOnly, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: handovers: %w", err)
	}
	return collect(rows, scanHandover, "handovers")
}

// PendingRequests counts pending approval requests.
func (t *Tx) PendingRequests(ctx context.Context) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM requests WHERE state = 'pending'`).Scan(&n)
	return n, wrap(err, "pending requests")
}
