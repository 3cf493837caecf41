package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/routine"
)

// Config tunes backup checks.
type Config struct {
	Grace     time.Duration // from a missed deadline's reminder to its escalation
	FailLevel int           // level of the incident a failed backup or restore test opens
	VerifyDay int           // day of the month the restore test is due by
	Lead      string        // user id or role signing off the monthly audit
}

// Service carries out backup commands and timers.
type Service struct {
	store     Store
	clock     core.Clock
	cal       *calendar.Calendar
	incidents IncidentOpener
	cfg       Config
}

// NewService returns the backup service.
// FailedTitle is in the title of the incident a failed backup opens:
// "<system> backup failed <day>[: <note>]" (day YYYY-MM-DD). Core stays language-neutral: the title
// is a stable marker that the bot renders in the reader's language (rows
// stored before, with the same words, render the same way).
const FailedTitle = "backup failed "

func NewService(store Store, clock core.Clock, cal *calendar.Calendar, incidents IncidentOpener, cfg Config) *Service {
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.FailLevel < 1 || cfg.FailLevel > 4 {
		cfg.FailLevel = 3
	}
	if cfg.VerifyDay < 1 || cfg.VerifyDay > 28 {
		cfg.VerifyDay = 25
	}
	if cfg.Lead == "" {
		cfg.Lead = string(org.RoleSysAdmin)
	}
	return &Service{store: store, clock: clock, cal: cal, incidents: incidents, cfg: cfg}
}

const dayLayout = "2006-01-02"

func (s *Service) loc() *time.Location { return s.cal.Location() }

// daily is a plan's schedule: its report deadline every day.
func (s *Service) daily(p Plan) routine.Daily { return routine.Daily{At: p.DailyAt, Loc: s.loc()} }

// checkOf is the daily check of day as a routine occurrence.
func checkOf(p Plan, day string) routine.Occurrence {
	return routine.Occurrence{Kind: TimerCheck, Ref: p.Ref(), Key: map[string]string{"day": day}}
}

// restoreOf is the restore test of month as a routine occurrence.
func restoreOf(p Plan, month string) routine.Occurrence {
	return routine.Occurrence{Kind: TimerVerify, Ref: p.Ref(), Key: map[string]string{"month": month}}
}

// scheduleCheck sets the timer of the plan's check due at deadline.
func scheduleCheck(ctx context.Context, tx core.Timers, p Plan, deadline time.Time) error {
	return checkOf(p, deadline.Format(dayLayout)).Schedule(ctx, tx, routine.Remind, deadline)
}

// verifyDue is the restore-test deadline of month m (its VerifyDay, 18:00).
func (s *Service) verifyDue(m time.Time) time.Time {
	return time.Date(m.Year(), m.Month(), s.cfg.VerifyDay, 18, 0, 0, 0, s.loc())
}

// verifyRemind is three days before the restore-test deadline, 09:00.
func (s *Service) verifyRemind(m time.Time) time.Time {
	d := s.verifyDue(m).AddDate(0, 0, -3)
	return time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, s.loc())
}

// scheduleVerify sets the plan's next restore-test timer after now.
func (s *Service) scheduleVerify(ctx context.Context, tx core.Timers, p Plan, now time.Time) error {
	m := now.In(s.loc())
	month := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, s.loc())
	for range 3 {
		o := restoreOf(p, month.Format("2006-01"))
		if r := s.verifyRemind(month); r.After(now) {
			return o.Schedule(ctx, tx, routine.Remind, r)
		}
		if d := s.verifyDue(month); d.After(now) {
			return o.Schedule(ctx, tx, routine.Escalate, d)
		}
		month = month.AddDate(0, 1, 0)
	}
	return nil
}

// AddPlan adds a backup plan for system with its policy (W 8.4.1; empty
// fields may be set later with SetPolicy).
func (s *Service) AddPlan(ctx context.Context, actor core.Actor, system, dailyAt string, fullDay int, pol Policy) (Plan, error) {
	if err := org.CheckCode("system", system); err != nil {
		return Plan{}, err
	}
	hm, err := time.Parse("15:04", dailyAt)
	if err != nil {
		return Plan{}, core.Invalid("clock", "value", dailyAt)
	}
	if fullDay < 0 || fullDay > 28 {
		return Plan{}, core.Invalid("backup_full_day", "value", strconv.Itoa(fullDay))
	}
	var p Plan
	err = s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "backup_manage"); err != nil {
			return err
		}
		pol = pol.clean()
		if err := checkPolicy(ctx, tx, pol); err != nil {
			return err
		}
		if _, err := tx.BackupPlan(ctx, system); err == nil {
			return core.Conflict("backup_plan_exists", "system", system)
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		now := s.clock.Now()
		p = Plan{System: system, DailyAt: hm.Format("15:04"), FullDay: fullDay, Active: true, CreatedBy: actor.UserID, CreatedAt: now, Policy: pol}
		if err := tx.InsertBackupPlan(ctx, &p); err != nil {
			return err
		}
		if err := scheduleCheck(ctx, tx, p, s.daily(p).Next(now)); err != nil {
			return err
		}
		if err := s.scheduleVerify(ctx, tx, p, now); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "backup.plan.add", p.Ref(), nil, p)
	})
	return p, err
}

// RemovePlan stops a plan's checks; its records stay.
func (s *Service) RemovePlan(ctx context.Context, actor core.Actor, system string) (Plan, error) {
	var p Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "backup_manage"); err != nil {
			return err
		}
		var err error
		if p, err = activePlan(ctx, tx, system); err != nil {
			return err
		}
		before := p
		p.Active = false
		if err := tx.UpdateBackupPlan(ctx, p); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, p.Ref(), ""); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "backup.plan.remove", p.Ref(), before, p)
	})
	return p, err
}

// planFinder finds plans by system.
type planFinder interface {
	BackupPlan(ctx context.Context, system string) (Plan, error)
}

// activePlan is system's active plan, or backup_plan_not_found.
func activePlan(ctx context.Context, tx planFinder, system string) (Plan, error) {
	p, err := tx.BackupPlan(ctx, system)
	if errors.Is(err, core.ErrNotFound) || (err == nil && !p.Active) {
		return Plan{}, core.NotFound("backup_plan_not_found", "system", system)
	}
	return p, err
}

// Plans lists the active plans.
func (s *Service) Plans(ctx context.Context) ([]Plan, error) {
	var out []Plan
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		out, err = tx.BackupPlans(ctx, false)
		return err
	})
	return out, err
}

func operators(ctx context.Context, dir routine.Directory) ([]string, error) {
	return dir.HoldersOf(ctx, org.RoleOperator)
}

// leads resolves the audit lead (a user id or a role).
func (s *Service) leads(ctx context.Context, dir routine.Directory) ([]string, error) {
	return routine.Resolve(ctx, dir, s.cfg.Lead)
}

// ReportResult is what a report did.
type ReportResult struct {
	Report   Report
	NotFull  bool // an incremental backup on the full-backup day
	Fault    *Fault
	Incident *incident.Incident
	Closed   []Fault // faults a good report closed
}

// ScriptActor is who a backup script reports as with the legacy
// backups.token: opsbot itself, through the API. Any other actor, an API
// token's user included, must run the platform (operators, sys admins).
func ScriptActor() core.Actor {
	return core.Actor{UserID: core.SystemUser, Name: "backup script", Platform: core.PlatformAPI}
}

// Report records a backup report from chat (source "chat") or through the
// API (source "api": a script with backups.token as ScriptActor, or an
// operator's API token). kind "" means full on the plan's full-backup
// day, else incremental.
func (s *Service) Report(ctx context.Context, actor core.Actor, system string, ok bool, kind, note, source string) (ReportResult, error) {
	note = strings.TrimSpace(note)
	if kind != "" && kind != "full" && kind != "incremental" {
		return ReportResult{}, core.Invalid("backup_kind", "value", kind)
	}
	if len([]rune(note)) > core.MaxNote {
		return ReportResult{}, core.Invalid("note_too_long", "max", strconv.Itoa(core.MaxNote))
	}
	var res ReportResult
	err := s.store.InReportTx(ctx, func(tx ReportTx) error {
		if actor.UserID != core.SystemUser {
			if err := routine.RequirePlatform(ctx, tx, actor.UserID, "backup_manage"); err != nil {
				return err
			}
		}
		p, err := activePlan(ctx, tx, system)
		if err != nil {
			return err
		}
		if _, err := tx.BackupPlanByID(ctx, p.ID, true); err != nil { // one report of a plan at a time
			return err
		}
		now := s.clock.Now()
		day, err := s.dayFor(ctx, tx, p, now)
		if err != nil {
			return err
		}
		if kind == "" {
			kind = "incremental"
			if p.FullOn(day) {
				kind = "full"
			}
		}
		r := Report{PlanID: p.ID, Day: day, At: now, Kind: kind, OK: ok, Note: note, By: actor.UserID, Source: source}
		if err := tx.InsertBackupReport(ctx, &r); err != nil {
			return err
		}
		res.Report = r
		if kind == "incremental" && p.FullOn(day) {
			res.NotFull = true
			if err := s.flagNotFull(ctx, tx, actor, p, r); err != nil {
				return err
			}
		}
		state := CheckOK
		if !ok {
			state = CheckFailed
		}
		dd, _ := time.ParseInLocation(dayLayout, day, s.loc())
		if err := tx.UpsertBackupCheck(ctx, Check{PlanID: p.ID, Day: day, DueAt: s.daily(p).On(dd), State: state, ReportID: &r.ID}); err != nil {
			return err
		}
		ops, err := operators(ctx, tx)
		if err != nil {
			return err
		}
		if ok {
			faults, err := tx.OpenBackupFaults(ctx, p.ID, true)
			if err != nil {
				return err
			}
			for _, f := range faults {
				before := f
				f.State, f.ClosedAt, f.ClosedReport = "closed", &now, &r.ID
				if err := tx.UpdateBackupFault(ctx, f); err != nil {
					return err
				}
				rec := Recovered{System: p.System, Fault: f.ID, Incident: f.IncidentID, By: actor.UserID}
				if err := routine.Tell(ctx, tx, f.Ref(), routine.Union(f.Assignees, ops), rec); err != nil {
					return err
				}
				if err := core.Record(ctx, tx, now, actor, "backup.fault.close", f.Ref(), before, f); err != nil {
					return err
				}
				res.Closed = append(res.Closed, f)
			}
			return core.Record(ctx, tx, now, actor, "backup.report", p.Ref(), nil, r)
		}
		by := actor
		if actor.UserID == core.SystemUser {
			by = core.SystemActor()
		}
		inc, err := s.openIncident(ctx, tx, by, p, FailedTitle+day, note)
		if err != nil {
			return err
		}
		f := Fault{PlanID: p.ID, ReportID: r.ID, IncidentID: inc.ID, Assignees: ops, State: "open", CreatedAt: now}
		if err := tx.InsertBackupFault(ctx, &f); err != nil {
			return err
		}
		res.Fault, res.Incident = &f, &inc
		failed := Failed{System: p.System, Day: day, Kind: kind, Note: note, By: actor.UserID, Report: r.ID, Fault: f.ID, Incident: inc.ID}
		if err := routine.Tell(ctx, tx, f.Ref(), ops, failed); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "backup.report", p.Ref(), nil, r); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "backup.fault.open", f.Ref(), nil, f)
	})
	return res, err
}

// flagNotFull tells the operators at once that the full-backup day's
// report r was incremental, and records the missing full backup.
func (s *Service) flagNotFull(ctx context.Context, tx ReportTx, actor core.Actor, p Plan, r Report) error {
	ops, err := operators(ctx, tx)
	if err != nil {
		return err
	}
	ref := p.Ref() + "#" + r.Day
	if err := routine.Tell(ctx, tx, ref, ops, NotFull{System: p.System, Day: r.Day, Report: r.ID, By: actor.UserID}); err != nil {
		return err
	}
	return core.Record(ctx, tx, r.At, actor, "backup.full.missing", ref, nil, r)
}

// appTx is a transaction that can tell whether a system is an app.
type appTx interface {
	core.Tx
	App(ctx context.Context, code string) (org.App, error)
}

// openIncident opens the incident of a failed backup or restore test of
// p, about the app of that code when there is one.
func (s *Service) openIncident(ctx context.Context, tx appTx, by core.Actor, p Plan, what, note string) (incident.Incident, error) {
	system := ""
	if _, err := tx.App(ctx, p.System); err == nil {
		system = p.System
	}
	return s.incidents.DeclareIn(ctx, tx, by, incident.TitleWithNote(p.System+" "+what, note), s.cfg.FailLevel, system, "")
}

// dayFor picks the check a report at now answers: the last deadline's
// check if that is still open (a late report, or one just after the
// deadline before its check fired) or failed with its fault open (the
// re-run), else the next deadline's.
func (s *Service) dayFor(ctx context.Context, tx ReportTx, p Plan, now time.Time) (string, error) {
	d := s.daily(p)
	next := d.Next(now)
	prev := d.On(d.Midnight(next).AddDate(0, 0, -1))
	if prev.Before(p.CreatedAt) {
		return next.Format(dayLayout), nil
	}
	c, err := tx.BackupCheck(ctx, p.ID, prev.Format(dayLayout))
	switch {
	case errors.Is(err, core.ErrNotFound):
		if now.Sub(prev) <= s.cfg.Grace {
			return prev.Format(dayLayout), nil
		}
	case err != nil:
		return "", err
	case c.State == CheckPending || c.State == CheckMissing:
		return prev.Format(dayLayout), nil
	case c.State == CheckFailed:
		// While its fault is open, a report is that day's re-run, not the
		// next day's backup (which must still be reported on its own).
		faults, err := tx.OpenBackupFaults(ctx, p.ID, true)
		if err != nil {
			return "", err
		}
		if len(faults) > 0 {
			return prev.Format(dayLayout), nil
		}
	}
	return next.Format(dayLayout), nil
}

// HandleTimer fires a daily check or a restore-test timer, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InCheckTx, id, s.clock.Now(), func(tx CheckTx, tm core.Timer) error {
		pid, err := tm.RefID("backup-plan:")
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		p, err := tx.BackupPlanByID(ctx, pid, true)
		if err != nil || !p.Active {
			return err
		}
		switch tm.Kind {
		case TimerCheck:
			return s.check(ctx, tx, p, tm)
		case TimerVerify:
			return s.verifyTimer(ctx, tx, p, tm)
		}
		return fmt.Errorf("backup: unknown timer kind %q", tm.Kind)
	})
}

// check runs a day's check: at the deadline it schedules the next day's
// and, with no report, reminds the operators; after the grace it counts
// the day missed and tells the lead and the operators' admins.
func (s *Service) check(ctx context.Context, tx CheckTx, p Plan, tm core.Timer) error {
	day := tm.Data["day"]
	c, err := tx.BackupCheck(ctx, p.ID, day)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return err
	}
	done := err == nil && (c.State == CheckOK || c.State == CheckFailed)
	dueDay, _ := time.ParseInLocation(dayLayout, day, s.loc())
	late := Overdue{System: p.System, Day: day, Due: s.daily(p).On(dueDay), Full: p.FullDay != 0 && dueDay.Day() == p.FullDay}
	ref := p.Ref() + "#" + day
	stage := routine.StageOf(tm)
	if stage == routine.Remind {
		next := routine.Next(s.daily(p).Next, tm.DueAt, s.clock.Now())
		if err := scheduleCheck(ctx, tx, p, next); err != nil {
			return err
		}
	}
	return routine.Step(ctx, tx, checkOf(p, day), stage, tm.DueAt.Add(s.cfg.Grace), routine.Chase{
		Done: done,
		Remind: func() error {
			if err := tx.UpsertBackupCheck(ctx, Check{PlanID: p.ID, Day: day, DueAt: tm.DueAt, State: CheckPending}); err != nil {
				return err
			}
			ops, err := operators(ctx, tx)
			if err != nil {
				return err
			}
			return routine.Tell(ctx, tx, ref, ops, Missing{late})
		},
		Escalate: func() error {
			before := c
			c = Check{PlanID: p.ID, Day: day, DueAt: tm.DueAt, State: CheckMissing}
			if err := tx.UpsertBackupCheck(ctx, c); err != nil {
				return err
			}
			leads, err := s.leads(ctx, tx)
			if err != nil {
				return err
			}
			ops, err := operators(ctx, tx)
			if err != nil {
				return err
			}
			admins, err := routine.AdminsOf(ctx, tx, ops)
			if err != nil {
				return err
			}
			if err := routine.Tell(ctx, tx, ref, routine.Union(leads, admins), Escalated{late}); err != nil {
				return err
			}
			return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "backup.missing", p.Ref(), before, c)
		},
	})
}

// verifyTimer runs a month's restore test: three days before its
// deadline it reminds the operators, at the deadline it tells the lead
// and the operators, and sets the next month's.
func (s *Service) verifyTimer(ctx context.Context, tx CheckTx, p Plan, tm core.Timer) error {
	month := tm.Data["month"]
	vs, err := tx.Verifications(ctx, p.ID, month)
	if err != nil {
		return err
	}
	m, _ := time.ParseInLocation("2006-01", month, s.loc())
	late := RestoreOverdue{System: p.System, Month: month, Due: s.verifyDue(m)}
	ref := p.Ref() + "#verify-" + month
	ops, err := operators(ctx, tx)
	if err != nil {
		return err
	}
	o, stage := restoreOf(p, month), routine.StageOf(tm)
	// The escalation stage rolls the monthly cycle on, so it is set
	// whether or not the test was recorded.
	if stage == routine.Remind {
		if err := o.Schedule(ctx, tx, routine.Escalate, s.verifyDue(m)); err != nil {
			return err
		}
	} else if err := s.scheduleVerify(ctx, tx, p, s.verifyDue(m)); err != nil {
		return err
	}
	return routine.Step(ctx, tx, o, stage, time.Time{}, routine.Chase{
		Done:   anyPassed(vs),
		Remind: func() error { return routine.Tell(ctx, tx, ref, ops, RestoreDue{late}) },
		Escalate: func() error {
			leads, err := s.leads(ctx, tx)
			if err != nil {
				return err
			}
			if err := routine.Tell(ctx, tx, ref, routine.Union(leads, ops), RestoreMissed{late}); err != nil {
				return err
			}
			return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "backup.verify.missed", p.Ref(), nil, missedAudit(late))
		},
	})
}

// missedAudit is what the audit trail records of a missed restore test
// (the map the previous release recorded).
func missedAudit(o RestoreOverdue) map[string]string {
	return map[string]string{"system": o.System, "month": o.Month, "due": o.Due.Format("2006-01-02 15:04")}
}

// VerifyResult is what a restore-test record did.
type VerifyResult struct {
	Verification Verification
	Incident     *incident.Incident
}

// Verify records a restore test of system this month; a failed one opens an incident.
func (s *Service) Verify(ctx context.Context, actor core.Actor, system string, ok bool, note string) (VerifyResult, error) {
	note = strings.TrimSpace(note)
	var res VerifyResult
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "backup_manage"); err != nil {
			return err
		}
		p, err := activePlan(ctx, tx, system)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		v := Verification{PlanID: p.ID, Month: now.In(s.loc()).Format("2006-01"), OK: ok, Note: note, By: actor.UserID, At: now}
		if err := tx.InsertVerification(ctx, &v); err != nil {
			return err
		}
		res.Verification = v
		if !ok {
			inc, err := s.openIncident(ctx, tx, actor, p, "restore test failed", note)
			if err != nil {
				return err
			}
			res.Incident = &inc
		}
		return core.Record(ctx, tx, now, actor, "backup.verify", p.Ref(), nil, v)
	})
	return res, err
}

// Log is a plan's recent record.
type Log struct {
	Plan    Plan
	Checks  []Check
	Reports []Report
	Faults  []Fault
	// Days is each check (newest first) with every report that answered
	// it, in the order they came: a failed attempt stays visible next to
	// its re-run.
	Days []DayLog
}

// DayLog is one day's check with its reports.
type DayLog struct {
	Check    Check
	Attempts []Attempt // oldest first
}

// Attempt is one report of a day.
type Attempt struct {
	Report Report
	Rerun  bool // a report after a failed one of the same day
	// NotFull: an incremental backup on the plan's full-backup day.
	NotFull bool
}

// historyDays is how far back /backup log looks.
const historyDays = 14

// History returns a plan's last 14 days of checks, each with its reports
// in order, and its open faults.
func (s *Service) History(ctx context.Context, system string) (Log, error) {
	var l Log
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		if l.Plan, err = activePlan(ctx, tx, system); err != nil {
			return err
		}
		today := routine.Daily{Loc: s.loc()}.Midnight(s.clock.Now())
		first := today.AddDate(0, 0, -historyDays).Format(dayLayout)
		if l.Checks, err = tx.BackupChecks(ctx, l.Plan.ID, first, today.AddDate(0, 0, 1).Format(dayLayout)); err != nil {
			return err
		}
		// Reports newest first; a plan reports about once a day, re-runs
		// and duplicates aside: ten per day is plenty.
		if l.Reports, err = tx.BackupReports(ctx, l.Plan.ID, 10*(historyDays+2)); err != nil {
			return err
		}
		l.Days = daysOf(l.Plan, l.Checks, l.Reports)
		l.Faults, err = tx.OpenBackupFaults(ctx, l.Plan.ID, false)
		return err
	})
	return l, err
}

// days pairs each check with the reports of its day (reports newest
// first), oldest report first, marking re-runs and incremental backups
// on the full-backup day.
func daysOf(p Plan, checks []Check, reports []Report) []DayLog {
	out := make([]DayLog, 0, len(checks))
	for _, c := range checks {
		d := DayLog{Check: c}
		failed := false
		for i := len(reports) - 1; i >= 0; i-- {
			r := reports[i]
			if r.Day != c.Day {
				continue
			}
			d.Attempts = append(d.Attempts, Attempt{Report: r, Rerun: failed, NotFull: r.Kind == "incremental" && p.FullOn(r.Day)})
			failed = failed || !r.OK
		}
		out = append(out, d)
	}
	return out
}

// Details is a plan as /backup plan show tells it.
type Details struct {
	Plan      Plan
	NextCheck time.Time // the next daily report deadline
	Reports   []Report  // the latest reports, newest first
	Faults    []Fault   // open fault reports
	// NextRestore is the deadline of the next restore test due: this
	// month's unless one passed already (then next month's), past when
	// this month's is overdue.
	NextRestore time.Time
}

// PlanDetails returns system's plan with its next deadline, its last five
// reports, its open faults and its next restore test.
func (s *Service) PlanDetails(ctx context.Context, system string) (Details, error) {
	var d Details
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		if d.Plan, err = activePlan(ctx, tx, system); err != nil {
			return err
		}
		now := s.clock.Now()
		d.NextCheck = s.daily(d.Plan).Next(now)
		if d.Reports, err = tx.BackupReports(ctx, d.Plan.ID, 5); err != nil {
			return err
		}
		if d.Faults, err = tx.OpenBackupFaults(ctx, d.Plan.ID, false); err != nil {
			return err
		}
		local := now.In(s.loc())
		month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, s.loc())
		vs, err := tx.Verifications(ctx, d.Plan.ID, month.Format("2006-01"))
		if err != nil {
			return err
		}
		if anyPassed(vs) {
			month = month.AddDate(0, 1, 0)
		}
		d.NextRestore = s.verifyDue(month)
		return nil
	})
	return d, err
}

// MonthRecords is what counting a month's backups reads; Tx and Reader
// both hold it.
type MonthRecords interface {
	BackupPlans(ctx context.Context, all bool) ([]Plan, error)
	BackupChecks(ctx context.Context, planID int64, from, to string) ([]Check, error)
	BackupReports(ctx context.Context, planID int64, limit int) ([]Report, error)
	Verifications(ctx context.Context, planID int64, month string) ([]Verification, error)
}

// MonthSummary counts each plan's checks and restore tests in month (YYYY-MM).
func (s *Service) MonthSummary(ctx context.Context, tx MonthRecords, month string) ([]SystemMonth, error) {
	m, err := time.ParseInLocation("2006-01", month, s.loc())
	if err != nil {
		return nil, core.Invalid("month", "value", month)
	}
	end := m.AddDate(0, 1, 0)
	plans, err := tx.BackupPlans(ctx, true)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out []SystemMonth
	for _, p := range plans {
		sm := SystemMonth{System: p.System}
		var fullDue []string // the month's full-backup days whose deadline passed
		for d := m; d.Before(end); d = d.AddDate(0, 0, 1) {
			if dl := s.daily(p).On(d); dl.After(p.CreatedAt) && !dl.After(now) && (p.Active || dl.Before(end)) {
				sm.Expected++
				if p.FullDay != 0 && d.Day() == p.FullDay {
					fullDue = append(fullDue, d.Format(dayLayout))
				}
			}
		}
		checks, err := tx.BackupChecks(ctx, p.ID, m.Format(dayLayout), end.AddDate(0, 0, -1).Format(dayLayout))
		if err != nil {
			return nil, err
		}
		for _, c := range checks {
			if c.State == CheckOK || c.State == CheckFailed {
				sm.Reported++
			}
		}
		reports, err := tx.BackupReports(ctx, p.ID, 1000)
		if err != nil {
			return nil, err
		}
		failedDays, fullDays := map[string]bool{}, map[string]bool{}
		for _, r := range reports {
			if !strings.HasPrefix(r.Day, month) {
				continue
			}
			if !r.OK {
				failedDays[r.Day] = true // a failure counts even when a re-run later succeeded
			}
			if r.OK && r.Kind == "full" {
				fullDays[r.Day] = true
			}
		}
		sm.Failed, sm.Full = len(failedDays), len(fullDays)
		for _, d := range fullDue {
			if !fullDays[d] {
				sm.FullMissing++
			}
		}
		sm.Missing = max(sm.Expected-sm.Reported, 0)
		vs, err := tx.Verifications(ctx, p.ID, month)
		if err != nil {
			return nil, err
		}
		sm.Verified = anyPassed(vs)
		if p.Active {
			sm.PolicyMissing = p.Missing()
		}
		if sm.Expected > 0 || sm.Reported > 0 {
			out = append(out, sm)
		}
	}
	return out, nil
}

// MonthlyAudit creates last month's audit and sends its sign-off card, once
// (it runs daily, so a scheduler down on the 1st catches up the next day).
func (s *Service) MonthlyAudit(ctx context.Context) (bool, error) {
	created := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		now := s.clock.Now().In(s.loc())
		last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.loc()).AddDate(0, -1, 0).Format("2006-01")
		if _, err := tx.BackupAudit(ctx, last, false); err == nil {
			return nil
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		systems, err := s.MonthSummary(ctx, tx, last)
		if err != nil || len(systems) == 0 {
			return err
		}
		a := Audit{Month: last, Systems: systems, CreatedAt: s.clock.Now()}
		if created, err = tx.InsertBackupAudit(ctx, a); err != nil || !created {
			return err
		}
		leads, err := s.leads(ctx, tx)
		if err != nil {
			return err
		}
		if err := routine.Tell(ctx, tx, a.Ref(), leads, AuditCard{SheetOf(a)}); err != nil {
			return err
		}
		return core.Record(ctx, tx, a.CreatedAt, core.SystemActor(), "backup.audit", a.Ref(), nil, a)
	})
	return created, err
}

// SignOff records the lead's sign-off of a month's audit.
func (s *Service) SignOff(ctx context.Context, actor core.Actor, month string) (Audit, error) {
	var a Audit
	err := s.store.InTx(ctx, func(tx Tx) error {
		leads, err := s.leads(ctx, tx)
		if err != nil {
			return err
		}
		if !slices.Contains(leads, actor.UserID) {
			return core.Forbidden("backup_not_lead")
		}
		a, err = tx.BackupAudit(ctx, month, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("backup_audit_not_found", "month", month)
		} else if err != nil {
			return err
		}
		if a.SignedBy != "" {
			return core.Conflict("backup_audit_signed", "month", month, "by", a.SignedBy)
		}
		before := a
		now := s.clock.Now()
		a.SignedBy, a.SignedAt = actor.UserID, &now
		if err := tx.UpdateBackupAudit(ctx, a); err != nil {
			return err
		}
		if err := tx.Notify(ctx, core.Notice{Ref: a.Ref(), Body: AuditSigned{SheetOf(a)}}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "backup.audit.signoff", a.Ref(), before, a)
	})
	return a, err
}

// Audit returns a month's audit (month YYYY-MM).
func (s *Service) Audit(ctx context.Context, month string) (Audit, error) {
	var a Audit
	if _, err := time.Parse("2006-01", month); err != nil {
		return a, core.Invalid("month", "value", month)
	}
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		a, err = tx.BackupAudit(ctx, month, false)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("backup_audit_not_found", "month", month)
		}
		return err
	})
	return a, err
}

// anyPassed reports whether one of a month's restore tests passed.
func anyPassed(vs []Verification) bool {
	return slices.ContainsFunc(vs, func(v Verification) bool { return v.OK })
}
