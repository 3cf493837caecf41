package incident

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Review action and problem notices and timers.
const (
	TimerActionDue  = "incident:action_due"
	NoticeActionDue = "incident.action_due" // to an action's owner on its due date
	NoticeProblem   = "incident.problem"    // a problem was proposed from repeats
)

// Action is an improvement action of a review, with an owner and a due date.
type Action struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	Body       string    `json:"body"`
	Owner      string    `json:"owner"`
	Due        time.Time `json:"due"`
	Done       bool      `json:"done"`
}

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
}

// ProblemTx is what actions and problems need beyond Tx.
type ProblemTx interface {
	InsertAction(ctx context.Context, a *Action) error
	Actions(ctx context.Context, incidentID int64) ([]Action, error)
	InsertProblem(ctx context.Context, p *Problem) error
	Problem(ctx context.Context, id int64) (Problem, error)
	Problems(ctx context.Context) ([]Problem, error)
	LinkProblem(ctx context.Context, incidentID, problemID int64) error
	ProblemOf(ctx context.Context, incidentID int64) (int64, error) // 0 when none
	ProblemIncidents(ctx context.Context, problemID int64) ([]Incident, error)
	// IncidentsBetween returns the incidents declared in [from, to).
	IncidentsBetween(ctx context.Context, from, to time.Time) ([]Incident, error)
}

// ParseActions parses "text@owner@YYYY-MM-DD; text@owner@YYYY-MM-DD".
func ParseActions(s string, loc *time.Location) ([]Action, error) {
	var out []Action
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == '\n' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "@")
		if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" {
			return nil, core.Invalid("action_format", "value", item)
		}
		due, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(parts[2]), loc)
		if err != nil {
			return nil, core.Invalid("action_format", "value", item)
		}
		out = append(out, Action{Body: strings.TrimSpace(parts[0]), Owner: strings.TrimSpace(parts[1]), Due: due})
	}
	if len(out) == 0 {
		return nil, core.Invalid("review_fields")
	}
	return out, nil
}

// normCause makes causes comparable: case and spacing do not matter.
func normCause(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }

// RepeatThreshold incidents with one system and cause in RepeatWindow
// propose a problem.
const (
	RepeatThreshold = 3
	RepeatWindow    = 30 * 24 * time.Hour
)

// proposeProblem links i to a problem when it is the third incident with
// the same system and cause within 30 days (creating the problem when the
// earlier ones have none).
func (s *Service) proposeProblem(ctx context.Context, tx Tx, i Incident) (*Problem, error) {
	if i.System == "" || i.Cause == "" {
		return nil, nil
	}
	recent, err := tx.IncidentsBetween(ctx, i.CreatedAt.Add(-RepeatWindow), i.CreatedAt.Add(time.Second))
	if err != nil {
		return nil, err
	}
	var same []Incident
	for _, r := range recent {
		if r.ID == i.ID {
			r = i // the one under review is not saved yet
		}
		if r.System == i.System && normCause(r.Cause) == normCause(i.Cause) && (r.State == StateClosed || r.ID == i.ID) {
			same = append(same, r)
		}
	}
	if len(same) < RepeatThreshold {
		return nil, nil
	}
	var pid int64
	for _, r := range same {
		if p, err := tx.ProblemOf(ctx, r.ID); err != nil {
			return nil, err
		} else if p != 0 {
			pid = p
		}
	}
	var p Problem
	if pid == 0 {
		p = Problem{Title: i.System + "：" + i.Cause, System: i.System, Cause: i.Cause, State: "open", Proposed: true,
			CreatedBy: core.SystemUser, CreatedAt: s.clock.Now()}
		if err := tx.InsertProblem(ctx, &p); err != nil {
			return nil, err
		}
	} else if p, err = tx.Problem(ctx, pid); err != nil {
		return nil, err
	}
	for _, r := range same {
		if err := tx.LinkProblem(ctx, r.ID, p.ID); err != nil {
			return nil, err
		}
	}
	if pid == 0 {
		data := map[string]string{"problem": itoa(p.ID), "title": p.Title, "count": itoa(int64(len(same)))}
		admins, err := s.targets(ctx, tx, Incident{}, []string{string(org.RoleSysAdmin)})
		if err != nil {
			return nil, err
		}
		if err := s.notify(ctx, tx, NoticeProblem, "problem:"+itoa(p.ID), admins, s.cfg.Channel, data); err != nil {
			return nil, err
		}
		if err := tx.Audit(ctx, auditEntry(s, core.SystemActor(), "problem.propose", "problem:"+itoa(p.ID), nil, p)); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// ProblemDetail is a problem with its incidents.
type ProblemDetail struct {
	Problem   Problem
	Incidents []Incident
}

// Problems lists the problem library with incident counts.
func (s *Service) Problems(ctx context.Context, actor core.Actor) ([]ProblemDetail, error) {
	var out []ProblemDetail
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
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
			out = append(out, ProblemDetail{Problem: p, Incidents: is})
		}
		return nil
	})
	return out, err
}

// ShowProblem returns one problem with its incidents.
func (s *Service) ShowProblem(ctx context.Context, actor core.Actor, id int64) (ProblemDetail, error) {
	var d ProblemDetail
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		p, err := tx.Problem(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("problem_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		d.Problem = p
		d.Incidents, err = tx.ProblemIncidents(ctx, id)
		return err
	})
	return d, err
}

// AddProblem records a problem by hand.
func (s *Service) AddProblem(ctx context.Context, actor core.Actor, title, system string) (Problem, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return Problem{}, core.Invalid("name", "field", "title", "value", title)
	}
	var p Problem
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		p = Problem{Title: title, System: system, State: "open", CreatedBy: actor.UserID, CreatedAt: s.clock.Now()}
		if err := tx.InsertProblem(ctx, &p); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(s, actor, "problem.add", "problem:"+itoa(p.ID), nil, p))
	})
	return p, err
}

// Link ties an incident to a problem.
func (s *Service) Link(ctx context.Context, actor core.Actor, incidentID, problemID int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		i, err := tx.Incident(ctx, incidentID, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("incident_not_found", "id", itoa(incidentID))
		} else if err != nil {
			return err
		}
		if _, err := tx.Problem(ctx, problemID); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("problem_not_found", "id", itoa(problemID))
		} else if err != nil {
			return err
		}
		if err := tx.LinkProblem(ctx, incidentID, problemID); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, incidentID, Event{At: s.clock.Now(), Actor: actor.UserID, Kind: "problem", Body: "#" + itoa(problemID)}); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(s, actor, "incident.problem.link", i.Ref(), nil, map[string]int64{"problem": problemID}))
	})
}

// Report is the monthly incident analysis (W 8.5).
type Report struct {
	Month       string
	Total       int
	ByLevel     map[int]int
	ByUnit      map[string]int
	BySystem    map[string]int
	MTTA, MTTR  time.Duration // averages over acknowledged / resolved incidents
	Acked       int
	Resolved    int
	Escalations int
	Open        int
	Repeats     []ProblemDetail // problems with two or more incidents this month
}

// MonthlyReport analyses the incidents declared in month ("2006-01").
func (s *Service) MonthlyReport(ctx context.Context, actor core.Actor, month string) (Report, error) {
	start, err := time.ParseInLocation("2006-01", month, s.cal.Location())
	if err != nil {
		return Report{}, core.Invalid("month", "value", month)
	}
	rep := Report{Month: month, ByLevel: map[int]int{}, ByUnit: map[string]int{}, BySystem: map[string]int{}}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		list, err := tx.IncidentsBetween(ctx, start, start.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		var tta, ttr time.Duration
		perProblem := map[int64]int{}
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
			if p, err := tx.ProblemOf(ctx, i.ID); err != nil {
				return err
			} else if p != 0 {
				perProblem[p]++
			}
		}
		if rep.Acked > 0 {
			rep.MTTA = tta / time.Duration(rep.Acked)
		}
		if rep.Resolved > 0 {
			rep.MTTR = ttr / time.Duration(rep.Resolved)
		}
		ids := make([]int64, 0, len(perProblem))
		for id, n := range perProblem {
			if n >= 2 {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
		for _, id := range ids {
			p, err := tx.Problem(ctx, id)
			if err != nil {
				return err
			}
			is, err := tx.ProblemIncidents(ctx, id)
			if err != nil {
				return err
			}
			rep.Repeats = append(rep.Repeats, ProblemDetail{Problem: p, Incidents: is})
		}
		return nil
	})
	return rep, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
