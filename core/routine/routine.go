// Package routine is the model backups and inspections share: a plan
// whose occurrences (a day's backup, a month's restore test, an
// inspection run) come due on a schedule and are reported by the people
// assigned to them. An occurrence not reported is chased in stages, each
// a timer: a reminder to the assignees, then, after a grace, an
// escalation to whoever is above them (their admins, the lead), the
// occurrence counted missed.
//
// The domains keep their own rules (what counts as reported, who is
// told, what a failure opens); this package holds the schedule, the
// stages and the escalation targets.
package routine

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Stage is where a due occurrence's timer stands.
type Stage string

// Stages of a due occurrence.
const (
	Remind   Stage = "remind"   // tell the assignees it is due
	Escalate Stage = "escalate" // count it missed, tell whoever is above them
)

// Occurrence names one due instance of a plan by its timers: the timer
// kind, the entity it is about and the data that tells it apart (the
// day, the month).
type Occurrence struct {
	Kind string
	Ref  string
	Key  map[string]string
}

// Timer is the occurrence's timer for stage, due at at.
func (o Occurrence) Timer(stage Stage, at time.Time) core.Timer {
	data := maps.Clone(o.Key)
	if data == nil {
		data = map[string]string{}
	}
	data["stage"] = string(stage)
	return core.Timer{Kind: o.Kind, Ref: o.Ref, DueAt: at, Data: data}
}

// Schedule sets the occurrence's timer for stage at at.
func (o Occurrence) Schedule(ctx context.Context, tx core.Timers, stage Stage, at time.Time) error {
	return tx.Schedule(ctx, o.Timer(stage, at))
}

// StageOf is the stage a fired timer stands at: Escalate when its data
// says so, else Remind.
func StageOf(t core.Timer) Stage {
	if Stage(t.Data["stage"]) == Escalate {
		return Escalate
	}
	return Remind
}

// Chase is what a routine does at a stage of an occurrence.
type Chase struct {
	Done     bool         // reported already: nothing to chase
	Remind   func() error // tell the assignees
	Escalate func() error // count it missed and tell whoever is above them
}

// Step runs the stage a timer of occurrence o fired at. Nothing happens
// when the occurrence is done. At Remind the escalation is scheduled at
// escalateAt (none when zero) and the assignees are reminded; at Escalate
// the occurrence is escalated.
func Step(ctx context.Context, tx core.Timers, o Occurrence, stage Stage, escalateAt time.Time, c Chase) error {
	if c.Done {
		return nil
	}
	if stage == Escalate {
		return c.Escalate()
	}
	if !escalateAt.IsZero() {
		if err := o.Schedule(ctx, tx, Escalate, escalateAt); err != nil {
			return err
		}
	}
	return c.Remind()
}

// Next is the occurrence after the one due at fired, by next (the first
// slot strictly after a time): the one after fired, or after now when
// that has passed already (after an outage the routine resumes from now
// rather than replaying missed slots). Zero when next has none.
func Next(next func(after time.Time) time.Time, fired, now time.Time) time.Time {
	n := next(fired)
	if !n.IsZero() && n.Before(now) {
		n = next(now)
	}
	return n
}

// Daily is a schedule due every day at a wall-clock time in a zone.
type Daily struct {
	At  string // HH:MM
	Loc *time.Location
}

// Midnight is the start of t's day in the schedule's zone.
func (d Daily) Midnight(t time.Time) time.Time {
	t = t.In(d.Loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, d.Loc)
}

// On is the slot on day (any time of that day in the zone).
func (d Daily) On(day time.Time) time.Time {
	hm, _ := time.Parse("15:04", d.At)
	day = d.Midnight(day)
	return time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, d.Loc)
}

// Next is the first slot strictly after t.
func (d Daily) Next(t time.Time) time.Time {
	s := d.On(t)
	if !s.After(t) {
		s = d.On(d.Midnight(t).AddDate(0, 0, 1))
	}
	return s
}

// WorkingDays tells working days from days off (weekends, statutory
// holidays, make-up workdays); *calendar.Calendar is one.
type WorkingDays interface {
	// IsWorkday reports whether t's date (in the calendar's zone) is worked.
	IsWorkday(t time.Time) bool
	// Location returns the calendar's time zone.
	Location() *time.Location
}

// maxDaysOff bounds the search for the next working day: no run of days
// off is this long, so a calendar that says otherwise has no slot.
const maxDaysOff = 60

// Workdays is a schedule due at a wall-clock time on each working day of
// a calendar: not on statutory holidays, and on make-up workdays even
// when they fall on a weekend (M 7.3.2.2.1 "每个工作日").
type Workdays struct {
	At  string // HH:MM
	Cal WorkingDays
}

func (w Workdays) daily() Daily { return Daily{At: w.At, Loc: w.Cal.Location()} }

// Due reports whether slot is one of the schedule's: the time of day on a
// working day. A slot scheduled before a day was declared a holiday is
// not due any more.
func (w Workdays) Due(slot time.Time) bool {
	return w.Cal.IsWorkday(slot) && w.daily().On(slot).Equal(slot)
}

// Next is the first slot strictly after t; zero when no working day
// comes within maxDaysOff days.
func (w Workdays) Next(t time.Time) time.Time {
	d := w.daily()
	s := d.Next(t)
	for i := 0; i < maxDaysOff; i++ {
		if w.Cal.IsWorkday(s) {
			return s
		}
		s = d.On(d.Midnight(s).AddDate(0, 0, 1))
	}
	return time.Time{}
}

// Directory is the org look-up a routine needs: the users holding a role.
type Directory interface {
	// HoldersOf returns the active users holding role on any scope, each once.
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
}

// Ladder is the org look-up escalations need besides Directory.
type Ladder interface {
	Directory
	// AdminsOf returns the admins nearest to a user's unit.
	AdminsOf(ctx context.Context, userID string) ([]string, error)
}

// RunsPlatform reports whether a user is an operator or the sys admin:
// who manages and reports inspections and backups.
func RunsPlatform(ctx context.Context, dir Directory, userID string) (bool, error) {
	for _, r := range []org.Role{org.RoleOperator, org.RoleSysAdmin} {
		us, err := dir.HoldersOf(ctx, r)
		if err != nil {
			return false, err
		}
		if slices.Contains(us, userID) {
			return true, nil
		}
	}
	return false, nil
}

// RequirePlatform is nil for an operator or the sys admin and
// core.Forbidden(code, kv...) for anyone else.
func RequirePlatform(ctx context.Context, dir Directory, userID, code string, kv ...string) error {
	ok, err := RunsPlatform(ctx, dir, userID)
	if err != nil {
		return err
	}
	if !ok {
		return core.Forbidden(code, kv...)
	}
	return nil
}

// Resolve turns who (a role or a user id) into users: a role's holders,
// else who itself.
func Resolve(ctx context.Context, dir Directory, who string) ([]string, error) {
	if r := org.Role(who); r.Valid() {
		return dir.HoldersOf(ctx, r)
	}
	return []string{who}, nil
}

// AdminsOf returns the admins above any of users, each once; a user no
// longer in the org is skipped.
func AdminsOf(ctx context.Context, dir Ladder, users []string) ([]string, error) {
	var out []string
	for _, u := range users {
		as, err := dir.AdminsOf(ctx, u)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return nil, err
		}
		out = Union(out, as)
	}
	return out, nil
}

// Union joins lists of users, each once in first-seen order, without
// empty ids.
func Union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, u := range l {
			if u != "" && !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// Tell queues one notice with body about ref to each of users.
func Tell(ctx context.Context, rec core.Recorder, ref string, users []string, body core.Payload) error {
	for _, u := range users {
		if err := rec.Notify(ctx, core.Notice{Ref: ref, To: core.Recipient{User: u}, Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// LegacyTime reads a time from a notice the previous release queued: an
// RFC 3339 time, or the text it was already formatted as (returned as
// text, to be shown as it is, since the zone it was formatted in is not
// recorded).
func LegacyTime(s string) (t time.Time, text string) {
	if s == "" {
		return time.Time{}, ""
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, ""
	}
	return time.Time{}, s
}
