package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/ticket"
)

// ticketStore adapts Store to ticket.Store.
type ticketStore struct{ s *Store }

// Tickets returns the ticket store.
func (s *Store) Tickets() ticket.Store { return ticketStore{s} }

// InTx runs fn in one transaction.
func (k ticketStore) InTx(ctx context.Context, fn func(ticket.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Read runs fn as a read (Store.read: no transaction of its own; no writes).
func (k ticketStore) Read(ctx context.Context, fn func(ticket.Reader) error) error {
	return k.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

const ticketColumns = "id, kind, title, asker, app, unit, assignees, state, answer, created_at, due_at, paused_at, answered_at, closed_at, overdue, " +
	"clock_start, paused_for, provisional, first_kind, first_due_at, forwarded_at"

func scanTicket(r pgx.Row) (ticket.Ticket, error) {
	var t ticket.Ticket
	var pausedFor int64
	var firstKind string
	var firstDue, forwarded *time.Time
	err := r.Scan(&t.ID, &t.Kind, &t.Title, &t.Asker, &t.App, &t.Unit, &t.Assignees, &t.State, &t.Answer, &t.CreatedAt, &t.DueAt,
		&t.PausedAt, &t.AnsweredAt, &t.ClosedAt, &t.Overdue, &t.ClockStart, &pausedFor, &t.Provisional, &firstKind, &firstDue, &forwarded)
	t.PausedFor = time.Duration(pausedFor)
	if firstKind != "" && firstDue != nil && forwarded != nil {
		t.FirstLeg = &ticket.Leg{Kind: firstKind, DueAt: *firstDue, ForwardedAt: *forwarded}
	}
	return t, err
}

// legColumns are a ticket's first leg as its three columns.
func legColumns(k ticket.Ticket) (string, *time.Time, *time.Time) {
	if k.FirstLeg == nil {
		return "", nil, nil
	}
	return k.FirstLeg.Kind, &k.FirstLeg.DueAt, &k.FirstLeg.ForwardedAt
}

// InsertTicket inserts a ticket and sets its id.
func (t *Tx) InsertTicket(ctx context.Context, k *ticket.Ticket) error {
	fk, fd, fa := legColumns(*k)
	err := t.tx.QueryRow(ctx, `INSERT INTO tickets (kind, title, asker, app, unit, assignees, state, created_at, due_at,
		clock_start, paused_for, provisional, first_kind, first_due_at, forwarded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		k.Kind, k.Title, k.Asker, k.App, k.Unit, k.Assignees, k.State, k.CreatedAt, k.DueAt,
		clockStart(*k), int64(k.PausedFor), k.Provisional, fk, fd, fa).Scan(&k.ID)
	return wrap(err, "insert ticket")
}

// clockStart is the start of a ticket's current leg (its receipt when unset).
func clockStart(k ticket.Ticket) time.Time {
	if k.ClockStart.IsZero() {
		return k.CreatedAt
	}
	return k.ClockStart
}

// Ticket returns a ticket, locked when lock is set.
func (t *Tx) Ticket(ctx context.Context, id int64, lock bool) (ticket.Ticket, error) {
	q := lockable("SELECT "+ticketColumns+" FROM tickets WHERE id = $1", lock)
	k, err := scanTicket(t.tx.QueryRow(ctx, q, id))
	return k, notFound(err, "ticket")
}

// UpdateTicket saves a ticket.
func (t *Tx) UpdateTicket(ctx context.Context, k ticket.Ticket) error {
	fk, fd, fa := legColumns(k)
	_, err := t.tx.Exec(ctx, `UPDATE tickets SET app = $2, assignees = $3, state = $4, answer = $5, due_at = $6, paused_at = $7,
		answered_at = $8, closed_at = $9, overdue = $10, kind = $11, clock_start = $12, paused_for = $13, provisional = $14,
		first_kind = $15, first_due_at = $16, forwarded_at = $17 WHERE id = $1`,
		k.ID, k.App, k.Assignees, k.State, k.Answer, k.DueAt, k.PausedAt, k.AnsweredAt, k.ClosedAt, k.Overdue,
		k.Kind, clockStart(k), int64(k.PausedFor), k.Provisional, fk, fd, fa)
	return wrap(err, "update ticket")
}

// Tickets lists unclosed tickets (only open overdue ones when overdueOnly), oldest due first.
func (t *Tx) Tickets(ctx context.Context, overdueOnly bool, limit int) ([]ticket.Ticket, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+ticketColumns+` FROM tickets
		WHERE state <> 'closed' AND (NOT $1 OR (overdue AND state = 'open')) ORDER BY due_at LIMIT $2`, overdueOnly, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: tickets: %w", err)
	}
	return collect(rows, scanTicket, "tickets")
}

// OpenTickets lists the tickets whose clock runs or is paused (open or
// waiting), oldest due first (the tickets_open index).
func (t *Tx) OpenTickets(ctx context.Context, limit int) ([]ticket.Ticket, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+ticketColumns+` FROM tickets
		WHERE state IN ('open', 'waiting') ORDER BY due_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: open tickets: %w", err)
	}
	return collect(rows, scanTicket, "open tickets")
}

// InsertTicketEvent appends to a ticket's history.
func (t *Tx) InsertTicketEvent(ctx context.Context, id int64, e ticket.Event) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, at, actor, kind, body) VALUES ($1, $2, $3, $4, $5)`, id, e.At, e.Actor, e.Kind, e.Body)
	return wrap(err, "insert ticket event")
}

// TicketEvents returns a ticket's history.
func (t *Tx) TicketEvents(ctx context.Context, id int64) ([]ticket.Event, error) {
	rows, err := t.tx.Query(ctx, `SELECT at, actor, kind, body FROM ticket_events WHERE ticket_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: ticket events: %w", err)
	}
	return collect(rows, func(r pgx.Row) (ticket.Event, error) {
		var e ticket.Event
		err := r.Scan(&e.At, &e.Actor, &e.Kind, &e.Body)
		return e, err
	}, "ticket events")
}

// TicketsBetween lists the tickets received, answered, closed or due in [from, to), by id.
func (t *Tx) TicketsBetween(ctx context.Context, from, to time.Time) ([]ticket.Ticket, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+ticketColumns+` FROM tickets
		WHERE (created_at >= $1 AND created_at < $2) OR (answered_at >= $1 AND answered_at < $2)
		   OR (closed_at >= $1 AND closed_at < $2) OR (due_at >= $1 AND due_at < $2) ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: tickets between: %w", err)
	}
	return collect(rows, scanTicket, "tickets between")
}
