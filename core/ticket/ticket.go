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

// SLADays are the ticket kinds and their clocks in working days.
var SLADays = map[string]int{"tech": 2, "business": 5, "disclosure": 20}

// TimerSLA is the timer kind of a ticket's 50 % / 80 % reminders and deadline.
const TimerSLA = "sla:check"

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

// Directory is what tickets read from the org: who asks, which app and
// unit a ticket is about, and who holds a role (the assignees).
type Directory interface {
	User(ctx context.Context, id string) (org.User, error)
	App(ctx context.Context, code string) (org.App, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	// Holders returns the active users holding role (on any scope), ordered by id.
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// Tx is what a ticket change needs in one transaction: the org reads,
// the ticket and its history, with audit entries, notices and timers.
type Tx interface {
	core.Tx
	Directory
	InsertTicket(ctx context.Context, t *Ticket) error
	// Ticket returns a ticket (core.ErrNotFound when missing), locked when lock is set.
	Ticket(ctx context.Context, id int64, lock bool) (Ticket, error)
	UpdateTicket(ctx context.Context, t Ticket) error
	InsertTicketEvent(ctx context.Context, id int64, e Event) error
}

// Reader is what listing and showing tickets read.
type Reader interface {
	Ticket(ctx context.Context, id int64, lock bool) (Ticket, error)
	// Tickets lists unclosed tickets (only open overdue ones when overdueOnly), oldest due first.
	Tickets(ctx context.Context, overdueOnly bool, limit int) ([]Ticket, error)
	TicketEvents(ctx context.Context, id int64) ([]Event, error)
}

// Store runs ticket work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Read runs fn in a transaction that only reads.
	Read(ctx context.Context, fn func(r Reader) error) error
}
