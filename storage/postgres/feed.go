package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/duty"
)

// feedStore adapts Store to duty.FeedStore.
type feedStore struct{ s *Store }

// Feeds returns the iCal feed store.
func (s *Store) Feeds() duty.FeedStore { return feedStore{s} }

var _ duty.FeedTx = (*Tx)(nil)

// InTx runs fn in one transaction.
func (f feedStore) InTx(ctx context.Context, fn func(duty.FeedTx) error) error {
	return f.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const feedColumns = "id, hash, prefix, user_id, rotation, created_at, revoked_at, revoked_by"

func scanFeed(row pgx.Row) (duty.Feed, error) {
	var f duty.Feed
	var revoked *time.Time
	err := row.Scan(&f.ID, &f.Hash, &f.Prefix, &f.UserID, &f.Rotation, &f.CreatedAt, &revoked, &f.RevokedBy)
	f.RevokedAt = orZero(revoked)
	return f, err
}

// InsertFeed stores a feed and returns its id.
func (t *Tx) InsertFeed(ctx context.Context, f duty.Feed) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO ical_feeds (hash, prefix, user_id, rotation, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		f.Hash, f.Prefix, f.UserID, f.Rotation, f.CreatedAt).Scan(&id)
	return id, wrap(err, "insert ical feed")
}

// FeedByHash returns the feed with a secret's hash.
func (t *Tx) FeedByHash(ctx context.Context, hash string) (duty.Feed, error) {
	f, err := scanFeed(t.tx.QueryRow(ctx, "SELECT "+feedColumns+" FROM ical_feeds WHERE hash = $1", hash))
	return f, notFound(err, "ical feed")
}

// Feeds lists a user's live feeds, newest first.
func (t *Tx) Feeds(ctx context.Context, user string) ([]duty.Feed, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+feedColumns+" FROM ical_feeds WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC", user)
	if err != nil {
		return nil, fmt.Errorf("postgres: ical feeds: %w", err)
	}
	return collect(rows, scanFeed, "ical feeds")
}

// RevokeFeed marks a feed revoked.
func (t *Tx) RevokeFeed(ctx context.Context, f duty.Feed) error {
	_, err := t.tx.Exec(ctx, `UPDATE ical_feeds SET revoked_at = $2, revoked_by = $3 WHERE id = $1`, f.ID, orNull(f.RevokedAt), f.RevokedBy)
	return wrap(err, "revoke ical feed")
}

// ShiftChanges tells when a rotation's settings last changed (its last
// duty.rotation.add audit entry) and when each day's swap was made.
func (t *Tx) ShiftChanges(ctx context.Context, rotation string) (time.Time, map[string]time.Time, error) {
	var changed *time.Time
	if err := t.tx.QueryRow(ctx, `SELECT max(at) FROM audit_log WHERE entity = $1 AND action = 'duty.rotation.add'`,
		"rotation:"+rotation).Scan(&changed); err != nil {
		return time.Time{}, nil, fmt.Errorf("postgres: rotation changes: %w", err)
	}
	rows, err := t.tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), created_at FROM duty_overrides WHERE rotation = $1`, rotation)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("postgres: swap times: %w", err)
	}
	defer rows.Close()
	swaps := map[string]time.Time{}
	for rows.Next() {
		var day string
		var at time.Time
		if err := rows.Scan(&day, &at); err != nil {
			return time.Time{}, nil, fmt.Errorf("postgres: swap times: %w", err)
		}
		swaps[day] = at
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, nil, fmt.Errorf("postgres: swap times: %w", err)
	}
	return orZero(changed), swaps, nil
}

// scheduleStore adapts Store to duty.ScheduleStore.
type scheduleStore struct{ s *Store }

// Schedule returns the duty calendar's store.
func (s *Store) Schedule() duty.ScheduleStore { return scheduleStore{s} }

var _ duty.ScheduleTx = (*Tx)(nil)

// InTx runs fn in one transaction.
func (d scheduleStore) InTx(ctx context.Context, fn func(duty.ScheduleTx) error) error {
	return d.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// HandoversBetween lists a rotation's handovers of the shifts starting in
// [from, to), by shift start.
func (t *Tx) HandoversBetween(ctx context.Context, rotation string, from, to time.Time) ([]duty.Handover, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+handoverColumns+` FROM handovers
		WHERE rotation = $1 AND shift_start >= $2 AND shift_start < $3 ORDER BY shift_start`, rotation, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: handovers between: %w", err)
	}
	return collect(rows, scanHandover, "handovers between")
}
