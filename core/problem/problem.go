package problem

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Problem is an entry of the problem library: the cause behind recurring
// or major incidents (W 8.5).
type Problem struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	System    string    `json:"system,omitempty"`
	Cause     string    `json:"cause,omitempty"`
	State     string    `json:"state"`
	Proposed  bool      `json:"proposed"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Owner answers for the problem until it is resolved, by Due (a date).
	Owner string     `json:"owner,omitempty"`
	Due   *time.Time `json:"due,omitempty"`
	// ChangeID is the change request that fixed it, else ChangeRef a free reference.
	ChangeID   int64      `json:"change_id,omitempty"`
	ChangeRef  string     `json:"change_ref,omitempty"`
	Incident   int64      `json:"incident,omitempty"` // the level I/II incident that proposed it
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
}

// Ref is the problem's entity reference.
func (p Problem) Ref() string { return "problem:" + strconv.FormatInt(p.ID, 10) }

// RepeatThreshold incidents with one system and cause in RepeatWindow
// propose a problem.
const (
	RepeatThreshold = 3
	RepeatWindow    = 30 * 24 * time.Hour
)

// ProposeTx is what proposing a problem needs inside a review's
// transaction: the incidents of the window, problems and their links, and
// the org look-ups Unit and Holders (to tell the sys admins).
type ProposeTx interface {
	core.Tx
	// IncidentsBetween returns the incidents declared in [from, to).
	IncidentsBetween(ctx context.Context, from, to time.Time) ([]incident.Incident, error)
	ProblemOf(ctx context.Context, incidentID int64) (int64, error) // 0 when none
	InsertProblem(ctx context.Context, p *Problem) error
	Problem(ctx context.Context, id int64) (Problem, error)
	LinkProblem(ctx context.Context, incidentID, problemID int64) error
	Unit(ctx context.Context, code string) (org.Unit, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// Proposed tells the sys admins (and the incident channel) that repeats
// proposed a problem.
type Proposed struct {
	Problem int64  `json:"problem"`
	Title   string `json:"title"`
	Count   int    `json:"count"` // incidents linked to it
}

// NoticeType is "incident.problem".
func (Proposed) NoticeType() string { return "incident.problem" }

// Proposer detects repeats when a review closes an incident.
type Proposer struct {
	clock   core.Clock
	channel string
	cal     *calendar.Calendar // set by WithMajor
	days    int
}

// NewProposer returns the proposer; channel also hears of proposals.
func NewProposer(clock core.Clock, channel string) *Proposer {
	return &Proposer{clock: clock, channel: channel}
}

// normCause makes causes comparable: case and spacing do not matter.
func normCause(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }

// ProposeIn links i (being closed by its review, not saved yet) to a
// problem when it is the third incident with the same system and cause
// within 30 days, creating the problem when the earlier ones have none;
// it returns the problem's id, 0 when none. tx is the review's
// transaction and must implement ProposeTx (the store's does).
func (p *Proposer) ProposeIn(ctx context.Context, tx core.Tx, i incident.Incident) (int64, error) {
	ptx, ok := tx.(ProposeTx)
	if !ok {
		return 0, fmt.Errorf("problem: propose in a %T, which keeps no problems", tx)
	}
	if i.System == "" || i.Cause == "" {
		return 0, nil
	}
	recent, err := ptx.IncidentsBetween(ctx, i.CreatedAt.Add(-RepeatWindow), i.CreatedAt.Add(time.Second))
	if err != nil {
		return 0, err
	}
	var same []incident.Incident
	for _, r := range recent {
		if r.ID == i.ID {
			r = i // the one under review is not saved yet
		}
		if r.System == i.System && normCause(r.Cause) == normCause(i.Cause) && (r.State == incident.StateClosed || r.ID == i.ID) {
			same = append(same, r)
		}
	}
	if len(same) < RepeatThreshold {
		return 0, nil
	}
	var pid int64
	for _, r := range same {
		if id, err := ptx.ProblemOf(ctx, r.ID); err != nil {
			return 0, err
		} else if id != 0 {
			pid = id
		}
	}
	var pr Problem
	if pid == 0 {
		pr = Problem{Title: i.System + "：" + i.Cause, System: i.System, Cause: i.Cause, State: StateNew, Proposed: true,
			CreatedBy: core.SystemUser, CreatedAt: p.clock.Now()}
		if err := ptx.InsertProblem(ctx, &pr); err != nil {
			return 0, err
		}
	} else if pr, err = ptx.Problem(ctx, pid); err != nil {
		return 0, err
	}
	for _, r := range same {
		if err := ptx.LinkProblem(ctx, r.ID, pr.ID); err != nil {
			return 0, err
		}
	}
	if pid == 0 {
		admins, err := paging.Holders(ctx, ptx, nil, "", string(org.RoleSysAdmin))
		if err != nil {
			return 0, err
		}
		n := Proposed{Problem: pr.ID, Title: pr.Title, Count: len(same)}
		for _, u := range admins {
			if err := ptx.Notify(ctx, core.Notice{Ref: pr.Ref(), To: core.Recipient{User: u}, Body: n}); err != nil {
				return 0, err
			}
		}
		if p.channel != "" {
			if err := ptx.Notify(ctx, core.Notice{Ref: pr.Ref(), To: core.Recipient{Channel: p.channel}, Body: n}); err != nil {
				return 0, err
			}
		}
		if err := core.Record(ctx, ptx, p.clock.Now(), core.SystemActor(), "problem.propose", pr.Ref(), nil, pr); err != nil {
			return 0, err
		}
	}
	return pr.ID, nil
}

// Tx is what the problem library needs inside one transaction: problems,
// their incidents, the incidents of a month, and the org look-up User.
type Tx interface {
	core.Tx
	InsertProblem(ctx context.Context, p *Problem) error
	Problem(ctx context.Context, id int64) (Problem, error)
	Problems(ctx context.Context) ([]Problem, error)
	LinkProblem(ctx context.Context, incidentID, problemID int64) error
	// ProblemLinks returns the problem of each of the incidents that has one.
	ProblemLinks(ctx context.Context, incidentIDs []int64) (map[int64]int64, error)
	ProblemIncidents(ctx context.Context, problemID int64) ([]incident.Incident, error)
	// IncidentsBetween returns the incidents declared in [from, to).
	IncidentsBetween(ctx context.Context, from, to time.Time) ([]incident.Incident, error)
	User(ctx context.Context, id string) (org.User, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	// OpenActions lists the review actions not done yet, with their incidents.
	OpenActions(ctx context.Context) ([]incident.OpenAction, error)
}

// Store runs problem work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Incidents binds the incident operations to a problem transaction (the
// incident service).
type Incidents interface {
	In(tx core.Tx) (incident.Ops, error)
}

// Service keeps the problem library and the monthly incident analysis.
type Service struct {
	store     Store
	clock     core.Clock
	cal       *calendar.Calendar
	incidents Incidents
}

// NewService returns the problem library.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, incidents Incidents) *Service {
	return &Service{store: store, clock: clock, cal: cal, incidents: incidents}
}

// Detail is a problem with its incidents.
type Detail struct {
	Problem   Problem
	Incidents []incident.Incident
}

// List lists the problem library with its incidents.
func (s *Service) List(ctx context.Context, actor core.Actor) ([]Detail, error) {
	var out []Detail
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		ps, err := tx.Problems(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			is, err := tx.ProblemIncidents(ctx, p.ID)
			if err != nil {
				return err
			}
			out = append(out, Detail{Problem: p, Incidents: is})
		}
		return nil
	})
	return out, err
}

// Show returns one problem with its incidents.
func (s *Service) Show(ctx context.Context, actor core.Actor, id int64) (Detail, error) {
	var d Detail
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		p, err := tx.Problem(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("problem_not_found", "id", strconv.FormatInt(id, 10))
		} else if err != nil {
			return err
		}
		d.Problem = p
		d.Incidents, err = tx.ProblemIncidents(ctx, id)
		return err
	})
	return d, err
}

// Add records a problem by hand.
func (s *Service) Add(ctx context.Context, actor core.Actor, title, system string) (Problem, error) {
	title = strings.TrimSpace(title)
	if err := core.CheckName("title", title, core.MaxTitle); err != nil {
		return Problem{}, err
	}
	var p Problem
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		p = Problem{Title: title, System: system, State: StateNew, CreatedBy: actor.UserID, CreatedAt: s.clock.Now()}
		if err := tx.InsertProblem(ctx, &p); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "problem.add", p.Ref(), nil, p)
	})
	return p, err
}

// Link ties an incident to a problem and notes it on the incident's timeline.
func (s *Service) Link(ctx context.Context, actor core.Actor, incidentID, problemID int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		ops, err := s.incidents.In(tx)
		if err != nil {
			return err
		}
		i, err := ops.Get(ctx, incidentID, true)
		if err != nil {
			return err
		}
		if _, err := tx.Problem(ctx, problemID); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("problem_not_found", "id", strconv.FormatInt(problemID, 10))
		} else if err != nil {
			return err
		}
		if err := tx.LinkProblem(ctx, incidentID, problemID); err != nil {
			return err
		}
		if err := ops.Note(ctx, incidentID, actor.UserID, "problem", "#"+strconv.FormatInt(problemID, 10)); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "incident.problem.link", i.Ref(), nil, map[string]int64{"problem": problemID})
	})
}

// Report is the monthly incident analysis (W 8.5).
type Report struct {
	Month       string
	Scope       []string // the units whose subtrees it counts; nil: the city
	Own         string   // the user whose own incidents it counts (a member's view), else ""
	Total       int
	ByLevel     map[int]int
	ByUnit      map[string]int
	BySystem    map[string]int
	MTTA, MTTR  time.Duration // averages over acknowledged / resolved incidents
	Acked       int
	Resolved    int
	Escalations int
	Open        int
	Repeats     []Detail // problems with two or more incidents this month
	// Actions are the review actions not done yet of the incidents in
	// scope (whatever month they were declared), due first; Overdue
	// counts those past their due date at the time of the report.
	Actions []incident.OpenAction
	Overdue int
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// MonthlyReport analyses the incidents declared in month ("2006-01")
// that keep keeps, given each incident's unit and people (declarer,
// owner, as the console's lists); keep nil keeps every incident, those without a
// unit too. Callers pass an org.View's Keeps (core/report) and set
// Report.Scope from the view.
func (s *Service) MonthlyReport(ctx context.Context, actor core.Actor, month string, keep func(unit string, people ...string) bool) (Report, error) {
	start, err := time.ParseInLocation("2006-01", month, s.cal.Location())
	if err != nil {
		return Report{}, core.Invalid("month", "value", month)
	}
	rep := Report{Month: month, ByLevel: map[int]int{}, ByUnit: map[string]int{}, BySystem: map[string]int{}}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		all, err := tx.IncidentsBetween(ctx, start, start.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		var list []incident.Incident
		for _, i := range all {
			if keep == nil || keep(i.Unit, i.DeclaredBy, i.Owner) {
				list = append(list, i)
			}
		}
		var tta, ttr time.Duration
		perProblem := map[int64]int{}
		ids := make([]int64, len(list))
		for k, i := range list {
			ids[k] = i.ID
		}
		links, err := tx.ProblemLinks(ctx, ids)
		if err != nil {
			return err
		}
		for _, i := range list {
			rep.Total++
			rep.ByLevel[i.Level]++
			rep.ByUnit[orDash(i.Unit)]++
			rep.BySystem[orDash(i.System)]++
			rep.Escalations += i.Escalation
			if i.AckedAt != nil {
				rep.Acked++
				tta += i.AckedAt.Sub(i.CreatedAt)
			}
			if i.ResolvedAt != nil {
				rep.Resolved++
				ttr += i.ResolvedAt.Sub(i.CreatedAt)
			}
			if i.Open() {
				rep.Open++
			}
			if p := links[i.ID]; p != 0 {
				perProblem[p]++
			}
		}
		if rep.Acked > 0 {
			rep.MTTA = tta / time.Duration(rep.Acked)
		}
		if rep.Resolved > 0 {
			rep.MTTR = ttr / time.Duration(rep.Resolved)
		}
		repeated := make([]int64, 0, len(perProblem))
		for id, n := range perProblem {
			if n >= 2 {
				repeated = append(repeated, id)
			}
		}
		open, err := tx.OpenActions(ctx)
		if err != nil {
			return err
		}
		now := s.clock.Now().In(s.cal.Location())
		for _, a := range open {
			if keep == nil || keep(a.Unit, a.DeclaredBy, a.IncidentOwner, a.Owner) {
				rep.Actions = append(rep.Actions, a)
				if a.Overdue(now) {
					rep.Overdue++
				}
			}
		}
		sort.SliceStable(rep.Actions, func(a, b int) bool { return rep.Actions[a].Due.Before(rep.Actions[b].Due) })
		sort.Slice(repeated, func(a, b int) bool { return repeated[a] < repeated[b] })
		for _, id := range repeated {
			p, err := tx.Problem(ctx, id)
			if err != nil {
				return err
			}
			is, err := tx.ProblemIncidents(ctx, id)
			if err != nil {
				return err
			}
			rep.Repeats = append(rep.Repeats, Detail{Problem: p, Incidents: is})
		}
		return nil
	})
	return rep, err
}
