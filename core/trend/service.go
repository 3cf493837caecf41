package trend

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"opsbot/core"
)

// Levels are the incident levels, I (most severe) to IV.
var Levels = []int{1, 2, 3, 4}

// TicketKinds are the ticket kinds of the SLA series, in display order.
var TicketKinds = []string{"tech", "business", "disclosure"}

// Pct is a ratio as a share: OK of Total; Total 0 means nothing fell due.
type Pct struct{ OK, Total int }

// Percent is the share in whole percent, and false when nothing fell due.
func (p Pct) Percent() (float64, bool) {
	if p.Total == 0 {
		return 0, false
	}
	return float64(p.OK) * 100 / float64(p.Total), true
}

// Avg is a mean duration over N things; N 0 means none.
type Avg struct {
	Sum time.Duration
	N   int
}

// Mean is the average, and false when there was nothing to average.
func (a Avg) Mean() (time.Duration, bool) {
	if a.N == 0 {
		return 0, false
	}
	return a.Sum / time.Duration(a.N), true
}

// Trends are the six series of one range, every slice indexed like Starts.
type Trends struct {
	Range  Range
	Window Window
	Starts []time.Time
	// Incidents counts incidents declared per bucket, per level (index 0 is level I).
	Incidents [4][]int
	MTTA      []Avg
	MTTR      []Avg
	// SLA is per ticket kind (TicketKinds).
	SLA         map[string][]Pct
	Inspections []Pct
	Backups     []Pct
	Escalations []int
}

// Service reads trends.
type Service struct {
	store Store
	clock core.Clock
	loc   *time.Location
}

// NewService returns the trend service; buckets are days in loc.
func NewService(store Store, clock core.Clock, loc *time.Location) *Service {
	if loc == nil {
		loc = time.Local
	}
	return &Service{store: store, clock: clock, loc: loc}
}

// Read computes the six series of r for units. A range outside Ranges is
// a core.Invalid error.
func (s *Service) Read(ctx context.Context, units Units, r Range) (Trends, error) {
	w, ok := WindowOf(r, s.clock.Now(), s.loc)
	if !ok {
		return Trends{}, core.Invalid("trend_range", "value", string(r))
	}
	t := Trends{Range: r, Window: w, Starts: w.Starts(), SLA: map[string][]Pct{}}
	n := len(t.Starts)
	index := make(map[string]int, n)
	for i, st := range t.Starts {
		index[w.Key(st)] = i
	}
	for l := range t.Incidents {
		t.Incidents[l] = make([]int, n)
	}
	t.MTTA, t.MTTR = make([]Avg, n), make([]Avg, n)
	for _, k := range TicketKinds {
		t.SLA[k] = make([]Pct, n)
	}
	t.Inspections, t.Backups, t.Escalations = make([]Pct, n), make([]Pct, n), make([]int, n)

	// The six queries are independent: run them side by side (the store
	// is a connection pool), then merge in one goroutine.
	var (
		levels, escs  []Count
		times         []Mean
		sla, runs, bk []Ratio
		errs          [6]error
		wg            sync.WaitGroup
	)
	for i, q := range []func() error{
		func() (err error) { levels, err = s.store.IncidentLevels(ctx, w, units); return },
		func() (err error) { times, err = s.store.IncidentTimes(ctx, w, units); return },
		func() (err error) { sla, err = s.store.TicketSLA(ctx, w, units); return },
		func() (err error) { runs, err = s.store.Inspections(ctx, w, units); return },
		func() (err error) { bk, err = s.store.Backups(ctx, w, units); return },
		func() (err error) { escs, err = s.store.Escalations(ctx, w, units); return },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = q() }()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return Trends{}, err
	}
	for _, c := range levels {
		l, err := strconv.Atoi(c.Key)
		if i, ok := index[c.Bucket]; ok && err == nil && l >= 1 && l <= 4 {
			t.Incidents[l-1][i] += c.N
		}
	}
	for _, m := range times {
		i, ok := index[m.Bucket]
		if !ok {
			continue
		}
		dst := &t.MTTA[i]
		if m.Key == "resolve" {
			dst = &t.MTTR[i]
		}
		dst.Sum += m.Sum
		dst.N += m.N
	}
	for _, r := range sla {
		if i, ok := index[r.Bucket]; ok {
			if _, known := t.SLA[r.Key]; !known {
				t.SLA[r.Key] = make([]Pct, n)
			}
			t.SLA[r.Key][i].OK += r.OK
			t.SLA[r.Key][i].Total += r.Total
		}
	}
	addRatios(t.Inspections, runs, index)
	addRatios(t.Backups, bk, index)
	for _, c := range escs {
		if i, ok := index[c.Bucket]; ok {
			t.Escalations[i] += c.N
		}
	}
	return t, nil
}

func addRatios(dst []Pct, rs []Ratio, index map[string]int) {
	for _, r := range rs {
		if i, ok := index[r.Bucket]; ok {
			dst[i].OK += r.OK
			dst[i].Total += r.Total
		}
	}
}

// Add is the sum of two ratios.
func (p Pct) Add(q Pct) Pct { return Pct{OK: p.OK + q.OK, Total: p.Total + q.Total} }
