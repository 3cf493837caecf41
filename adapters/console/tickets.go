package console

import (
	"context"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/ticket"
)

// TicketDetails shows one ticket (ticket.Service), as /ticket show in
// chat and GET /api/v1/tickets/{id} read it.
type TicketDetails interface {
	Show(ctx context.Context, actor core.Actor, id int64) (ticket.Detail, error)
}

// ticketPages are the page of one ticket.
func (c *Console) ticketPages() []Page {
	if c.svc.TicketDetails == nil {
		return nil
	}
	return []Page{{Path: "/console/tickets/{id}", Nav: NavSLA, Title: "console.tickets.title", Template: "ticket.html", Handle: c.ticketPage}}
}

// ticketDetail is a ticket's page: the detail /ticket show reads.
type ticketDetail struct {
	ticket.Detail
	// Remaining is the clock in /ticket show's words ("" once answered).
	Remaining string
	// Over marks a running clock past its due time.
	Over bool
}

// ticketPage shows one ticket to those core lets follow it (its asker,
// its holders and those whose scope covers it; others get the chat's
// reason with 403), with its working-time clock and history.
func (c *Console) ticketPage(r *Request) (any, error) {
	id, err := pathID(r, "ticket_not_found")
	if err != nil {
		return nil, err
	}
	d, err := c.svc.TicketDetails.Show(r.Context(), r.Actor, id)
	if err != nil {
		return nil, err
	}
	over := d.Clock.Running && (d.Clock.Overdue || d.Clock.Remaining < 0)
	return ticketDetail{Detail: d, Remaining: bot.TicketClock(r.Lang, d.Clock), Over: over}, nil
}
