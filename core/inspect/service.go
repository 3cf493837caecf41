package inspect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/cron"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Config tunes inspections.
type Config struct {
	Grace      time.Duration // reminder after due, escalation the same time later
	IssueLevel int           // level of incidents opened by Issue items
	Channel    string        // also sees the checklist cards ("" for none)
}

// Service carries out inspection commands and timers.
type Service struct {
	store     Store
	clock     core.Clock
	cal       *calendar.Calendar
	incidents *incident.Service
	cfg       Config
}

// NewService returns the inspection service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, incidents *incident.Service, cfg Config) *Service {
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Hour
	}
	if cfg.IssueLevel < 1 || cfg.IssueLevel > 4 {
		cfg.IssueLevel = 3
	}
	return &Service{store: store, clock: clock, cal: cal, incidents: incidents, cfg: cfg}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Service) audit(ctx context.Context, tx Tx, actor core.Actor, action, entity string, after, before any) error {
	return tx.Audit(ctx, core.Change(s.clock.Now(), actor, action, entity, before, after))
}

// assignees resolves a plan's assignee (a user id or a role) to users.
func assignees(ctx context.Context, tx Tx, assignee string) ([]string, error) {
	if r := org.Role(assignee); r.Valid() {
		return org.HoldersOf(ctx, tx, r)
	}
	u, err := tx.User(ctx, assignee)
	if errors.Is(err, core.ErrNotFound) || (err == nil && u.Removed) {
		return nil, core.NotFound("assignee_not_found", "value", assignee)
	}
	if err != nil {
		return nil, err
	}
	return []string{u.ID}, nil
}

// PlanOptions override a plan's defaults (zero: the configured ones).
type PlanOptions struct {
	Grace time.Duration // reminder after due, escalation the same time later
	Level int           // of incidents opened by Issue items
}

// AddPlan adds an inspection plan and schedules its first run.
func (s *Service) AddPlan(ctx context.Context, actor core.Actor, name, spec, assignee string, items []string, opts PlanOptions) (Plan, error) {
	if !org.ValidCode(name) {
		return Plan{}, core.Invalid("code", "field", "name", "value", name)
	}
	if opts.Grace == 0 {
		opts.Grace = s.cfg.Grace
	}
	if opts.Grace < time.Minute || opts.Grace > 7*24*time.Hour {
		return Plan{}, core.Invalid("inspect_grace", "value", opts.Grace.String())
	}
	if opts.Level == 0 {
		opts.Level = s.cfg.IssueLevel
	}
	if opts.Level < 1 || opts.Level > 4 {
		return Plan{}, core.Invalid("incident_level", "value", strconv.Itoa(opts.Level))
	}
	sched, err := cron.Parse(spec)
	if err != nil {
		return Plan{}, core.Invalid("cron", "value", spec, "reason", err.Error())
	}
	var clean []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" && !slices.Contains(clean, it) {
			clean = append(clean, it)
		}
	}
	if len(clean) == 0 || len(clean) > 20 {
		return Plan{}, core.Invalid("inspect_items")
	}
	var p Plan
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := org.RequirePlatform(ctx, tx, actor.UserID, "inspect_manage"); err != nil {
			return err
		}
		if us, err := assignees(ctx, tx, assignee); err != nil {
			return err
		} else if len(us) == 0 {
			return core.Conflict("assignee_empty", "value", assignee)
		}
		if _, err := tx.Plan(ctx, name); err == nil {
			return core.Conflict("inspect_plan_exists", "name", name)
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		now := s.clock.Now()
		next := sched.Next(now.In(s.cal.Location()))
		if next.IsZero() {
			return core.Invalid("cron", "value", spec, "reason", "never matches")
		}
		p = Plan{Name: name, Cron: sched.String(), Assignee: assignee, Items: clean, Grace: opts.Grace, Level: opts.Level,
			Active: true, CreatedBy: actor.UserID, CreatedAt: now}
		if err := tx.InsertPlan(ctx, &p); err != nil {
			return err
		}
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerDue, Ref: p.Ref(), DueAt: next}); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "inspect.plan.add", p.Ref(), p, nil)
	})
	return p, err
}

// RemovePlan stops a plan; its runs stay on record.
func (s *Service) RemovePlan(ctx context.Context, actor core.Actor, name string) (Plan, error) {
	var p Plan
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := org.RequirePlatform(ctx, tx, actor.UserID, "inspect_manage"); err != nil {
			return err
		}
		var err error
		if p, err = s.plan(ctx, tx, name); err != nil {
			return err
		}
		before := p
		p.Active = false
		if err := tx.UpdatePlan(ctx, p); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, p.Ref(), TimerDue); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "inspect.plan.remove", p.Ref(), p, before)
	})
	return p, err
}

func (s *Service) plan(ctx context.Context, tx Tx, name string) (Plan, error) {
	p, err := tx.Plan(ctx, name)
	if errors.Is(err, core.ErrNotFound) || (err == nil && !p.Active) {
		return Plan{}, core.NotFound("inspect_plan_not_found", "name", name)
	}
	return p, err
}

// Plans lists the active plans with their next run.
func (s *Service) Plans(ctx context.Context) ([]PlanInfo, error) {
	var out []PlanInfo
	err := s.store.InTx(ctx, func(tx Tx) error {
		ps, err := tx.Plans(ctx)
		for _, p := range ps {
			info := PlanInfo{Plan: p}
			if sched, err := cron.Parse(p.Cron); err == nil {
				info.Next = sched.Next(s.clock.Now().In(s.cal.Location()))
			}
			out = append(out, info)
		}
		return err
	})
	return out, err
}

// PlanInfo is a plan with its next run.
type PlanInfo struct {
	Plan Plan
	Next time.Time
}

// CardData is what a checklist card shows: the run, its items and their
// states ("ok", "issue" or "" when not reported), joined by newlines.
func (s *Service) CardData(r Run) map[string]string {
	states := make([]string, len(r.Items))
	for i := range r.Items {
		if res, ok := r.Results[i+1]; ok {
			states[i] = map[bool]string{true: "ok", false: "issue"}[res.OK]
		}
	}
	return map[string]string{"id": itoa(r.ID), "plan": r.Plan, "items": strings.Join(r.Items, "\n"),
		"states": strings.Join(states, "\n"), "state": r.State, "assignees": strings.Join(r.Assignees, ","),
		"due": r.DueAt.In(s.cal.Location()).Format("2006-01-02 15:04"), "issues": strconv.Itoa(r.Issues()),
		"missed": strconv.FormatBool(r.Missed)}
}

func (s *Service) tell(ctx context.Context, tx Tx, kind string, r Run, users []string, extra map[string]string) error {
	data := s.CardData(r)
	for k, v := range extra {
		data[k] = v
	}
	for _, u := range users {
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{User: u}, Body: core.Legacy{Kind: kind, Data: data}}); err != nil {
			return err
		}
	}
	return nil
}

// HandleTimer fires a plan's run or a run's grace timer, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		tm, ok, err := tx.ClaimTimer(ctx, id, s.clock.Now())
		if err != nil || !ok {
			return err
		}
		switch tm.Kind {
		case TimerDue:
			return s.startRun(ctx, tx, tm)
		case TimerGrace:
			return s.grace(ctx, tx, tm)
		}
		return fmt.Errorf("inspect: unknown timer kind %q", tm.Kind)
	})
}

// startRun creates a plan's run, sends the checklist and schedules the
// next run.
func (s *Service) startRun(ctx context.Context, tx Tx, tm core.Timer) error {
	var pid int64
	if _, err := fmt.Sscanf(tm.Ref, "inspect-plan:%d", &pid); err != nil {
		return fmt.Errorf("inspect: timer ref %q: %w", tm.Ref, err)
	}
	p, err := tx.PlanByID(ctx, pid, true)
	if err != nil || !p.Active {
		return err
	}
	now := s.clock.Now()
	if sched, err := cron.Parse(p.Cron); err == nil {
		from := tm.DueAt
		if now.After(from) {
			from = now // after an outage, resume from now rather than replaying missed slots
		}
		if next := sched.Next(from.In(s.cal.Location())); !next.IsZero() {
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerDue, Ref: p.Ref(), DueAt: next}); err != nil {
				return err
			}
		}
	}
	users, err := assignees(ctx, tx, p.Assignee)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return err
	}
	r := Run{PlanID: p.ID, Plan: p.Name, Items: p.Items, Assignees: users, DueAt: tm.DueAt, State: StatePending, Results: map[int]Result{}}
	if err := tx.InsertRun(ctx, &r); err != nil {
		return err
	}
	if err := s.tell(ctx, tx, NoticeCard, r, users, nil); err != nil {
		return err
	}
	if s.cfg.Channel != "" {
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{Channel: s.cfg.Channel}, Body: core.Legacy{Kind: NoticeCard, Data: s.CardData(r)}}); err != nil {
			return err
		}
	}
	if err := tx.Schedule(ctx, core.Timer{Kind: TimerGrace, Ref: r.Ref(), DueAt: tm.DueAt.Add(p.Grace), Data: map[string]string{"stage": "remind"}}); err != nil {
		return err
	}
	return s.audit(ctx, tx, core.SystemActor(), "inspect.run", r.Ref(), r, nil)
}

// grace reminds the assignees of an unreported run, then tells their admins.
func (s *Service) grace(ctx context.Context, tx Tx, tm core.Timer) error {
	var rid int64
	if _, err := fmt.Sscanf(tm.Ref, "inspect:%d", &rid); err != nil {
		return fmt.Errorf("inspect: timer ref %q: %w", tm.Ref, err)
	}
	r, err := tx.Run(ctx, rid, true)
	if err != nil || r.State != StatePending {
		return err
	}
	if tm.Data["stage"] != "escalate" {
		p, err := tx.PlanByID(ctx, r.PlanID, false)
		if err != nil {
			return err
		}
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerGrace, Ref: r.Ref(), DueAt: s.clock.Now().Add(p.Grace), Data: map[string]string{"stage": "escalate"}}); err != nil {
			return err
		}
		return s.tell(ctx, tx, NoticeRemind, r, r.Assignees, nil)
	}
	before := r
	r.Missed = true
	if err := tx.UpdateRun(ctx, r); err != nil {
		return err
	}
	var admins []string
	for _, u := range r.Assignees {
		as, err := org.AdminsOf(ctx, tx, u)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		for _, a := range as {
			if !slices.Contains(admins, a) {
				admins = append(admins, a)
			}
		}
	}
	if len(admins) == 0 {
		if admins, err = org.HoldersOf(ctx, tx, org.RoleSysAdmin); err != nil {
			return err
		}
	}
	if err := s.tell(ctx, tx, NoticeEscalated, r, admins, nil); err != nil {
		return err
	}
	return s.audit(ctx, tx, core.SystemActor(), "inspect.missed", r.Ref(), r, before)
}

// Outcome is what marking items did.
type Outcome struct {
	Run       Run
	Incidents []incident.Incident
}

// Mark records items of a run as OK or Issue. items are 1-based; none
// means every item not yet reported. An Issue opens an incident.
func (s *Service) Mark(ctx context.Context, actor core.Actor, runID int64, items []int, ok bool, note string) (Outcome, error) {
	var out Outcome
	note = strings.TrimSpace(note)
	err := s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.Run(ctx, runID, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("inspect_run_not_found", "id", itoa(runID))
		} else if err != nil {
			return err
		}
		out, err = s.mark(ctx, tx, actor, r, items, ok, note)
		return err
	})
	return out, err
}

// Report records the outcome of a plan's latest open run.
func (s *Service) Report(ctx context.Context, actor core.Actor, planName string, items []int, ok bool, note string) (Outcome, error) {
	var out Outcome
	note = strings.TrimSpace(note)
	err := s.store.InTx(ctx, func(tx Tx) error {
		p, err := s.plan(ctx, tx, planName)
		if err != nil {
			return err
		}
		runs, err := tx.Runs(ctx, p.ID, time.Time{}, s.clock.Now().Add(time.Minute), 20)
		if err != nil {
			return err
		}
		idx := slices.IndexFunc(runs, func(r Run) bool { return r.State == StatePending })
		if idx < 0 {
			return core.Conflict("inspect_no_open_run", "name", planName)
		}
		r, err := tx.Run(ctx, runs[idx].ID, true)
		if err != nil {
			return err
		}
		out, err = s.mark(ctx, tx, actor, r, items, ok, note)
		return err
	})
	return out, err
}

func (s *Service) mark(ctx context.Context, tx Tx, actor core.Actor, r Run, items []int, ok bool, note string) (Outcome, error) {
	if !slices.Contains(r.Assignees, actor.UserID) {
		if err := org.RequirePlatform(ctx, tx, actor.UserID, "inspect_not_yours", "id", itoa(r.ID)); err != nil {
			return Outcome{}, err
		}
	}
	if r.State != StatePending {
		return Outcome{}, core.Conflict("inspect_run_done", "id", itoa(r.ID))
	}
	if len(items) == 0 {
		if !ok {
			return Outcome{}, core.Invalid("inspect_issue_item")
		}
		for i := range r.Items {
			if _, done := r.Results[i+1]; !done {
				items = append(items, i+1)
			}
		}
	}
	before := r
	before.Results = maps.Clone(r.Results)
	now := s.clock.Now()
	out := Outcome{}
	level := 0 // the plan's incident level, read at the first Issue
	for _, it := range items {
		if it < 1 || it > len(r.Items) {
			return Outcome{}, core.Invalid("inspect_item", "value", strconv.Itoa(it), "max", strconv.Itoa(len(r.Items)))
		}
		if _, done := r.Results[it]; done {
			return Outcome{}, core.Conflict("inspect_item_done", "item", r.Items[it-1])
		}
		res := Result{OK: ok, Note: note, By: actor.UserID, At: now}
		if !ok {
			if level == 0 {
				p, err := tx.PlanByID(ctx, r.PlanID, false)
				if err != nil {
					return Outcome{}, err
				}
				level = p.Level
			}
			inc, err := s.incidents.DeclareIn(ctx, tx, actor, incident.TitleWithNote(r.Plan+" · "+r.Items[it-1], note), level, "", "")
			if err != nil {
				return Outcome{}, err
			}
			res.Incident = inc.ID
			out.Incidents = append(out.Incidents, inc)
		}
		r.Results[it] = res
	}
	if len(r.Results) == len(r.Items) {
		r.State, r.DoneAt = StateDone, &now
		if err := tx.CancelTimers(ctx, r.Ref(), TimerGrace); err != nil {
			return Outcome{}, err
		}
	}
	if err := tx.UpdateRun(ctx, r); err != nil {
		return Outcome{}, err
	}
	if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.CardData(r)}}); err != nil {
		return Outcome{}, err
	}
	for _, inc := range out.Incidents {
		if err := s.tell(ctx, tx, NoticeIssue, r, without(r.Assignees, actor.UserID), map[string]string{"incident": itoa(inc.ID), "by": actor.UserID, "note": note}); err != nil {
			return Outcome{}, err
		}
	}
	out.Run = r
	return out, s.audit(ctx, tx, actor, "inspect.report", r.Ref(), r, before)
}

func without(users []string, u string) []string {
	return slices.DeleteFunc(slices.Clone(users), func(x string) bool { return x == u })
}

// Log lists a plan's latest runs.
func (s *Service) Log(ctx context.Context, planName string, limit int) (Plan, []Run, error) {
	var p Plan
	var runs []Run
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.Plan(ctx, planName); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("inspect_plan_not_found", "name", planName)
		} else if err != nil {
			return err
		}
		runs, err = tx.Runs(ctx, p.ID, time.Time{}, s.clock.Now().Add(time.Minute), limit)
		return err
	})
	return p, runs, err
}

// PlanSummary counts a plan's runs in a period.
type PlanSummary struct {
	Plan               string
	Runs, Done, Missed int
	Pending, Issues    int
	IssueItems         []string // "item (incident #n)"
}

// Summary is the periodic inspection report (monthly, quarterly) for [from, to).
func (s *Service) Summary(ctx context.Context, from, to time.Time) ([]PlanSummary, error) {
	var out []PlanSummary
	err := s.store.InTx(ctx, func(tx Tx) error {
		runs, err := tx.Runs(ctx, 0, from, to, 100000)
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for i := len(runs) - 1; i >= 0; i-- { // oldest first
			r := runs[i]
			k, ok := idx[r.Plan]
			if !ok {
				k = len(out)
				idx[r.Plan] = k
				out = append(out, PlanSummary{Plan: r.Plan})
			}
			ps := &out[k]
			ps.Runs++
			switch {
			case r.State == StateDone:
				ps.Done++
			case r.Missed:
				// counted below
			default:
				ps.Pending++
			}
			if r.Missed {
				ps.Missed++
			}
			for i, item := range r.Items {
				if res, ok := r.Results[i+1]; ok && !res.OK {
					ps.Issues++
					ps.IssueItems = append(ps.IssueItems, fmt.Sprintf("%s %s (#%d)", r.DueAt.In(s.cal.Location()).Format("01-02"), item, res.Incident))
				}
			}
		}
		return nil
	})
	return out, err
}
