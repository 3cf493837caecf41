package console

import (
	"context"
	"slices"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/ticket"
)

// Tickets is the ticket service (ticket.Service): the SLA board.
type Tickets interface {
	Board(ctx context.Context, actor core.Actor, view org.View) ([]ticket.Row, error)
}

// slaPages are the SLA board.
func (c *Console) slaPages() []Page {
	if c.svc.Tickets == nil {
		return nil
	}
	return []Page{{Path: "/console/sla", Nav: NavSLA, Title: "console.sla.title", Template: "sla.html", Handle: c.slaBoard}}
}

// slaSorts are the board's orders, the first the default.
var slaSorts = []string{"remaining", "due", "unit", "holder"}

// slaBoard is the board's data.
type slaBoard struct {
	Rows  []ticket.Row
	Sort  string
	Sorts []string
}

// slaBoard lists every unclosed ticket in view with its clock, sorted by
// ?sort= (remaining working time by default: the most urgent first).
func (c *Console) slaBoard(r *Request) (any, error) {
	sort := r.URL.Query().Get("sort")
	if sort == "" {
		sort = slaSorts[0]
	}
	if !slices.Contains(slaSorts, sort) {
		return nil, core.Invalid("api_bad_param", "name", "sort", "want", strings.Join(slaSorts, ", "))
	}
	rows, err := c.svc.Tickets.Board(r.Context(), r.Actor, r.View)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(a, b ticket.Row) int {
		switch sort {
		case "due":
			return a.Clock.Due.Compare(b.Clock.Due)
		case "unit":
			return strings.Compare(a.Ticket.Unit, b.Ticket.Unit)
		case "holder":
			return strings.Compare(strings.Join(a.Ticket.Assignees, ","), strings.Join(b.Ticket.Assignees, ","))
		}
		return slaUrgency(a).Compare(slaUrgency(b))
	})
	return slaBoard{Rows: rows, Sort: sort, Sorts: slaSorts}, nil
}

// urgency orders the board by remaining time: running clocks by what is
// left (overdue first), then paused ones, then stopped ones.
type urgency struct {
	rank int
	left int64
}

func (u urgency) Compare(v urgency) int {
	if u.rank != v.rank {
		return u.rank - v.rank
	}
	switch {
	case u.left < v.left:
		return -1
	case u.left > v.left:
		return 1
	}
	return 0
}

func slaUrgency(r ticket.Row) urgency {
	switch {
	case r.Clock.Running:
		return urgency{0, int64(r.Clock.Remaining)}
	case r.Clock.Paused:
		return urgency{1, int64(r.Clock.Remaining)}
	}
	return urgency{2, 0}
}
