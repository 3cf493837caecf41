package emergency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/paging"
	"opsbot/core/routine"
)

// RemindAt is the time of day of drill and finding reminders.
const RemindAt = "09:00"

// Service keeps emergency plans, drills and warnings.
type Service struct {
	store Store
	clock core.Clock
	loc   *time.Location
	path  Path
}

// NewService returns the emergency service; path is the report path
// warnings go along.
func NewService(store Store, clock core.Clock, loc *time.Location, path Path) *Service {
	return &Service{store: store, clock: clock, loc: loc, path: path}
}

const dayLayout = "2006-01-02"

func (s *Service) daily() routine.Daily { return routine.Daily{At: RemindAt, Loc: s.loc} }

func reviewOf(p Plan) routine.Occurrence {
	return routine.Occurrence{Kind: TimerReview, Ref: p.Ref(), Key: map[string]string{"due": p.ReviewDue.UTC().Format(time.RFC3339)}}
}

// scheduleReview sets the plan's review timers: the reminder ReviewLead
// before its due date (at once when that has passed), which schedules the
// escalation at the due date.
func (s *Service) scheduleReview(ctx context.Context, tx core.Timers, p Plan) error {
	if err := tx.CancelTimers(ctx, p.Ref(), TimerReview); err != nil {
		return err
	}
	at := p.ReviewDue.Add(-ReviewLead)
	if now := s.clock.Now(); at.Before(now) {
		at = now
	}
	return reviewOf(p).Schedule(ctx, tx, routine.Remind, at)
}

func notFoundPlan(err error, id int64) error {
	if errors.Is(err, core.ErrNotFound) {
		return core.NotFound("emergency_plan_not_found", "id", strconv.FormatInt(id, 10))
	}
	return err
}

func notFoundDrill(err error, id int64) error {
	if errors.Is(err, core.ErrNotFound) {
		return core.NotFound("drill_not_found", "id", strconv.FormatInt(id, 10))
	}
	return err
}

func checkLevel(level int) error {
	if level < 1 || level > 4 {
		return core.Invalid("emergency_level", "value", strconv.Itoa(level))
	}
	return nil
}

// AddPlan registers an emergency plan of system for incidents of level,
// its document at file; its first review is due a year later.
func (s *Service) AddPlan(ctx context.Context, actor core.Actor, system, title string, level int, file string) (Plan, error) {
	system, title, file = strings.TrimSpace(system), strings.TrimSpace(title), strings.TrimSpace(file)
	if err := core.CheckName("system", system, core.MaxTitle); err != nil {
		return Plan{}, err
	}
	if err := core.CheckName("title", title, core.MaxTitle); err != nil {
		return Plan{}, err
	}
	if err := checkLevel(level); err != nil {
		return Plan{}, err
	}
	if file == "" {
		return Plan{}, core.Invalid("emergency_file")
	}
	var p Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		now := s.clock.Now()
		p = Plan{System: system, Title: title, Level: level, File: file, CreatedBy: actor.UserID, CreatedAt: now,
			ReviewDue: now.AddDate(ReviewEvery, 0, 0)}
		if err := tx.InsertEmergencyPlan(ctx, &p); err != nil {
			return err
		}
		if err := s.scheduleReview(ctx, tx, p); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "emergency.plan.add", p.Ref(), nil, p)
	})
	return p, err
}

// Plans lists the register.
func (s *Service) Plans(ctx context.Context) ([]Plan, error) {
	var out []Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		var err error
		out, err = tx.EmergencyPlans(ctx)
		return err
	})
	return out, err
}

// ShowPlan returns a plan with its drills.
func (s *Service) ShowPlan(ctx context.Context, id int64) (Plan, []Drill, error) {
	var p Plan
	var ds []Drill
	err := s.store.InDrillTx(ctx, func(tx DrillTx) error {
		var err error
		if p, err = tx.EmergencyPlan(ctx, id, false); err != nil {
			return notFoundPlan(err, id)
		}
		ds, err = tx.Drills(ctx, id)
		return err
	})
	return p, ds, err
}

// Review records a plan's annual review (W 9.1 k): the next one is due a
// year later and the pending reminder or escalation is replaced.
func (s *Service) Review(ctx context.Context, actor core.Actor, id int64, note string) (Plan, error) {
	var p Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		var err error
		if p, err = tx.EmergencyPlan(ctx, id, true); err != nil {
			return notFoundPlan(err, id)
		}
		before, now := p, s.clock.Now()
		p.ReviewedAt, p.ReviewedBy, p.ReviewNote = &now, actor.UserID, strings.TrimSpace(note)
		p.ReviewDue = now.AddDate(ReviewEvery, 0, 0)
		if err := tx.UpdateEmergencyPlan(ctx, p); err != nil {
			return err
		}
		if err := s.scheduleReview(ctx, tx, p); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "emergency.plan.review", p.Ref(), before, p)
	})
	return p, err
}

// handleReview fires a plan's review timer: the reminder to the
// operators, then, at the due date, the escalation to the sys admins.
func (s *Service) handleReview(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InPlanTx, id, s.clock.Now(), func(tx PlanTx, tm core.Timer) error {
		pid, err := tm.RefID("emergency-plan:")
		if err != nil {
			return fmt.Errorf("emergency: review %w", err)
		}
		p, err := tx.EmergencyPlan(ctx, pid, true)
		if err != nil {
			return err
		}
		o := reviewOf(p)
		done := tm.Data["due"] != o.Key["due"] // reviewed since
		return routine.Step(ctx, tx, o, routine.StageOf(tm), p.ReviewDue, routine.Chase{
			Done: done,
			Remind: func() error {
				ops, err := tx.HoldersOf(ctx, org.RoleOperator)
				if err != nil {
					return err
				}
				return routine.Tell(ctx, tx, p.Ref(), ops, ReviewDue{Plan: p.ID, System: p.System, Title: p.Title, Due: p.ReviewDue})
			},
			Escalate: func() error {
				admins, err := tx.HoldersOf(ctx, org.RoleSysAdmin)
				if err != nil {
					return err
				}
				if err := routine.Tell(ctx, tx, p.Ref(), admins, ReviewMissed{Plan: p.ID, System: p.System, Title: p.Title, Due: p.ReviewDue}); err != nil {
					return err
				}
				return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "emergency.plan.review_missed", p.Ref(), nil, p)
			},
		})
	})
}

// users checks that each id is an active org user.
func users(ctx context.Context, tx DrillTx, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if _, err := paging.ActiveUser(ctx, tx, id); err != nil {
			return nil, core.NotFound("user_not_found", "id", id)
		}
		out = routine.Union(out, []string{id})
	}
	return out, nil
}

// ScheduleDrill schedules a drill of a plan on day (YYYY-MM-DD); its
// participants (the operators when none) are reminded the day before.
func (s *Service) ScheduleDrill(ctx context.Context, actor core.Actor, planID int64, day string, participants []string) (Drill, error) {
	d0, err := time.ParseInLocation(dayLayout, day, s.loc)
	if err != nil {
		return Drill{}, core.Invalid("drill_day", "value", day)
	}
	var d Drill
	err = s.store.InDrillTx(ctx, func(tx DrillTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		if _, err := tx.EmergencyPlan(ctx, planID, false); err != nil {
			return notFoundPlan(err, planID)
		}
		ps, err := users(ctx, tx, participants)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if d0.AddDate(0, 0, 1).Before(now) {
			return core.Invalid("drill_day_past", "value", day)
		}
		d = Drill{PlanID: planID, Day: day, State: DrillScheduled, Participants: ps, CreatedBy: actor.UserID, CreatedAt: now}
		if err := tx.InsertDrill(ctx, &d); err != nil {
			return err
		}
		at := s.daily().On(d0.AddDate(0, 0, -1))
		if at.Before(now) {
			at = now
		}
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerDrill, Ref: d.Ref(), DueAt: at}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "emergency.drill.schedule", d.Ref(), nil, d)
	})
	return d, err
}

// ParseFindings reads "<finding>@<owner>@<YYYY-MM-DD>; …" (； also
// separates).
func ParseFindings(s string) ([]Finding, error) {
	var out []Finding
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, "@")
		if len(f) != 3 || strings.TrimSpace(f[0]) == "" || strings.TrimSpace(f[1]) == "" {
			return nil, core.Invalid("drill_finding", "value", part)
		}
		due := strings.TrimSpace(f[2])
		if _, err := time.Parse(dayLayout, due); err != nil {
			return nil, core.Invalid("drill_finding", "value", part)
		}
		out = append(out, Finding{N: len(out) + 1, Text: strings.TrimSpace(f[0]), Owner: strings.TrimSpace(f[1]), Due: due})
	}
	return out, nil
}

func findingOf(d Drill, n int) routine.Occurrence {
	return routine.Occurrence{Kind: TimerFinding, Ref: d.Ref(), Key: map[string]string{"n": strconv.Itoa(n)}}
}

// RecordDrill records a held drill: who took part and its findings
// ("<finding>@<owner>@<YYYY-MM-DD>; …"), each an action told to its owner,
// reminded on its due date and escalated a day later while open.
func (s *Service) RecordDrill(ctx context.Context, actor core.Actor, id int64, participants []string, findings string) (Drill, error) {
	fs, err := ParseFindings(findings)
	if err != nil {
		return Drill{}, err
	}
	var d Drill
	err = s.store.InDrillTx(ctx, func(tx DrillTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		if d, err = tx.Drill(ctx, id, true); err != nil {
			return notFoundDrill(err, id)
		}
		if d.State == DrillRecorded {
			return core.AlreadyDecided("drill_recorded", "id", strconv.FormatInt(id, 10), "by", d.RecordedBy)
		}
		ps, err := users(ctx, tx, participants)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return core.Invalid("drill_participants")
		}
		for _, f := range fs {
			if _, err := users(ctx, tx, []string{f.Owner}); err != nil {
				return err
			}
		}
		before, now := d, s.clock.Now()
		d.State, d.Participants, d.Findings, d.RecordedBy, d.RecordedAt = DrillRecorded, ps, fs, actor.UserID, &now
		if err := tx.UpdateDrill(ctx, d); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, d.Ref(), TimerDrill); err != nil {
			return err
		}
		for _, f := range fs {
			due, _ := time.ParseInLocation(dayLayout, f.Due, s.loc)
			at := s.daily().On(due)
			if at.Before(now) {
				at = now
			}
			if err := findingOf(d, f.N).Schedule(ctx, tx, routine.Remind, at); err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: d.Ref(), To: core.Recipient{User: f.Owner},
				Body: FindingNotice{Drill: d.ID, N: f.N, Text: f.Text, Owner: f.Owner, Due: f.Due, Stage: "assigned"}}); err != nil {
				return err
			}
		}
		return core.Record(ctx, tx, now, actor, "emergency.drill.record", d.Ref(), before, d)
	})
	return d, err
}

// FindingDone marks finding n of a drill done; its owner or an operator
// or sys admin may.
func (s *Service) FindingDone(ctx context.Context, actor core.Actor, id int64, n int) (Drill, error) {
	var d Drill
	err := s.store.InDrillTx(ctx, func(tx DrillTx) error {
		var err error
		if d, err = tx.Drill(ctx, id, true); err != nil {
			return notFoundDrill(err, id)
		}
		if n < 1 || n > len(d.Findings) {
			return core.NotFound("drill_finding_not_found", "id", strconv.FormatInt(id, 10), "n", strconv.Itoa(n))
		}
		if d.Findings[n-1].Owner != actor.UserID {
			if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
				return err
			}
		}
		if d.Findings[n-1].Done {
			return core.AlreadyDecided("drill_finding_done", "id", strconv.FormatInt(id, 10), "n", strconv.Itoa(n))
		}
		before, now := d, s.clock.Now()
		d.Findings = append([]Finding(nil), d.Findings...)
		d.Findings[n-1].Done, d.Findings[n-1].DoneAt = true, &now
		if err := tx.UpdateDrill(ctx, d); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "emergency.drill.finding_done", d.Ref(), before, d)
	})
	return d, err
}

// handleDrill fires a drill's reminder or a finding's timer.
func (s *Service) handleDrill(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InDrillTx, id, s.clock.Now(), func(tx DrillTx, tm core.Timer) error {
		did, err := tm.RefID("drill:")
		if err != nil {
			return fmt.Errorf("emergency: drill %w", err)
		}
		d, err := tx.Drill(ctx, did, false)
		if err != nil {
			return err
		}
		p, err := tx.EmergencyPlan(ctx, d.PlanID, false)
		if err != nil {
			return err
		}
		if tm.Kind == TimerDrill {
			if d.State != DrillScheduled {
				return nil
			}
			to := d.Participants
			if len(to) == 0 {
				if to, err = tx.HoldersOf(ctx, org.RoleOperator); err != nil {
					return err
				}
			}
			return routine.Tell(ctx, tx, d.Ref(), to, DrillDue{Drill: d.ID, System: p.System, Title: p.Title, Day: d.Day})
		}
		n, _ := strconv.Atoi(tm.Data["n"])
		if n < 1 || n > len(d.Findings) {
			return nil
		}
		f := d.Findings[n-1]
		due, _ := time.ParseInLocation(dayLayout, f.Due, s.loc)
		body := FindingNotice{Drill: d.ID, N: f.N, Text: f.Text, Owner: f.Owner, Due: f.Due}
		return routine.Step(ctx, tx, findingOf(d, n), routine.StageOf(tm), s.daily().On(due.AddDate(0, 0, 1)), routine.Chase{
			Done: f.Done,
			Remind: func() error {
				body.Stage = "due"
				return routine.Tell(ctx, tx, d.Ref(), []string{f.Owner}, body)
			},
			Escalate: func() error {
				body.Stage = "overdue"
				admins, err := tx.HoldersOf(ctx, org.RoleSysAdmin)
				if err != nil {
					return err
				}
				if err := routine.Tell(ctx, tx, d.Ref(), admins, body); err != nil {
					return err
				}
				return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "emergency.drill.finding_overdue", d.Ref(), nil, f)
			},
		})
	})
}

// HandleTimer fires an emergency timer, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error { return s.handleReview(ctx, id) }

// HandleDrillTimer fires a drill or finding timer, once.
func (s *Service) HandleDrillTimer(ctx context.Context, id int64) error {
	return s.handleDrill(ctx, id)
}

// Issue issues an early warning of level along the report path (W 9.3 a).
func (s *Service) Issue(ctx context.Context, actor core.Actor, level int, text string) (Warning, error) {
	text = strings.TrimSpace(text)
	if err := checkLevel(level); err != nil {
		return Warning{}, err
	}
	if err := core.CheckName("text", text, core.MaxTitle*5); err != nil {
		return Warning{}, err
	}
	var w Warning
	err := s.store.InWarnTx(ctx, func(tx WarnTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		w = Warning{Level: level, Text: text, State: WarningIssued, IssuedBy: actor.UserID, IssuedAt: s.clock.Now()}
		if err := tx.InsertWarning(ctx, &w); err != nil {
			return err
		}
		to, err := s.path.Recipients(ctx, tx)
		if err != nil {
			return err
		}
		if err := send(ctx, tx, w.Ref(), to, WarningIssuedNotice{Warning: w.ID, Level: level, Text: text, By: actor.UserID}); err != nil {
			return err
		}
		return core.Record(ctx, tx, w.IssuedAt, actor, "emergency.warning.issue", w.Ref(), nil, w)
	})
	return w, err
}

// Lift lifts a warning, reported along the same path.
func (s *Service) Lift(ctx context.Context, actor core.Actor, id int64, text string) (Warning, error) {
	var w Warning
	err := s.store.InWarnTx(ctx, func(tx WarnTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "emergency_forbidden"); err != nil {
			return err
		}
		var err error
		if w, err = tx.Warning(ctx, id, true); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("warning_not_found", "id", strconv.FormatInt(id, 10))
		} else if err != nil {
			return err
		}
		if w.State == WarningLifted {
			return core.AlreadyDecided("warning_lifted", "id", strconv.FormatInt(id, 10), "by", w.LiftedBy)
		}
		before, now := w, s.clock.Now()
		w.State, w.LiftedBy, w.LiftedAt, w.LiftText = WarningLifted, actor.UserID, &now, strings.TrimSpace(text)
		if err := tx.UpdateWarning(ctx, w); err != nil {
			return err
		}
		to, err := s.path.Recipients(ctx, tx)
		if err != nil {
			return err
		}
		if err := send(ctx, tx, w.Ref(), to, WarningLiftedNotice{Warning: w.ID, Level: w.Level, Text: w.Text, Lift: w.LiftText, By: actor.UserID}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "emergency.warning.lift", w.Ref(), before, w)
	})
	return w, err
}
