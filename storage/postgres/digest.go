package postgres

import (
	"context"
	"fmt"
	"time"

	"opsbot/core/digest"
	"opsbot/core/incident"
	"opsbot/core/ticket"
)

type digestStore struct{ s *Store }

// Digests returns the digest store.
func (s *Store) Digests() digest.Store { return digestStore{s} }

// InTx runs fn in one transaction.
func (k digestStore) InTx(ctx context.Context, fn func(digest.Tx, digest.Reads) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx, digest.Reads{Org: tx, Incidents: tx, Work: tx}) })
}

// IncidentsSince lists incidents created at or after since, or not yet resolved.
func (t *Tx) IncidentsSince(ctx context.Context, since time.Time) ([]incident.Incident, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+incidentColumns+` FROM incidents
		WHERE created_at >= $1 OR resolved_at >= $1 OR resolved_at IS NULL ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: incidents since: %w", err)
	}
	return collect(rows, scanIncident, "incidents since")
}

// EventIncidents lists the incident of every event of kind in [from, to).
func (t *Tx) EventIncidents(ctx context.Context, kind string, from, to time.Time) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT incident_id FROM incident_events WHERE kind = $1 AND at >= $2 AND at < $3`, kind, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: event incidents: %w", err)
	}
	return collect(rows, scanID, "event incidents")
}

// TicketsSince lists tickets still unclosed, or due, answered or closed since.
func (t *Tx) TicketsSince(ctx context.Context, since time.Time) ([]ticket.Ticket, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+ticketColumns+` FROM tickets
		WHERE state <> 'closed' OR due_at >= $1 OR answered_at >= $1 OR closed_at >= $1 ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: tickets since: %w", err)
	}
	return collect(rows, scanTicket, "tickets since")
}

// MarkDigestSent records a digest for user on day; false when it was sent already.
func (t *Tx) MarkDigestSent(ctx context.Context, day, user string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO digest_sent (day, user_id, sent_at) VALUES ($1::date, $2, $3) ON CONFLICT DO NOTHING`, day, user, at)
	if err != nil {
		return false, wrap(err, "mark digest sent")
	}
	return tag.RowsAffected() == 1, nil
}

// DigestSubscription returns user's choice (nil when never made).
func (t *Tx) DigestSubscription(ctx context.Context, user string) (*bool, error) {
	var on bool
	err := t.tx.QueryRow(ctx, `SELECT subscribed FROM digest_subscriptions WHERE user_id = $1`, user).Scan(&on)
	if none, err := missing(err, "digest subscription"); none || err != nil {
		return nil, err
	}
	return &on, nil
}

// SetDigestSubscription records user's choice.
func (t *Tx) SetDigestSubscription(ctx context.Context, user string, on bool) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO digest_subscriptions (user_id, subscribed) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET subscribed = EXCLUDED.subscribed, updated_at = now()`, user, on)
	return wrap(err, "set digest subscription")
}
