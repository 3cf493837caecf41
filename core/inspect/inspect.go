// Package inspect runs inspection plans (巡检, M 7.3.2, W 6): a plan names
// a schedule (a cron spec, or each working day of the PRC calendar at a
// time, M 7.3.2.2.1), an assignee (a user or a role) and checklist items. At
// each run the assignees get a checklist card with OK / Issue per item;
// a run not reported within the grace time reminds them, and after the
// same time again their admins are told and the run counts as missed. An
// item marked Issue opens an incident in the same transaction.
//
// Plans are fed from Postgres: each active plan has one pending
// "inspection:due" timer for its next run, so a plan added in chat takes
// effect without a restart, and the timer claim makes each run happen
// once however many workers and schedulers run.
package inspect

import (
	"context"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Timer kinds.
const (
	TimerDue   = "inspection:due"   // ref plan; creates the next run
	TimerGrace = "inspection:grace" // ref run; data stage remind|escalate
)

// Run states.
const (
	StatePending = "pending"
	StateDone    = "done"
)

// Plan is an inspection plan.
type Plan struct {
	ID        int64         `json:"id"`
	Name      string        `json:"name"`
	Cron      string        `json:"cron"`               // a cron spec, "" for a Workdays plan
	Workdays  string        `json:"workdays,omitempty"` // HH:MM on each working day, "" for a cron plan
	Assignee  string        `json:"assignee"`           // a user id or a role
	Items     []string      `json:"items"`
	Grace     time.Duration `json:"grace"`
	Level     int           `json:"level"` // of incidents opened by Issue items
	Active    bool          `json:"active"`
	CreatedBy string        `json:"created_by"`
	CreatedAt time.Time     `json:"created_at"`
}

// Schedule is when a plan runs: by a cron spec, or on each working day
// of the PRC calendar (statutory holidays off, make-up workdays on) at a
// time. Exactly one is set.
type Schedule struct {
	Cron     string
	Workdays string // HH:MM
}

// Schedule is the plan's schedule.
func (p Plan) Schedule() Schedule { return Schedule{Cron: p.Cron, Workdays: p.Workdays} }

// Ref is the plan's entity reference.
func (p Plan) Ref() string { return "inspect-plan:" + strconv.FormatInt(p.ID, 10) }

// Result is one item's outcome in a run.
type Result struct {
	OK       bool      `json:"ok"`
	Note     string    `json:"note,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Incident int64     `json:"incident,omitempty"`
}

// Run is one inspection of a plan.
type Run struct {
	ID        int64          `json:"id"`
	PlanID    int64          `json:"plan_id"`
	Plan      string         `json:"plan"`
	Items     []string       `json:"items"`
	Assignees []string       `json:"assignees"`
	DueAt     time.Time      `json:"due_at"`
	State     string         `json:"state"`
	Missed    bool           `json:"missed"` // escalated before it was done
	Results   map[int]Result `json:"results"`
	DoneAt    *time.Time     `json:"done_at,omitempty"`
}

// Ref is the run's entity reference (its cards' ref too).
func (r Run) Ref() string { return "inspect:" + strconv.FormatInt(r.ID, 10) }

// Issues counts the items marked Issue.
func (r Run) Issues() int {
	n := 0
	for _, res := range r.Results {
		if !res.OK {
			n++
		}
	}
	return n
}

// PlanTx is what adding and removing plans needs.
type PlanTx interface {
	core.Tx
	InsertPlan(ctx context.Context, p *Plan) error
	Plan(ctx context.Context, name string) (Plan, error)
	UpdatePlan(ctx context.Context, p Plan) error
	// User returns an org user (an assignee).
	User(ctx context.Context, id string) (org.User, error)
	// HoldersOf returns the active users holding role, each once.
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// Tx is what running inspections needs: the timers that start runs and
// chase them, and the reports that mark their items.
type Tx interface {
	core.Tx
	Plan(ctx context.Context, name string) (Plan, error)
	PlanByID(ctx context.Context, id int64, lock bool) (Plan, error)
	InsertRun(ctx context.Context, r *Run) error
	Run(ctx context.Context, id int64, lock bool) (Run, error)
	UpdateRun(ctx context.Context, r Run) error
	// Runs lists a plan's runs (planID 0: every plan) due in [from, to), newest first.
	Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]Run, error)
	User(ctx context.Context, id string) (org.User, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	// AdminsOf returns the admins nearest to a user's unit.
	AdminsOf(ctx context.Context, userID string) ([]string, error)
}

// Reader is what the read-only commands need.
type Reader interface {
	Plan(ctx context.Context, name string) (Plan, error)
	Plans(ctx context.Context) ([]Plan, error)
	Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]Run, error)
	// User tells an assignee's unit (whose runs a report keeps).
	User(ctx context.Context, id string) (org.User, error)
}

// Store runs inspection work in transactions, each handing its port.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	InPlanTx(ctx context.Context, fn func(tx PlanTx) error) error
	Read(ctx context.Context, fn func(r Reader) error) error
}

// IncidentOpener opens an incident inside another domain's transaction,
// so an item marked Issue and its incident commit together.
type IncidentOpener interface {
	DeclareIn(ctx context.Context, tx core.Tx, actor core.Actor, title string, level int, system, unit string) (incident.Incident, error)
}
