package postgres

import (
	"context"
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
	if err := row.Scan(groupDest(&g, &labels)...); err != nil {
		return g, err
	}
	var err error
	g.Labels, err = parseJSONObject(labels)
	return g, err
}

// groupDest is where groupColumns scan to, the labels as their JSON.
func groupDest(g *alert.GroupRow, labels *[]byte) []any {
	return []any{&g.GroupKey, &g.Receiver, &g.IncidentID, labels, &g.Status, &g.Firing, &g.Resolved, &g.ExternalURL,
		&g.HTTPKind, &g.App, &g.Joint, &g.UpdatedAt, &g.NotifiedAt, &g.FlushDue}
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

// lockGroupsSQL locks the groups of keys ($1) and their incidents (see
// LockAlertGroups), reading groupColumns, the group's version and
// incidentColumns; built once, not on every batch.
var lockGroupsSQL = "SELECT " + qualified("g", groupColumns) + ", g.version, " + qualified("i", incidentColumns) +
	" FROM alert_groups g JOIN incidents i ON i.id = g.incident_id" +
	" WHERE g.group_key = ANY($1) AND " + beforeFirstAbsent + " ORDER BY g.group_key COLLATE \"C\" FOR UPDATE"

// LockAlertGroups returns the groups of keys and their incidents,
// row-locked in the one lock order of alert work (each group, then its
// incident, in key order), by one statement in one round trip (FOR UPDATE
// returns the rows as locked, the latest versions). Deferred writes go first, so a batch that saw a group
// earlier in the transaction reads what it wrote.
func (t *Tx) LockAlertGroups(ctx context.Context, keys []string) (map[string]alert.GroupRow, map[int64]incident.Incident, error) {
	batch := &pgx.Batch{} // the deferred writes go first (lazyTx.send)
	// One statement locks each group and its incident, group by group in
	// key order (one snapshot: a second locking statement saw groups
	// committed since the first and locked their incidents before their
	// group, which deadlocked with a timer locking that group, then its
	// incident). Only the keys before the first one with no group yet (in
	// byte order, the order the batch applies its notifications in): that
	// group may be stored by another transaction before the batch comes to
	// it, and locking it then, after a later key, would break the order.
	batch.Queue(lockGroupsSQL, keys)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, wrap(err, "lock alert groups")
	}
	if t.locked == nil {
		t.locked = make(map[string]int64, len(keys))
	}
	gm := make(map[string]alert.GroupRow, len(keys))
	im := make(map[int64]incident.Incident, len(keys))
	// Every row scans to the same places (one list of them, not one a
	// row), zeroed before each so no row shares a slice with the one
	// before it.
	type lockedRow struct {
		g      alert.GroupRow
		labels []byte
		v      int64
		i      incident.Incident
	}
	var row lockedRow
	dest := append(append(groupDest(&row.g, &row.labels), &row.v), incidentDest(&row.i)...)
	_, err = collect(rows, func(r pgx.Row) (bool, error) {
		row = lockedRow{}
		if err := r.Scan(dest...); err != nil {
			return false, err
		}
		g := row.g
		var err error
		if g.Labels, err = parseJSONObject(row.labels); err != nil {
			return false, err
		}
		t.locked[g.GroupKey], gm[g.GroupKey], im[row.i.ID] = row.v, g, row.i
		return true, nil
	}, "lock alert groups")
	if err != nil {
		return nil, nil, mapErr(err)
	}
	return gm, im, nil
}

// qualified is a list of columns qualified by a table's alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for n, c := range cols {
		cols[n] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// cardAlertsSQL reads the first $2 alerts of group $1 in
// alert.CardAlerts' order.
const cardAlertsSQL = `SELECT fingerprint, status, labels, annotations, starts_at, generator_url FROM alerts
	WHERE group_key = $1 ORDER BY status <> 'firing', starts_at, fingerprint LIMIT $2`

// AlertGroupOf returns the latest group of an incident, with the alerts
// its card shows (Top), as this transaction wrote them (its deferred
// writes go first).
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
		var err error
		if a.Labels, err = parseJSONObject(labels); err != nil {
			return g, wrap(err, "card alert labels")
		}
		if a.Annotations, err = parseJSONObject(annotations); err != nil {
			return g, wrap(err, "card alert annotations")
		}
		g.Top = append(g.Top, a)
	}
	return g, wrap(rows.Err(), "card alerts")
}

// saveGroupsSQL upserts alert groups (distinct keys) in one statement,
// giving each a new version, and returns the versions written.
const saveGroupsSQL = `INSERT INTO alert_groups (` + groupColumns + `, version)
		SELECT k, rc, i, l::jsonb, s, f, r, u, h, ap, j, up, n, fd, nextval('alert_group_versions') FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
			$6::int[], $7::int[], $8::text[], $9::boolean[], $10::text[], $11::boolean[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])
			AS x(k, rc, i, l, s, f, r, u, h, ap, j, up, n, fd)
		ON CONFLICT (group_key) DO UPDATE SET receiver = excluded.receiver, incident_id = excluded.incident_id, labels = excluded.labels,
		status = excluded.status, firing = excluded.firing, resolved = excluded.resolved, external_url = excluded.external_url,
		http_kind = excluded.http_kind, app = excluded.app, joint = excluded.joint, updated_at = excluded.updated_at, notified_at = excluded.notified_at, flush_due = excluded.flush_due,
		version = excluded.version
		RETURNING group_key, version`

// groupsArgs are saveGroupsSQL's arguments for gs.
func groupsArgs(gs []alert.GroupRow) []any {
	n := len(gs)
	keys, receivers, labels, statuses, urls, apps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	incidents := make([]int64, n)
	firing, resolved := make([]int32, n), make([]int32, n)
	httpKind, joint := make([]bool, n), make([]bool, n)
	updated := make([]time.Time, n)
	notified, flushDue := make([]*time.Time, n), make([]*time.Time, n)
	var buf []byte
	for i, g := range gs {
		buf = appendJSONObject(buf[:0], g.Labels)
		keys[i], receivers[i], incidents[i], labels[i], statuses[i] = g.GroupKey, g.Receiver, g.IncidentID, string(buf), g.Status
		firing[i], resolved[i], urls[i], httpKind[i], apps[i], joint[i] = int32(g.Firing), int32(g.Resolved), g.ExternalURL, g.HTTPKind, g.App, g.Joint
		updated[i], notified[i], flushDue[i] = g.UpdatedAt, g.NotifiedAt, g.FlushDue
	}
	return []any{keys, receivers, incidents, labels, statuses, firing, resolved, urls, httpKind, apps, joint, updated, notified, flushDue}
}

// SaveAlertGroup upserts a group with the transaction's next statement
// (a deferred write: lazyTx), at the latest with COMMIT. The groups saved
// one after another go as one statement; a group saved again while that
// statement waits is saved there again, as now (a batch's later round
// costs no statement of its own), also past the alert status updates
// queued after it, which touch alerts only. After any other write a new
// statement is begun.
func (t *Tx) SaveAlertGroup(_ context.Context, g alert.GroupRow) error {
	q := t.tx.lastAlertRun(func(q *queued) bool { return q.groups != nil })
	if q == nil {
		t.tx.later = append(t.tx.later, queued{what: "save alert groups", groups: []alert.GroupRow{g}})
		return nil
	}
	if j := slices.IndexFunc(q.groups, func(o alert.GroupRow) bool { return o.GroupKey == g.GroupKey }); j >= 0 {
		q.groups[j] = g
	} else {
		q.groups = append(q.groups, g)
	}
	return nil
}

// SaveAlerts upserts the alerts of several groups (distinct keys, locked
// by this transaction) in one statement and counts each group's alerts.
// A group whose alerts this transaction or, at the version it locked, the
// alert cache knows sends only its changed alerts and is counted in
// memory: those whose status or end alone changed as an update of those
// (updateStatuses), the others whole. The other groups are read back
// (their alerts not posted) in the same statement. With nothing to read
// back nothing waits for the writes: they go with the transaction's next
// writes, at the latest with COMMIT (writeAlerts). Nothing to write and
// nothing to read sends nothing.
func (t *Tx) SaveAlerts(ctx context.Context, groups []alert.GroupAlerts, at time.Time, kindLabel, kindValue string) ([]alert.AlertCounts, error) {
	var send, status []alert.GroupAlerts // alerts to write whole, and statuses to update, per group
	var unknown []string                 // groups to read back
	merged := make([][]alert.Alert, len(groups))
	for n, g := range groups {
		base, ok := t.alertStates[g.GroupKey]
		if v, locked := t.locked[g.GroupKey]; !ok && locked && t.alerts != nil {
			base, ok = t.alerts.get(g.GroupKey, v)
		}
		if !ok {
			unknown = append(unknown, g.GroupKey)
			send = append(send, g)
			merged[n] = slices.Clone(g.Alerts)
			continue
		}
		var changed changes
		merged[n], changed = merge(base, g.Alerts)
		if len(changed.whole) > 0 {
			send = append(send, alert.GroupAlerts{GroupKey: g.GroupKey, Alerts: changed.whole})
		}
		if len(changed.status) > 0 {
			status = append(status, alert.GroupAlerts{GroupKey: g.GroupKey, Alerts: changed.status})
		}
	}
	if len(status) > 0 {
		t.updateStatuses(status, at)
	}
	var stored map[string][]alert.Alert
	if len(send) > 0 {
		var err error
		if stored, err = t.writeAlerts(ctx, send, unknown, at); err != nil {
			return nil, err
		}
	}
	out := make([]alert.AlertCounts, len(groups))
	if t.alertStates == nil {
		t.alertStates = map[string][]alert.Alert{}
	}
	for n, g := range groups {
		all := merged[n]
		if others, ok := stored[g.GroupKey]; ok {
			all = append(slices.Clip(others), merged[n]...)
		}
		t.alertStates[g.GroupKey] = all
		out[n] = countAlerts(all, kindLabel, kindValue)
	}
	return out, nil
}

// alertStatusesSQL sets the status and end of stored alerts as of when
// each changed (statusesArgs), and fails as a serialization failure
// (alerts_not_stored, migration 035) when one of them is not stored.
const alertStatusesSQL = `WITH u AS (UPDATE alerts AS a SET status = x.s, ends_at = x.e, updated_at = x.at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS x(k, f, s, e, at)
		WHERE a.group_key = x.k AND a.fingerprint = x.f RETURNING 1)
	SELECT alerts_not_stored(cardinality($1::text[]) - count(*)) FROM u HAVING count(*) <> cardinality($1::text[])`

// statusUpdate is a stored alert's new status and end, as of at.
type statusUpdate struct {
	key, fingerprint, status string
	end                      *time.Time
	at                       time.Time
}

// alert is the alert u updates: its group key and fingerprint.
func (u statusUpdate) alert() [2]string { return [2]string{u.key, u.fingerprint} }

// statusesArgs are alertStatusesSQL's arguments for us.
func statusesArgs(us []statusUpdate) []any {
	n := len(us)
	keys, fps, statuses, ends, ats := make([]string, n), make([]string, n), make([]string, n), make([]*time.Time, n), make([]time.Time, n)
	for i, u := range us {
		keys[i], fps[i], statuses[i], ends[i], ats[i] = u.key, u.fingerprint, u.status, u.end, u.at
	}
	return []any{keys, fps, statuses, ends, ats}
}

// updateStatuses defers, to the transaction's next statement, the update
// of stored alerts whose status or end alone changed: their labels and
// annotations, most of their bytes, are not sent again. The updates of a
// batch's rounds go as one statement: one queued before, with only group
// upserts (which touch alert_groups only) after it, takes them, an alert
// in it already updated there again. Their rows are there: this
// transaction wrote or read them, or the alert cache knows them at the
// group version locked. Should one be missing all the same (written
// behind opsbot's back without a new version), the statement fails as a
// conflict and the transaction is retried, the cache having forgotten its
// groups (WithTx): nothing is lost.
func (t *Tx) updateStatuses(groups []alert.GroupAlerts, when time.Time) {
	into := t.tx.lastAlertRun(func(q *queued) bool { return q.statuses != nil })
	if into == nil {
		t.tx.later = append(t.tx.later, queued{what: "update alert statuses", statuses: []statusUpdate{}})
		into = &t.tx.later[len(t.tx.later)-1]
	}
	// Found among the alerts queued before (this call's own are distinct).
	before := into.statuses
	at := indexBy(before, statusUpdate.alert, 0)
	for _, g := range groups {
		for _, a := range g.Alerts {
			u := statusUpdate{key: g.GroupKey, fingerprint: a.Fingerprint, status: a.Status, end: endOf(a.EndsAt), at: when}
			if j, ok := find(before, at, statusUpdate.alert, u.alert()); ok {
				into.statuses[j] = u
				continue
			}
			into.statuses = append(into.statuses, u)
		}
	}
}

// postedAlerts is the alerts of alertsArgs as rows x(k, f, s, l, a, st,
// e, u); upsertPosted writes them as of $9. An alert posted again
// unchanged is not written again: updated_at is when it last changed.
const (
	postedAlerts = `x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
		AS x(k, f, s, l, a, st, e, u))`
	upsertPosted = `INSERT INTO alerts (group_key, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url, updated_at)
		SELECT k, f, s, l::jsonb, a::jsonb, st, e, u, $9 FROM x
		ON CONFLICT (group_key, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
		annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
		generator_url = excluded.generator_url, updated_at = excluded.updated_at
		WHERE (alerts.status, alerts.labels, alerts.annotations, alerts.starts_at, alerts.ends_at, alerts.generator_url)
			IS DISTINCT FROM (excluded.status, excluded.labels, excluded.annotations, excluded.starts_at, excluded.ends_at, excluded.generator_url)`
	// saveAlertsSQL upserts the posted alerts; readBackAlertsSQL also
	// returns the stored alerts of groups $10 that were not posted.
	saveAlertsSQL     = `WITH ` + postedAlerts + ` ` + upsertPosted
	readBackAlertsSQL = `WITH ` + postedAlerts + `, up AS (` + upsertPosted + `)
		SELECT a.group_key, a.fingerprint, a.status, a.labels, a.annotations, a.starts_at, a.ends_at, a.generator_url FROM alerts a
		WHERE a.group_key = ANY($10::text[]) AND NOT EXISTS (SELECT 1 FROM x WHERE x.k = a.group_key AND x.f = a.fingerprint)`
)

// alertsArgs are postedAlerts' arguments for groups' alerts, and at.
func alertsArgs(groups []alert.GroupAlerts, at time.Time) []any {
	n := 0
	for _, g := range groups {
		n += len(g.Alerts)
	}
	keys, fps, statuses := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	labels, annotations, urls := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	starts, ends := make([]time.Time, 0, n), make([]*time.Time, 0, n)
	var buf []byte
	for _, g := range groups {
		for _, a := range g.Alerts {
			buf = appendJSONObject(buf[:0], a.Labels)
			l := string(buf)
			buf = appendJSONObject(buf[:0], a.Annotations)
			keys, fps, statuses = append(keys, g.GroupKey), append(fps, a.Fingerprint), append(statuses, a.Status)
			labels, annotations, urls = append(labels, l), append(annotations, string(buf)), append(urls, a.GeneratorURL)
			starts, ends = append(starts, a.StartsAt), append(ends, endOf(a.EndsAt))
		}
	}
	return []any{keys, fps, statuses, labels, annotations, starts, ends, urls, at}
}

// writeAlerts upserts alerts and returns the stored alerts of the groups
// unknown that were not among them. With no group unknown nothing waits
// for the write: it goes with the transaction's next writes (as
// SaveAlertGroup's do), at the latest with COMMIT. Otherwise it goes now,
// with the deferred writes before it, in one round trip.
func (t *Tx) writeAlerts(ctx context.Context, groups []alert.GroupAlerts, unknown []string, at time.Time) (map[string][]alert.Alert, error) {
	args := alertsArgs(groups, at)
	if len(unknown) == 0 {
		t.tx.later = append(t.tx.later, queued{sql: saveAlertsSQL, args: args, what: "save alerts"})
		return nil, nil
	}
	batch := &pgx.Batch{} // the deferred writes go first (lazyTx.send)
	batch.Queue(readBackAlertsSQL, append(args, unknown)...)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, wrap(err, "save alerts")
	}
	stored := map[string][]alert.Alert{}
	_, err = collect(rows, func(r pgx.Row) (bool, error) {
		var key string
		var a alert.Alert
		var end *time.Time
		if err := r.Scan(&key, &a.Fingerprint, &a.Status, &a.Labels, &a.Annotations, &a.StartsAt, &end, &a.GeneratorURL); err != nil {
			return false, err
		}
		if end != nil {
			a.EndsAt = *end
		}
		stored[key] = append(stored[key], a)
		return true, nil
	}, "save alerts")
	return stored, mapErr(err)
}
