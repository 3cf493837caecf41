// Package inspect runs inspection plans (巡检, M 7.3.2, W 6): a plan names
// a cron schedule, an assignee (a user or a role) and checklist items. At
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

	"opsbot/core/incident"
)

// Timer kinds.
const (
	TimerDue   = "inspection:due"   // ref plan; creates the next run
	TimerGrace = "inspection:grace" // ref run; data stage remind|escalate
)

// Notice kinds.
const (
	NoticeCard      = "inspect.card"      // to assignees (and the channel): the checklist
	NoticeRemind    = "inspect.remind"    // to assignees: not reported yet
	NoticeEscalated = "inspect.escalated" // to the assignees' admins: missed
	NoticeIssue     = "inspect.issue"     // to assignees: an item opened an incident
	NoticeUpdate    = "update.inspect"    // replaces the checklist cards of a run
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
	Cron      string        `json:"cron"`
	Assignee  string        `json:"assignee"` // a user id or a role
	Items     []string      `json:"items"`
	Grace     time.Duration `json:"grace"`
	Level     int           `json:"level"` // of incidents opened by Issue items
	Active    bool          `json:"active"`
	CreatedBy string        `json:"created_by"`
	CreatedAt time.Time     `json:"created_at"`
}

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

// Tx is what inspections need from a store.
type Tx interface {
	incident.Tx
	InsertPlan(ctx context.Context, p *Plan) error
	Plan(ctx context.Context, name string) (Plan, error)
	PlanByID(ctx context.Context, id int64, lock bool) (Plan, error)
	UpdatePlan(ctx context.Context, p Plan) error
	Plans(ctx context.Context) ([]Plan, error)
	InsertRun(ctx context.Context, r *Run) error
	Run(ctx context.Context, id int64, lock bool) (Run, error)
	UpdateRun(ctx context.Context, r Run) error
	// Runs lists a plan's runs (planID 0: every plan) due in [from, to), newest first.
	Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]Run, error)
}

// Store runs inspection work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
