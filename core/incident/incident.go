// Package incident handles incidents (事件, W 8.5, W 9): declared with a
// level (1 特别重大 … 4 一般), sent to whoever is on duty, escalated step by
// step while nobody acknowledges, reminded for progress reports while open
// ("持续报告，不得迟报漏报"), resolved, and closed only after a review whose
// improvement actions are reminded on their due dates.
//
//	declared → acknowledged → mitigated → resolved → closed (review)
//
// Escalation steps and progress reminders are timers kept in the store:
// acknowledging cancels the pending escalation steps, resolving cancels
// the reminders, and each fires at most once (core.Fire).
//
// Who is on duty comes from the duty service, the problem proposed on a
// review's third repeat from the problem package, both through one-method
// interfaces (Roster, Coverer, ProblemProposer). Alert ingestion
// (core/alert) and the problem library change incidents inside their own
// transactions through Service.In, which returns the incident operations
// bound to that transaction.
package incident

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/org"
)

// States.
const (
	StateDeclared     = "declared"
	StateAcknowledged = "acknowledged"
	StateMitigated    = "mitigated"
	StateResolved     = "resolved"
	StateClosed       = "closed"
)

// Timer kinds.
const (
	TimerEscalation = "escalation:step"
	TimerProgress   = "incident:progress"
	TimerActionDue  = "incident:action_due"
	// TimerActionOverdue tells the admins of an action's owner, at 09:00
	// the day after its due date, that it is still not done.
	TimerActionOverdue = "incident:action_overdue"
)

// Line is what a list of incidents shows of each (ReadTx.Incidents):
// reading only these keeps a page of the list cheap.
type Line struct {
	ID        int64
	Title     string
	Level     int
	State     string
	Owner     string
	CreatedAt time.Time
}

// Incident is one incident.
type Incident struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Level        int        `json:"level"`
	State        string     `json:"state"`
	System       string     `json:"system,omitempty"`
	Unit         string     `json:"unit,omitempty"`
	Rotation     string     `json:"rotation,omitempty"`
	Channel      string     `json:"channel,omitempty"` // "" for the configured one
	Source       string     `json:"source,omitempty"`  // SourceChat | SourceAPI | alertmanager
	Owner        string     `json:"owner,omitempty"`
	DeclaredBy   string     `json:"declared_by"`
	Stakeholders []string   `json:"stakeholders,omitempty"`
	Escalation   int        `json:"escalation"`
	Summary      string     `json:"summary,omitempty"`
	Cause        string     `json:"cause,omitempty"`
	Actions      string     `json:"actions,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
	MitigatedAt  *time.Time `json:"mitigated_at,omitempty"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	LastUpdateAt time.Time  `json:"last_update_at"`
}

// Ref is the incident's entity reference.
func (i Incident) Ref() string { return "incident:" + strconv.FormatInt(i.ID, 10) }

// CardRef names the incident's cards, so updating them leaves the other
// notices about it (events, reminders) as they were.
func (i Incident) CardRef() string { return i.Ref() + "#card" }

// Open reports whether the incident still needs work.
func (i Incident) Open() bool { return i.State != StateResolved && i.State != StateClosed }

// Event is one line of an incident's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	Body  string    `json:"body,omitempty"`
}

// Step is one escalation step: after this long unacknowledged, tell these.
type Step struct {
	After  time.Duration
	Notify []string // primary | secondary | unit_admin | district_admin | sys_admin | operator
}

// Policy is how incidents of each level are escalated and reminded.
type Policy struct {
	Steps    map[int][]Step        // by level; step 0 is the first notice (After 0)
	Progress map[int]time.Duration // progress report interval by level
	Repeat   bool                  // after the last step, repeat it every its After
}

// DefaultPolicy is the escalation of DESIGN: on-call primary; unacknowledged
// → secondary → unit admin → district/sys admin, faster for higher levels.
func DefaultPolicy() Policy {
	return Policy{
		Steps: map[int][]Step{
			1: {{0, []string{"primary"}}, {5 * time.Minute, []string{"secondary"}}, {10 * time.Minute, []string{"unit_admin"}}, {15 * time.Minute, []string{"district_admin", "sys_admin"}}},
			2: {{0, []string{"primary"}}, {5 * time.Minute, []string{"secondary"}}, {15 * time.Minute, []string{"unit_admin"}}, {30 * time.Minute, []string{"district_admin", "sys_admin"}}},
			3: {{0, []string{"primary"}}, {15 * time.Minute, []string{"secondary"}}, {30 * time.Minute, []string{"unit_admin"}}},
			4: {{0, []string{"primary"}}, {30 * time.Minute, []string{"secondary"}}},
		},
		Progress: map[int]time.Duration{1: 30 * time.Minute, 2: time.Hour, 3: 2 * time.Hour, 4: 4 * time.Hour},
	}
}

// WriteTx is what the incident lifecycle needs inside one transaction:
// incidents, their timeline and review actions, and the org look-ups
// User, Unit, App and Holders.
type WriteTx interface {
	core.Tx
	InsertIncident(ctx context.Context, i *Incident) error
	Incident(ctx context.Context, id int64, lock bool) (Incident, error)
	UpdateIncident(ctx context.Context, i Incident) error
	InsertEvent(ctx context.Context, incidentID int64, e Event) error
	InsertAction(ctx context.Context, a *Action) error
	User(ctx context.Context, id string) (org.User, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	App(ctx context.Context, code string) (org.App, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// ActionTx is what marking review actions done and escalating overdue
// ones need beyond WriteTx; the store's transaction implements both.
type ActionTx interface {
	Actions(ctx context.Context, incidentID int64) ([]Action, error)
	// ActionDone marks an open action done; false when it was done already.
	ActionDone(ctx context.Context, id int64, by string, at time.Time) (bool, error)
}

// ReadTx is what showing and listing incidents reads, and what the
// reminders that only notify (an action's due date) need.
type ReadTx interface {
	core.Tx
	User(ctx context.Context, id string) (org.User, error)
	Incident(ctx context.Context, id int64, lock bool) (Incident, error)
	// Incidents lists the newest incidents (only those not resolved or
	// closed when open), newest first.
	Incidents(ctx context.Context, open bool, limit int) ([]Line, error)
	// FindIncidents lists the incidents f selects, newest first.
	FindIncidents(ctx context.Context, f Filter) ([]Incident, error)
	Events(ctx context.Context, incidentID int64) ([]Event, error)
	Actions(ctx context.Context, incidentID int64) ([]Action, error)
	ProblemOf(ctx context.Context, incidentID int64) (int64, error) // 0 when none
}

// StateOpen selects, in a Filter, the incidents still needing work (not
// resolved or closed).
const StateOpen = "open"

// Filter selects incidents for a list (newest first). Zero fields select
// everything.
type Filter struct {
	State  string // a state, or StateOpen
	Level  int
	Unit   string
	System string
	// Since and Until bound when incidents were declared: [Since, Until).
	Since, Until time.Time
	// Text is looked for in the title and summary, ignoring case.
	Text string
	// Before keeps ids below it (the next page after id Before).
	Before int64
	Limit  int
	// View, when set, keeps the incidents in an actor's view of the org
	// (org.View.Keeps: by unit, or for own items those they declared or
	// own); nil keeps every one.
	View *org.View
}

// Match reports whether f selects i (Before and Limit aside).
func (f Filter) Match(i Incident) bool {
	text := strings.ToLower(f.Text)
	return (f.State == "" || f.State == i.State || (f.State == StateOpen && i.Open())) &&
		(f.Level == 0 || f.Level == i.Level) && (f.Unit == "" || f.Unit == i.Unit) && (f.System == "" || f.System == i.System) &&
		(f.Since.IsZero() || !i.CreatedAt.Before(f.Since)) && (f.Until.IsZero() || i.CreatedAt.Before(f.Until)) &&
		(text == "" || strings.Contains(strings.ToLower(i.Title+" "+i.Summary), text)) &&
		(f.View == nil || f.View.Keeps(i.Unit, i.DeclaredBy, i.Owner))
}

// Store runs incident work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx WriteTx) error) error
	// Read runs fn as a read: it may write nothing (no audit entry, notice
	// or timer either), nor lock a row; each statement may see a snapshot
	// of its own (as in any READ COMMITTED transaction).
	Read(ctx context.Context, fn func(tx ReadTx) error) error
}

// Roster tells who is on duty on a rotation now and next (the duty
// service), inside the incident's transaction.
type Roster interface {
	OnDuty(ctx context.Context, tx core.Tx, rotation string) (duty.OnDuty, error)
}

// Coverer picks the rotation covering a unit, else fallback (the duty
// service), inside the incident's transaction.
type Coverer interface {
	Covering(ctx context.Context, tx core.Tx, unit, fallback string) (string, error)
}

// ProblemProposer links a reviewed incident to a problem when it repeats
// (the problem package), inside the review's transaction; 0 when none.
type ProblemProposer interface {
	ProposeIn(ctx context.Context, tx core.Tx, i Incident) (problemID int64, err error)
}

// MajorProposer opens a problem for a level I or II incident being
// resolved (the problem package), inside the resolution's transaction; 0
// when none.
type MajorProposer interface {
	ProposeMajor(ctx context.Context, tx core.Tx, i Incident) (problemID int64, err error)
}

// maxTitle is the longest incident title, in characters.
const maxTitle = core.MaxTitle

// TitleWithNote makes the title of an incident another record opens
// ("<what>: <note>"), cut to the longest title allowed.
func TitleWithNote(what, note string) string {
	title := what
	if note != "" {
		title += ": " + note
	}
	if rs := []rune(title); len(rs) > maxTitle {
		title = string(rs[:maxTitle])
	}
	return title
}

// Where an incident was declared from (Incident.Source).
const (
	SourceChat         = "chat"         // a person, in chat or the console
	SourceAPI          = "api"          // a script or integration through /api/v1
	SourceAlertmanager = "alertmanager" // an Alertmanager group (core/alert)
)
