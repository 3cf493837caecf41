package api

import (
	"context"
	"net/http"
	"time"

	"opsbot/core"
	"opsbot/core/ticket"
)

// Tickets is the ticket service, called as /ticket in chat calls it.
type Tickets interface {
	Open(ctx context.Context, actor core.Actor, kind, title, app, unit string) (ticket.Ticket, error)
	List(ctx context.Context, actor core.Actor, overdue, mine bool) ([]ticket.Ticket, error)
	Show(ctx context.Context, actor core.Actor, id int64) (ticket.Detail, error)
	Answer(ctx context.Context, actor core.Actor, id int64, text string) (ticket.Ticket, error)
	Forward(ctx context.Context, actor core.Actor, id int64, to string) (ticket.Ticket, error)
	Wait(ctx context.Context, actor core.Actor, id int64, question string) (ticket.Ticket, error)
	Reply(ctx context.Context, actor core.Actor, id int64, text string) (ticket.Ticket, error)
	Close(ctx context.Context, actor core.Actor, id int64) (ticket.Ticket, error)
	ClockOf(t ticket.Ticket) ticket.Clock
}

// Ticket is a ticket on the wire, with its SLA clock.
type Ticket struct {
	ID         int64       `json:"id"`
	Kind       string      `json:"kind" enum:"tech,business,disclosure"`
	Title      string      `json:"title"`
	Asker      string      `json:"asker"`
	App        string      `json:"app,omitempty"`
	Unit       string      `json:"unit,omitempty"`
	Assignees  []string    `json:"assignees"`
	State      string      `json:"state" enum:"open,waiting,answered,closed"`
	Answer     string      `json:"answer,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	AnsweredAt *time.Time  `json:"answered_at,omitempty"`
	ClosedAt   *time.Time  `json:"closed_at,omitempty"`
	Clock      TicketClock `json:"clock"`
	FirstLeg   *TicketLeg  `json:"first_leg,omitempty" doc:"The technical leg before the ticket was forwarded to an app's access party."`
}

// TicketClock is a ticket's SLA clock, counted in working time.
type TicketClock struct {
	Due       time.Time  `json:"due"`
	Started   time.Time  `json:"started" doc:"When the current leg's clock started."`
	Running   bool       `json:"running" doc:"The ticket is open and its clock runs."`
	Paused    bool       `json:"paused" doc:"Waiting on the asker: the clock stopped at paused_at."`
	PausedAt  *time.Time `json:"paused_at,omitempty"`
	Remaining int64      `json:"remaining_seconds" doc:"Working time left until due, in seconds, as of now (or of the pause); negative when overdue; 0 when stopped."`
	PausedFor int64      `json:"paused_seconds" doc:"Working time spent waiting on the asker, added to the period."`
	Overdue   bool       `json:"overdue"`
	// Provisional: the deadline runs through a year without official holiday data.
	Provisional bool `json:"provisional" doc:"The deadline runs through a year without official holiday data; it is recomputed when the schedule is loaded."`
}

// TicketLeg is a forwarded ticket's first leg.
type TicketLeg struct {
	Kind        string    `json:"kind"`
	Due         time.Time `json:"due"`
	ForwardedAt time.Time `json:"forwarded_at"`
}

// TicketEvent is a line of a ticket's history.
type TicketEvent struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind" doc:"open, answer, forward, wait, reply, close, recompute, overdue, …"`
	Body  string    `json:"body,omitempty"`
}

// TicketDetail is a ticket with its history.
type TicketDetail struct {
	Ticket  Ticket        `json:"ticket"`
	History []TicketEvent `json:"history"`
}

// OpenTicket opens a ticket.
type OpenTicket struct {
	Kind  string `json:"kind" enum:"tech,business,disclosure" doc:"tech: 2 working days; business: 5 (needs app); disclosure: 20."`
	Title string `json:"title"`
	App   string `json:"app,omitempty" doc:"The app (system) code; a business question reaches its access party."`
	Unit  string `json:"unit,omitempty"`
}

// TicketText is an answer, a question to the asker, or the asker's reply.
type TicketText struct {
	Text string `json:"text"`
}

// ForwardTicket hands a ticket on.
type ForwardTicket struct {
	To string `json:"to" doc:"A user id, or an app code (its access party)."`
}

func ticketOf(t ticket.Ticket, c ticket.Clock) Ticket {
	out := Ticket{ID: t.ID, Kind: t.Kind, Title: t.Title, Asker: t.Asker, App: t.App, Unit: t.Unit, Assignees: t.Assignees,
		State: t.State, Answer: t.Answer, CreatedAt: utc(t.CreatedAt), AnsweredAt: utcp(t.AnsweredAt), ClosedAt: utcp(t.ClosedAt),
		Clock: TicketClock{Due: utc(t.DueAt), Started: utc(t.ClockStart), Running: c.Running, Paused: c.Paused, PausedAt: utcp(t.PausedAt),
			Remaining: int64(c.Remaining / time.Second), PausedFor: int64(t.PausedFor / time.Second), Overdue: t.Overdue,
			Provisional: t.Provisional}}
	if out.Assignees == nil {
		out.Assignees = []string{}
	}
	if out.Clock.Started.IsZero() {
		out.Clock.Started = out.CreatedAt
	}
	if t.FirstLeg != nil {
		out.FirstLeg = &TicketLeg{Kind: t.FirstLeg.Kind, Due: utc(t.FirstLeg.DueAt), ForwardedAt: utc(t.FirstLeg.ForwardedAt)}
	}
	return out
}

var ticketID = Param{Name: "id", Type: TypeInteger, Description: "The ticket's id."}

// ticketRoutes are /api/v1/tickets: the chat's /ticket commands.
func (a *API) ticketRoutes() []Route {
	svc := func() Tickets { return a.cfg.Tickets }
	wire := func(t ticket.Ticket, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return ticketOf(t, svc().ClockOf(t)), nil
	}
	act := func(path, op, summary string, body any, fn func(c *Call, id int64) (ticket.Ticket, error)) Route {
		return Route{Method: http.MethodPost, Path: "/api/v1/tickets/{id}/" + path, OperationID: op, Tag: "tickets",
			Summary: summary, Params: []Param{ticketID}, Body: body, Response: Ticket{},
			Handle: func(c *Call) (any, error) { return wire(fn(c, c.Int("id"))) }}
	}
	return []Route{
		{Method: http.MethodPost, Path: "/api/v1/tickets", OperationID: "openTicket", Tag: "tickets",
			Summary: "Open a ticket (technical questions go to the operators, business ones to the app's access party)",
			Body:    OpenTicket{}, Response: Ticket{}, Status: http.StatusCreated,
			Handle: func(c *Call) (any, error) {
				b := BodyOf[OpenTicket](c)
				return wire(svc().Open(c.Ctx, c.Actor, b.Kind, b.Title, b.App, b.Unit))
			}},
		{Method: http.MethodGet, Path: "/api/v1/tickets", OperationID: "listTickets", Tag: "tickets", Paged: true,
			Summary: "List the unclosed tickets the caller may follow, soonest due first",
			Description: "Those they asked or must answer, and those of their scope: a sys admin all, a district or unit admin " +
				"those of the units under them, an operator the technical ones, an app's access party the business ones of its apps.",
			Params: []Param{
				{Name: "overdue", Type: TypeBoolean, Description: "Only the open ones past their deadline."},
				{Name: "mine", Type: TypeBoolean, Description: "Only those the caller asked or must answer."},
			},
			Response: Page[Ticket]{},
			Handle: func(c *Call) (any, error) {
				list, err := svc().List(c.Ctx, c.Actor, c.Bool("overdue"), c.Bool("mine"))
				if err != nil {
					return nil, err
				}
				return PageOf(c, Convert(list, func(t ticket.Ticket) Ticket { return ticketOf(t, svc().ClockOf(t)) }))
			}},
		{Method: http.MethodGet, Path: "/api/v1/tickets/{id}", OperationID: "getTicket", Tag: "tickets",
			Summary: "Show a ticket with its clock and history", Params: []Param{ticketID}, Response: TicketDetail{},
			Handle: func(c *Call) (any, error) {
				d, err := svc().Show(c.Ctx, c.Actor, c.Int("id"))
				if err != nil {
					return nil, err
				}
				return TicketDetail{Ticket: ticketOf(d.Ticket, d.Clock), History: Convert(d.Events, func(e ticket.Event) TicketEvent {
					return TicketEvent{At: utc(e.At), Actor: e.Actor, Kind: e.Kind, Body: e.Body}
				})}, nil
			}},
		act("answer", "answerTicket", "Answer: the clock stops", TicketText{},
			func(c *Call, id int64) (ticket.Ticket, error) {
				return svc().Answer(c.Ctx, c.Actor, id, BodyOf[TicketText](c).Text)
			}),
		act("forward", "forwardTicket", "Hand on to a user or an app's access party (a technical question becomes a business one)",
			ForwardTicket{}, func(c *Call, id int64) (ticket.Ticket, error) {
				return svc().Forward(c.Ctx, c.Actor, id, BodyOf[ForwardTicket](c).To)
			}),
		act("wait", "waitTicket", "Ask the asker a question: the clock pauses", TicketText{},
			func(c *Call, id int64) (ticket.Ticket, error) {
				return svc().Wait(c.Ctx, c.Actor, id, BodyOf[TicketText](c).Text)
			}),
		act("reply", "replyTicket", "The asker's reply: a waiting ticket's clock resumes", TicketText{},
			func(c *Call, id int64) (ticket.Ticket, error) {
				return svc().Reply(c.Ctx, c.Actor, id, BodyOf[TicketText](c).Text)
			}),
		act("close", "closeTicket", "Close (the asker, an assignee or an operator)", nil,
			func(c *Call, id int64) (ticket.Ticket, error) { return svc().Close(c.Ctx, c.Actor, id) }),
	}
}
