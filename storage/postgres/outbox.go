package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/delivery"
)

// Outbox is the delivery side of the outbox.
type Outbox struct {
	s     *Store
	lease time.Duration
	stuck time.Duration
}

// Outbox returns the outbox.
func (s *Store) Outbox() *Outbox { return &Outbox{s: s, lease: DefaultLease, stuck: DefaultStuckAfter} }

// DefaultLease is how long a claimed row is reserved for one delivery
// attempt. The lease is renewed every third of it while the attempt runs,
// so a slow platform keeps its row, and a worker that dies mid-send
// (kill -9) gives its rows back within one lease, not minutes later.
const DefaultLease = 15 * time.Second

// WithLease returns the outbox with another lease time.
func (o *Outbox) WithLease(d time.Duration) *Outbox { return &Outbox{s: o.s, lease: d, stuck: o.stuck} }

// DefaultStuckAfter is how old a failing notice must be before it stops
// holding back the later notices to the same person or channel (see
// waitsForEarlier).
const DefaultStuckAfter = 2 * time.Minute

// WithStuckAfter returns the outbox with another stuck time.
func (o *Outbox) WithStuckAfter(d time.Duration) *Outbox {
	return &Outbox{s: o.s, lease: o.lease, stuck: d}
}

// dueAndFree is the condition on the outbox row o that it is pending,
// due and not leased by a worker.
const dueAndFree = `(o.state = 'pending' AND o.next_attempt_at <= now() + interval '1 second'
	AND (o.lease_until IS NULL OR o.lease_until < now()))`

// waitsForEarlier is the condition, on the outbox row o ($2 the stuck time
// in seconds), under which the row must wait for an earlier pending one,
// so that notices arrive in the order they were written:
//
//   - an update of cards waits for every earlier notice about its ref, so
//     it never lands before the card it replaces, nor before an older
//     update;
//   - a notice to a person waits for every earlier one to that person, and
//     a notice to a channel for every earlier one to that channel. Order is
//     per recipient: one person's backlog never holds up another's. Updates
//     of cards are ordered by their ref only (they post nothing new).
//
// Stuck rule: an earlier notice that has failed at least once and was
// written more than the stuck time ago (DefaultStuckAfter, 2 minutes) no
// longer holds the later ones to its recipient back: it is still retried,
// but the person gets what came after it instead of nothing. A notice
// merely waiting its turn has no failed attempt, so it never counts as
// stuck, and a failing one keeps its successors behind it (a rate-limited
// send delays them rather than being overtaken) for the stuck time.
var waitsForEarlier = `(
	(o.kind LIKE 'update.%' AND EXISTS (
		SELECT 1 FROM outbox e WHERE e.ref = o.ref AND e.id < o.id AND e.state = 'pending'))
	OR (o.to_user <> '' AND o.kind NOT LIKE 'update.%' AND EXISTS (` + earlierTo("to_user") + `))
	OR (o.to_channel <> '' AND o.kind NOT LIKE 'update.%' AND EXISTS (` + earlierTo("to_channel") + `)))`

// deepInLine is the condition that the outbox row o waits behind two or
// more earlier notices to its recipient: it is not looked at again and
// again (a backlog of hundreds would flood the queue with looks); the
// task that delivers the notice before it goes on with it (Next), and the sweep
// finds it once it is first in line.
var deepInLine = `(o.kind NOT LIKE 'update.%' AND (
	(o.to_user <> '' AND (SELECT count(*) FROM (` + earlierTo("to_user") + ` LIMIT 2) x) = 2)
	OR (o.to_channel <> '' AND (SELECT count(*) FROM (` + earlierTo("to_channel") + ` LIMIT 2) x) = 2)))`

// earlierTo selects the pending notices before the outbox row o to the
// same recipient (column to_user or to_channel) that hold it back: not
// updates, and not stuck.
func earlierTo(col string) string {
	return `SELECT 1 FROM outbox e WHERE e.` + col + ` = o.` + col + ` AND e.id < o.id AND e.state = 'pending'
		AND e.kind NOT LIKE 'update.%' AND NOT (e.attempts > 0 AND e.created_at < now() - make_interval(secs => $2))`
}

// Claim leases a due pending row and hands it to fn, which sends it and
// says on which platforms it went out. Success marks the row delivered;
// failure records the attempt and returns fn's error. No connection is
// held while fn runs. found is false when the row is gone, delivered,
// failed, not due, or leased by another worker.
func (o *Outbox) Claim(ctx context.Context, id int64, fn func(d core.Delivery) (delivered []string, err error)) (found bool, err error) {
	var it core.Delivery
	err = o.s.pool.QueryRow(ctx, `UPDATE outbox o SET lease_until = now() + make_interval(secs => $3)
		WHERE o.id = $1 AND `+dueAndFree+` AND NOT `+waitsForEarlier+`
		RETURNING o.id, o.kind, o.version, o.ref, o.to_user, o.to_channel, o.data, o.created_at, o.attempts, o.delivered_platforms`,
		id, o.stuck.Seconds(), o.lease.Seconds()).
		Scan(&it.ID, &it.Notice.Type, &it.Notice.Version, &it.Notice.Ref, &it.Notice.To.User, &it.Notice.To.Channel, &it.Notice.Payload, &it.CreatedAt, &it.Attempts, &it.DeliveredPlatforms)
	none, err := missing(err, fmt.Sprintf("claim outbox %d", id))
	if err != nil {
		return false, err
	}
	if none {
		// Not claimable: gone, done, leased, not due — or waiting for an
		// earlier notice to the same recipient or about the same ref. A row
		// due and free by now was waiting a moment ago (the earlier notice
		// went out in between): it is looked at again too, else it would
		// lie until the sweep.
		var waiting bool
		werr := o.s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox o WHERE o.id = $1 AND o.state = 'pending'
			AND (`+waitsForEarlier+` OR `+dueAndFree+`) AND NOT `+deepInLine+`)`, id, o.stuck.Seconds()).Scan(&waiting)
		if werr != nil || waiting {
			// Waiting — or unknown (the look failed): another look soon, so
			// a row waiting its turn is never left to the sweep alone.
			return true, core.ErrNotReady
		}
		return false, nil
	}
	delivered, sendErr := o.whileLeased(ctx, id, func() ([]string, error) { return fn(it) })
	if delivered == nil {
		delivered = []string{}
	}
	// The outcome is recorded even when ctx was cancelled mid-send.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr == nil {
		_, err = o.s.pool.Exec(wctx, `UPDATE outbox SET state = 'delivered', delivered_at = now(), attempts = attempts + 1,
			delivered_platforms = $2, last_error = '', lease_until = NULL WHERE id = $1`, id, delivered)
	} else {
		// Keep what did go out, so a retry does not send it twice.
		_, err = o.s.pool.Exec(wctx, `UPDATE outbox SET attempts = attempts + 1, delivered_platforms = $2, last_error = $3,
			lease_until = NULL WHERE id = $1`, id, delivered, truncate(sendErr.Error(), 1000))
	}
	if err != nil {
		return true, fmt.Errorf("postgres: record delivery of outbox %d: %w", id, err)
	}
	return true, sendErr
}

// Next returns the next pending notice to the recipient of row id (0:
// none): the deliverer goes on with it in the same task once row id is
// out, so a backlog to one person goes out one notice after the other
// without a queue round trip per notice.
func (o *Outbox) Next(ctx context.Context, id int64) (int64, error) {
	var next int64
	err := o.s.pool.QueryRow(ctx, `SELECT coalesce(min(n.id), 0) FROM outbox d JOIN outbox n
		ON n.id > d.id AND n.state = 'pending' AND n.kind NOT LIKE 'update.%'
		 AND ((d.to_user <> '' AND n.to_user = d.to_user) OR (d.to_channel <> '' AND n.to_channel = d.to_channel))
		WHERE d.id = $1 AND d.kind NOT LIKE 'update.%'`, id).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("postgres: next outbox after %d: %w", id, err)
	}
	return next, nil
}

// whileLeased runs send while renewing the row's lease every third of
// the lease time.
func (o *Outbox) whileLeased(ctx context.Context, id int64, send func() ([]string, error)) ([]string, error) {
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(o.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.lease/3)
				// A failed renewal is tried again at the next tick; should the
				// lease run out meanwhile, the platform-side key (webchat) and
				// the sent marks keep a second attempt from sending twice.
				_, _ = o.s.pool.Exec(rctx, `UPDATE outbox SET lease_until = now() + make_interval(secs => $2)
					WHERE id = $1 AND state = 'pending'`, id, o.lease.Seconds())
				cancel()
			}
		}
	}()
	defer func() { close(done); <-renewed }()
	return send()
}

// MarkSent records at once that a pending row went out on platform, so
// that no later attempt sends it there again even when the worker dies
// before the attempt ends.
func (o *Outbox) MarkSent(ctx context.Context, id int64, platform string) error {
	_, err := o.s.pool.Exec(ctx, `UPDATE outbox SET delivered_platforms = array_append(delivered_platforms, $2)
		WHERE id = $1 AND state = 'pending' AND NOT ($2 = ANY(delivered_platforms))`, id, platform)
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d sent on %s: %w", id, platform, err)
	}
	return nil
}

// Reschedule makes a pending row due again after delay, or marks it failed
// for good (for errors no retry can mend). Times are the database's.
func (o *Outbox) Reschedule(ctx context.Context, id int64, delay time.Duration, giveUp bool) error {
	var err error
	if giveUp {
		_, err = o.s.pool.Exec(ctx, `UPDATE outbox SET state = 'failed' WHERE id = $1 AND state = 'pending'`, id)
	} else {
		_, err = o.s.pool.Exec(ctx, `UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $2)
			WHERE id = $1 AND state = 'pending'`, id, delay.Seconds())
	}
	if err != nil {
		return fmt.Errorf("postgres: reschedule outbox %d: %w", id, err)
	}
	return nil
}

// State returns a row's state and attempts (for tests and diagnostics).
func (o *Outbox) State(ctx context.Context, id int64) (state string, attempts int, err error) {
	err = o.s.pool.QueryRow(ctx, `SELECT state, attempts FROM outbox WHERE id = $1`, id).Scan(&state, &attempts)
	return state, attempts, notFound(err, "outbox state")
}

// Due returns up to limit pending rows that are due (by the database's
// clock) and not waiting for an earlier notice, oldest first, each with
// its attempt count.
func (o *Outbox) Due(ctx context.Context, limit int) ([]core.Delivery, error) {
	rows, err := o.s.pool.Query(ctx, `SELECT id, attempts FROM outbox o WHERE state = 'pending' AND next_attempt_at <= now()
		AND (lease_until IS NULL OR lease_until < now()) AND NOT `+waitsForEarlier+`
		ORDER BY id LIMIT $1`, limit, o.stuck.Seconds())
	if err != nil {
		return nil, fmt.Errorf("postgres: due outbox: %w", err)
	}
	return collect(rows, func(r pgx.Row) (core.Delivery, error) {
		var d core.Delivery
		err := r.Scan(&d.ID, &d.Attempts)
		return d, err
	}, "due outbox")
}

// Pending counts pending rows.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// RecordFailure records that a notice failed for good on platform ("" when
// no platform could take it), for the sys admins' hourly count.
func (o *Outbox) RecordFailure(ctx context.Context, id int64, platform string, cause error) error {
	_, err := o.s.pool.Exec(ctx, `INSERT INTO delivery_failures (outbox_id, platform, error) VALUES ($1, $2, $3)`,
		id, platform, truncate(cause.Error(), 1000))
	if err != nil {
		return fmt.Errorf("postgres: record delivery failure of outbox %d: %w", id, err)
	}
	return nil
}

var _ delivery.Tx = (*Tx)(nil)

// deliveryStore adapts Store to delivery.Store.
type deliveryStore struct{ s *Store }

// Delivery returns the delivery failures store.
func (s *Store) Delivery() delivery.Store { return deliveryStore{s} }

// InTx runs fn in one transaction.
func (d deliveryStore) InTx(ctx context.Context, fn func(delivery.Tx) error) error {
	return d.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// TakeFailures marks every unreported delivery failure reported and
// returns their counts by platform (most first) and the oldest's time. A
// replica reporting at the same time waits for the rows, then finds them
// reported.
func (t *Tx) TakeFailures(ctx context.Context) ([]delivery.PlatformCount, time.Time, error) {
	rows, err := t.tx.Query(ctx, `WITH taken AS (
			UPDATE delivery_failures SET reported_at = now() WHERE reported_at IS NULL RETURNING platform, failed_at)
		SELECT platform, count(*), min(failed_at) FROM taken GROUP BY platform ORDER BY count(*) DESC, platform`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: take delivery failures: %w", err)
	}
	var since time.Time
	counts, err := collect(rows, func(r pgx.Row) (delivery.PlatformCount, error) {
		var c delivery.PlatformCount
		var first time.Time
		err := r.Scan(&c.Platform, &c.Count, &first)
		if since.IsZero() || first.Before(since) {
			since = first
		}
		return c, err
	}, "take delivery failures")
	return counts, since, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
