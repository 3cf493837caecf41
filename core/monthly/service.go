package monthly

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/report"
)

// Report kinds of report_sent.
const (
	KindMonthly = "monthly"
	KindCheck   = "check"
)

// Options tune the checks.
type Options struct {
	// DueDays is the working days a corrective action is due in (default 10).
	DueDays int
	// RemindAt is when on its due date an action is reminded (HH:MM, default "09:00").
	RemindAt string
}

// Service pushes the monthly reports and runs the quarterly checks.
type Service struct {
	store   Store
	reports Reports
	clock   core.Clock
	cal     *calendar.Calendar
	opt     Options
}

// NewService returns the service.
func NewService(store Store, reports Reports, clock core.Clock, cal *calendar.Calendar, opt Options) *Service {
	if opt.DueDays <= 0 {
		opt.DueDays = 10
	}
	if opt.RemindAt == "" {
		opt.RemindAt = "09:00"
	}
	return &Service{store: store, reports: reports, clock: clock, cal: cal, opt: opt}
}

// due reports whether the period that starts with now's month is due on
// now: a working day on or after the month's first working day.
func (s *Service) due(now time.Time) bool {
	now = now.In(s.cal.Location())
	return s.cal.IsWorkday(now) && !s.cal.Midnight(now).Before(s.cal.FirstWorkday(now.Year(), now.Month()))
}

// Push is the daily job: the monthly reports, and in the first month of
// a quarter the quarterly check, each once per recipient and period.
func (s *Service) Push(ctx context.Context, slot time.Time) (reports, checks int, err error) {
	if reports, err = s.SendMonthly(ctx, slot); err != nil {
		return reports, 0, err
	}
	checks, err = s.RunQuarterly(ctx, slot)
	return reports, checks, err
}

// managers are the sys_admins, district_admins and unit_admins, each once.
func managers(ctx context.Context, tx Tx) ([]string, error) {
	var out []string
	for _, role := range []org.Role{org.RoleSysAdmin, org.RoleDistrictAdmin, org.RoleUnitAdmin} {
		ids, err := tx.HoldersOf(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// SendMonthly sends every manager who has not had it last month's report
// of their scope, on a working day on or after the first working day of
// the month (slot zero: now). It returns how many it sent.
func (s *Service) SendMonthly(ctx context.Context, slot time.Time) (int, error) {
	if slot.IsZero() {
		slot = s.clock.Now()
	}
	if !s.due(slot) {
		return 0, nil
	}
	start := s.cal.Midnight(slot).AddDate(0, 0, 1-slot.In(s.cal.Location()).Day())
	month := start.AddDate(0, -1, 0).Format("2006-01")
	var todo []string
	err := s.store.InTx(ctx, func(tx Tx) error {
		users, err := managers(ctx, tx)
		if err != nil {
			return err
		}
		sent, err := tx.ReportsSent(ctx, KindMonthly, month)
		if err != nil {
			return err
		}
		for _, u := range users {
			if !slices.Contains(sent, u) {
				todo = append(todo, u)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range todo {
		ok, err := s.sendOne(ctx, u, month)
		if err != nil {
			return n, fmt.Errorf("monthly report of %s to %s: %w", month, u, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// sendOne builds user's report of month and queues it unless it was sent.
func (s *Service) sendOne(ctx context.Context, user, month string) (bool, error) {
	actor := core.Actor{UserID: user, Name: user, Platform: core.PlatformSystem}
	rep, view, err := s.Build(ctx, actor, month)
	if err != nil {
		return false, err
	}
	sent := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		isNew, err := tx.MarkReportSent(ctx, KindMonthly, month, user, s.clock.Now())
		if err != nil || !isNew {
			return err
		}
		if rep.Availability, err = s.availability(ctx, tx, view, month); err != nil {
			return err
		}
		sent = true
		return tx.Notify(ctx, core.Notice{Ref: "report:monthly:" + month, To: core.Recipient{User: user}, Body: rep})
	})
	return sent, err
}

// Build is actor's monthly report of month (YYYY-MM) for their view,
// without the availability (read with the notice) and its view.
func (s *Service) Build(ctx context.Context, actor core.Actor, month string) (Report, org.View, error) {
	view, err := s.reports.View(ctx, actor, "")
	if err != nil {
		return Report{}, view, err
	}
	rep := Report{Month: month, Scope: "city", Availability: []Uptime{}}
	if units, _ := report.Scope(view); units != nil {
		rep.Scope, rep.Units = "units", units
		for _, code := range units {
			name := code
			for _, u := range view.Tree {
				if u.Code == code && u.Name != "" {
					name = u.Name
				}
			}
			rep.UnitNames = append(rep.UnitNames, name)
		}
	}
	inc, err := s.reports.Incidents(ctx, actor, view, month)
	if err != nil {
		return rep, view, err
	}
	rep.Incidents = Incidents{Total: inc.Total, MTTA: inc.MTTA, MTTR: inc.MTTR, Escalations: inc.Escalations, Open: inc.Open, Repeats: len(inc.Repeats)}
	for l, n := range inc.ByLevel {
		if l >= 1 && l <= 4 {
			rep.Incidents.ByLevel[l] = n
		}
	}
	tk, err := s.reports.Tickets(ctx, view, month)
	if err != nil {
		return rep, view, err
	}
	rep.Tickets = Tickets{Opened: tk.Total.Opened, Answered: tk.Total.Answered, InSLA: tk.Total.InSLA, Overdue: tk.Total.Overdue}
	ap, err := s.reports.Approvals(ctx, view, month)
	if err != nil {
		return rep, view, err
	}
	rep.Approvals = Approvals{Requested: ap.Total.Requested, Done: ap.Total.Done, Rejected: ap.Total.Rejected, Pending: ap.Total.Pending}
	_, plans, err := s.reports.Inspections(ctx, view, month, "")
	if err != nil {
		return rep, view, err
	}
	for _, p := range plans {
		rep.Inspections.Runs += p.Runs
		rep.Inspections.Done += p.Done
		rep.Inspections.Missed += p.Missed
		rep.Inspections.Issues += p.Issues
	}
	bk, err := s.reports.Backups(ctx, view, month)
	if err != nil {
		return rep, view, err
	}
	for _, sys := range bk.Systems {
		rep.Backups.Systems++
		rep.Backups.Expected += sys.Expected
		rep.Backups.Failed += sys.Failed
		rep.Backups.Missing += sys.Missing
		if !sys.Verified {
			rep.Backups.Unverified++
		}
	}
	return rep, view, nil
}

// availability is the downtime per system in month from the non-200
// joint troubleshooting incidents in view, up to now.
func (s *Service) availability(ctx context.Context, tx Tx, view org.View, month string) ([]Uptime, error) {
	from, to, _, err := calendar.ReportSpan(month, "", s.clock.Now(), s.cal.Location())
	if err != nil {
		return nil, err
	}
	outs, err := tx.Outages(ctx, from, to)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	by := map[string]*Uptime{}
	for _, o := range outs {
		if !view.Keeps(o.Unit) {
			continue
		}
		end := to
		if o.End != nil && o.End.Before(end) {
			end = *o.End
		}
		if now.Before(end) {
			end = now
		}
		start := o.Start
		if start.Before(from) {
			start = from
		}
		if !end.After(start) {
			continue
		}
		sys := o.System
		if sys == "" {
			sys = "incident:" + strconv.FormatInt(o.Incident, 10)
		}
		u := by[sys]
		if u == nil {
			u = &Uptime{System: sys}
			by[sys] = u
		}
		u.Outages++
		u.Down += end.Sub(start)
	}
	out := []Uptime{}
	span := to.Sub(from)
	for _, u := range by {
		if u.Down > span {
			u.Down = span
		}
		u.Permyriad = int(10000 - (u.Down*10000+span-1)/span)
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].System < out[j].System })
	return out, nil
}

// quarterOf is the label of the quarter before the one month starts, when
// month opens a quarter.
func quarterOf(t time.Time) (string, bool) {
	if (t.Month()-1)%3 != 0 {
		return "", false
	}
	prev := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	return fmt.Sprintf("%d-Q%d", prev.Year(), (int(prev.Month())-1)/3+1), true
}

// RunQuarterly runs last quarter's internal check on a working day on or
// after the first working day of a quarter (slot zero: now): its
// corrective actions are created once, and each sys_admin and operator
// who has not had it gets the report. It returns how many it sent.
func (s *Service) RunQuarterly(ctx context.Context, slot time.Time) (int, error) {
	if slot.IsZero() {
		slot = s.clock.Now()
	}
	quarter, ok := quarterOf(slot.In(s.cal.Location()))
	if !ok || !s.due(slot) {
		return 0, nil
	}
	_, plans, err := s.reports.Inspections(ctx, org.View{All: true}, "", quarter)
	if err != nil {
		return 0, err
	}
	sent := 0
	err = s.store.InTx(ctx, func(tx Tx) error {
		now := s.clock.Now()
		first, err := tx.MarkReportSent(ctx, KindCheck, quarter, "*", now)
		if err != nil {
			return err
		}
		ops, err := tx.HoldersOf(ctx, org.RoleOperator)
		if err != nil {
			return err
		}
		admins, err := tx.HoldersOf(ctx, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		if first {
			if err := s.createActions(ctx, tx, quarter, plans, ops, admins, now); err != nil {
				return err
			}
		}
		actions, err := tx.CheckActions(ctx, quarter)
		if err != nil {
			return err
		}
		c := Check{Quarter: quarter, Plans: []PlanLine{}, Actions: actions}
		for _, p := range plans {
			c.Plans = append(c.Plans, PlanLine{Plan: p.Plan, Runs: p.Runs, Done: p.Done, Missed: p.Missed, Issues: p.Issues})
		}
		var to []string
		for _, u := range append(append([]string{}, admins...), ops...) {
			if !slices.Contains(to, u) {
				to = append(to, u)
			}
		}
		for _, u := range to {
			isNew, err := tx.MarkReportSent(ctx, KindCheck, quarter, u, now)
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			if err := tx.Notify(ctx, core.Notice{Ref: "check:" + quarter, To: core.Recipient{User: u}, Body: c}); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

// createActions makes one corrective action per finding: a plan's missed
// runs, each item found with issues. The owner is the first operator (a
// sys_admin when there is none); each is reminded on its due date and
// reported overdue at its end.
func (s *Service) createActions(ctx context.Context, tx Tx, quarter string, plans []inspect.PlanSummary, ops, admins []string, now time.Time) error {
	owner := ""
	switch {
	case len(ops) > 0:
		owner = ops[0]
	case len(admins) > 0:
		owner = admins[0]
	}
	due := s.cal.DueAfterDays(now, s.opt.DueDays)
	n := 0
	add := func(a Action) error {
		n++
		a.Quarter, a.N, a.Owner, a.Due, a.State = quarter, n, owner, due, ActionOpen
		if err := tx.InsertCheckAction(ctx, a); err != nil {
			return err
		}
		if err := s.schedule(ctx, tx, a); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, core.SystemActor(), "check.action.create", a.Ref(), nil, a)
	}
	for _, p := range plans {
		if p.Missed > 0 {
			if err := add(Action{Plan: p.Plan, Kind: "missed", Count: p.Missed}); err != nil {
				return err
			}
		}
		for _, item := range p.IssueItems {
			if err := add(Action{Plan: p.Plan, Kind: "issue", Item: item}); err != nil {
				return err
			}
		}
	}
	return nil
}

// schedule sets an open action's reminder (its due date at RemindAt) and
// overdue timer (its due time).
func (s *Service) schedule(ctx context.Context, tx Tx, a Action) error {
	mins, err := calendar.ParseClock(s.opt.RemindAt)
	if err != nil {
		mins = 9 * 60
	}
	remind := s.cal.Midnight(a.Due).Add(time.Duration(mins) * time.Minute)
	if remind.After(a.Due) {
		remind = s.cal.Midnight(a.Due)
	}
	if err := tx.Schedule(ctx, core.Timer{Kind: TimerRemind, Ref: a.Ref(), DueAt: remind}); err != nil {
		return err
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerOverdue, Ref: a.Ref(), DueAt: a.Due})
}

// parseRef splits "check-action:2026-Q3#2".
func parseRef(ref string) (string, int, bool) {
	key, ok := strings.CutPrefix(ref, "check-action:")
	q, num, ok2 := strings.Cut(key, "#")
	n, err := strconv.Atoi(num)
	return q, n, ok && ok2 && err == nil
}

// HandleTimer fires an action's reminder or overdue timer: nothing once
// the action is done; else the owner is reminded, and when overdue the
// sys_admins hear it too.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx Tx, t core.Timer) error {
		q, n, ok := parseRef(t.Ref)
		if !ok {
			return nil
		}
		a, err := tx.CheckAction(ctx, q, n)
		if err != nil || a.State != ActionOpen {
			return err
		}
		overdue := t.Kind == TimerOverdue
		to := []string{a.Owner}
		if overdue {
			admins, err := tx.HoldersOf(ctx, org.RoleSysAdmin)
			if err != nil {
				return err
			}
			for _, u := range admins {
				if !slices.Contains(to, u) {
					to = append(to, u)
				}
			}
		}
		for _, u := range to {
			if u == "" {
				continue
			}
			if err := tx.Notify(ctx, core.Notice{Ref: a.Ref(), To: core.Recipient{User: u}, Body: ActionDue{Action: a, Overdue: overdue}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// mayCheck reports whether user runs the checks (a sys_admin or an operator).
func mayCheck(ctx context.Context, tx Tx, user string) (bool, error) {
	for _, role := range []org.Role{org.RoleSysAdmin, org.RoleOperator} {
		ids, err := tx.HoldersOf(ctx, role)
		if err != nil {
			return false, err
		}
		if slices.Contains(ids, user) {
			return true, nil
		}
	}
	return false, nil
}

// Done closes action n of quarter (YYYY-Qn): by its owner, a sys_admin or
// an operator; its timers are cancelled.
func (s *Service) Done(ctx context.Context, actor core.Actor, quarter string, n int) (Action, error) {
	_, _, label, err := calendar.ReportSpan("", quarter, s.clock.Now(), s.cal.Location())
	if err != nil {
		return Action{}, err
	}
	var out Action
	err = s.store.InTx(ctx, func(tx Tx) error {
		a, err := tx.CheckAction(ctx, label, n)
		if err != nil {
			return err
		}
		if a.Owner != actor.UserID {
			ok, err := mayCheck(ctx, tx, actor.UserID)
			if err != nil {
				return err
			}
			if !ok {
				return core.Forbidden("check_action_not_yours", "owner", a.Owner)
			}
		}
		if a.State != ActionOpen {
			return core.AlreadyDecided("check_action_done", "by", a.DoneBy)
		}
		before := a
		now := s.clock.Now()
		a.State, a.DoneBy, a.DoneAt = ActionDone, actor.UserID, &now
		if err := tx.UpdateCheckAction(ctx, a); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, a.Ref(), ""); err != nil {
			return err
		}
		out = a
		return core.Record(ctx, tx, now, actor, "check.action.done", a.Ref(), before, a)
	})
	return out, err
}

// Actions lists quarter's corrective actions (sys_admins and operators).
func (s *Service) Actions(ctx context.Context, actor core.Actor, quarter string) ([]Action, error) {
	_, _, label, err := calendar.ReportSpan("", quarter, s.clock.Now(), s.cal.Location())
	if err != nil {
		return nil, err
	}
	var out []Action
	err = s.store.InTx(ctx, func(tx Tx) error {
		ok, err := mayCheck(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return core.Forbidden("check_not_allowed")
		}
		out, err = tx.CheckActions(ctx, label)
		return err
	})
	return out, err
}
