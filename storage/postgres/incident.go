package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// incidentStore adapts Store to incident.Store.
type incidentStore struct{ s *Store }

// Incidents returns the incident store.
func (s *Store) Incidents() incident.Store { return incidentStore{s} }

// InTx runs fn in one transaction.
func (i incidentStore) InTx(ctx context.Context, fn func(incident.WriteTx) error) error {
	return i.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Read runs fn as a read (Store.read: no transaction of its own; no writes).
func (i incidentStore) Read(ctx context.Context, fn func(incident.ReadTx) error) error {
	return i.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

// dutyStore adapts Store to duty.Store.
type dutyStore struct{ s *Store }

// Duty returns the rotation store.
func (s *Store) Duty() duty.Store { return dutyStore{s} }

// InTx runs fn in one transaction.
func (d dutyStore) InTx(ctx context.Context, fn func(duty.Tx) error) error {
	return d.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const incidentColumns = `id, title, level, state, system, unit, rotation, channel, source, owner, declared_by, stakeholders, escalation, summary, cause, actions,
	created_at, acked_at, mitigated_at, resolved_at, closed_at, last_update_at`

func scanIncident(row pgx.Row) (incident.Incident, error) {
	var i incident.Incident
	err := row.Scan(incidentDest(&i)...)
	return i, err
}

// incidentDest is where incidentColumns scan into.
func incidentDest(i *incident.Incident) []any {
	return []any{&i.ID, &i.Title, &i.Level, &i.State, &i.System, &i.Unit, &i.Rotation, &i.Channel, &i.Source, &i.Owner, &i.DeclaredBy, &i.Stakeholders,
		&i.Escalation, &i.Summary, &i.Cause, &i.Actions, &i.CreatedAt, &i.AckedAt, &i.MitigatedAt, &i.ResolvedAt, &i.ClosedAt, &i.LastUpdateAt}
}

// InsertIncident inserts an incident and sets its id.
func (t *Tx) InsertIncident(ctx context.Context, i *incident.Incident) error {
	if i.Stakeholders == nil {
		i.Stakeholders = []string{}
	}
	if i.Source == "" {
		i.Source = "chat"
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO incidents (title, level, state, system, unit, rotation, channel, source, owner, declared_by, stakeholders,
		escalation, created_at, last_update_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		i.Title, i.Level, i.State, i.System, i.Unit, i.Rotation, i.Channel, i.Source, i.Owner, i.DeclaredBy, i.Stakeholders, i.Escalation, i.CreatedAt, i.LastUpdateAt).Scan(&i.ID)
	return wrap(err, "insert incident")
}

// Incident returns an incident, locked when lock is set.
func (t *Tx) Incident(ctx context.Context, id int64, lock bool) (incident.Incident, error) {
	q := lockable("SELECT "+incidentColumns+" FROM incidents WHERE id = $1", lock)
	i, err := scanIncident(t.tx.QueryRow(ctx, q, id))
	return i, notFound(err, "incident")
}

// UpdateIncident saves an incident, with the transaction's next
// statement (a deferred write: lazyTx).
func (t *Tx) UpdateIncident(_ context.Context, i incident.Incident) error {
	if i.Stakeholders == nil {
		i.Stakeholders = []string{}
	}
	t.tx.deferExec("update incident", `UPDATE incidents SET title = $2, level = $3, state = $4, owner = $5, stakeholders = $6, escalation = $7,
		summary = $8, cause = $9, actions = $10, acked_at = $11, mitigated_at = $12, resolved_at = $13, closed_at = $14, last_update_at = $15
		WHERE id = $1`, i.ID, i.Title, i.Level, i.State, i.Owner, i.Stakeholders, i.Escalation, i.Summary, i.Cause, i.Actions,
		i.AckedAt, i.MitigatedAt, i.ResolvedAt, i.ClosedAt, i.LastUpdateAt)
	return nil
}

// Incidents lists recent incidents, newest first: only what a list
// shows of each.
func (t *Tx) Incidents(ctx context.Context, open bool, limit int) ([]incident.Line, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, title, level, state, owner, created_at FROM incidents
		WHERE NOT $1 OR state NOT IN ('resolved', 'closed') ORDER BY id DESC LIMIT $2`, open, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: incidents: %w", err)
	}
	return collectN(rows, limit, func(r pgx.Row) (incident.Line, error) {
		var l incident.Line
		err := r.Scan(&l.ID, &l.Title, &l.Level, &l.State, &l.Owner, &l.CreatedAt)
		return l, err
	}, "incidents")
}

// FindIncidents lists the incidents f selects, newest first (by id, the
// primary key, so paging by Before walks the index).
func (t *Tx) FindIncidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error) {
	var since, until *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	all, units, own := viewArgs(f.View)
	rows, err := t.tx.Query(ctx, "SELECT "+incidentColumns+` FROM incidents
		WHERE ($1 = '' OR state = $1 OR ($1 = 'open' AND state NOT IN ('resolved', 'closed')))
		AND ($2 = 0 OR level = $2) AND ($3 = '' OR unit = $3) AND ($4 = '' OR system = $4)
		AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
		AND ($7 = '' OR strpos(lower(title || ' ' || summary), lower($7)) > 0)
		AND ($8 = 0 OR id < $8)
		AND ($10 OR ($12 = '' AND unit = ANY($11::text[])) OR ($12 <> '' AND (declared_by = $12 OR owner = $12)))
		ORDER BY id DESC LIMIT $9`, f.State, f.Level, f.Unit, f.System, since, until, f.Text, f.Before, f.Limit,
		all, units, own)
	if err != nil {
		return nil, fmt.Errorf("postgres: find incidents: %w", err)
	}
	return collect(rows, scanIncident, "find incidents")
}

// InsertEvent appends to an incident's timeline, with the transaction's
// next statement (a deferred write: lazyTx).
func (t *Tx) InsertEvent(_ context.Context, id int64, e incident.Event) error {
	t.tx.deferExec("insert incident event", `INSERT INTO incident_events (incident_id, at, actor, kind, body) VALUES ($1, $2, $3, $4, $5)`,
		id, e.At, e.Actor, e.Kind, e.Body)
	return nil
}

// Events returns an incident's timeline.
func (t *Tx) Events(ctx context.Context, id int64) ([]incident.Event, error) {
	rows, err := t.tx.Query(ctx, `SELECT at, actor, kind, body FROM incident_events WHERE incident_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: incident events: %w", err)
	}
	return collect(rows, func(r pgx.Row) (incident.Event, error) {
		var e incident.Event
		err := r.Scan(&e.At, &e.Actor, &e.Kind, &e.Body)
		return e, err
	}, "incident events")
}

const rotationColumns = "name, unit, members, every, handover, skip_holidays, start_date"

func scanRotation(row pgx.Row) (duty.Rotation, error) {
	var r duty.Rotation
	err := row.Scan(&r.Name, &r.Unit, &r.Members, &r.Every, &r.Handover, &r.SkipHolidays, &r.StartDate)
	return r, err
}

// Rotation returns a rotation.
func (t *Tx) Rotation(ctx context.Context, name string) (duty.Rotation, error) {
	r, err := scanRotation(t.tx.QueryRow(ctx, "SELECT "+rotationColumns+" FROM duty_rotations WHERE name = $1", name))
	return r, notFound(err, "rotation")
}

// Rotations lists rotations by name.
func (t *Tx) Rotations(ctx context.Context) ([]duty.Rotation, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+rotationColumns+" FROM duty_rotations ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("postgres: rotations: %w", err)
	}
	return collect(rows, scanRotation, "rotations")
}

// UpsertRotation creates or replaces a rotation.
func (t *Tx) UpsertRotation(ctx context.Context, r duty.Rotation) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO duty_rotations (name, unit, members, every, handover, skip_holidays, start_date)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET unit = excluded.unit, members = excluded.members,
		every = excluded.every, handover = excluded.handover, skip_holidays = excluded.skip_holidays`,
		r.Name, r.Unit, r.Members, r.Every, r.Handover, r.SkipHolidays, r.StartDate.Format("2006-01-02"))
	return wrap(err, "upsert rotation")
}

// Overrides returns a rotation's overrides by day.
func (t *Tx) Overrides(ctx context.Context, rotation string) (map[string]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), user_id FROM duty_overrides WHERE rotation = $1`, rotation)
	if err != nil {
		return nil, fmt.Errorf("postgres: overrides: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var d, u string
		if err := rows.Scan(&d, &u); err != nil {
			return nil, err
		}
		out[d] = u
	}
	return out, rows.Err()
}

// SetOverride puts user on duty for the shift starting on day.
func (t *Tx) SetOverride(ctx context.Context, rotation, day, user, by string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO duty_overrides (rotation, day, user_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (rotation, day) DO UPDATE SET user_id = excluded.user_id, created_by = excluded.created_by, created_at = excluded.created_at`,
		rotation, day, user, by, at)
	return wrap(err, "set override")
}

// viewArgs are the SQL arguments of an org view: whether it keeps every
// row, the unit codes it covers, and the user whose own rows it keeps
// (org.View.Keeps); a nil view keeps every row.
func viewArgs(v *org.View) (all bool, units []string, own string) {
	if v == nil || v.All {
		return true, nil, ""
	}
	if v.Own != "" {
		return false, nil, v.Own
	}
	return false, append([]string{}, v.Units...), ""
}
