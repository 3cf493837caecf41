package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/incident"
	"opsbot/core/problem"
)

// problemStore adapts Store to problem.Store.
type problemStore struct{ s *Store }

// Problems returns the problem library store.
func (s *Store) Problems() problem.Store { return problemStore{s} }

// InTx runs fn in one transaction.
func (p problemStore) InTx(ctx context.Context, fn func(problem.Tx) error) error {
	return p.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InsertAction records a review action and sets its id.
func (t *Tx) InsertAction(ctx context.Context, a *incident.Action) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO incident_actions (incident_id, body, owner, due) VALUES ($1, $2, $3, $4) RETURNING id`,
		a.IncidentID, a.Body, a.Owner, a.Due.Format("2006-01-02")).Scan(&a.ID)
	return wrap(err, "insert action")
}

// Actions returns an incident's review actions.
func (t *Tx) Actions(ctx context.Context, incidentID int64) ([]incident.Action, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, incident_id, body, owner, due, done FROM incident_actions WHERE incident_id = $1 ORDER BY id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("postgres: actions: %w", err)
	}
	return collect(rows, func(r pgx.Row) (incident.Action, error) {
		var a incident.Action
		err := r.Scan(&a.ID, &a.IncidentID, &a.Body, &a.Owner, &a.Due, &a.Done)
		return a, err
	}, "actions")
}

const problemColumns = "id, title, system, cause, state, proposed, created_by, created_at, owner, due, COALESCE(change_id, 0), change_ref, COALESCE(incident_id, 0), resolved_at, closed_at"

func scanProblem(r pgx.Row) (problem.Problem, error) {
	var p problem.Problem
	err := r.Scan(&p.ID, &p.Title, &p.System, &p.Cause, &p.State, &p.Proposed, &p.CreatedBy, &p.CreatedAt,
		&p.Owner, &p.Due, &p.ChangeID, &p.ChangeRef, &p.Incident, &p.ResolvedAt, &p.ClosedAt)
	return p, err
}

// dateOf is a date column's value ("2006-01-02" in the time's own zone), nil for none.
func dateOf(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format("2006-01-02")
}

// nullID is nil for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// InsertProblem records a problem and sets its id.
func (t *Tx) InsertProblem(ctx context.Context, p *problem.Problem) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO problems (title, system, cause, state, proposed, created_by, created_at, owner, due, change_id, change_ref, incident_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`, p.Title, p.System, p.Cause, p.State, p.Proposed, p.CreatedBy, p.CreatedAt,
		p.Owner, dateOf(p.Due), nullID(p.ChangeID), p.ChangeRef, nullID(p.Incident)).Scan(&p.ID)
	return wrap(err, "insert problem")
}

// UpdateProblem saves a problem's step when its state is still from.
func (t *Tx) UpdateProblem(ctx context.Context, p problem.Problem, from string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE problems SET state = $3, cause = $4, owner = $5, due = $6, change_id = $7, change_ref = $8,
		resolved_at = $9, closed_at = $10 WHERE id = $1 AND state = $2`,
		p.ID, from, p.State, p.Cause, p.Owner, dateOf(p.Due), nullID(p.ChangeID), p.ChangeRef, p.ResolvedAt, p.ClosedAt)
	if err != nil {
		return false, wrap(err, "update problem")
	}
	return tag.RowsAffected() == 1, nil
}

// RequestKind returns an approval request's kind.
func (t *Tx) RequestKind(ctx context.Context, id int64) (string, error) {
	var kind string
	err := t.tx.QueryRow(ctx, `SELECT kind FROM requests WHERE id = $1`, id).Scan(&kind)
	return kind, notFound(err, "request kind")
}

// ActionDone marks an open review action done; false when it was done already.
func (t *Tx) ActionDone(ctx context.Context, id int64, by string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE incident_actions SET done = true, done_by = $2, done_at = $3 WHERE id = $1 AND NOT done`, id, by, at)
	if err != nil {
		return false, wrap(err, "action done")
	}
	return tag.RowsAffected() == 1, nil
}

// OpenActions lists the review actions not done, due first, with their incidents' unit and people.
func (t *Tx) OpenActions(ctx context.Context) ([]incident.OpenAction, error) {
	rows, err := t.tx.Query(ctx, `SELECT a.id, a.incident_id, a.body, a.owner, a.due, a.done, COALESCE(i.unit, ''), i.declared_by, COALESCE(i.owner, '')
		FROM incident_actions a JOIN incidents i ON i.id = a.incident_id WHERE NOT a.done ORDER BY a.due, a.id LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("postgres: open actions: %w", err)
	}
	return collect(rows, func(r pgx.Row) (incident.OpenAction, error) {
		var a incident.OpenAction
		err := r.Scan(&a.ID, &a.IncidentID, &a.Body, &a.Owner, &a.Due, &a.Done, &a.Unit, &a.DeclaredBy, &a.IncidentOwner)
		return a, err
	}, "open actions")
}

// Problem returns a problem.
func (t *Tx) Problem(ctx context.Context, id int64) (problem.Problem, error) {
	p, err := scanProblem(t.tx.QueryRow(ctx, "SELECT "+problemColumns+" FROM problems WHERE id = $1", id))
	return p, notFound(err, "problem")
}

// Problems lists the problem library, newest first.
func (t *Tx) Problems(ctx context.Context) ([]problem.Problem, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+problemColumns+" FROM problems ORDER BY id DESC LIMIT 200")
	if err != nil {
		return nil, fmt.Errorf("postgres: problems: %w", err)
	}
	return collect(rows, scanProblem, "problems")
}

// LinkProblem ties an incident to a problem.
func (t *Tx) LinkProblem(ctx context.Context, incidentID, problemID int64) error {
	_, err := t.tx.Exec(ctx, `UPDATE incidents SET problem_id = $2 WHERE id = $1`, incidentID, problemID)
	return wrap(err, "link problem")
}

// ProblemOf returns the problem an incident is linked to, 0 for none.
func (t *Tx) ProblemOf(ctx context.Context, incidentID int64) (int64, error) {
	var id *int64
	err := t.tx.QueryRow(ctx, `SELECT problem_id FROM incidents WHERE id = $1`, incidentID).Scan(&id)
	if none, err := missing(err, "problem of"); none || err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// ProblemLinks returns the problem of each of the incidents that has one.
func (t *Tx) ProblemLinks(ctx context.Context, incidentIDs []int64) (map[int64]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, problem_id FROM incidents WHERE id = ANY($1) AND problem_id IS NOT NULL`, incidentIDs)
	if err != nil {
		return nil, fmt.Errorf("postgres: problem links: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, p int64
		if err := rows.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("postgres: problem links: %w", err)
		}
		out[id] = p
	}
	return out, wrap(rows.Err(), "problem links")
}

// ProblemIncidents returns a problem's incidents, oldest first.
func (t *Tx) ProblemIncidents(ctx context.Context, problemID int64) ([]incident.Incident, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE problem_id = $1 ORDER BY id", problemID)
	if err != nil {
		return nil, fmt.Errorf("postgres: problem incidents: %w", err)
	}
	return collect(rows, scanIncident, "problem incidents")
}

// IncidentsBetween returns the incidents declared in [from, to), oldest first.
func (t *Tx) IncidentsBetween(ctx context.Context, from, to time.Time) ([]incident.Incident, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE created_at >= $1 AND created_at < $2 ORDER BY id", from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: incidents between: %w", err)
	}
	return collect(rows, scanIncident, "incidents between")
}
