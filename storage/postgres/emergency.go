package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/emergency"
)

type emergencyStore struct{ s *Store }

// Emergency returns the emergency-plan, drill and warning store.
func (s *Store) Emergency() emergency.Store { return emergencyStore{s} }

// InPlanTx runs fn in one transaction.
func (k emergencyStore) InPlanTx(ctx context.Context, fn func(emergency.PlanTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InDrillTx runs fn in one transaction.
func (k emergencyStore) InDrillTx(ctx context.Context, fn func(emergency.DrillTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InWarnTx runs fn in one transaction.
func (k emergencyStore) InWarnTx(ctx context.Context, fn func(emergency.WarnTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const emergencyPlanColumns = "id, system, title, level, file, created_by, created_at, reviewed_at, reviewed_by, review_note, review_due"

func scanEmergencyPlan(r pgx.Row) (emergency.Plan, error) {
	var p emergency.Plan
	err := r.Scan(&p.ID, &p.System, &p.Title, &p.Level, &p.File, &p.CreatedBy, &p.CreatedAt, &p.ReviewedAt, &p.ReviewedBy, &p.ReviewNote, &p.ReviewDue)
	return p, err
}

// InsertEmergencyPlan inserts a plan and sets its id.
func (t *Tx) InsertEmergencyPlan(ctx context.Context, p *emergency.Plan) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO emergency_plans (system, title, level, file, created_by, created_at, review_due)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, p.System, p.Title, p.Level, p.File, p.CreatedBy, p.CreatedAt, p.ReviewDue).Scan(&p.ID)
	return wrap(err, "insert emergency plan")
}

// EmergencyPlan returns a plan, locked when lock is set.
func (t *Tx) EmergencyPlan(ctx context.Context, id int64, lock bool) (emergency.Plan, error) {
	p, err := scanEmergencyPlan(t.tx.QueryRow(ctx, lockable("SELECT "+emergencyPlanColumns+" FROM emergency_plans WHERE id = $1", lock), id))
	return p, notFound(err, "emergency plan")
}

// EmergencyPlans lists the plans by id.
func (t *Tx) EmergencyPlans(ctx context.Context) ([]emergency.Plan, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+emergencyPlanColumns+" FROM emergency_plans ORDER BY id")
	if err != nil {
		return nil, wrap(err, "emergency plans")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (emergency.Plan, error) { return scanEmergencyPlan(r) })
	return out, wrap(err, "emergency plans")
}

// UpdateEmergencyPlan saves a plan's review.
func (t *Tx) UpdateEmergencyPlan(ctx context.Context, p emergency.Plan) error {
	_, err := t.tx.Exec(ctx, `UPDATE emergency_plans SET reviewed_at = $2, reviewed_by = $3, review_note = $4, review_due = $5 WHERE id = $1`,
		p.ID, p.ReviewedAt, p.ReviewedBy, p.ReviewNote, p.ReviewDue)
	return wrap(err, "update emergency plan")
}

const drillColumns = "id, plan_id, to_char(day, 'YYYY-MM-DD'), state, participants, findings, created_by, created_at, recorded_by, recorded_at"

func scanDrill(r pgx.Row) (emergency.Drill, error) {
	var d emergency.Drill
	var findings []byte
	err := r.Scan(&d.ID, &d.PlanID, &d.Day, &d.State, &d.Participants, &findings, &d.CreatedBy, &d.CreatedAt, &d.RecordedBy, &d.RecordedAt)
	if err == nil {
		err = json.Unmarshal(findings, &d.Findings)
	}
	return d, err
}

func findingsJSON(fs []emergency.Finding) []byte {
	if fs == nil {
		fs = []emergency.Finding{}
	}
	b, _ := json.Marshal(fs)
	return b
}

func textArray(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// InsertDrill inserts a drill and sets its id.
func (t *Tx) InsertDrill(ctx context.Context, d *emergency.Drill) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO emergency_drills (plan_id, day, state, participants, findings, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, d.PlanID, d.Day, d.State, textArray(d.Participants), findingsJSON(d.Findings),
		d.CreatedBy, d.CreatedAt).Scan(&d.ID)
	return wrap(err, "insert drill")
}

// Drill returns a drill, locked when lock is set.
func (t *Tx) Drill(ctx context.Context, id int64, lock bool) (emergency.Drill, error) {
	d, err := scanDrill(t.tx.QueryRow(ctx, lockable("SELECT "+drillColumns+" FROM emergency_drills WHERE id = $1", lock), id))
	return d, notFound(err, "drill")
}

// UpdateDrill saves a drill.
func (t *Tx) UpdateDrill(ctx context.Context, d emergency.Drill) error {
	_, err := t.tx.Exec(ctx, `UPDATE emergency_drills SET state = $2, participants = $3, findings = $4, recorded_by = $5, recorded_at = $6 WHERE id = $1`,
		d.ID, d.State, textArray(d.Participants), findingsJSON(d.Findings), d.RecordedBy, d.RecordedAt)
	return wrap(err, "update drill")
}

// Drills lists a plan's drills (0: all), newest first.
func (t *Tx) Drills(ctx context.Context, planID int64) ([]emergency.Drill, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+drillColumns+" FROM emergency_drills WHERE plan_id = $1 OR $1 = 0 ORDER BY id DESC", planID)
	if err != nil {
		return nil, wrap(err, "drills")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (emergency.Drill, error) { return scanDrill(r) })
	return out, wrap(err, "drills")
}

const warningColumns = "id, level, text, state, issued_by, issued_at, lifted_by, lifted_at, lift_text"

// InsertWarning inserts a warning and sets its id.
func (t *Tx) InsertWarning(ctx context.Context, w *emergency.Warning) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO emergency_warnings (level, text, state, issued_by, issued_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.Level, w.Text, w.State, w.IssuedBy, w.IssuedAt).Scan(&w.ID)
	return wrap(err, "insert warning")
}

// Warning returns a warning, locked when lock is set.
func (t *Tx) Warning(ctx context.Context, id int64, lock bool) (emergency.Warning, error) {
	var w emergency.Warning
	var lifted *time.Time
	err := t.tx.QueryRow(ctx, lockable("SELECT "+warningColumns+" FROM emergency_warnings WHERE id = $1", lock), id).
		Scan(&w.ID, &w.Level, &w.Text, &w.State, &w.IssuedBy, &w.IssuedAt, &w.LiftedBy, &lifted, &w.LiftText)
	w.LiftedAt = lifted
	return w, notFound(err, "warning")
}

// UpdateWarning saves a warning.
func (t *Tx) UpdateWarning(ctx context.Context, w emergency.Warning) error {
	_, err := t.tx.Exec(ctx, `UPDATE emergency_warnings SET state = $2, lifted_by = $3, lifted_at = $4, lift_text = $5 WHERE id = $1`,
		w.ID, w.State, w.LiftedBy, w.LiftedAt, w.LiftText)
	return wrap(err, "update warning")
}
