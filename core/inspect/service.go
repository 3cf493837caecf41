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
	"opsbot/core/routine"
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
	incidents IncidentOpener
	cfg       Config
}

// NewService returns the inspection service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, incidents IncidentOpener, cfg Config) *Service {
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Hour
	}
	if cfg.IssueLevel < 1 || cfg.IssueLevel > 4 {
		cfg.IssueLevel = 3
	}
	return &Service{store: store, clock: clock, cal: cal, incidents: incidents, cfg: cfg}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// directory is the org look-up resolving assignees.
type directory interface {
	routine.Directory
	User(ctx context.Context, id string) (org.User, error)
}

// assignees resolves a plan's assignee (a user id or a role) to users;
// a user must be in the org.
func assignees(ctx context.Context, tx directory, assignee string) ([]string, error) {
	if r := org.Role(assignee); r.Valid() {
		return tx.HoldersOf(ctx, r)
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

// maxItems is the most items a checklist holds.
const maxItems = 20

// slots is a schedule's next-slot function (the first slot strictly
// after a time) and whether a slot is still due: a workday plan's slot on
// a day declared a holiday since it was scheduled is not.
type slots struct {
	next func(after time.Time) time.Time
	due  func(slot time.Time) bool
}

// slotsOf checks a schedule: a cron spec, or a time of day on working
// days; exactly one of them.
func (s *Service) slotsOf(sc Schedule) (Schedule, slots, error) {
	switch {
	case (sc.Cron == "") == (sc.Workdays == ""):
		return sc, slots{}, core.Invalid("inspect_schedule")
	case sc.Workdays != "":
		hm, err := time.Parse("15:04", sc.Workdays)
		if err != nil {
			return sc, slots{}, core.Invalid("inspect_workdays", "value", sc.Workdays)
		}
		w := routine.Workdays{At: hm.Format("15:04"), Cal: s.cal}
		return Schedule{Workdays: w.At}, slots{next: w.Next, due: w.Due}, nil
	}
	c, err := cron.Parse(sc.Cron)
	if err != nil {
		return sc, slots{}, core.Invalid("cron", "value", sc.Cron, "reason", err.Error())
	}
	next := func(after time.Time) time.Time { return c.Next(after.In(s.cal.Location())) }
	return Schedule{Cron: c.String()}, slots{next: next, due: func(time.Time) bool { return true }}, nil
}

// AddPlan adds an inspection plan and schedules its first run.
func (s *Service) AddPlan(ctx context.Context, actor core.Actor, name string, sc Schedule, assignee string, items []string, opts PlanOptions) (Plan, error) {
	if err := org.CheckCode("name", name); err != nil {
		return Plan{}, err
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
	sc, sched, err := s.slotsOf(sc)
	if err != nil {
		return Plan{}, err
	}
	var clean []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" && !slices.Contains(clean, it) {
			clean = append(clean, it)
		}
	}
	if len(clean) == 0 || len(clean) > maxItems {
		return Plan{}, core.Invalid("inspect_items", "max", strconv.Itoa(maxItems))
	}
	var p Plan
	err = s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "inspect_manage"); err != nil {
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
		next := sched.next(now)
		if next.IsZero() {
			return core.Invalid("cron", "value", sc.Cron+sc.Workdays, "reason", "never matches")
		}
		p = Plan{Name: name, Cron: sc.Cron, Workdays: sc.Workdays, Assignee: assignee, Items: clean, Grace: opts.Grace, Level: opts.Level,
			Active: true, CreatedBy: actor.UserID, CreatedAt: now}
		if err := tx.InsertPlan(ctx, &p); err != nil {
			return err
		}
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerDue, Ref: p.Ref(), DueAt: next}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "inspect.plan.add", p.Ref(), nil, p)
	})
	return p, err
}

// RemovePlan stops a plan; its runs stay on record.
func (s *Service) RemovePlan(ctx context.Context, actor core.Actor, name string) (Plan, error) {
	var p Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "inspect_manage"); err != nil {
			return err
		}
		var err error
		if p, err = activePlan(ctx, tx, name); err != nil {
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
		return core.Record(ctx, tx, s.clock.Now(), actor, "inspect.plan.remove", p.Ref(), before, p)
	})
	return p, err
}

// planFinder finds plans by name.
type planFinder interface {
	Plan(ctx context.Context, name string) (Plan, error)
}

// activePlan is the active plan of that name, or inspect_plan_not_found.
func activePlan(ctx context.Context, tx planFinder, name string) (Plan, error) {
	p, err := tx.Plan(ctx, name)
	if errors.Is(err, core.ErrNotFound) || (err == nil && !p.Active) {
		return Plan{}, core.NotFound("inspect_plan_not_found", "name", name)
	}
	return p, err
}

// Plans lists the active plans with their next run.
func (s *Service) Plans(ctx context.Context) ([]PlanInfo, error) {
	var out []PlanInfo
	err := s.store.Read(ctx, func(tx Reader) error {
		ps, err := tx.Plans(ctx)
		for _, p := range ps {
			info := PlanInfo{Plan: p}
			if _, sched, err := s.slotsOf(p.Schedule()); err == nil {
				info.Next = sched.next(s.clock.Now())
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

// HandleTimer fires a plan's run or a run's grace timer, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx Tx, tm core.Timer) error {
		switch tm.Kind {
		case TimerDue:
			return s.startRun(ctx, tx, tm)
		case TimerGrace:
			return s.grace(ctx, tx, tm)
		}
		return fmt.Errorf("inspect: unknown timer kind %q", tm.Kind)
	})
}

// graceOf is a run as a routine occurrence chased by its grace timers.
func graceOf(r Run) routine.Occurrence {
	return routine.Occurrence{Kind: TimerGrace, Ref: r.Ref()}
}

// startRun creates a plan's run, sends the checklist and schedules the
// next run.
func (s *Service) startRun(ctx context.Context, tx Tx, tm core.Timer) error {
	pid, err := tm.RefID("inspect-plan:")
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	p, err := tx.PlanByID(ctx, pid, true)
	if err != nil || !p.Active {
		return err
	}
	now := s.clock.Now()
	_, sched, err := s.slotsOf(p.Schedule())
	if err != nil {
		return fmt.Errorf("inspect: plan %s: %w", p.Name, err)
	}
	if next := routine.Next(sched.next, tm.DueAt, now); !next.IsZero() {
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerDue, Ref: p.Ref(), DueAt: next}); err != nil {
			return err
		}
	}
	if !sched.due(tm.DueAt) {
		return nil // the day became a holiday after this run was scheduled
	}
	_, err = s.openRun(ctx, tx, p, tm.DueAt, core.SystemActor(), "inspect.run")
	return err
}

// openRun creates a run of plan p due at, sends its checklist, schedules
// its grace timer and records action by actor.
func (s *Service) openRun(ctx context.Context, tx Tx, p Plan, due time.Time, actor core.Actor, action string) (Run, error) {
	users, err := assignees(ctx, tx, p.Assignee)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return Run{}, err
	}
	r := Run{PlanID: p.ID, Plan: p.Name, Items: p.Items, Assignees: users, DueAt: due, State: StatePending, Results: map[int]Result{}}
	if err := tx.InsertRun(ctx, &r); err != nil {
		return Run{}, err
	}
	card := Card{ChecklistOf(r)}
	if err := routine.Tell(ctx, tx, r.Ref(), users, card); err != nil {
		return Run{}, err
	}
	if s.cfg.Channel != "" {
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{Channel: s.cfg.Channel}, Body: card}); err != nil {
			return Run{}, err
		}
	}
	if err := graceOf(r).Schedule(ctx, tx, routine.Remind, due.Add(p.Grace)); err != nil {
		return Run{}, err
	}
	return r, core.Record(ctx, tx, s.clock.Now(), actor, action, r.Ref(), nil, r)
}

// RunNow starts a run of an active plan at once, outside its schedule
// (which stays as it is): operators and the sys admin only, audited as
// inspect.run.now.
func (s *Service) RunNow(ctx context.Context, actor core.Actor, name string) (Run, error) {
	var r Run
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "inspect_manage"); err != nil {
			return err
		}
		p, err := activePlan(ctx, tx, name)
		if err != nil {
			return err
		}
		r, err = s.openRun(ctx, tx, p, s.clock.Now(), actor, "inspect.run.now")
		return err
	})
	return r, err
}

// grace reminds the assignees of an unreported run, then tells their admins.
func (s *Service) grace(ctx context.Context, tx Tx, tm core.Timer) error {
	rid, err := tm.RefID("inspect:")
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	r, err := tx.Run(ctx, rid, true)
	if err != nil {
		return err
	}
	stage := routine.StageOf(tm)
	escalateAt := time.Time{}
	if stage == routine.Remind && r.State == StatePending {
		p, err := tx.PlanByID(ctx, r.PlanID, false)
		if err != nil {
			return err
		}
		escalateAt = s.clock.Now().Add(p.Grace)
	}
	return routine.Step(ctx, tx, graceOf(r), stage, escalateAt, routine.Chase{
		Done:   r.State != StatePending,
		Remind: func() error { return routine.Tell(ctx, tx, r.Ref(), r.Assignees, Remind{ChecklistOf(r)}) },
		Escalate: func() error {
			before := r
			r.Missed = true
			if err := tx.UpdateRun(ctx, r); err != nil {
				return err
			}
			admins, err := routine.AdminsOf(ctx, tx, r.Assignees)
			if err != nil {
				return err
			}
			if len(admins) == 0 {
				if admins, err = tx.HoldersOf(ctx, org.RoleSysAdmin); err != nil {
					return err
				}
			}
			if err := routine.Tell(ctx, tx, r.Ref(), admins, Escalated{ChecklistOf(r)}); err != nil {
				return err
			}
			return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "inspect.missed", r.Ref(), before, r)
		},
	})
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
		p, err := activePlan(ctx, tx, planName)
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
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "inspect_not_yours", "id", itoa(r.ID)); err != nil {
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
	if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), Body: Updated{ChecklistOf(r)}}); err != nil {
		return Outcome{}, err
	}
	for _, inc := range out.Incidents {
		issue := Issue{Checklist: ChecklistOf(r), Incident: inc.ID, By: actor.UserID, Note: note}
		if err := routine.Tell(ctx, tx, r.Ref(), without(r.Assignees, actor.UserID), issue); err != nil {
			return Outcome{}, err
		}
	}
	out.Run = r
	return out, core.Record(ctx, tx, now, actor, "inspect.report", r.Ref(), before, r)
}

func without(users []string, u string) []string {
	return slices.DeleteFunc(slices.Clone(users), func(x string) bool { return x == u })
}

// Log lists a plan's latest runs.
func (s *Service) Log(ctx context.Context, planName string, limit int) (Plan, []Run, error) {
	var p Plan
	var runs []Run
	err := s.store.Read(ctx, func(tx Reader) error {
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

// PeriodSummary is Summary for a month (YYYY-MM) or a quarter (YYYY-Qn),
// this month when neither is given (calendar.ReportSpan), with the
// period's label.
func (s *Service) PeriodSummary(ctx context.Context, month, quarter string, keep func(unit string, people ...string) bool) (string, []PlanSummary, error) {
	from, to, label, err := calendar.ReportSpan(month, quarter, s.clock.Now(), s.cal.Location())
	if err != nil {
		return "", nil, err
	}
	sums, err := s.Summary(ctx, from, to, keep)
	return label, sums, err
}

// Summary is the periodic inspection report (monthly, quarterly) for
// [from, to) of the runs keep keeps: a run is kept when one of its
// assignees is, given the assignee's unit (now) and the assignee (so a
// view of units keeps the runs of their people, a member's view the runs
// assigned to them); keep nil keeps every run. Callers pass an org.View's
// Keeps.
func (s *Service) Summary(ctx context.Context, from, to time.Time, keep func(unit string, people ...string) bool) ([]PlanSummary, error) {
	var out []PlanSummary
	err := s.store.Read(ctx, func(tx Reader) error {
		units := map[string]string{} // assignee → unit
		kept := func(r Run) (bool, error) {
			if keep == nil {
				return true, nil
			}
			for _, a := range r.Assignees {
				u, ok := units[a]
				if !ok {
					user, err := tx.User(ctx, a)
					if err != nil && !errors.Is(err, core.ErrNotFound) {
						return false, err
					}
					u = user.Unit
					units[a] = u
				}
				if keep(u, a) {
					return true, nil
				}
			}
			return false, nil
		}
		runs, err := tx.Runs(ctx, 0, from, to, 100000)
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for i := len(runs) - 1; i >= 0; i-- { // oldest first
			r := runs[i]
			if ok, err := kept(r); err != nil {
				return err
			} else if !ok {
				continue
			}
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
