// Package calendar knows working days and working hours: weekends and
// statutory holidays are off, make-up workdays (调休) are on. Holidays and
// make-up days are handed in by whoever loads them (configs/holidays,
// admin overrides, /calendar import). A year without that data is
// provisional: its statutory holidays are computed from the national
// rules (Statutory: the fixed dates and the lunar ones), with no make-up
// days guessed.
//
// Working-day periods ("within N working days of receipt", M 6.2, W 5.5 c)
// are counted here and nowhere else: see DueAfterDays and PeriodRule.
package calendar

import (
	"fmt"
	"sort"
	"strconv"
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
	holidays map[string]bool           // "2026-10-01": a day off that would be a weekday
	workdays map[string]bool           // "2026-09-28": a weekend day that is worked
	names    map[string]string         // names of special days
	years    map[int]bool              // years with holiday data
	cmu      sync.Mutex                // guards computed
	computed map[int]map[string]string // per year without data: its statutory days off, by date
	hours    []Period                  // working hours of a working day
	rule     PeriodRule
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
		years: map[int]bool{}, computed: map[int]map[string]string{}, hours: hours, rule: NextDay}
}

// PeriodRule says how "within N working days of receipt" is counted.
type PeriodRule string

// The period rules.
const (
	// NextDay (the default): the day of receipt is not counted (as in the
	// Civil Code art. 201); the period runs from the next working day and
	// ends at the close of working hours of the Nth working day.
	NextDay PeriodRule = "next_day"
	// ElapsedHours (the behaviour before it): N days' worth of working
	// hours from the moment of receipt; received Tue 09:00, two working
	// days are due Thu 09:00.
	ElapsedHours PeriodRule = "elapsed_hours"
)

// ParsePeriodRule checks a rule's name ("" is NextDay).
func ParsePeriodRule(s string) (PeriodRule, error) {
	switch PeriodRule(s) {
	case "", NextDay:
		return NextDay, nil
	case ElapsedHours:
		return ElapsedHours, nil
	}
	return "", fmt.Errorf("calendar: period rule %q is not next_day or elapsed_hours", s)
}

// SetPeriodRule sets how working-day periods are counted.
func (c *Calendar) SetPeriodRule(r PeriodRule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r != ElapsedHours {
		r = NextDay
	}
	c.rule = r
}

// Rule returns how working-day periods are counted.
func (c *Calendar) Rule() PeriodRule { c.mu.RLock(); defer c.mu.RUnlock(); return c.rule }

// DueAfterDays returns the end of a period of n working days from
// receipt, by the calendar's rule: with NextDay the close of working
// hours of the nth working day after the day of receipt; with
// ElapsedHours n days of working hours after received. Every working-day
// period (the tickets' 2, 5 and 20 days) is counted here.
func (c *Calendar) DueAfterDays(received time.Time, n int) time.Time {
	if n <= 0 {
		return received
	}
	if c.Rule() == ElapsedHours {
		return c.AddWorking(received, time.Duration(n)*c.DayLength())
	}
	day := c.Midnight(received)
	for i := 0; i < 3660 && n > 0; i++ { // ten years of days at most
		day = day.AddDate(0, 0, 1)
		if c.IsWorkday(day) {
			n--
		}
	}
	return at(day, c.closing())
}

// PeriodStart returns when a period of working days received at
// received starts running: with NextDay the opening of the next working
// day, with ElapsedHours received itself. A pause before it costs the
// period nothing.
func (c *Calendar) PeriodStart(received time.Time) time.Time {
	if c.Rule() == ElapsedHours {
		return received
	}
	day := c.Midnight(received)
	for i := 0; i < 3660; i++ {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkday(day) {
			break
		}
	}
	return at(day, c.opening())
}

// opening is the start of the first working period of a day, in minutes.
func (c *Calendar) opening() int {
	start := 24 * 60
	for _, p := range c.hours {
		start = min(start, p.Start)
	}
	return start
}

// closing is the end of the last working period of a day, in minutes.
func (c *Calendar) closing() int {
	end := 0
	for _, p := range c.hours {
		end = max(end, p.End)
	}
	return end
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

// DayName returns a special day's name ("法定节假日", "调休上班", an
// admin's name for it), or in a year without data a statutory holiday's
// ("国庆节"); "" for an ordinary day. date is "2006-01-02".
func (c *Calendar) DayName(date string) string {
	year, err := strconv.Atoi(date[:min(4, len(date))])
	c.mu.RLock()
	name, special := c.names[date], c.holidays[date] || c.workdays[date]
	known := c.years[year]
	c.mu.RUnlock()
	if special || known || err != nil {
		return name
	}
	return c.statutory(year)[date]
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
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if c.years[t.Year()] {
		return true
	}
	_, off := c.statutory(t.Year())[d]
	return !off
}

// statutory returns the computed days off of a year without data, by
// date; each year's are computed once.
func (c *Calendar) statutory(year int) map[string]string {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if m, ok := c.computed[year]; ok {
		return m
	}
	m := map[string]string{}
	for _, d := range Statutory(year) {
		m[d.Date] = d.Name
	}
	c.computed[year] = m
	return m
}

// Provisional reports whether a span from one time to another touches a
// year without holiday data: working days counted in it follow the
// computed statutory holidays and may move when the official schedule
// is loaded.
func (c *Calendar) Provisional(from, to time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for y := from.In(c.loc).Year(); y <= to.In(c.loc).Year(); y++ {
		if !c.years[y] {
			return true
		}
	}
	return false
}

// Midnight returns the start of t's day in the calendar's zone.
func (c *Calendar) Midnight(t time.Time) time.Time {
	t = t.In(c.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
}

// at returns day's midnight plus minutes.
func at(day time.Time, minutes int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, day.Location())
}

// AddWorking returns the time d of working hours after t (t itself when d
// is not positive). It counts hours, not working-day periods: those are
// DueAfterDays.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	cur := t.In(c.loc)
	day := c.Midnight(cur)
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
	for day := c.Midnight(cur); !day.After(to); day = day.AddDate(0, 0, 1) {
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
	day := c.Midnight(from)
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
		day := c.Midnight(e)
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
