package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
)

// Schedule queues a timer for this transaction; it is written at commit
// and then handed to the OnTimers hook to be enqueued.
func (t *Tx) Schedule(_ context.Context, tm core.Timer) error {
	if tm.Kind == "" || tm.Ref == "" || tm.DueAt.IsZero() {
		return fmt.Errorf("postgres: timer needs kind, ref and due time: %+v", tm)
	}
	t.timers = append(t.timers, tm)
	return nil
}

// pendingOf selects the pending timers about ref ($1) of kind ($2, empty
// for all kinds) that no transaction is firing at this moment, locking
// them: a cancel never waits for a timer's handler (see CancelTimers).
const pendingOf = `SELECT id FROM timers WHERE ref = $1 AND ($2 = '' OR kind = $2) AND state = 'pending' FOR UPDATE SKIP LOCKED`

// CancelTimers cancels pending timers about ref (of kind, or all kinds).
// A timer some handler has claimed and is firing right now is left to
// fire: it came due before this change, as if it had fired a moment
// earlier. Waiting for it instead could deadlock — the handler may wait
// for the entity this transaction holds — and every handler reads its
// entity again once it has it. The cancel goes with the transaction's
// next statement (a deferred write: lazyTx), before the timers it
// schedules.
func (t *Tx) CancelTimers(_ context.Context, ref, kind string) error {
	t.tx.deferExec("cancel timers", `UPDATE timers SET state = 'cancelled' WHERE id IN (`+pendingOf+`)`, ref, kind)
	// Timers scheduled earlier in this same transaction are dropped too.
	kept := t.timers[:0]
	for _, tm := range t.timers {
		if tm.Ref != ref || (kind != "" && tm.Kind != kind) {
			kept = append(kept, tm)
		}
	}
	t.timers = kept
	return nil
}

// KeepTimer makes tm the one pending timer of its kind and ref, in one
// round trip: pending ones due at another time are cancelled, and tm is
// scheduled unless one due at its time is pending (in the database or
// earlier in this transaction). Like CancelTimers, it leaves a timer being
// fired to fire.
func (t *Tx) KeepTimer(ctx context.Context, tm core.Timer) error {
	var pending bool
	err := t.tx.QueryRow(ctx, `WITH c AS (UPDATE timers SET state = 'cancelled'
			WHERE id IN (`+pendingOf+`) AND due_at <> $3 RETURNING id)
		SELECT EXISTS (SELECT 1 FROM timers WHERE ref = $1 AND kind = $2 AND state = 'pending' AND due_at = $3)`,
		tm.Ref, tm.Kind, tm.DueAt).Scan(&pending)
	if err != nil {
		return wrap(err, "keep timer")
	}
	kept := t.timers[:0]
	for _, q := range t.timers {
		if q.Ref == tm.Ref && q.Kind == tm.Kind {
			if !q.DueAt.Equal(tm.DueAt) {
				continue
			}
			pending = true
		}
		kept = append(kept, q)
	}
	t.timers = kept
	if pending {
		return nil
	}
	return t.Schedule(ctx, tm)
}

// dueTimer is the condition of a pending timer due by now (the app's
// clock, $2): never before its time (tasks.TimerHandler holds a task asynq
// hands over early).
const dueTimer = `id = $1 AND state = 'pending' AND due_at <= $2`

// PendingTimer reads a pending timer due by now without locking it.
func (t *Tx) PendingTimer(ctx context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	return t.scanTimer(ctx, `SELECT id, kind, ref, due_at, data FROM timers WHERE `+dueTimer, id, now, "read")
}

// ClaimTimer marks a pending timer due by now (the app's clock) fired, once.
func (t *Tx) ClaimTimer(ctx context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	return t.scanTimer(ctx, `UPDATE timers SET state = 'fired', fired_at = $2 WHERE `+dueTimer+`
		RETURNING id, kind, ref, due_at, data`, id, now, "claim")
}

func (t *Tx) scanTimer(ctx context.Context, sql string, id int64, now time.Time, what string) (core.Timer, bool, error) {
	var tm core.Timer
	var data []byte
	err := t.tx.QueryRow(ctx, sql, id, now).Scan(&tm.ID, &tm.Kind, &tm.Ref, &tm.DueAt, &data)
	if none, err := missing(err, fmt.Sprintf("%s timer %d", what, id)); none || err != nil {
		return tm, false, err
	}
	return tm, true, json.Unmarshal(data, &tm.Data)
}

// Timers is the firing side of timers.
type Timers struct{ s *Store }

// Timers returns the timers store.
func (s *Store) Timers() *Timers { return &Timers{s: s} }

// Due returns up to limit pending timers due by now (the app's clock).
func (tt *Timers) Due(ctx context.Context, now time.Time, limit int) ([]core.Timer, error) {
	rows, err := tt.s.pool.Query(ctx, `SELECT id, kind, ref, due_at FROM timers WHERE state = 'pending' AND due_at <= $1
		ORDER BY due_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due timers: %w", err)
	}
	return collect(rows, func(r pgx.Row) (core.Timer, error) {
		var tm core.Timer
		err := r.Scan(&tm.ID, &tm.Kind, &tm.Ref, &tm.DueAt)
		return tm, err
	}, "due timers")
}

// State returns a timer's state (for tests and diagnostics).
func (tt *Timers) State(ctx context.Context, id int64) (string, error) {
	var state string
	err := tt.s.pool.QueryRow(ctx, `SELECT state FROM timers WHERE id = $1`, id).Scan(&state)
	return state, notFound(err, "timer")
}
