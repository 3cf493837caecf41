package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
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

// beforeFirstAbsent is the condition that alert_groups' (as g) group_key comes
// before the first of the keys $1 no group is stored for (all of them when
// every key has a group).
const beforeFirstAbsent = `(g.group_key COLLATE "C" < (SELECT min(k COLLATE "C") FROM unnest($1::text[]) k
	WHERE NOT EXISTS (SELECT 1 FROM alert_groups a WHERE a.group_key = k)) IS NOT FALSE)`

// LockAlertGroups returns the groups of keys and their incidents,
// row-locked in the one lock order of alert work (each group, then its
// incident, in key order), in one round trip. Deferred writes go first, so a batch that saw a group
// earlier in the transaction reads what it wrote.
func (t *Tx) LockAlertGroups(ctx context.Context, keys []string) (map[string]alert.GroupRow, map[int64]incident.Incident, error) {
	batch := &pgx.Batch{}
	later := t.queueLater(batch)
	// One statement locks each group and its incident, group by group in
	// key order (one snapshot: a second locking statement saw groups
	// committed since the first and locked their incidents before their
	// group, which deadlocked with a timer locking that group, then its
	// incident). Only the keys before the first one with no group yet (in
	// byte order, the order the batch applies its notifications in): that
	// group may be stored by another transaction before the batch comes to
	// it, and locking it then, after a later key, would break the order.
	batch.Queue("SELECT "+groupColumnsOf("g")+" FROM alert_groups g JOIN incidents i ON i.id = g.incident_id"+
		" WHERE g.group_key = ANY($1) AND "+beforeFirstAbsent+" ORDER BY g.group_key COLLATE \"C\" FOR UPDATE", keys)
	// Their incidents, read (locked above; others the read may add are
	// not used).
	batch.Queue("SELECT "+incidentColumns+" FROM incidents WHERE id IN (SELECT incident_id FROM alert_groups WHERE group_key = ANY($1))", keys)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	if err := execLater(br, later); err != nil {
		return nil, nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, wrap(err, "lock alert groups")
	}
	groups, err := collect(rows, scanGroup, "lock alert groups")
	if err != nil {
		return nil, nil, mapErr(err)
	}
	rows, err = br.Query()
	if err != nil {
		return nil, nil, wrap(err, "read incidents of alert groups")
	}
	incs, err := collect(rows, scanIncident, "read incidents of alert groups")
	if err != nil {
		return nil, nil, mapErr(err)
	}
	gm := make(map[string]alert.GroupRow, len(groups))
	locked := make(map[int64]bool, len(groups))
	for _, g := range groups {
		gm[g.GroupKey], locked[g.IncidentID] = g, true
	}
	im := make(map[int64]incident.Incident, len(groups))
	for _, i := range incs {
		if locked[i.ID] {
			im[i.ID] = i
		}
	}
	return gm, im, nil
}

// groupColumnsOf is groupColumns qualified by the alias of alert_groups.
func groupColumnsOf(alias string) string {
	cols := strings.Split(groupColumns, ", ")
	for n, c := range cols {
		cols[n] = alias + "." + c
	}
	return strings.Join(cols, ", ")
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

// saveGroupsSQL upserts alert groups (distinct keys) in one statement.
const saveGroupsSQL = `INSERT INTO alert_groups (` + groupColumns + `)
		SELECT k, rc, i, l::jsonb, s, f, r, u, h, ap, j, up, n, fd FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
			$6::int[], $7::int[], $8::text[], $9::boolean[], $10::text[], $11::boolean[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])
			AS x(k, rc, i, l, s, f, r, u, h, ap, j, up, n, fd)
		ON CONFLICT (group_key) DO UPDATE SET receiver = excluded.receiver, incident_id = excluded.incident_id, labels = excluded.labels,
		status = excluded.status, firing = excluded.firing, resolved = excluded.resolved, external_url = excluded.external_url,
		http_kind = excluded.http_kind, app = excluded.app, joint = excluded.joint, updated_at = excluded.updated_at, notified_at = excluded.notified_at, flush_due = excluded.flush_due`

// groupsArgs are saveGroupsSQL's arguments for gs.
func groupsArgs(gs []alert.GroupRow) []any {
	n := len(gs)
	keys, receivers, labels, statuses, urls, apps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	incidents := make([]int64, n)
	firing, resolved := make([]int32, n), make([]int32, n)
	httpKind, joint := make([]bool, n), make([]bool, n)
	updated := make([]time.Time, n)
	notified, flushDue := make([]*time.Time, n), make([]*time.Time, n)
	for i, g := range gs {
		l := []byte("{}")
		if g.Labels != nil {
			l, _ = json.Marshal(g.Labels)
		}
		keys[i], receivers[i], incidents[i], labels[i], statuses[i] = g.GroupKey, g.Receiver, g.IncidentID, string(l), g.Status
		firing[i], resolved[i], urls[i], httpKind[i], apps[i], joint[i] = int32(g.Firing), int32(g.Resolved), g.ExternalURL, g.HTTPKind, g.App, g.Joint
		updated[i], notified[i], flushDue[i] = g.UpdatedAt, g.NotifiedAt, g.FlushDue
	}
	return []any{keys, receivers, incidents, labels, statuses, firing, resolved, urls, httpKind, apps, joint, updated, notified, flushDue}
}

// SaveAlertGroup upserts a group with the transaction's next writes: it
// goes with the next SaveAlerts or LockAlertGroups, else at commit. The
// groups saved one after another go as one statement, a new one begun
// when a key comes again (a statement cannot change a row twice).
func (t *Tx) SaveAlertGroup(_ context.Context, g alert.GroupRow) error {
	if n := len(t.later); n > 0 && t.later[n-1].groups != nil &&
		!slices.ContainsFunc(t.later[n-1].groups, func(o alert.GroupRow) bool { return o.GroupKey == g.GroupKey }) {
		t.later[n-1].groups = append(t.later[n-1].groups, g)
		return nil
	}
	t.later = append(t.later, queued{what: "save alert groups", groups: []alert.GroupRow{g}})
	return nil
}

// SaveAlerts upserts the alerts of several groups (distinct keys) in one
// statement and counts each group's alerts.
func (t *Tx) SaveAlerts(ctx context.Context, groups []alert.GroupAlerts, at time.Time, kindLabel, kindValue string) ([]alert.AlertCounts, error) {
	var keys, fps, statuses, labels, annotations, urls []string
	var starts []time.Time
	var ends []*time.Time
	groupKeys := make([]string, len(groups))
	for n, g := range groups {
		groupKeys[n] = g.GroupKey
		for _, a := range g.Alerts {
			l, _ := json.Marshal(a.Labels)
			an, _ := json.Marshal(a.Annotations)
			var end *time.Time
			if !a.EndsAt.IsZero() && a.EndsAt.Year() > 1 {
				e := a.EndsAt
				end = &e
			}
			keys, fps, statuses = append(keys, g.GroupKey), append(fps, a.Fingerprint), append(statuses, a.Status)
			labels, annotations, urls = append(labels, string(l)), append(annotations, string(an)), append(urls, a.GeneratorURL)
			starts, ends = append(starts, a.StartsAt), append(ends, end)
		}
	}
	// One round trip: the upsert, and the counts over each group's other
	// alerts plus the posted ones (a statement does not see its own writes
	// in its snapshot). An alert posted again unchanged (Alertmanager
	// repeats a group's alerts every group_interval) is not written again:
	// updated_at is when it last changed.
	batch := &pgx.Batch{}
	later := t.queueLater(batch)
	batch.Queue(`WITH x AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
			AS x(k, f, s, l, a, st, e, u)),
		up AS (
			INSERT INTO alerts (group_key, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url, updated_at)
			SELECT k, f, s, l::jsonb, a::jsonb, st, e, u, $9 FROM x
			ON CONFLICT (group_key, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
			annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
			generator_url = excluded.generator_url, updated_at = excluded.updated_at
			WHERE (alerts.status, alerts.labels, alerts.annotations, alerts.starts_at, alerts.ends_at, alerts.generator_url)
				IS DISTINCT FROM (excluded.status, excluded.labels, excluded.annotations, excluded.starts_at, excluded.ends_at, excluded.generator_url)),
		all_alerts AS (
			SELECT a.group_key, a.status, a.labels, a.starts_at FROM alerts a
			WHERE a.group_key = ANY($10::text[]) AND NOT EXISTS (SELECT 1 FROM x WHERE x.k = a.group_key AND x.f = a.fingerprint)
			UNION ALL SELECT k, s, l::jsonb, st FROM x)
		SELECT g.n, count(*) FILTER (WHERE a.status = 'firing'), count(*) FILTER (WHERE a.status = 'resolved'),
			min(a.starts_at) FILTER (WHERE a.status = 'firing' AND $11 <> '' AND a.labels->>$11 = $12)
		FROM unnest($10::text[]) WITH ORDINALITY AS g(key, n) LEFT JOIN all_alerts a ON a.group_key = g.key
		GROUP BY g.n`,
		keys, fps, statuses, labels, annotations, starts, ends, urls, at, groupKeys, kindLabel, kindValue)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	if err := execLater(br, later); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrap(err, "save alerts")
	}
	out := make([]alert.AlertCounts, len(groups))
	_, err = collect(rows, func(r pgx.Row) (int, error) {
		var n int
		var c alert.AlertCounts
		if err := r.Scan(&n, &c.Firing, &c.Resolved, &c.HTTPSince); err != nil {
			return 0, err
		}
		out[n-1] = c
		return n, nil
	}, "save alerts")
	return out, mapErr(err)
}
