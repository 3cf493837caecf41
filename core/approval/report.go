package approval

import (
	"context"
	"slices"
	"sort"
	"time"

	"opsbot/core"
)

// KindMonth is one request kind's line of the approvals month.
type KindMonth struct {
	Kind Kind
	// Requested counts the requests submitted in the month; the next five
	// split them by their state now.
	Requested                                   int
	Done, Rejected, Cancelled, Expired, Pending int
	// Decisions counts the approvals and rejections taken on them;
	// MeanDecision and MedianDecision are the working time each took from
	// the start of its step (zero when none).
	Decisions                    int
	MeanDecision, MedianDecision time.Duration
}

// Waiting is a request of the month still pending, with the working time
// its current step has waited.
type Waiting struct {
	Request
	Waited time.Duration
}

// MonthRequest is a request of the month with its decisions' working time.
type MonthRequest struct {
	Request
	Decisions int
	// DecisionTime is the working time its approvals and rejections took
	// in total.
	DecisionTime time.Duration
}

// Month is the approvals month of a set of units: the requests submitted
// in the month by kind and outcome, how long decisions took in working
// time, and those still pending.
type Month struct {
	Month    string
	Kinds    []KindMonth // by kind
	Total    KindMonth
	Pending  []Waiting      // longest waiting first
	Requests []MonthRequest // by id
}

// Month computes the approvals month (YYYY-MM) of the requests keep
// keeps, given each request's unit and requester; keep nil keeps every
// request, those without a unit too. Callers pass an org.View's Keeps.
func (s *Service) Month(ctx context.Context, month string, keep func(unit string, people ...string) bool) (Month, error) {
	from, err := time.ParseInLocation("2006-01", month, s.cal.Location())
	if err != nil {
		return Month{}, core.Invalid("month", "value", month)
	}
	out := Month{Month: month, Pending: []Waiting{}, Requests: []MonthRequest{}}
	err = s.store.InTx(ctx, func(p Ports) error {
		reqs, err := p.RequestsBetween(ctx, from, from.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		ids := make([]int64, len(reqs))
		for i, r := range reqs {
			ids[i] = r.ID
		}
		decisions, err := p.DecisionsOf(ctx, ids)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		lines := map[Kind]*KindMonth{}
		times := map[Kind][]time.Duration{}
		for _, r := range reqs {
			if keep != nil && !keep(r.Unit, r.Requester) {
				continue
			}
			km := lines[r.Kind]
			if km == nil {
				km = &KindMonth{Kind: r.Kind}
				lines[r.Kind] = km
			}
			km.Requested++
			switch r.State {
			case StateDone:
				km.Done++
			case StateRejected:
				km.Rejected++
			case StateCancelled:
				km.Cancelled++
			case StateExpired:
				km.Expired++
			case StatePending:
				km.Pending++
				out.Pending = append(out.Pending, Waiting{Request: r, Waited: s.cal.WorkingBetween(r.StepSince, now)})
			}
			mr := MonthRequest{Request: r}
			for _, d := range decisionTimes(r, decisions[r.ID], s.cal.WorkingBetween) {
				km.Decisions++
				mr.Decisions++
				mr.DecisionTime += d
				times[r.Kind] = append(times[r.Kind], d)
				times[""] = append(times[""], d)
			}
			out.Requests = append(out.Requests, mr)
		}
		kinds := make([]Kind, 0, len(lines))
		for k := range lines {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			km := *lines[k]
			km.MeanDecision, km.MedianDecision = core.Mean(times[k]), core.Median(times[k])
			out.Kinds = append(out.Kinds, km)
			t := &out.Total
			t.Requested += km.Requested
			t.Done, t.Rejected, t.Cancelled, t.Expired, t.Pending = t.Done+km.Done, t.Rejected+km.Rejected, t.Cancelled+km.Cancelled, t.Expired+km.Expired, t.Pending+km.Pending
			t.Decisions += km.Decisions
		}
		out.Total.MeanDecision, out.Total.MedianDecision = core.Mean(times[""]), core.Median(times[""])
		sort.SliceStable(out.Pending, func(a, b int) bool { return out.Pending[a].Waited > out.Pending[b].Waited })
		return nil
	})
	return out, err
}

// decisionTimes returns the working time each approval or rejection of r
// took from the start of its step: the last act on another step before
// it, else the submission.
func decisionTimes(r Request, ds []Decision, working func(from, to time.Time) time.Duration) []time.Duration {
	ds = slices.Clone(ds)
	sort.SliceStable(ds, func(a, b int) bool { return ds[a].At.Before(ds[b].At) })
	var out []time.Duration
	start := r.CreatedAt
	for i, d := range ds {
		if i > 0 && ds[i-1].Step != d.Step {
			start = ds[i-1].At
		}
		if d.Verb == VerbApprove || d.Verb == VerbReject {
			out = append(out, working(start, d.At))
		}
	}
	return out
}
