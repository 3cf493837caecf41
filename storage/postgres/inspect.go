package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/inspect"
)

type inspectStore struct{ s *Store }

// Inspections returns the inspection store.
func (s *Store) Inspections() inspect.Store { return inspectStore{s} }

// InTx runs fn in one transaction.
func (k inspectStore) InTx(ctx context.Context, fn func(inspect.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InPlanTx runs fn in one transaction.
func (k inspectStore) InPlanTx(ctx context.Context, fn func(inspect.PlanTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Read runs fn as a read (Store.read: no transaction of its own; no writes).
func (k inspectStore) Read(ctx context.Context, fn func(inspect.Reader) error) error {
	return k.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

const planColumns = "id, name, cron, workdays, assignee, items, grace, level, active, created_by, created_at"

func scanPlan(r pgx.Row) (inspect.Plan, error) {
	var p inspect.Plan
	err := r.Scan(&p.ID, &p.Name, &p.Cron, &p.Workdays, &p.Assignee, &p.Items, &p.Grace, &p.Level, &p.Active, &p.CreatedBy, &p.CreatedAt)
	return p, err
}

// InsertPlan inserts an inspection plan and sets its id.
func (t *Tx) InsertPlan(ctx context.Context, p *inspect.Plan) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO inspection_plans (name, cron, workdays, assignee, items, grace, level, active, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		p.Name, p.Cron, p.Workdays, p.Assignee, p.Items, p.Grace, p.Level, p.Active, p.CreatedBy, p.CreatedAt).Scan(&p.ID)
	return wrap(err, "insert inspection plan")
}

// Plan returns the active plan named name, else the latest removed one.
func (t *Tx) Plan(ctx context.Context, name string) (inspect.Plan, error) {
	p, err := scanPlan(t.tx.QueryRow(ctx, "SELECT "+planColumns+" FROM inspection_plans WHERE name = $1 ORDER BY active DESC, id DESC LIMIT 1", name))
	return p, notFound(err, "inspection plan")
}

// PlanByID returns a plan, locked when lock is set.
func (t *Tx) PlanByID(ctx context.Context, id int64, lock bool) (inspect.Plan, error) {
	q := lockable("SELECT "+planColumns+" FROM inspection_plans WHERE id = $1", lock)
	p, err := scanPlan(t.tx.QueryRow(ctx, q, id))
	return p, notFound(err, "inspection plan")
}

// UpdatePlan saves a plan.
func (t *Tx) UpdatePlan(ctx context.Context, p inspect.Plan) error {
	_, err := t.tx.Exec(ctx, `UPDATE inspection_plans SET cron = $2, workdays = $3, assignee = $4, items = $5, grace = $6, level = $7, active = $8 WHERE id = $1`,
		p.ID, p.Cron, p.Workdays, p.Assignee, p.Items, p.Grace, p.Level, p.Active)
	return wrap(err, "update inspection plan")
}

// Plans lists the active plans by name.
func (t *Tx) Plans(ctx context.Context) ([]inspect.Plan, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+planColumns+" FROM inspection_plans WHERE active ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("postgres: inspection plans: %w", err)
	}
	return collect(rows, scanPlan, "inspection plans")
}

const runColumns = "id, plan_id, plan, items, assignees, due_at, state, missed, results, done_at"

func scanRun(r pgx.Row) (inspect.Run, error) {
	var run inspect.Run
	var results []byte
	err := r.Scan(&run.ID, &run.PlanID, &run.Plan, &run.Items, &run.Assignees, &run.DueAt, &run.State, &run.Missed, &results, &run.DoneAt)
	if err != nil {
		return run, err
	}
	run.Results = map[int]inspect.Result{}
	if err := json.Unmarshal(results, &run.Results); err != nil {
		return run, fmt.Errorf("inspection run %d results: %w", run.ID, err)
	}
	return run, nil
}

func resultsJSON(r inspect.Run) ([]byte, error) {
	if r.Results == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(r.Results)
}

// InsertRun inserts an inspection run and sets its id.
func (t *Tx) InsertRun(ctx context.Context, r *inspect.Run) error {
	res, err := resultsJSON(*r)
	if err != nil {
		return err
	}
	if r.Assignees == nil {
		r.Assignees = []string{}
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO inspection_runs (plan_id, plan, items, assignees, due_at, state, missed, results, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		r.PlanID, r.Plan, r.Items, r.Assignees, r.DueAt, r.State, r.Missed, res, r.DoneAt).Scan(&r.ID)
	return wrap(err, "insert inspection run")
}

// Run returns a run, locked when lock is set.
func (t *Tx) Run(ctx context.Context, id int64, lock bool) (inspect.Run, error) {
	q := lockable("SELECT "+runColumns+" FROM inspection_runs WHERE id = $1", lock)
	r, err := scanRun(t.tx.QueryRow(ctx, q, id))
	return r, notFound(err, "inspection run")
}

// UpdateRun saves a run.
func (t *Tx) UpdateRun(ctx context.Context, r inspect.Run) error {
	res, err := resultsJSON(r)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, `UPDATE inspection_runs SET state = $2, missed = $3, results = $4, done_at = $5 WHERE id = $1`,
		r.ID, r.State, r.Missed, res, r.DoneAt)
	return wrap(err, "update inspection run")
}

// Runs lists runs due in [from, to), of one plan or (planID 0) all, newest first.
func (t *Tx) Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]inspect.Run, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+runColumns+` FROM inspection_runs
		WHERE ($1 = 0 OR plan_id = $1) AND due_at >= $2 AND due_at < $3 ORDER BY due_at DESC, id DESC LIMIT $4`, planID, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: inspection runs: %w", err)
	}
	return collect(rows, scanRun, "inspection runs")
}
