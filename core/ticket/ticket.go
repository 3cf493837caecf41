// Package ticket handles feedback, consultation and disclosure tickets with
// working-day SLA clocks (M 6.2, W 5.5 c): technical questions are answered
// by the operators within 2 working days, business questions are forwarded
// to the app's access party and answered within 5, information to be
// disclosed is published within 20.
//
//	open ⇄ waiting (clock paused while waiting on the asker) → answered → closed
//
// The assignees are reminded at 50 % and 80 % of the working time; when it
// runs out their admins and the operators are told, and the ticket stays
// on the overdue list until answered. Working time follows core/calendar.
package ticket

import (
	"context"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Kinds and their clocks in working days.
var SLADays = map[string]int{"tech": 2, "business": 5, "disclosure": 20}

// Timer kinds and notices.
const (
	TimerSLA      = "sla:check"
	NoticeTicket  = "ticket.card"    // to assignees: a ticket to answer
	NoticeEvent   = "ticket.event"   // to the asker: every step
	NoticeRemind  = "ticket.remind"  // to assignees at 50 % / 80 %
	NoticeOverdue = "ticket.overdue" // to the assignees' admins and operators
)

// Ticket is one ticket.
type Ticket struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Title      string     `json:"title"`
	Asker      string     `json:"asker"`
	App        string     `json:"app,omitempty"`
	Unit       string     `json:"unit,omitempty"`
	Assignees  []string   `json:"assignees"`
	State      string     `json:"state"`
	Answer     string     `json:"answer,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DueAt      time.Time  `json:"due_at"`
	PausedAt   *time.Time `json:"paused_at,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Overdue    bool       `json:"overdue"`
}

// Ref is the ticket's entity reference.
func (t Ticket) Ref() string { return "ticket:" + strconv.FormatInt(t.ID, 10) }

// Event is a line of a ticket's history.
type Event struct {
	At    time.Time
	Actor string
	Kind  string
	Body  string
}

// Tx is what tickets need from a store.
type Tx interface {
	org.Tx
	core.Timers
	InsertTicket(ctx context.Context, t *Ticket) error
	Ticket(ctx context.Context, id int64, lock bool) (Ticket, error)
	UpdateTicket(ctx context.Context, t Ticket) error
	Tickets(ctx context.Context, overdueOnly bool, limit int) ([]Ticket, error)
	InsertTicketEvent(ctx context.Context, id int64, e Event) error
	TicketEvents(ctx context.Context, id int64) ([]Event, error)
}

// Store runs ticket work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
