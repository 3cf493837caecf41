// Package ticket handles feedback, consultation and disclosure tickets with
// working-day SLA clocks (M 6.2, W 5.5 c): technical questions are answered
// by the operators within 2 working days, business questions are forwarded
// to the app's access party and answered within 5, information to be
// disclosed is published within 20.
//
//	open ⇄ waiting (clock paused while waiting on the asker) → answered → closed
//
// A period "within N working days of receipt" is counted by core/calendar
// (DueAfterDays): by default from the working day after receipt to the
// close of working hours of the Nth. Time spent waiting on the asker is
// added back in working hours. A technical question forwarded to an app's
// access party becomes a business question with a fresh 5-working-day
// clock from the forward; the first leg stays on the ticket. A deadline
// that runs through a year without official holiday data is provisional
// and is recomputed when the schedule is loaded (Recompute).
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
	// ClockStart is when the current leg's clock started: receipt, or the
	// forward that made it a business question.
	ClockStart time.Time `json:"clock_start"`
	// PausedFor is the working time the clock was paused (waiting on the
	// asker); it is added to the period's end.
	PausedFor time.Duration `json:"paused_for,omitempty"`
	// Provisional is set while the deadline runs through a year without
	// official holiday data.
	Provisional bool `json:"provisional,omitempty"`
	// FirstLeg is the technical leg before the ticket was forwarded to an
	// app's access party, nil when it was not.
	FirstLeg *Leg `json:"first_leg,omitempty"`
}

// Leg is a ticket's first leg, kept when it was forwarded.
type Leg struct {
	Kind        string    `json:"kind"`
	DueAt       time.Time `json:"due_at"`
	ForwardedAt time.Time `json:"forwarded_at"`
}

// start is when the current leg's clock started (rows from before
// clock_start have their receipt).
func (t Ticket) start() time.Time {
	if t.ClockStart.IsZero() {
		return t.CreatedAt
	}
	return t.ClockStart
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
	// Tickets lists unclosed tickets (only open overdue ones when overdueOnly), oldest due first.
	Tickets(ctx context.Context, overdueOnly bool, limit int) ([]Ticket, error)
	InsertTicketEvent(ctx context.Context, id int64, e Event) error
}

// Reader is what listing and showing tickets read.
type Reader interface {
	Ticket(ctx context.Context, id int64, lock bool) (Ticket, error)
	// Tickets lists unclosed tickets (only open overdue ones when overdueOnly), oldest due first.
	Tickets(ctx context.Context, overdueOnly bool, limit int) ([]Ticket, error)
	// OpenTickets lists the tickets whose clock runs or is paused (open or
	// waiting), oldest due first.
	OpenTickets(ctx context.Context, limit int) ([]Ticket, error)
	TicketEvents(ctx context.Context, id int64) ([]Event, error)
	// GrantsOf returns a user's active grants (the scope of /ticket list).
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
}

// Store runs ticket work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Read runs fn in a transaction that only reads.
	Read(ctx context.Context, fn func(r Reader) error) error
}
