// Package duty computes who is on duty (值班): a rotation hands over at a
// fixed time every day or every week, members take shifts in order, the
// next member is the secondary, and an override replaces the primary of
// one day's shift. A rotation that skips holidays hands over only on
// working days, so whoever is on duty before a holiday stays on through it.
package duty

import (
	"fmt"
	"time"

	"opsbot/core/calendar"
)

// Rotation is a duty rotation.
type Rotation struct {
	Name         string    `json:"name"`
	Unit         string    `json:"unit"`
	Members      []string  `json:"members"`
	Every        string    `json:"every"`    // day | week
	Handover     string    `json:"handover"` // HH:MM
	SkipHolidays bool      `json:"skip_holidays"`
	StartDate    time.Time `json:"start_date"` // the first shift starts at its handover time
}

// Shift is one stretch of duty.
type Shift struct {
	Primary, Secondary string
	Start, End         time.Time
	Index              int
	Override           bool
}

// Validate checks a rotation's fields.
func (r Rotation) Validate() error {
	switch {
	case len(r.Members) == 0:
		return fmt.Errorf("no members")
	case r.Every != "day" && r.Every != "week":
		return fmt.Errorf("every must be day or week")
	}
	if _, err := calendar.ParseClock(r.Handover); err != nil {
		return err
	}
	return nil
}

// boundary reports whether a handover happens on day d.
func (r Rotation) boundary(d time.Time, cal *calendar.Calendar) bool {
	if r.Every == "week" {
		return d.Weekday() == time.Monday
	}
	return !r.SkipHolidays || cal.IsWorkday(d)
}

func (r Rotation) handoverOn(d time.Time) time.Time {
	m, _ := calendar.ParseClock(r.Handover)
	return time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, d.Location())
}

// MaxShiftDays is the longest range of days ShiftsBetween lists.
const MaxShiftDays = 366

// First is the start of the rotation's first shift: its handover time on
// its start date, in the calendar's zone.
func (r Rotation) First(loc *time.Location) time.Time {
	return r.handoverOn(time.Date(r.StartDate.Year(), r.StartDate.Month(), r.StartDate.Day(), 0, 0, 0, 0, loc))
}

// ShiftsBetween returns the shifts on duty at some time in [from, to),
// in order, as ShiftAt tells each of them: the first is the one on duty
// at from (or the rotation's first shift when from is before it). It
// lists at most MaxShiftDays×2 shifts.
func (r Rotation) ShiftsBetween(from, to time.Time, cal *calendar.Calendar, overrides map[string]string) []Shift {
	var out []Shift
	if first := r.First(cal.Location()); from.Before(first) {
		from = first
	}
	for t := from; t.Before(to) && len(out) < 2*MaxShiftDays; {
		s := r.ShiftAt(t, cal, overrides)
		out = append(out, s)
		if !s.End.After(t) {
			break
		}
		t = s.End
	}
	return out
}

// ShiftAt returns the shift on duty at t. overrides maps a shift's start
// date ("2006-01-02") to the user who takes it instead.
func (r Rotation) ShiftAt(t time.Time, cal *calendar.Calendar, overrides map[string]string) Shift {
	loc := cal.Location()
	t = t.In(loc)
	first := time.Date(r.StartDate.Year(), r.StartDate.Month(), r.StartDate.Day(), 0, 0, 0, 0, loc)
	// Walk day by day from the first shift; rotations are young enough.
	start := r.handoverOn(first)
	index := 0
	if t.Before(start) {
		start = start.Add(-24 * time.Hour)
	}
	day := first.AddDate(0, 0, 1)
	for {
		h := r.handoverOn(day)
		if h.After(t) {
			break
		}
		if r.boundary(day, cal) {
			start = h
			index++
		}
		day = day.AddDate(0, 0, 1)
	}
	end := day
	for i := 0; i < 400; i++ {
		if r.boundary(end, cal) {
			break
		}
		end = end.AddDate(0, 0, 1)
	}
	n := len(r.Members)
	s := Shift{Primary: r.Members[index%n], Secondary: r.Members[(index+1)%n], Start: start, End: r.handoverOn(end), Index: index}
	if u, ok := overrides[start.Format("2006-01-02")]; ok && u != "" {
		if s.Secondary == u {
			s.Secondary = s.Primary
		}
		s.Primary, s.Override = u, true
	}
	return s
}
