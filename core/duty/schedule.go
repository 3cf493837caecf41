package duty

import (
	"context"
	"errors"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// ScheduleTx is what the duty calendar reads in one transaction:
// rotations, their swaps, the handovers of a stretch of time, and users'
// names.
type ScheduleTx interface {
	paging.Users
	Rotation(ctx context.Context, name string) (Rotation, error)
	Rotations(ctx context.Context) ([]Rotation, error)
	Overrides(ctx context.Context, rotation string) (map[string]string, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	// HandoversBetween lists a rotation's handovers of the shifts starting
	// in [from, to), by shift start.
	HandoversBetween(ctx context.Context, rotation string, from, to time.Time) ([]Handover, error)
}

// ScheduleStore runs the duty calendar's reads in transactions.
type ScheduleStore interface {
	InTx(ctx context.Context, fn func(tx ScheduleTx) error) error
}

// Schedule is the duty calendar as the console shows it: a rotation's
// month, day by day, with swaps, handovers and the working-day calendar
// (PRC holidays, make-up workdays), and one person's shifts. Rotations
// show inside a view of the org (InView); one's own shifts always do.
type Schedule struct {
	store ScheduleStore
	clock core.Clock
	cal   *calendar.Calendar
}

// NewSchedule returns the duty calendar.
func NewSchedule(store ScheduleStore, clock core.Clock, cal *calendar.Calendar) *Schedule {
	return &Schedule{store: store, clock: clock, cal: cal}
}

// Day kinds of the working-day calendar.
const (
	DayWorkday = "workday" // an ordinary working day
	DayWeekend = "weekend" // Saturday or Sunday, not worked
	DayHoliday = "holiday" // a public holiday (法定节假日) or another day off on a weekday
	DayMakeUp  = "makeup"  // a weekend day worked instead (调休上班)
)

// MonthDay is one day of a rotation's month.
type MonthDay struct {
	Date time.Time // midnight, in the calendar's zone
	Kind string    // DayWorkday, DayWeekend, DayHoliday or DayMakeUp
	Name string    // the holiday's name, "调休上班", or ""
	// Today marks the current day.
	Today bool
	// Duty is the shift on duty at the day's handover time (zero Primary
	// before the rotation's first shift).
	Duty Shift
	// Starts reports that a shift starts this day (a handover).
	Starts bool
	// Handover is that shift's handover record, if one was opened.
	Handover *Handover
}

// Month is a rotation's month: its days from the 1st, the shifts on duty
// during it, and the names of the people in them.
type Month struct {
	Rotation Rotation
	First    time.Time // the 1st, midnight
	Days     []MonthDay
	Shifts   []Shift
	Names    map[string]string // user id → name
}

// InView reports whether rotation r (covering unit, its unit) shows in
// view v, the console's scope rule for rotations: every rotation for the
// city and city operations; for admins and contacts the rotations of
// their units and those covering them (ops-oncall of the city covers a
// district); for anyone else the rotations they are a member of.
func InView(v org.View, r Rotation, unit org.Unit) bool {
	switch {
	case v.All:
		return true
	case v.Own != "" || v.Basis == org.ViewOwn:
		return slices.Contains(r.Members, v.Own)
	case v.Covers(r.Unit):
		return true
	}
	for _, u := range v.Tree {
		if unit.Code != "" && unit.Contains(u) {
			return true
		}
	}
	return false
}

// inView is InView reading the rotation's unit.
func inView(ctx context.Context, tx ScheduleTx, v org.View, r Rotation) (bool, error) {
	u, err := tx.Unit(ctx, r.Unit)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return false, err
	}
	return InView(v, r, u), nil
}

// Rotations lists the rotations that show in view v, by name.
func (s *Schedule) Rotations(ctx context.Context, actor core.Actor, v org.View) ([]Rotation, error) {
	var out []Rotation
	err := s.store.InTx(ctx, func(tx ScheduleTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		rs, err := tx.Rotations(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if ok, err := inView(ctx, tx, v, r); err != nil {
				return err
			} else if ok {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// ParseMonth reads "2006-01" in the calendar's zone; "" is the current
// month.
func (s *Schedule) ParseMonth(month string) (time.Time, error) {
	loc := s.cal.Location()
	if month == "" {
		now := s.clock.Now().In(loc)
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}, core.Invalid("month", "value", month)
	}
	return t, nil
}

// DayKind tells a day's kind in the working-day calendar and its name.
// A weekend day off inside a run of days off that holds a holiday is part
// of that holiday (国庆 is 10-01 to 10-07 with its weekend).
func (s *Schedule) DayKind(d time.Time) (kind, name string) {
	d = d.In(s.cal.Location())
	work := s.cal.IsWorkday(d)
	weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
	name = s.cal.DayName(d.Format("2006-01-02"))
	switch {
	case work && weekend:
		return DayMakeUp, name
	case work:
		return DayWorkday, ""
	case !weekend || name != "":
		return DayHoliday, name
	}
	for _, step := range []int{-1, 1} {
		for e, i := d.AddDate(0, 0, step), 0; i < 10 && !s.cal.IsWorkday(e); e, i = e.AddDate(0, 0, step), i+1 {
			if e.Weekday() != time.Saturday && e.Weekday() != time.Sunday || s.cal.DayName(e.Format("2006-01-02")) != "" {
				return DayHoliday, s.cal.DayName(e.Format("2006-01-02"))
			}
		}
	}
	return DayWeekend, ""
}

// names resolves user ids to names, once each.
type names struct {
	ctx context.Context
	tx  paging.Users
	m   map[string]string
}

func (n names) of(id string) string {
	if v, ok := n.m[id]; ok || id == "" {
		return v
	}
	v := id
	if u, err := n.tx.User(n.ctx, id); err == nil && u.Name != "" {
		v = u.Name
	}
	n.m[id] = v
	return v
}

// Month returns rotation name's month (month "2006-01", "" the current
// one), day by day; a rotation outside view v is core.Forbidden
// outside_view.
func (s *Schedule) Month(ctx context.Context, actor core.Actor, v org.View, name, month string) (Month, error) {
	first, err := s.ParseMonth(month)
	if err != nil {
		return Month{}, err
	}
	next := first.AddDate(0, 1, 0)
	today := s.clock.Now().In(s.cal.Location()).Format("2006-01-02")
	var out Month
	err = s.store.InTx(ctx, func(tx ScheduleTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		r, err := tx.Rotation(ctx, name)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("rotation_not_found", "name", name)
		} else if err != nil {
			return err
		}
		if ok, err := inView(ctx, tx, v, r); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("outside_view", "unit", r.Unit)
		}
		over, err := tx.Overrides(ctx, name)
		if err != nil {
			return err
		}
		shifts := r.ShiftsBetween(first, next, s.cal, over)
		hs, err := tx.HandoversBetween(ctx, name, first, next)
		if err != nil {
			return err
		}
		byStart := map[int64]*Handover{}
		for i := range hs {
			byStart[hs[i].ShiftStart.Unix()] = &hs[i]
		}
		nm := names{ctx: ctx, tx: tx, m: map[string]string{}}
		out = Month{Rotation: r, First: first, Shifts: shifts, Names: nm.m}
		begin := r.First(s.cal.Location())
		for d := first; d.Before(next); d = d.AddDate(0, 0, 1) {
			day := MonthDay{Date: d, Today: d.Format("2006-01-02") == today}
			day.Kind, day.Name = s.DayKind(d)
			at := r.handoverOn(d)
			for _, sh := range shifts {
				if !at.Before(begin) && !sh.Start.After(at) && sh.End.After(at) {
					day.Duty = sh
					nm.of(sh.Primary)
					nm.of(sh.Secondary)
				}
				if sh.Start.Equal(at) && sh.Index > 0 {
					day.Starts = true
					day.Handover = byStart[sh.Start.Unix()]
				}
			}
			out.Days = append(out.Days, day)
		}
		return nil
	})
	return out, err
}

// Mine returns the actor's shifts (as primary) on every rotation that are
// on duty at some time in month ("2006-01", "" the current one), in order
// of start.
func (s *Schedule) Mine(ctx context.Context, actor core.Actor, month string) ([]FeedShift, error) {
	first, err := s.ParseMonth(month)
	if err != nil {
		return nil, err
	}
	var out []FeedShift
	err = s.store.InTx(ctx, func(tx ScheduleTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		rs, err := tx.Rotations(ctx)
		if err != nil {
			return err
		}
		nm := names{ctx: ctx, tx: tx, m: map[string]string{}}
		for _, r := range rs {
			over, err := tx.Overrides(ctx, r.Name)
			if err != nil {
				return err
			}
			for _, sh := range r.ShiftsBetween(first, first.AddDate(0, 1, 0), s.cal, over) {
				if sh.Primary == actor.UserID {
					out = append(out, FeedShift{Rotation: r.Name, Shift: sh, PrimaryName: nm.of(sh.Primary), SecondaryName: nm.of(sh.Secondary)})
				}
			}
		}
		sortShifts(out)
		return nil
	})
	return out, err
}
