package monthly

import (
	"context"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// Task and timer kinds.
const (
	TaskPush     = "report:push"   // the daily job: monthly reports and quarterly checks when due
	TimerRemind  = "check:remind"  // a corrective action's due date
	TimerOverdue = "check:overdue" // a corrective action still open the working day after
)

// Notice types.
const (
	NoticeMonthly = "report.monthly"
	NoticeCheck   = "report.quarterly_check"
	NoticeAction  = "report.check_action"
)

// Action states.
const (
	ActionOpen = "open"
	ActionDone = "done"
)

// Reports are the scope-aware month reads of core/report (report.Service).
type Reports interface {
	View(ctx context.Context, actor core.Actor, unit string) (org.View, error)
	Incidents(ctx context.Context, actor core.Actor, view org.View, month string) (problem.Report, error)
	Inspections(ctx context.Context, view org.View, month, quarter string) (string, []inspect.PlanSummary, error)
	Backups(ctx context.Context, view org.View, month string) (backup.AuditMonth, error)
	Tickets(ctx context.Context, view org.View, month string) (ticket.SLAMonth, error)
	Approvals(ctx context.Context, view org.View, month string) (approval.Month, error)
}

// Outage is one non-200 joint troubleshooting incident (the alerts
// module's non-200 rule): the system down from Start until End (nil:
// still down).
type Outage struct {
	Incident int64
	System   string // the app of the alert group
	Unit     string // the incident's unit
	Start    time.Time
	End      *time.Time
}

// Action is a corrective action of a quarterly check's finding.
type Action struct {
	Quarter string `json:"quarter"` // YYYY-Qn
	N       int    `json:"n"`       // 1, 2, … within the quarter
	// The finding: a plan's missed runs (Kind "missed", Count of them) or
	// an item found with issues (Kind "issue", Item "item (incident #n)").
	Plan   string     `json:"plan"`
	Kind   string     `json:"kind"`
	Item   string     `json:"item,omitempty"`
	Count  int        `json:"count,omitempty"`
	Owner  string     `json:"owner"`
	Due    time.Time  `json:"due"`
	State  string     `json:"state"`
	DoneBy string     `json:"done_by,omitempty"`
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// Ref is the action's entity reference.
func (a Action) Ref() string { return "check-action:" + a.Quarter + "#" + itoa(a.N) }

// Tx is what the reports and checks write and read in one transaction.
type Tx interface {
	core.Tx
	// MarkReportSent records report kind of period for user ("*": the
	// period's own work); false when it was marked already.
	MarkReportSent(ctx context.Context, kind, period, user string, at time.Time) (bool, error)
	// ReportsSent lists the users report kind of period was sent to.
	ReportsSent(ctx context.Context, kind, period string) ([]string, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	// Outages lists the non-200 joint incidents down at some time in [from, to).
	Outages(ctx context.Context, from, to time.Time) ([]Outage, error)
	InsertCheckAction(ctx context.Context, a Action) error
	// CheckAction returns an action, row-locked.
	CheckAction(ctx context.Context, quarter string, n int) (Action, error)
	CheckActions(ctx context.Context, quarter string) ([]Action, error)
	UpdateCheckAction(ctx context.Context, a Action) error
}

// Store runs the work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
