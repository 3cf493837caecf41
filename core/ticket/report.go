package ticket

import (
	"context"
	"slices"
	"sort"
	"time"

	"opsbot/core"
)

// KindMonth is one ticket kind's line of the tickets/SLA month (M 6.2).
type KindMonth struct {
	Kind string
	// Opened, Answered and Closed count the tickets received, answered
	// and closed in the month.
	Opened, Answered, Closed int
	// InSLA counts the tickets answered in the month by their deadline.
	InSLA int
	// Overdue counts the tickets whose deadline fell in the month (up to
	// now) and that were not answered by it.
	Overdue int
	// MedianAnswer is the median working time from receipt to answer of
	// the tickets answered in the month, time waiting on the asker taken
	// off; zero when none was answered.
	MedianAnswer time.Duration
}

// MonthTicket is one ticket of the month with its answer time.
type MonthTicket struct {
	Ticket
	// AnswerTime is the working time from receipt to answer, time waiting
	// on the asker taken off (zero when not answered).
	AnswerTime time.Duration
	// InSLA reports whether it was answered by its deadline.
	InSLA bool
	// Late reports whether its deadline passed (up to now) unanswered or
	// it was answered after it.
	Late bool
}

// SLAMonth is the tickets/SLA month of a set of units (M 6.2): per kind
// (technical, business, disclosure, in that order) and in total, with
// every ticket received, answered, closed or due in the month.
type SLAMonth struct {
	Month   string
	Kinds   []KindMonth
	Total   KindMonth
	Tickets []MonthTicket // by id
}

// kindOrder is the order of the kinds in reports.
var kindOrder = []string{"tech", "business", "disclosure"}

// SLAMonth computes the tickets/SLA month (YYYY-MM) of the tickets keep
// keeps, given each ticket's unit and people (asker, assignees); keep
// nil keeps every ticket, those without a unit too. Callers pass an
// org.View's Keeps.
func (s *Service) SLAMonth(ctx context.Context, month string, keep func(unit string, people ...string) bool) (SLAMonth, error) {
	from, err := time.ParseInLocation("2006-01", month, s.cal.Location())
	if err != nil {
		return SLAMonth{}, core.Invalid("month", "value", month)
	}
	to := from.AddDate(0, 1, 0)
	var all []Ticket
	if err := s.store.Read(ctx, func(r Reader) error {
		all, err = r.TicketsBetween(ctx, from, to)
		return err
	}); err != nil {
		return SLAMonth{}, err
	}
	now := s.clock.Now()
	within := func(t *time.Time) bool { return t != nil && !t.Before(from) && t.Before(to) }
	lines := map[string]*KindMonth{}
	answers := map[string][]time.Duration{}
	out := SLAMonth{Month: month, Tickets: []MonthTicket{}}
	for _, t := range all {
		if keep != nil && !keep(t.Unit, append([]string{t.Asker}, t.Assignees...)...) {
			continue
		}
		km := lines[t.Kind]
		if km == nil {
			km = &KindMonth{Kind: t.Kind}
			lines[t.Kind] = km
		}
		mt := MonthTicket{Ticket: t}
		if t.AnsweredAt != nil {
			mt.AnswerTime = max(s.cal.WorkingBetween(t.CreatedAt, *t.AnsweredAt)-t.PausedFor, 0)
			mt.InSLA = !t.AnsweredAt.After(t.DueAt)
		}
		dueBy := !t.DueAt.After(now)
		mt.Late = (t.AnsweredAt == nil && dueBy) || (t.AnsweredAt != nil && t.AnsweredAt.After(t.DueAt))
		if within(&t.CreatedAt) {
			km.Opened++
		}
		if within(t.AnsweredAt) {
			km.Answered++
			answers[t.Kind] = append(answers[t.Kind], mt.AnswerTime)
			answers[""] = append(answers[""], mt.AnswerTime)
			if mt.InSLA {
				km.InSLA++
			}
		}
		if within(t.ClosedAt) {
			km.Closed++
		}
		if within(&t.DueAt) && dueBy && mt.Late {
			km.Overdue++
		}
		out.Tickets = append(out.Tickets, mt)
	}
	kinds := slices.Collect(func(yield func(string) bool) {
		for k := range lines {
			if !yield(k) {
				return
			}
		}
	})
	sort.Slice(kinds, func(a, b int) bool {
		ia, ib := slices.Index(kindOrder, kinds[a]), slices.Index(kindOrder, kinds[b])
		if ia < 0 {
			ia = len(kindOrder)
		}
		if ib < 0 {
			ib = len(kindOrder)
		}
		return ia < ib || (ia == ib && kinds[a] < kinds[b])
	})
	out.Total.Kind = ""
	for _, k := range kinds {
		km := *lines[k]
		km.MedianAnswer = core.Median(answers[k])
		out.Kinds = append(out.Kinds, km)
		out.Total.Opened += km.Opened
		out.Total.Answered += km.Answered
		out.Total.Closed += km.Closed
		out.Total.InSLA += km.InSLA
		out.Total.Overdue += km.Overdue
	}
	out.Total.MedianAnswer = core.Median(answers[""])
	sort.Slice(out.Tickets, func(a, b int) bool { return out.Tickets[a].ID < out.Tickets[b].ID })
	return out, nil
}
