// Package backup checks backups (W 8.4): each plan expects a daily report
// by its deadline (from chat or from the backup script through the API);
// a missing report reminds the operators and is then escalated; a failed
// backup files a fault report, opens an incident and gives the operators a
// re-run task, closed by the next good report. Restore tests are due every
// month per system, and on the 1st the lead signs off last month's record.
//
// Every plan keeps two pending timers in Postgres: "backup:check" for its
// next deadline and "backup:verify" for its restore test, so a plan added
// in chat takes effect at once and each check fires once.
package backup

import (
	"context"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Timer and periodic task kinds.
const (
	TimerCheck  = "backup:check"  // ref plan; data day, stage remind|escalate
	TimerVerify = "backup:verify" // ref plan; data month, stage remind|escalate
	TaskAudit   = "backup:audit"  // daily periodic task: last month's audit, once
)

// Check states.
const (
	CheckPending = "pending"
	CheckOK      = "ok"
	CheckFailed  = "failed"
	CheckMissing = "missing"
)

// Plan is a system's backup plan.
type Plan struct {
	ID        int64     `json:"id"`
	System    string    `json:"system"`
	DailyAt   string    `json:"daily_at"` // HH:MM deadline of the daily report
	FullDay   int       `json:"full_day"` // day of the month of the full backup, 0 none
	Active    bool      `json:"active"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Policy              // location, retention, method, owner (W 8.4.1)
}

// Ref is the plan's entity reference.
func (p Plan) Ref() string { return "backup-plan:" + strconv.FormatInt(p.ID, 10) }

// FullOn reports whether day (YYYY-MM-DD) is the plan's full-backup day.
func (p Plan) FullOn(day string) bool {
	d, err := time.Parse("2006-01-02", day)
	return err == nil && p.FullDay != 0 && d.Day() == p.FullDay
}

// Report is one backup report.
type Report struct {
	ID     int64     `json:"id"`
	PlanID int64     `json:"plan_id"`
	Day    string    `json:"day"` // the check it answers, YYYY-MM-DD
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // full | incremental
	OK     bool      `json:"ok"`
	Note   string    `json:"note,omitempty"`
	By     string    `json:"by"`
	Source string    `json:"source"` // chat | api
}

// Check is one expected daily backup.
type Check struct {
	PlanID   int64     `json:"plan_id"`
	Day      string    `json:"day"`
	DueAt    time.Time `json:"due_at"`
	State    string    `json:"state"`
	ReportID *int64    `json:"report_id,omitempty"`
}

// Fault is a failed backup's fault report with its re-run task.
type Fault struct {
	ID           int64      `json:"id"`
	PlanID       int64      `json:"plan_id"`
	ReportID     int64      `json:"report_id"`
	IncidentID   int64      `json:"incident_id"`
	Assignees    []string   `json:"assignees"`
	State        string     `json:"state"` // open | closed
	CreatedAt    time.Time  `json:"created_at"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	ClosedReport *int64     `json:"closed_report,omitempty"`
}

// Ref is the fault's entity reference.
func (f Fault) Ref() string { return "backup-fault:" + strconv.FormatInt(f.ID, 10) }

// Verification is a restore test record.
type Verification struct {
	ID     int64     `json:"id"`
	PlanID int64     `json:"plan_id"`
	Month  string    `json:"month"`
	OK     bool      `json:"ok"`
	Note   string    `json:"note,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// SystemMonth is one system's line of the monthly audit.
type SystemMonth struct {
	System   string `json:"system"`
	Expected int    `json:"expected"`
	Reported int    `json:"reported"`
	Failed   int    `json:"failed"`
	Missing  int    `json:"missing"`
	Full     int    `json:"full"`
	// FullMissing counts the month's full-backup days that passed without
	// a successful full backup (none, or only an incremental one).
	FullMissing int  `json:"full_missing"`
	Verified    bool `json:"verified"`
	// PolicyMissing lists the policy fields the plan lacks (W 8.4.1), a
	// finding of the audit.
	PolicyMissing []string `json:"policy_missing,omitempty"`
}

// Audit is the monthly backup-record audit.
type Audit struct {
	Month     string        `json:"month"`
	Systems   []SystemMonth `json:"systems"`
	CreatedAt time.Time     `json:"created_at"`
	SignedBy  string        `json:"signed_by,omitempty"`
	SignedAt  *time.Time    `json:"signed_at,omitempty"`
}

// Ref is the audit's entity reference.
func (a Audit) Ref() string { return "backup-audit:" + a.Month }

// Ports. Backups work in five kinds of transaction, each with a port
// holding only what it calls; storage implements all of them with one
// transaction type.

// PlanTx is what adding and removing plans and recording restore tests
// need.
type PlanTx interface {
	core.Tx
	InsertBackupPlan(ctx context.Context, p *Plan) error
	// BackupPlan returns the active plan of system, else its latest removed one.
	BackupPlan(ctx context.Context, system string) (Plan, error)
	UpdateBackupPlan(ctx context.Context, p Plan) error
	InsertVerification(ctx context.Context, v *Verification) error
	// App returns an app by code (a failed restore test's incident is about it).
	App(ctx context.Context, code string) (org.App, error)
	// HoldersOf returns the active users holding role, each once.
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	// User returns an org user (a policy's owner), removed ones included.
	User(ctx context.Context, id string) (org.User, error)
}

// ReportTx is what recording a backup report needs: the day's check, the
// fault a failure files and the faults a good report closes.
type ReportTx interface {
	core.Tx
	BackupPlan(ctx context.Context, system string) (Plan, error)
	BackupPlanByID(ctx context.Context, id int64, lock bool) (Plan, error)
	InsertBackupReport(ctx context.Context, r *Report) error
	// BackupCheck returns a plan's check of a day, locked.
	BackupCheck(ctx context.Context, planID int64, day string) (Check, error)
	UpsertBackupCheck(ctx context.Context, c Check) error
	OpenBackupFaults(ctx context.Context, planID int64, lock bool) ([]Fault, error)
	InsertBackupFault(ctx context.Context, f *Fault) error
	UpdateBackupFault(ctx context.Context, f Fault) error
	App(ctx context.Context, code string) (org.App, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// CheckTx is what the daily-check and restore-test timers need.
type CheckTx interface {
	core.Tx
	BackupPlanByID(ctx context.Context, id int64, lock bool) (Plan, error)
	BackupCheck(ctx context.Context, planID int64, day string) (Check, error)
	UpsertBackupCheck(ctx context.Context, c Check) error
	Verifications(ctx context.Context, planID int64, month string) ([]Verification, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	// AdminsOf returns the admins nearest to a user's unit.
	AdminsOf(ctx context.Context, userID string) ([]string, error)
}

// Tx is what the monthly record needs: the month's checks, reports and
// restore tests of every plan, and the audit the lead signs.
type Tx interface {
	core.Tx
	// BackupPlans lists plans by system; with all, removed ones too.
	BackupPlans(ctx context.Context, all bool) ([]Plan, error)
	// BackupChecks lists a plan's checks (planID 0: all) for days in [from, to], newest first.
	BackupChecks(ctx context.Context, planID int64, from, to string) ([]Check, error)
	BackupReports(ctx context.Context, planID int64, limit int) ([]Report, error)
	Verifications(ctx context.Context, planID int64, month string) ([]Verification, error)
	// InsertBackupAudit inserts the audit unless its month has one; it reports whether it did.
	InsertBackupAudit(ctx context.Context, a Audit) (bool, error)
	BackupAudit(ctx context.Context, month string, lock bool) (Audit, error)
	UpdateBackupAudit(ctx context.Context, a Audit) error
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// Reader is what the read-only commands need.
type Reader interface {
	BackupPlan(ctx context.Context, system string) (Plan, error)
	BackupPlans(ctx context.Context, all bool) ([]Plan, error)
	BackupChecks(ctx context.Context, planID int64, from, to string) ([]Check, error)
	BackupReports(ctx context.Context, planID int64, limit int) ([]Report, error)
	OpenBackupFaults(ctx context.Context, planID int64, lock bool) ([]Fault, error)
	Verifications(ctx context.Context, planID int64, month string) ([]Verification, error)
	BackupAudit(ctx context.Context, month string, lock bool) (Audit, error)
	// App returns an app by code (a system's owner unit, for reports per unit).
	App(ctx context.Context, code string) (org.App, error)
}

// Store runs backup work in transactions, each handing its port.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	InPlanTx(ctx context.Context, fn func(tx PlanTx) error) error
	InReportTx(ctx context.Context, fn func(tx ReportTx) error) error
	InCheckTx(ctx context.Context, fn func(tx CheckTx) error) error
	Read(ctx context.Context, fn func(r Reader) error) error
}

// IncidentOpener opens an incident inside another domain's transaction,
// so a failed backup and its incident commit together.
type IncidentOpener interface {
	DeclareIn(ctx context.Context, tx core.Tx, actor core.Actor, title string, level int, system, unit string) (incident.Incident, error)
}
