package ticket

import (
	"context"

	"opsbot/core"
	"opsbot/core/org"
)

// Row is a ticket on the SLA board with its clock as /ticket show gives it.
type Row struct {
	Ticket Ticket
	Clock  Clock
}

// Board returns every open ticket (its clock running or paused) in view (org.View.Keeps: by unit,
// or for own items those the actor asked or holds) with its working-time
// clock, oldest due first, at most ListLimit: the console's SLA board.
// view is the actor's org.View (org.ViewOf), narrowed by a unit filter.
func (s *Service) Board(ctx context.Context, actor core.Actor, view org.View) ([]Row, error) {
	var out []Row
	err := s.store.Read(ctx, func(r Reader) error {
		ts, err := r.OpenTickets(ctx, ListLimit)
		for _, t := range ts {
			if view.Keeps(t.Unit, append([]string{t.Asker}, t.Assignees...)...) {
				out = append(out, Row{Ticket: t, Clock: s.ClockOf(t)})
			}
		}
		return err
	})
	return out, err
}
