package emergency

import (
	"context"
	"slices"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine"
)

// Timer kinds.
const (
	TimerReview  = "emergency:review"  // ref plan; data due, stage remind|escalate
	TimerDrill   = "emergency:drill"   // ref drill: the reminder the day before
	TimerFinding = "emergency:finding" // ref drill; data n, stage remind|escalate
)

// ReviewEvery is how often a plan is reviewed (W 9.1 k "至少每年").
const ReviewEvery = 1 // year

// ReviewLead is how long before its due date a review is reminded.
const ReviewLead = 30 * 24 * time.Hour

// Drill and finding states.
const (
	DrillScheduled = "scheduled"
	DrillRecorded  = "recorded"
	WarningIssued  = "issued"
	WarningLifted  = "lifted"
)

// Plan is a registered emergency plan (应急预案).
type Plan struct {
	ID         int64      `json:"id"`
	System     string     `json:"system"`
	Title      string     `json:"title"`
	Level      int        `json:"level"` // the incident level it answers, 1 特别重大 … 4 一般
	File       string     `json:"file"`  // link to the plan's document
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
	ReviewNote string     `json:"review_note,omitempty"`
	ReviewDue  time.Time  `json:"review_due"`
}

// Ref is the plan's entity reference.
func (p Plan) Ref() string { return "emergency-plan:" + strconv.FormatInt(p.ID, 10) }

// Overdue reports whether the plan's review is past due at now.
func (p Plan) Overdue(now time.Time) bool { return !now.Before(p.ReviewDue) }

// Finding is a drill's finding: an action with an owner and a due date.
type Finding struct {
	N      int        `json:"n"` // 1-based
	Text   string     `json:"text"`
	Owner  string     `json:"owner"`
	Due    string     `json:"due"` // YYYY-MM-DD
	Done   bool       `json:"done"`
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// Drill is an emergency drill (应急演练) of a plan.
type Drill struct {
	ID           int64      `json:"id"`
	PlanID       int64      `json:"plan_id"`
	Day          string     `json:"day"` // YYYY-MM-DD
	State        string     `json:"state"`
	Participants []string   `json:"participants,omitempty"`
	Findings     []Finding  `json:"findings,omitempty"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	RecordedBy   string     `json:"recorded_by,omitempty"`
	RecordedAt   *time.Time `json:"recorded_at,omitempty"`
}

// Ref is the drill's entity reference.
func (d Drill) Ref() string { return "drill:" + strconv.FormatInt(d.ID, 10) }

// Warning is an early warning (预警) issued along the report path.
type Warning struct {
	ID       int64      `json:"id"`
	Level    int        `json:"level"`
	Text     string     `json:"text"`
	State    string     `json:"state"`
	IssuedBy string     `json:"issued_by"`
	IssuedAt time.Time  `json:"issued_at"`
	LiftedBy string     `json:"lifted_by,omitempty"`
	LiftedAt *time.Time `json:"lifted_at,omitempty"`
	LiftText string     `json:"lift_text,omitempty"`
}

// Ref is the warning's entity reference.
func (w Warning) Ref() string { return "warning:" + strconv.FormatInt(w.ID, 10) }

// Path is the report path: where warnings and reports to superiors go.
type Path struct {
	Channels []string
	Users    []string
	Roles    []string // each role's holders
}

// Recipients resolves the path to recipients, each once.
func (p Path) Recipients(ctx context.Context, dir routine.Directory) ([]core.Recipient, error) {
	users := slices.Clone(p.Users)
	for _, r := range p.Roles {
		hs, err := dir.HoldersOf(ctx, org.Role(r))
		if err != nil {
			return nil, err
		}
		users = routine.Union(users, hs)
	}
	var out []core.Recipient
	for _, u := range routine.Union(users) {
		out = append(out, core.Recipient{User: u})
	}
	for _, c := range routine.Union(p.Channels) {
		out = append(out, core.Recipient{Channel: c})
	}
	return out, nil
}

// send queues body about ref to every recipient.
func send(ctx context.Context, rec core.Recorder, ref string, to []core.Recipient, body core.Payload) error {
	for _, r := range to {
		if err := rec.Notify(ctx, core.Notice{Ref: ref, To: r, Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// Ports.

// PlanTx is what the plan register needs.
type PlanTx interface {
	core.Tx
	InsertEmergencyPlan(ctx context.Context, p *Plan) error
	EmergencyPlan(ctx context.Context, id int64, lock bool) (Plan, error)
	EmergencyPlans(ctx context.Context) ([]Plan, error)
	UpdateEmergencyPlan(ctx context.Context, p Plan) error
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// DrillTx is what drills need.
type DrillTx interface {
	core.Tx
	EmergencyPlan(ctx context.Context, id int64, lock bool) (Plan, error)
	InsertDrill(ctx context.Context, d *Drill) error
	Drill(ctx context.Context, id int64, lock bool) (Drill, error)
	UpdateDrill(ctx context.Context, d Drill) error
	// Drills lists a plan's drills (0: all), newest first.
	Drills(ctx context.Context, planID int64) ([]Drill, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	User(ctx context.Context, id string) (org.User, error)
}

// WarnTx is what early warnings need.
type WarnTx interface {
	core.Tx
	InsertWarning(ctx context.Context, w *Warning) error
	Warning(ctx context.Context, id int64, lock bool) (Warning, error)
	UpdateWarning(ctx context.Context, w Warning) error
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// Store runs emergency work in transactions.
type Store interface {
	InPlanTx(ctx context.Context, fn func(tx PlanTx) error) error
	InDrillTx(ctx context.Context, fn func(tx DrillTx) error) error
	InWarnTx(ctx context.Context, fn func(tx WarnTx) error) error
}
