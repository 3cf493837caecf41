package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/alert"
	"opsbot/core/incident"
)

// alertStore adapts Store to alert.Store.
type alertStore struct{ s *Store }

// Alerts returns the alert ingestion store.
func (s *Store) Alerts() alert.Store { return alertStore{s} }

// InTx runs fn in one transaction.
func (a alertStore) InTx(ctx context.Context, fn func(alert.Tx) error) error {
	return a.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// LockKey takes a transaction-scoped advisory lock on a key.
func (t *Tx) LockKey(ctx context.Context, key string) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return wrap(err, "lock key")
}

const groupColumns = "group_key, receiver, incident_id, labels, status, firing, resolved, external_url, http_kind, app, joint, updated_at, notified_at, flush_due"

func scanGroup(row pgx.Row) (alert.GroupRow, error) {
	var g alert.GroupRow
	var labels []byte
	err := row.Scan(&g.GroupKey, &g.Receiver, &g.IncidentID, &labels, &g.Status, &g.Firing, &g.Resolved, &g.ExternalURL,
		&g.HTTPKind, &g.App, &g.Joint, &g.UpdatedAt, &g.NotifiedAt, &g.FlushDue)
	if err != nil {
		return g, err
	}
	return g, json.Unmarshal(labels, &g.Labels)
}

// AlertGroup returns a stored group by its key, locked when lock is set.
func (t *Tx) AlertGroup(ctx context.Context, key string, lock bool) (alert.GroupRow, error) {
	q := lockable("SELECT "+groupColumns+" FROM alert_groups WHERE group_key = $1", lock)
	g, err := scanGroup(t.tx.QueryRow(ctx, q, key))
	return g, notFound(err, "alert group")
}

// LockAlertGroup returns a group and its incident, row-locked in that
// order, in one round trip. Deferred writes go first, so a batch that saw
// a group earlier in the transaction reads what it wrote.
func (t *Tx) LockAlertGroup(ctx context.Context, key string) (alert.GroupRow, incident.Incident, error) {
	batch := &pgx.Batch{}
	later := t.later
	t.later = nil
	for _, q := range later {
		batch.Queue(q.sql, q.args...)
	}
	batch.Queue("SELECT "+groupColumns+" FROM alert_groups WHERE group_key = $1 FOR UPDATE", key)
	batch.Queue("SELECT "+incidentColumns+" FROM incidents WHERE id = (SELECT incident_id FROM alert_groups WHERE group_key = $1) FOR UPDATE", key)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	for _, q := range later {
		if _, err := br.Exec(); err != nil {
			return alert.GroupRow{}, incident.Incident{}, mapErr(fmt.Errorf("postgres: %s: %w", q.what, err))
		}
	}
	g, err := scanGroup(br.QueryRow())
	if err != nil {
		return g, incident.Incident{}, notFound(err, "alert group")
	}
	i, err := scanIncident(br.QueryRow())
	return g, i, notFound(err, "incident of alert group")
}

// cardAlertsSQL reads the first $2 alerts of group $1 in
// alert.CardAlerts' order.
const cardAlertsSQL = `SELECT fingerprint, status, labels, annotations, starts_at, generator_url FROM alerts
	WHERE group_key = $1 ORDER BY status <> 'firing', starts_at, fingerprint LIMIT $2`

// AlertGroupOf returns the latest group of an incident, with the alerts
// its card shows (Top).
func (t *Tx) AlertGroupOf(ctx context.Context, incidentID int64) (alert.GroupRow, error) {
	g, err := scanGroup(t.tx.QueryRow(ctx, "SELECT "+groupColumns+" FROM alert_groups WHERE incident_id = $1 ORDER BY updated_at DESC LIMIT 1", incidentID))
	if err != nil {
		return g, notFound(err, "alert group of incident")
	}
	rows, err := t.tx.Query(ctx, cardAlertsSQL, g.GroupKey, alert.MaxCardAlerts)
	if err != nil {
		return g, wrap(err, "card alerts")
	}
	defer rows.Close()
	for rows.Next() {
		var a alert.Alert
		var labels, annotations []byte
		if err := rows.Scan(&a.Fingerprint, &a.Status, &labels, &annotations, &a.StartsAt, &a.GeneratorURL); err != nil {
			return g, wrap(err, "card alerts")
		}
		if err := json.Unmarshal(labels, &a.Labels); err != nil {
			return g, wrap(err, "card alert labels")
		}
		if err := json.Unmarshal(annotations, &a.Annotations); err != nil {
			return g, wrap(err, "card alert annotations")
		}
		g.Top = append(g.Top, a)
	}
	return g, wrap(rows.Err(), "card alerts")
}

const saveGroupSQL = `INSERT INTO alert_groups (` + groupColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (group_key) DO UPDATE SET receiver = excluded.receiver, incident_id = excluded.incident_id, labels = excluded.labels,
		status = excluded.status, firing = excluded.firing, resolved = excluded.resolved, external_url = excluded.external_url,
		http_kind = excluded.http_kind, app = excluded.app, joint = excluded.joint, updated_at = excluded.updated_at, notified_at = excluded.notified_at, flush_due = excluded.flush_due`

func groupArgs(g alert.GroupRow) []any {
	labels, _ := json.Marshal(g.Labels)
	if g.Labels == nil {
		labels = []byte("{}")
	}
	return []any{g.GroupKey, g.Receiver, g.IncidentID, labels, g.Status, g.Firing, g.Resolved, g.ExternalURL, g.HTTPKind, g.App, g.Joint, g.UpdatedAt, g.NotifiedAt, g.FlushDue}
}

// SaveAlertGroup upserts a group.
func (t *Tx) SaveAlertGroup(ctx context.Context, g alert.GroupRow) error {
	_, err := t.tx.Exec(ctx, saveGroupSQL, groupArgs(g)...)
	return wrap(err, "save alert group")
}

// SaveAlertGroupAtCommit upserts a group with the transaction's last writes.
func (t *Tx) SaveAlertGroupAtCommit(_ context.Context, g alert.GroupRow) error {
	t.later = append(t.later, queued{sql: saveGroupSQL, args: groupArgs(g), what: "save alert group"})
	return nil
}

// SaveAlerts upserts a group's alerts in one statement and counts them.
func (t *Tx) SaveAlerts(ctx context.Context, key string, alerts []alert.Alert, at time.Time, kindLabel, kindValue string) (int, int, *time.Time, error) {
	if len(alerts) > 0 {
		fps := make([]string, len(alerts))
		statuses := make([]string, len(alerts))
		labels := make([]string, len(alerts))
		annotations := make([]string, len(alerts))
		starts := make([]time.Time, len(alerts))
		ends := make([]*time.Time, len(alerts))
		urls := make([]string, len(alerts))
		for i, a := range alerts {
			l, _ := json.Marshal(a.Labels)
			an, _ := json.Marshal(a.Annotations)
			fps[i], statuses[i], labels[i], annotations[i], starts[i], urls[i] = a.Fingerprint, a.Status, string(l), string(an), a.StartsAt, a.GeneratorURL
			if !a.EndsAt.IsZero() && a.EndsAt.Year() > 1 {
				e := a.EndsAt
				ends[i] = &e
			}
		}
		// One round trip: the upsert, and the counts over the group's other
		// alerts plus the upserted rows (a statement does not see its own
		// writes in its snapshot).
		var firing, resolved int
		var since *time.Time
		err := t.tx.QueryRow(ctx, `WITH up AS (
			INSERT INTO alerts (group_key, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url, updated_at)
			SELECT $1, f, s, l::jsonb, a::jsonb, st, e, u, $9
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[]) AS x(f, s, l, a, st, e, u)
			ON CONFLICT (group_key, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
			annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
			generator_url = excluded.generator_url, updated_at = excluded.updated_at
			RETURNING status, labels, starts_at),
		all_alerts AS (
			SELECT status, labels, starts_at FROM alerts WHERE group_key = $1 AND NOT (fingerprint = ANY($2::text[]))
			UNION ALL SELECT status, labels, starts_at FROM up)
		SELECT count(*) FILTER (WHERE status = 'firing'), count(*) FILTER (WHERE status = 'resolved'),
			min(starts_at) FILTER (WHERE status = 'firing' AND $10 <> '' AND labels->>$10 = $11)
		FROM all_alerts`,
			key, fps, statuses, labels, annotations, starts, ends, urls, at, kindLabel, kindValue).Scan(&firing, &resolved, &since)
		return firing, resolved, since, wrap(err, "save alerts")
	}
	var firing, resolved int
	var since *time.Time
	err := t.tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'firing'), count(*) FILTER (WHERE status = 'resolved'),
		min(starts_at) FILTER (WHERE status = 'firing' AND $2 <> '' AND labels->>$2 = $3)
		FROM alerts WHERE group_key = $1`, key, kindLabel, kindValue).Scan(&firing, &resolved, &since)
	return firing, resolved, since, wrap(err, "count alerts")
}
