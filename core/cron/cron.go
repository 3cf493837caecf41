// Package cron parses five-field cron specs ("minute hour day-of-month
// month day-of-week", as in crontab(5)) and finds their next time. It is
// what inspection plans run on.
package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed spec.
type Schedule struct {
	spec                          string
	minute, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar              bool
}

var descriptors = map[string]string{
	"@hourly":  "0 * * * *",
	"@daily":   "0 0 * * *",
	"@weekly":  "0 0 * * 0",
	"@monthly": "0 0 1 * *",
}

// Parse parses a spec: five fields of numbers, ranges (a-b), steps (*/n,
// a-b/n) and lists (a,b), or one of @hourly, @daily, @weekly, @monthly.
// Day of week is 0-7, Sunday being 0 or 7.
func Parse(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	expanded := spec
	if d, ok := descriptors[spec]; ok {
		expanded = d
	}
	f := strings.Fields(expanded)
	if len(f) != 5 {
		return Schedule{}, fmt.Errorf("cron: want 5 fields (minute hour day month weekday), got %d in %q", len(f), spec)
	}
	s := Schedule{spec: spec, domStar: f[2] == "*", dowStar: f[4] == "*"}
	var err error
	bounds := []struct {
		dst    *uint64
		lo, hi int
		name   string
	}{{&s.minute, 0, 59, "minute"}, {&s.hour, 0, 23, "hour"}, {&s.dom, 1, 31, "day of month"}, {&s.month, 1, 12, "month"}, {&s.dow, 0, 7, "day of week"}}
	for i, b := range bounds {
		if *b.dst, err = field(f[i], b.lo, b.hi); err != nil {
			return Schedule{}, fmt.Errorf("cron: %s: %w", b.name, err)
		}
	}
	if s.dow&(1<<7) != 0 {
		s.dow |= 1 // 7 is Sunday too
	}
	return s, nil
}

func field(f string, lo, hi int) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		start, end := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err1, err2 error
			start, err1 = strconv.Atoi(a)
			end, err2 = strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("bad range %q", rng)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", rng)
			}
			start, end = n, n
			if hasStep {
				end = hi
			}
		}
		if start < lo || end > hi || start > end {
			return 0, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := start; v <= end; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

// String returns the spec as given.
func (s Schedule) String() string { return s.spec }

func (s Schedule) dayMatches(d time.Time) bool {
	if s.month&(1<<uint(d.Month())) == 0 {
		return false
	}
	domOK := s.dom&(1<<uint(d.Day())) != 0
	dowOK := s.dow&(1<<uint(d.Weekday())) != 0
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dowOK
	case s.dowStar:
		return domOK
	default: // both restricted: either matches, as in crontab(5)
		return domOK || dowOK
	}
}

// Next returns the first time after t that the schedule matches, in t's
// location, or the zero time if there is none within five years.
func (s Schedule) Next(t time.Time) time.Time {
	loc := t.Location()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < 5*366; i++ {
		if s.dayMatches(day) {
			for h := 0; h < 24; h++ {
				if s.hour&(1<<uint(h)) == 0 {
					continue
				}
				for m := 0; m < 60; m++ {
					if s.minute&(1<<uint(m)) == 0 {
						continue
					}
					c := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
					if c.After(t) {
						return c
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}
