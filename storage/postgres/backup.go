package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/backup"
)

type backupStore struct{ s *Store }

// Backups returns the backup store.
func (s *Store) Backups() backup.Store { return backupStore{s} }

// InTx runs fn in one transaction.
func (k backupStore) InTx(ctx context.Context, fn func(backup.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InPlanTx runs fn in one transaction.
func (k backupStore) InPlanTx(ctx context.Context, fn func(backup.PlanTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InReportTx runs fn in one transaction.
func (k backupStore) InReportTx(ctx context.Context, fn func(backup.ReportTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// InCheckTx runs fn in one transaction.
func (k backupStore) InCheckTx(ctx context.Context, fn func(backup.CheckTx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Read runs fn as a read (Store.read: no transaction of its own; no writes).
func (k backupStore) Read(ctx context.Context, fn func(backup.Reader) error) error {
	return k.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

const backupPlanColumns = "id, system, daily_at, full_day, active, created_by, created_at, location, retention, method, owner"

func scanBackupPlan(r pgx.Row) (backup.Plan, error) {
	var p backup.Plan
	err := r.Scan(&p.ID, &p.System, &p.DailyAt, &p.FullDay, &p.Active, &p.CreatedBy, &p.CreatedAt, &p.Location, &p.Retention, &p.Method, &p.Owner)
	return p, err
}

// InsertBackupPlan inserts a backup plan and sets its id.
func (t *Tx) InsertBackupPlan(ctx context.Context, p *backup.Plan) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO backup_plans (system, daily_at, full_day, active, created_by, created_at, location, retention, method, owner)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, p.System, p.DailyAt, p.FullDay, p.Active, p.CreatedBy, p.CreatedAt,
		p.Location, p.Retention, p.Method, p.Owner).Scan(&p.ID)
	return wrap(err, "insert backup plan")
}

// BackupPlan returns the active plan of system, else its latest removed one.
func (t *Tx) BackupPlan(ctx context.Context, system string) (backup.Plan, error) {
	p, err := scanBackupPlan(t.tx.QueryRow(ctx, "SELECT "+backupPlanColumns+" FROM backup_plans WHERE system = $1 ORDER BY active DESC, id DESC LIMIT 1", system))
	return p, notFound(err, "backup plan")
}

// BackupPlanByID returns a plan, locked when lock is set.
func (t *Tx) BackupPlanByID(ctx context.Context, id int64, lock bool) (backup.Plan, error) {
	q := lockable("SELECT "+backupPlanColumns+" FROM backup_plans WHERE id = $1", lock)
	p, err := scanBackupPlan(t.tx.QueryRow(ctx, q, id))
	return p, notFound(err, "backup plan")
}

// UpdateBackupPlan saves a plan.
func (t *Tx) UpdateBackupPlan(ctx context.Context, p backup.Plan) error {
	_, err := t.tx.Exec(ctx, `UPDATE backup_plans SET daily_at = $2, full_day = $3, active = $4, location = $5, retention = $6, method = $7, owner = $8
		WHERE id = $1`, p.ID, p.DailyAt, p.FullDay, p.Active, p.Location, p.Retention, p.Method, p.Owner)
	return wrap(err, "update backup plan")
}

// BackupPlans lists plans by system (removed ones too when all).
func (t *Tx) BackupPlans(ctx context.Context, all bool) ([]backup.Plan, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+backupPlanColumns+" FROM backup_plans WHERE active OR $1 ORDER BY system, id", all)
	if err != nil {
		return nil, fmt.Errorf("postgres: backup plans: %w", err)
	}
	return collect(rows, scanBackupPlan, "backup plans")
}

const backupReportColumns = "id, plan_id, to_char(day, 'YYYY-MM-DD'), at, kind, ok, note, by_user, source"

func scanBackupReport(r pgx.Row) (backup.Report, error) {
	var x backup.Report
	err := r.Scan(&x.ID, &x.PlanID, &x.Day, &x.At, &x.Kind, &x.OK, &x.Note, &x.By, &x.Source)
	return x, err
}

// InsertBackupReport inserts a report and sets its id.
func (t *Tx) InsertBackupReport(ctx context.Context, r *backup.Report) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO backup_reports (plan_id, day, at, kind, ok, note, by_user, source)
		VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8) RETURNING id`, r.PlanID, r.Day, r.At, r.Kind, r.OK, r.Note, r.By, r.Source).Scan(&r.ID)
	return wrap(err, "insert backup report")
}

// BackupReports lists a plan's latest reports.
func (t *Tx) BackupReports(ctx context.Context, planID int64, limit int) ([]backup.Report, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+backupReportColumns+" FROM backup_reports WHERE plan_id = $1 ORDER BY at DESC, id DESC LIMIT $2", planID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: backup reports: %w", err)
	}
	return collect(rows, scanBackupReport, "backup reports")
}

const backupCheckColumns = "plan_id, to_char(day, 'YYYY-MM-DD'), due_at, state, report_id"

func scanBackupCheck(r pgx.Row) (backup.Check, error) {
	var c backup.Check
	err := r.Scan(&c.PlanID, &c.Day, &c.DueAt, &c.State, &c.ReportID)
	return c, err
}

// BackupCheck returns a plan's check of day, locked.
func (t *Tx) BackupCheck(ctx context.Context, planID int64, day string) (backup.Check, error) {
	c, err := scanBackupCheck(t.tx.QueryRow(ctx, "SELECT "+backupCheckColumns+" FROM backup_checks WHERE plan_id = $1 AND day = $2::date FOR UPDATE", planID, day))
	return c, notFound(err, "backup check")
}

// UpsertBackupCheck writes a check.
func (t *Tx) UpsertBackupCheck(ctx context.Context, c backup.Check) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO backup_checks (plan_id, day, due_at, state, report_id) VALUES ($1, $2::date, $3, $4, $5)
		ON CONFLICT (plan_id, day) DO UPDATE SET state = EXCLUDED.state, report_id = COALESCE(EXCLUDED.report_id, backup_checks.report_id)`,
		c.PlanID, c.Day, c.DueAt, c.State, c.ReportID)
	return wrap(err, "upsert backup check")
}

// BackupChecks lists checks for days in [from, to], newest first.
func (t *Tx) BackupChecks(ctx context.Context, planID int64, from, to string) ([]backup.Check, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+backupCheckColumns+` FROM backup_checks
		WHERE ($1 = 0 OR plan_id = $1) AND day BETWEEN $2::date AND $3::date ORDER BY day DESC, plan_id`, planID, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: backup checks: %w", err)
	}
	return collect(rows, scanBackupCheck, "backup checks")
}

const backupFaultColumns = "id, plan_id, report_id, incident_id, assignees, state, created_at, closed_at, closed_report"

func scanBackupFault(r pgx.Row) (backup.Fault, error) {
	var f backup.Fault
	err := r.Scan(&f.ID, &f.PlanID, &f.ReportID, &f.IncidentID, &f.Assignees, &f.State, &f.CreatedAt, &f.ClosedAt, &f.ClosedReport)
	return f, err
}

// InsertBackupFault inserts a fault report and sets its id.
func (t *Tx) InsertBackupFault(ctx context.Context, f *backup.Fault) error {
	if f.Assignees == nil {
		f.Assignees = []string{}
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO backup_faults (plan_id, report_id, incident_id, assignees, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, f.PlanID, f.ReportID, f.IncidentID, f.Assignees, f.State, f.CreatedAt).Scan(&f.ID)
	return wrap(err, "insert backup fault")
}

// OpenBackupFaults lists a plan's open faults, locked when lock is set.
func (t *Tx) OpenBackupFaults(ctx context.Context, planID int64, lock bool) ([]backup.Fault, error) {
	rows, err := t.tx.Query(ctx, lockable("SELECT "+backupFaultColumns+" FROM backup_faults WHERE plan_id = $1 AND state = 'open' ORDER BY id", lock), planID)
	if err != nil {
		return nil, fmt.Errorf("postgres: backup faults: %w", err)
	}
	return collect(rows, scanBackupFault, "backup faults")
}

// UpdateBackupFault saves a fault.
func (t *Tx) UpdateBackupFault(ctx context.Context, f backup.Fault) error {
	_, err := t.tx.Exec(ctx, `UPDATE backup_faults SET state = $2, closed_at = $3, closed_report = $4 WHERE id = $1`, f.ID, f.State, f.ClosedAt, f.ClosedReport)
	return wrap(err, "update backup fault")
}

// InsertVerification inserts a restore-test record.
func (t *Tx) InsertVerification(ctx context.Context, v *backup.Verification) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO backup_verifications (plan_id, month, ok, note, by_user, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		v.PlanID, v.Month, v.OK, v.Note, v.By, v.At).Scan(&v.ID)
	return wrap(err, "insert verification")
}

// Verifications lists a plan's restore tests of month.
func (t *Tx) Verifications(ctx context.Context, planID int64, month string) ([]backup.Verification, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, plan_id, month, ok, note, by_user, at FROM backup_verifications WHERE plan_id = $1 AND month = $2 ORDER BY id`, planID, month)
	if err != nil {
		return nil, fmt.Errorf("postgres: verifications: %w", err)
	}
	return collect(rows, func(r pgx.Row) (backup.Verification, error) {
		var v backup.Verification
		err := r.Scan(&v.ID, &v.PlanID, &v.Month, &v.OK, &v.Note, &v.By, &v.At)
		return v, err
	}, "verifications")
}

// InsertBackupAudit inserts a month's audit unless it has one.
func (t *Tx) InsertBackupAudit(ctx context.Context, a backup.Audit) (bool, error) {
	sum, err := json.Marshal(a.Systems)
	if err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO backup_audits (month, summary, created_at) VALUES ($1, $2, $3) ON CONFLICT (month) DO NOTHING`, a.Month, sum, a.CreatedAt)
	if err != nil {
		return false, wrap(err, "insert backup audit")
	}
	return tag.RowsAffected() == 1, nil
}

// BackupAudit returns a month's audit, locked when lock is set.
func (t *Tx) BackupAudit(ctx context.Context, month string, lock bool) (backup.Audit, error) {
	q := lockable("SELECT month, summary, created_at, COALESCE(signed_by, ''), signed_at FROM backup_audits WHERE month = $1", lock)
	var a backup.Audit
	var sum []byte
	var signedAt *time.Time
	err := t.tx.QueryRow(ctx, q, month).Scan(&a.Month, &sum, &a.CreatedAt, &a.SignedBy, &signedAt)
	if err != nil {
		return a, notFound(err, "backup audit")
	}
	a.SignedAt = signedAt
	return a, json.Unmarshal(sum, &a.Systems)
}

// UpdateBackupAudit saves the sign-off.
func (t *Tx) UpdateBackupAudit(ctx context.Context, a backup.Audit) error {
	_, err := t.tx.Exec(ctx, `UPDATE backup_audits SET signed_by = NULLIF($2, ''), signed_at = $3 WHERE month = $1`, a.Month, a.SignedBy, a.SignedAt)
	return wrap(err, "update backup audit")
}
