// Package calendar knows working days and working hours: weekends and
// statutory holidays are off, make-up workdays (调休) are on. It is pure
// data: holidays and make-up days are handed in by whoever loads them
// (configs/holidays, admin overrides); without data only weekends are off.
package calendar

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Period is a span of minutes after midnight, [Start, End).
type Period struct{ Start, End int }

// ParseClock parses "HH:MM" into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("calendar: %q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Calendar answers working-day questions in one time zone. It is safe for
// concurrent use; days can be changed while it is read.
type Calendar struct {
	loc      *time.Location
	mu       sync.RWMutex
	holidays map[string]bool   // "2026-10-01": a day off that would be a weekday
	workdays map[string]bool   // "2026-09-28": a weekend day that is worked
	names    map[string]string // names of special days
	years    map[int]bool      // years with holiday data
	hours    []Period          // working hours of a working day
}

// Day is a special day: a holiday on a weekday or a worked weekend day.
type Day struct {
	Date string // YYYY-MM-DD
	Off  bool   // a day off (holiday) or a working day (调休)
	Name string
}

// New returns a calendar in loc with the given working hours (default
// 08:30–12:00 and 14:00–17:30).
func New(loc *time.Location, hours []Period) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	if len(hours) == 0 {
		hours = []Period{{8*60 + 30, 12 * 60}, {14 * 60, 17*60 + 30}}
	}
	return &Calendar{loc: loc, holidays: map[string]bool{}, workdays: map[string]bool{}, names: map[string]string{},
		years: map[int]bool{}, hours: hours}
}

// DayLength is the working time of one working day.
func (c *Calendar) DayLength() time.Duration {
	var d time.Duration
	for _, p := range c.hours {
		d += time.Duration(p.End-p.Start) * time.Minute
	}
	return d
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// SetHoliday marks a date ("2006-01-02") as a day off.
func (c *Calendar) SetHoliday(date string) { c.Set(date, true, "") }

// SetWorkday marks a date as a working day.
func (c *Calendar) SetWorkday(date string) { c.Set(date, false, "") }

// Set marks a date as a day off (off) or a working day, with a name.
func (c *Calendar) Set(date string, off bool, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.holidays, date)
	delete(c.workdays, date)
	if off {
		c.holidays[date] = true
	} else {
		c.workdays[date] = true
	}
	if name != "" {
		c.names[date] = name
	}
}

// MarkYear records that year has holiday data.
func (c *Calendar) MarkYear(year int) { c.mu.Lock(); c.years[year] = true; c.mu.Unlock() }

// HasData reports whether year has holiday data; without it only weekends are off.
func (c *Calendar) HasData(year int) bool { c.mu.RLock(); defer c.mu.RUnlock(); return c.years[year] }

// Special returns the year's holidays on weekdays and worked weekend days, in date order.
func (c *Calendar) Special(year int) []Day {
	c.mu.RLock()
	defer c.mu.RUnlock()
	prefix := fmt.Sprintf("%04d-", year)
	var out []Day
	for d := range c.holidays {
		if len(d) == 10 && d[:5] == prefix {
			out = append(out, Day{Date: d, Off: true, Name: c.names[d]})
		}
	}
	for d := range c.workdays {
		if len(d) == 10 && d[:5] == prefix {
			out = append(out, Day{Date: d, Off: false, Name: c.names[d]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

// IsWorkday reports whether t's date (in the calendar's zone) is worked.
func (c *Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	d := t.Format("2006-01-02")
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.workdays[d] {
		return true
	}
	if c.holidays[d] {
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// midnight returns the start of t's day in the calendar's zone.
func (c *Calendar) midnight(t time.Time) time.Time {
	t = t.In(c.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
}

// at returns day's midnight plus minutes.
func at(day time.Time, minutes int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, day.Location())
}

// AddWorking returns the time d of working hours after t.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	cur := t.In(c.loc)
	day := c.midnight(cur)
	for i := 0; i < 3660; i++ { // ten years of days at most
		if c.IsWorkday(day) {
			for _, p := range c.hours {
				start, end := at(day, p.Start), at(day, p.End)
				if !end.After(cur) {
					continue
				}
				if cur.Before(start) {
					cur = start
				}
				if left := end.Sub(cur); d <= left {
					return cur.Add(d)
				} else {
					d -= left
					cur = end
				}
			}
		}
		day = day.AddDate(0, 0, 1)
		cur = day
	}
	return cur
}

// WorkingBetween returns the working time between from and to (0 when to is not after from).
func (c *Calendar) WorkingBetween(from, to time.Time) time.Duration {
	var total time.Duration
	cur := from.In(c.loc)
	for day := c.midnight(cur); !day.After(to); day = day.AddDate(0, 0, 1) {
		if !c.IsWorkday(day) {
			continue
		}
		for _, p := range c.hours {
			s, e := maxTime(at(day, p.Start), from), minTime(at(day, p.End), to)
			if e.After(s) {
				total += e.Sub(s)
			}
		}
	}
	return total
}

// Overlap returns the first span of [from, to) that falls inside period p
// of a working day, and whether there is one.
func (c *Calendar) Overlap(from, to time.Time, p Period) (start, end time.Time, ok bool) {
	day := c.midnight(from)
	for !day.After(to) {
		if c.IsWorkday(day) {
			s, e := at(day, p.Start), at(day, p.End)
			if s.Before(to) && e.After(from) {
				return maxTime(s, from), minTime(e, to), true
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}, time.Time{}, false
}

// NextOutside returns the earliest start at or after from of a span of
// length d that does not touch period p of any working day.
func (c *Calendar) NextOutside(from time.Time, d time.Duration, p Period) time.Time {
	t := from
	for i := 0; i < 400; i++ {
		_, e, ok := c.Overlap(t, t.Add(d), p)
		if !ok {
			return t
		}
		day := c.midnight(e)
		t = at(day, p.End)
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
