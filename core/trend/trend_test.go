package trend_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/trend"
)

var shanghai = time.FixedZone("CST", 8*3600)

type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// incident is what the fake knows of an incident.
type incident struct {
	unit, owner    string
	level          int
	declared       time.Time
	acked, resolve time.Duration // 0: not yet
	escalatedAt    []time.Time
}

type ticket struct {
	unit, kind    string
	asker         string
	due, answered time.Time // answered zero: not answered
}

type run struct {
	due      time.Time
	done     bool
	assignee string
}

// fake aggregates in Go what the SQL aggregates in Postgres.
type fake struct {
	incidents []incident
	tickets   []ticket
	runs      []run
	backups   []run
	windows   []trend.Window
}

func in(w trend.Window, t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

func (f *fake) IncidentLevels(_ context.Context, w trend.Window, u trend.Units) ([]trend.Count, error) {
	f.windows = append(f.windows, w)
	var out []trend.Count
	for _, i := range f.incidents {
		if in(w, i.declared) && u.Has(i.unit, i.owner) {
			out = append(out, trend.Count{Bucket: w.Key(i.declared), Key: strconv.Itoa(i.level), N: 1})
		}
	}
	return out, nil
}

func (f *fake) IncidentTimes(_ context.Context, w trend.Window, u trend.Units) ([]trend.Mean, error) {
	var out []trend.Mean
	for _, i := range f.incidents {
		if !in(w, i.declared) || !u.Has(i.unit, i.owner) {
			continue
		}
		if i.acked > 0 {
			out = append(out, trend.Mean{Bucket: w.Key(i.declared), Key: "ack", Sum: i.acked, N: 1})
		}
		if i.resolve > 0 {
			out = append(out, trend.Mean{Bucket: w.Key(i.declared), Key: "resolve", Sum: i.resolve, N: 1})
		}
	}
	return out, nil
}

func (f *fake) TicketSLA(_ context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	var out []trend.Ratio
	for _, t := range f.tickets {
		if !u.Has(t.unit, t.asker) {
			continue
		}
		when, ok := t.answered, !t.answered.IsZero() && !t.answered.After(t.due)
		if t.answered.IsZero() {
			if !t.due.Before(w.Now) {
				continue
			}
			when = t.due
		}
		if in(w, when) {
			r := trend.Ratio{Bucket: w.Key(when), Key: t.kind, Total: 1}
			if ok {
				r.OK = 1
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func ratios(w trend.Window, u trend.Units, rs []run) []trend.Ratio {
	var out []trend.Ratio
	for _, r := range rs {
		if in(w, r.due) && r.due.Before(w.Now) && (u.Own == "" || r.assignee == u.Own) {
			x := trend.Ratio{Bucket: w.Key(r.due), Total: 1}
			if r.done {
				x.OK = 1
			}
			out = append(out, x)
		}
	}
	return out
}

func (f *fake) Inspections(_ context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	return ratios(w, u, f.runs), nil
}

func (f *fake) Backups(_ context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	if u.Own != "" {
		return nil, nil
	}
	return ratios(w, u, f.backups), nil
}

func (f *fake) Escalations(_ context.Context, w trend.Window, u trend.Units) ([]trend.Count, error) {
	var out []trend.Count
	for _, i := range f.incidents {
		for _, e := range i.escalatedAt {
			if in(w, e) && u.Has(i.unit, i.owner) {
				out = append(out, trend.Count{Bucket: w.Key(e), N: 1})
			}
		}
	}
	return out, nil
}

func TestWindowsOfTheRanges(t *testing.T) {
	t.Parallel()
	now := at("2026-11-25 09:30") // a Wednesday
	for _, tc := range []struct {
		name       string
		r          trend.Range
		from, to   string
		n          int
		firstStart string
	}{
		{"14 days by day, today included", trend.Days14, "2026-11-12 00:00", "2026-11-26 00:00", 14, "2026-11-12"},
		{"13 weeks by week, Monday first", trend.Months3, "2026-08-31 00:00", "2026-11-30 00:00", 13, "2026-08-31"},
		{"12 months by month", trend.Months12, "2025-12-01 00:00", "2026-12-01 00:00", 12, "2025-12-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := trend.WindowOf(tc.r, now, shanghai)
			require.True(t, ok)
			require.Equal(t, at(tc.from), w.From)
			require.Equal(t, at(tc.to), w.To)
			starts := w.Starts()
			require.Len(t, starts, tc.n)
			require.Equal(t, tc.firstStart, w.Key(starts[0]))
		})
	}
	_, ok := trend.WindowOf("2y", now, shanghai)
	require.False(t, ok)
}

func TestReadBucketsEverySeries(t *testing.T) {
	t.Parallel()
	now := at("2026-11-25 09:30")
	f := &fake{
		incidents: []incident{
			{unit: "d1", owner: "li", level: 1, declared: at("2026-11-24 10:00"), acked: 4 * time.Minute, resolve: time.Hour,
				escalatedAt: []time.Time{at("2026-11-24 10:15"), at("2026-11-24 10:30")}},
			{unit: "d1", level: 3, declared: at("2026-11-24 23:59"), acked: 6 * time.Minute},
			{unit: "d1", level: 3, declared: at("2026-11-25 00:00")},
			{unit: "d2", level: 2, declared: at("2026-11-24 11:00"), acked: time.Hour, escalatedAt: []time.Time{at("2026-11-24 12:00")}},
			{unit: "d1", level: 4, declared: at("2026-11-11 23:59")}, // the day before the window
		},
		tickets: []ticket{
			{unit: "d1", kind: "tech", asker: "li", due: at("2026-11-24 18:00"), answered: at("2026-11-24 17:00")},
			{unit: "d1", kind: "tech", due: at("2026-11-24 18:00"), answered: at("2026-11-24 19:00")},
			{unit: "d1", kind: "business", due: at("2026-11-23 18:00")}, // fell due unanswered
			{unit: "d1", kind: "business", due: at("2026-11-25 18:00")}, // not due yet
			{unit: "d2", kind: "disclosure", due: at("2026-11-24 18:00"), answered: at("2026-11-24 09:00")},
		},
		runs:    []run{{due: at("2026-11-24 09:00"), done: true, assignee: "li"}, {due: at("2026-11-24 15:00")}, {due: at("2026-11-25 15:00")}},
		backups: []run{{due: at("2026-11-23 02:00"), done: true}, {due: at("2026-11-24 02:00")}},
	}
	s := trend.NewService(f, clock{now}, shanghai)

	tr, err := s.Read(context.Background(), trend.Units{Codes: []string{"d1"}}, trend.Days14)
	require.NoError(t, err)
	require.Len(t, tr.Starts, 14)
	last, prev := 13, 12 // today, yesterday
	require.Equal(t, 1, tr.Incidents[0][prev])
	require.Equal(t, 1, tr.Incidents[2][prev], "23:59 local is still yesterday")
	require.Equal(t, 1, tr.Incidents[2][last], "00:00 local is today")
	require.Equal(t, 0, tr.Incidents[1][prev], "d2's incident is outside the units")
	for l := range tr.Incidents {
		require.Equal(t, 0, tr.Incidents[l][0], "the day before the window is not counted")
	}
	mtta, ok := tr.MTTA[prev].Mean()
	require.True(t, ok)
	require.Equal(t, 5*time.Minute, mtta)
	mttr, ok := tr.MTTR[prev].Mean()
	require.True(t, ok)
	require.Equal(t, time.Hour, mttr)
	_, ok = tr.MTTA[last].Mean()
	require.False(t, ok, "nothing acknowledged today")
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, tr.SLA["tech"][prev])
	require.Equal(t, trend.Pct{OK: 0, Total: 1}, tr.SLA["business"][11], "a ticket fallen due unanswered counts late on its due day")
	require.Equal(t, trend.Pct{}, tr.SLA["business"][last], "a ticket not due yet does not count")
	require.Equal(t, trend.Pct{}, tr.SLA["disclosure"][prev])
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, tr.Inspections[prev])
	require.Equal(t, trend.Pct{}, tr.Inspections[last], "a run due later today does not count yet")
	require.Equal(t, trend.Pct{OK: 1, Total: 1}, tr.Backups[11])
	require.Equal(t, trend.Pct{OK: 0, Total: 1}, tr.Backups[prev])
	require.Equal(t, 2, tr.Escalations[prev])
	pct, ok := tr.SLA["tech"][prev].Percent()
	require.True(t, ok)
	require.InDelta(t, 50, pct, 0.001)

	city, err := s.Read(context.Background(), trend.Units{All: true}, trend.Months12)
	require.NoError(t, err)
	require.Len(t, city.Starts, 12)
	nov := 11
	require.Equal(t, []int{1, 1, 2, 1}, []int{city.Incidents[0][nov], city.Incidents[1][nov], city.Incidents[2][nov], city.Incidents[3][nov]},
		"the city sees both districts, and 11-11 is inside 12 months")
	require.Equal(t, 3, city.Escalations[nov])

	weeks, err := s.Read(context.Background(), trend.Units{All: true}, trend.Months3)
	require.NoError(t, err)
	require.Equal(t, "2026-11-23", weeks.Window.Key(weeks.Starts[12]), "the last week starts on Monday")
	require.Equal(t, 4, weeks.Incidents[0][12]+weeks.Incidents[1][12]+weeks.Incidents[2][12]+weeks.Incidents[3][12])

	own, err := s.Read(context.Background(), trend.Units{Own: "li"}, trend.Days14)
	require.NoError(t, err)
	require.Equal(t, 1, own.Incidents[0][prev]+own.Incidents[1][prev]+own.Incidents[2][prev]+own.Incidents[3][prev], "li owns one incident")
	require.Equal(t, trend.Pct{OK: 1, Total: 1}, own.SLA["tech"][prev], "li asked one ticket")
	require.Equal(t, trend.Pct{OK: 1, Total: 1}, own.Inspections[prev], "one run is li's")
	require.Equal(t, trend.Pct{}, own.Backups[prev], "no backups are anyone's own")
	require.Equal(t, 2, own.Escalations[prev])

	_, err = s.Read(context.Background(), trend.Units{All: true}, "1y")
	require.ErrorIs(t, err, core.ErrInvalid)
}

func TestUnitsOfAView(t *testing.T) {
	t.Parallel()
	require.Equal(t, trend.Units{All: true}, trend.UnitsOf(org.View{Basis: org.ViewCity, All: true, Units: []string{"a", "b"}}))
	require.Equal(t, trend.Units{Codes: []string{"d1", "d1-u"}}, trend.UnitsOf(org.View{Basis: org.ViewUnits, Units: []string{"d1", "d1-u"}}))
	require.Equal(t, trend.Units{Own: "li"}, trend.UnitsOf(org.View{Basis: org.ViewOwn, Own: "li"}))
	narrowed, err := org.View{Basis: org.ViewCity, All: true, Tree: []org.Unit{{Code: "city", Path: "/city/"}, {Code: "d1", Path: "/city/d1/"}}}.Narrow("d1")
	require.NoError(t, err)
	require.Equal(t, trend.Units{Codes: []string{"d1"}}, trend.UnitsOf(narrowed), "the unit filter narrows the city to a subtree")
}
