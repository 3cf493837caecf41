// Package trend reads the console's trend series (M 6.1 a, W 8.5 d): for a
// set of units and a range (14 days by day, 3 months by week, 12 months by
// month) it counts incidents per bucket by level, the mean times to
// acknowledge and to resolve, tickets answered within their SLA per kind,
// inspection completion, backup success and escalations.
//
// Every series is one aggregate query in storage (Store); the service
// picks the window from its clock, fills the buckets nothing fell in and
// turns counts into the shapes the charts draw. It changes nothing, so it
// writes no audit entries.
package trend

import (
	"context"
	"slices"
	"time"

	"opsbot/core/org"
)

// Range is a period the console offers.
type Range string

// The ranges.
const (
	Days14   Range = "14d" // the last 14 days, by day
	Months3  Range = "3m"  // the last 13 weeks, by ISO week (Monday first)
	Months12 Range = "12m" // the last 12 months, by month
)

// Ranges lists every range, shortest first.
var Ranges = []Range{Days14, Months3, Months12}

// Bucket is the size of one step of a series.
type Bucket string

// The bucket sizes; their names are Postgres date_trunc fields.
const (
	Day   Bucket = "day"
	Week  Bucket = "week"
	Month Bucket = "month"
)

// Units selects whose work a series counts: every unit (All), the units
// listed (the subtree a view covers, or one unit it was narrowed to), or
// one person's own items (Own: incidents they declared or own, tickets
// they asked or hold, inspection runs assigned to them; no backups).
type Units struct {
	All   bool
	Codes []string
	Own   string
}

// UnitsOf is what an org view selects (the scope rule): every unit for
// the city or city operations, the view's units (subtrees, or the unit
// filter's) for an admin, the user's own items for anyone else.
func UnitsOf(v org.View) Units {
	switch {
	case v.Own != "":
		return Units{Own: v.Own}
	case v.All:
		return Units{All: true}
	}
	return Units{Codes: v.Units}
}

// Has reports whether a row about unit involving people is selected.
func (u Units) Has(unit string, people ...string) bool {
	if u.Own != "" {
		return slices.Contains(people, u.Own)
	}
	return u.All || slices.Contains(u.Codes, unit)
}

// Window is what a store query covers: [From, To) cut into buckets of
// Bucket in Loc. Items that only count once they fall due (tickets,
// inspections, backups) count when due before Now.
type Window struct {
	From, To time.Time
	Now      time.Time
	Bucket   Bucket
	Loc      *time.Location
}

// Key is the bucket key of t: the bucket's first day, YYYY-MM-DD, in w.Loc.
func (w Window) Key(t time.Time) string { return w.start(t).Format(time.DateOnly) }

func (w Window) start(t time.Time) time.Time {
	t = t.In(w.Loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, w.Loc)
	switch w.Bucket {
	case Week:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, w.Loc)
	}
	return d
}

func (w Window) next(t time.Time) time.Time {
	switch w.Bucket {
	case Week:
		return t.AddDate(0, 0, 7)
	case Month:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// Starts lists the first moment of every bucket in the window.
func (w Window) Starts() []time.Time {
	var out []time.Time
	for t := w.start(w.From); t.Before(w.To); t = w.next(t) {
		out = append(out, t)
	}
	return out
}

// WindowOf is the window of r ending with the bucket that holds now.
func WindowOf(r Range, now time.Time, loc *time.Location) (Window, bool) {
	w := Window{Now: now, Loc: loc}
	switch r {
	case Days14:
		w.Bucket = Day
		w.To = w.next(w.start(now))
		w.From = w.To.AddDate(0, 0, -14)
	case Months3:
		w.Bucket = Week
		w.To = w.next(w.start(now))
		w.From = w.To.AddDate(0, 0, -7*13)
	case Months12:
		w.Bucket = Month
		w.To = w.next(w.start(now))
		w.From = w.To.AddDate(0, -12, 0)
	default:
		return Window{}, false
	}
	return w, true
}

// Count is a number of things in a bucket, per Key (a level, a kind; ""
// when the series has one line).
type Count struct {
	Bucket string // Window.Key of the bucket
	Key    string
	N      int
}

// Ratio is how many of the things due in a bucket went well.
type Ratio struct {
	Bucket string
	Key    string
	OK     int
	Total  int
}

// Mean is the mean of Sum over N things in a bucket; Key says which mean.
type Mean struct {
	Bucket string
	Key    string
	Sum    time.Duration
	N      int
}

// Store runs one aggregate query per series over the window, for units.
type Store interface {
	// IncidentLevels counts incidents declared per bucket; Key is the level "1".."4".
	IncidentLevels(ctx context.Context, w Window, u Units) ([]Count, error)
	// IncidentTimes sums declared→acknowledged (Key "ack") and
	// declared→resolved (Key "resolve") over incidents declared per bucket.
	IncidentTimes(ctx context.Context, w Window, u Units) ([]Mean, error)
	// TicketSLA counts tickets answered per bucket (or fallen due
	// unanswered, by their due time, when due before w.Now) and how many
	// were answered in time; Key is the ticket kind.
	TicketSLA(ctx context.Context, w Window, u Units) ([]Ratio, error)
	// Inspections counts inspection runs due per bucket (before w.Now) and
	// how many were done. Inspections are platform-wide: only u.Own
	// applies (the runs assigned to them).
	Inspections(ctx context.Context, w Window, u Units) ([]Ratio, error)
	// Backups counts expected daily backups per bucket (due before w.Now)
	// and how many succeeded. Backups are platform-wide; an Own selection
	// has none.
	Backups(ctx context.Context, w Window, u Units) ([]Ratio, error)
	// Escalations counts incident escalations per bucket.
	Escalations(ctx context.Context, w Window, u Units) ([]Count, error)
}
