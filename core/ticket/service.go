package ticket

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
)

// Service carries out ticket commands.
type Service struct {
	store Store
	clock core.Clock
	cal   *calendar.Calendar
}

// NewService returns the ticket service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar) *Service {
	return &Service{store: store, clock: clock, cal: cal}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// tell queues the notice body for each of users, about t.
func tell(ctx context.Context, tx Tx, t Ticket, users []string, body core.Payload) error {
	for _, u := range users {
		if err := tx.Notify(ctx, core.Notice{Ref: t.Ref(), To: core.Recipient{User: u}, Body: body}); err != nil {
			return err
		}
	}
	return nil
}

func holdersOf(ctx context.Context, tx Directory, role org.Role, scope string) ([]string, error) {
	gs, err := tx.Holders(ctx, role)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range gs {
		if (scope == "" || g.Scope == scope) && !slices.Contains(out, g.UserID) {
			out = append(out, g.UserID)
		}
	}
	return out, nil
}

// deadline sets a ticket's due time from its clock: the kind's working
// days from the leg's start (counted by the calendar's period rule), plus
// the working time it was paused, and whether that is provisional.
func (s *Service) deadline(t *Ticket) {
	start := t.start()
	t.DueAt = s.cal.AddWorking(s.cal.DueAfterDays(start, SLADays[t.Kind]), t.PausedFor)
	t.Provisional = s.cal.Provisional(start, t.DueAt)
}

// schedule sets the 50 %, 80 % and due timers of an open ticket from now:
// the marks are shares of the leg's working time (less its pauses), and
// only those still ahead are set. An overdue ticket whose deadline moved
// past now is no longer overdue.
func (s *Service) schedule(ctx context.Context, tx Tx, t *Ticket, now time.Time) error {
	full := s.cal.WorkingBetween(t.start(), t.DueAt) - t.PausedFor
	remaining := s.cal.WorkingBetween(now, t.DueAt)
	for _, mark := range []int{50, 80} {
		left := full * time.Duration(100-mark) / 100 // working time still to go at that mark
		if remaining <= left {
			continue // already past this mark
		}
		due := s.cal.AddWorking(now, remaining-left)
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerSLA, Ref: t.Ref(), DueAt: due, Data: map[string]string{"mark": strconv.Itoa(mark)}}); err != nil {
			return err
		}
	}
	if t.Overdue {
		if !t.DueAt.After(now) {
			return nil // told already
		}
		t.Overdue = false
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerSLA, Ref: t.Ref(), DueAt: t.DueAt, Data: map[string]string{"mark": "100"}})
}

// Open opens a ticket. Technical questions go to the operators, business
// questions to the app's access party, disclosure tickets to the unit's admins.
func (s *Service) Open(ctx context.Context, actor core.Actor, kind, title, app, unit string) (Ticket, error) {
	if _, ok := SLADays[kind]; !ok {
		return Ticket{}, core.Invalid("ticket_kind", "value", kind)
	}
	title = strings.TrimSpace(title)
	if err := core.CheckName("title", title, core.MaxTitle); err != nil {
		return Ticket{}, err
	}
	var t Ticket
	err := s.store.InTx(ctx, func(tx Tx) error {
		asker, err := tx.User(ctx, actor.UserID)
		if err != nil || asker.Removed {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		if app != "" {
			if _, err := tx.App(ctx, app); errors.Is(err, core.ErrNotFound) {
				return core.NotFound("app_not_found", "code", app)
			} else if err != nil {
				return err
			}
		}
		if unit == "" {
			unit = asker.Unit
		} else if u, err := tx.Unit(ctx, unit); err != nil || u.Removed {
			return core.NotFound("unit_not_found", "code", unit)
		}
		var assignees []string
		switch kind {
		case "tech":
			assignees, err = holdersOf(ctx, tx, org.RoleOperator, "")
		case "business":
			if app == "" {
				return core.Invalid("ticket_needs_app")
			}
			assignees, err = holdersOf(ctx, tx, org.RoleAccessParty, app)
		case "disclosure":
			u, err2 := tx.Unit(ctx, unit)
			if err2 != nil {
				return err2
			}
			for u.Level == org.LevelDepartment && u.Parent != "" {
				if u, err2 = tx.Unit(ctx, u.Parent); err2 != nil {
					return err2
				}
			}
			assignees, err = holdersOf(ctx, tx, org.RoleUnitAdmin, u.Code)
			if err == nil && len(assignees) == 0 {
				assignees, err = holdersOf(ctx, tx, org.RoleUnitContact, u.Code)
			}
		}
		if err != nil {
			return err
		}
		if len(assignees) == 0 {
			return core.Conflict("ticket_no_assignee", "kind", kind)
		}
		now := s.clock.Now()
		t = Ticket{Kind: kind, Title: title, Asker: actor.UserID, App: app, Unit: unit, Assignees: assignees, State: "open",
			CreatedAt: now, ClockStart: now}
		s.deadline(&t)
		if err := tx.InsertTicket(ctx, &t); err != nil {
			return err
		}
		if err := tx.InsertTicketEvent(ctx, t.ID, Event{At: now, Actor: actor.UserID, Kind: "open", Body: title}); err != nil {
			return err
		}
		if err := s.schedule(ctx, tx, &t, now); err != nil {
			return err
		}
		if err := tell(ctx, tx, t, assignees, Assigned{Ticket: subjectOf(t)}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "ticket.open", t.Ref(), nil, t)
	})
	return t, err
}

// change loads a ticket under lock, checks who may act, applies fn, and
// records the step; the asker hears of every step.
func (s *Service) change(ctx context.Context, actor core.Actor, id int64, action string, asker bool, fn func(tx Tx, t *Ticket) (string, error)) (Ticket, error) {
	var out Ticket
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, err := tx.Ticket(ctx, id, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("ticket_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		may := slices.Contains(t.Assignees, actor.UserID) || (asker && t.Asker == actor.UserID)
		if !may {
			if ops, err := holdersOf(ctx, tx, org.RoleOperator, ""); err == nil && slices.Contains(ops, actor.UserID) {
				may = true
			}
		}
		if !may {
			return core.Forbidden("ticket_not_yours", "id", itoa(id))
		}
		if t.State == "closed" {
			return core.Conflict("ticket_closed", "id", itoa(id))
		}
		before := t
		body, err := fn(tx, &t)
		if err != nil {
			return err
		}
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return err
		}
		now := s.clock.Now()
		event := strings.TrimPrefix(action, "ticket.")
		if err := tx.InsertTicketEvent(ctx, t.ID, Event{At: now, Actor: actor.UserID, Kind: event, Body: body}); err != nil {
			return err
		}
		if actor.UserID != t.Asker {
			if err := tell(ctx, tx, t, []string{t.Asker}, Step{Ticket: subjectOf(t), Event: event, Body: body, By: actor.UserID}); err != nil {
				return err
			}
		}
		out = t
		return core.Record(ctx, tx, now, actor, action, t.Ref(), before, t)
	})
	return out, err
}

// Answer answers a ticket; its clock stops.
func (s *Service) Answer(ctx context.Context, actor core.Actor, id int64, text string) (Ticket, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Ticket{}, core.Invalid("answer_text")
	}
	return s.change(ctx, actor, id, "ticket.answer", false, func(tx Tx, t *Ticket) (string, error) {
		now := s.clock.Now()
		t.State, t.Answer, t.AnsweredAt, t.PausedAt = "answered", text, &now, nil
		return text, tx.CancelTimers(ctx, t.Ref(), "")
	})
}

// Forward hands a ticket to a user or to an app's access party; its clock
// runs on, except that a technical question forwarded to an app's access
// party becomes a business question with a fresh clock of 5 working days
// from now (M 6.2), its first leg kept.
func (s *Service) Forward(ctx context.Context, actor core.Actor, id int64, to string) (Ticket, error) {
	return s.change(ctx, actor, id, "ticket.forward", false, func(tx Tx, t *Ticket) (string, error) {
		if u, err := tx.User(ctx, to); err == nil && !u.Removed {
			t.Assignees = []string{u.ID}
		} else if _, err := tx.App(ctx, to); err == nil {
			ap, err := holdersOf(ctx, tx, org.RoleAccessParty, to)
			if err != nil {
				return "", err
			}
			if len(ap) == 0 {
				return "", core.Conflict("ticket_no_assignee", "kind", "business")
			}
			t.Assignees, t.App = ap, to
			if t.Kind == "tech" && t.State != "answered" {
				if err := s.newLeg(ctx, tx, t); err != nil {
					return "", err
				}
			}
		} else {
			return "", core.NotFound("forward_target", "value", to)
		}
		return to, tell(ctx, tx, *t, t.Assignees, Assigned{Ticket: subjectOf(*t)})
	})
}

// newLeg makes a technical ticket a business question whose clock starts now.
func (s *Service) newLeg(ctx context.Context, tx Tx, t *Ticket) error {
	now := s.clock.Now()
	t.FirstLeg = &Leg{Kind: t.Kind, DueAt: t.DueAt, ForwardedAt: now}
	t.Kind, t.ClockStart, t.PausedFor, t.Overdue = "business", now, 0, false
	s.deadline(t)
	if err := tx.CancelTimers(ctx, t.Ref(), ""); err != nil {
		return err
	}
	if t.State == "waiting" {
		t.PausedAt = &now // the new clock starts paused
		return nil
	}
	return s.schedule(ctx, tx, t, now)
}

// Wait pauses the clock while the ticket waits on the asker.
func (s *Service) Wait(ctx context.Context, actor core.Actor, id int64, question string) (Ticket, error) {
	return s.change(ctx, actor, id, "ticket.wait", false, func(tx Tx, t *Ticket) (string, error) {
		if t.State != "open" {
			return "", core.Conflict("ticket_state", "id", itoa(id), "state", t.State)
		}
		now := s.clock.Now()
		t.State, t.PausedAt = "waiting", &now
		return question, tx.CancelTimers(ctx, t.Ref(), "")
	})
}

// Reply is the asker's reply; a waiting ticket's clock resumes with the
// working time it had left.
func (s *Service) Reply(ctx context.Context, actor core.Actor, id int64, text string) (Ticket, error) {
	return s.change(ctx, actor, id, "ticket.reply", true, func(tx Tx, t *Ticket) (string, error) {
		if t.Asker != actor.UserID {
			return "", core.Forbidden("ticket_not_yours", "id", itoa(id))
		}
		if t.State == "waiting" && t.PausedAt != nil {
			now := s.clock.Now()
			// Only the pause inside the period counts (not on the day of receipt).
			t.PausedFor += s.cal.WorkingBetween(maxTime(*t.PausedAt, s.cal.PeriodStart(t.start())), now)
			t.State, t.PausedAt = "open", nil
			s.deadline(t)
			if err := s.schedule(ctx, tx, t, now); err != nil {
				return "", err
			}
		}
		return text, tell(ctx, tx, *t, t.Assignees, Step{Ticket: subjectOf(*t), Event: "reply", Body: text, By: actor.UserID})
	})
}

// Close closes a ticket (its asker, an assignee or an operator).
func (s *Service) Close(ctx context.Context, actor core.Actor, id int64) (Ticket, error) {
	return s.change(ctx, actor, id, "ticket.close", true, func(tx Tx, t *Ticket) (string, error) {
		now := s.clock.Now()
		t.State, t.ClosedAt = "closed", &now
		return "", tx.CancelTimers(ctx, t.Ref(), "")
	})
}

// Detail is a ticket with its history and its clock.
type Detail struct {
	Ticket Ticket
	Events []Event
	Clock  Clock
}

// Clock is a ticket's SLA clock as it stands.
type Clock struct {
	Due time.Time
	// Running: the ticket is open and its clock runs; Paused: it waits
	// on the asker (the clock stopped at PausedAt). Neither: answered or
	// closed.
	Running, Paused bool
	// Remaining is the working time left until Due, as of now (or of the
	// pause); negative when overdue by that much. Zero when stopped.
	Remaining   time.Duration
	Overdue     bool
	Provisional bool
}

// ClockOf returns t's clock as of now.
func (s *Service) ClockOf(t Ticket) Clock {
	c := Clock{Due: t.DueAt, Overdue: t.Overdue, Provisional: t.Provisional}
	at := s.clock.Now()
	switch {
	case t.State == "open":
		c.Running = true
	case t.State == "waiting" && t.PausedAt != nil:
		c.Paused, at = true, *t.PausedAt
	default:
		return c
	}
	if at.After(t.DueAt) {
		c.Remaining = -s.cal.WorkingBetween(t.DueAt, at)
	} else {
		c.Remaining = s.cal.WorkingBetween(at, t.DueAt)
	}
	return c
}

// ListLimit is how many unclosed tickets /ticket list reads at most.
const ListLimit = 1000

// List returns the unclosed tickets the actor may follow (only the open
// overdue ones with overdue): with mine, those they asked or must answer;
// else also those of their scope — a sys admin all, a district or unit
// admin those of the units under them, an operator the technical ones
// (and every overdue one: operators are told of each), an app's access
// party the business ones of its apps.
func (s *Service) List(ctx context.Context, actor core.Actor, overdue, mine bool) ([]Ticket, error) {
	var out []Ticket
	err := s.store.Read(ctx, func(r Reader) error {
		see, err := s.scope(ctx, r, actor, mine, overdue)
		if err != nil {
			return err
		}
		ts, err := r.Tickets(ctx, overdue, ListLimit)
		for _, t := range ts {
			if t.Asker == actor.UserID || slices.Contains(t.Assignees, actor.UserID) || see(t) {
				out = append(out, t)
			}
		}
		return err
	})
	return out, err
}

// scope returns which tickets beyond their own an actor's grants show.
func (s *Service) scope(ctx context.Context, r Reader, actor core.Actor, mine, overdue bool) (func(Ticket) bool, error) {
	none := func(Ticket) bool { return false }
	if mine {
		return none, nil
	}
	grants, err := r.GrantsOf(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	if org.HasRole(grants, org.RoleSysAdmin) {
		return func(Ticket) bool { return true }, nil
	}
	var roots []org.Unit
	apps := map[string]bool{}
	tech := false
	for _, g := range grants {
		switch g.Role {
		case org.RoleDistrictAdmin, org.RoleUnitAdmin:
			if u, err := r.Unit(ctx, g.Scope); err == nil {
				roots = append(roots, u)
			} else if !errors.Is(err, core.ErrNotFound) {
				return nil, err
			}
		case org.RoleOperator:
			tech = true
		case org.RoleAccessParty:
			apps[g.Scope] = true
		}
	}
	units := map[string]org.Unit{}
	return func(t Ticket) bool {
		if (tech && (t.Kind == "tech" || overdue)) || (t.Kind == "business" && apps[t.App]) {
			return true
		}
		if len(roots) == 0 || t.Unit == "" {
			return false
		}
		u, ok := units[t.Unit]
		if !ok {
			u, _ = r.Unit(ctx, t.Unit) // a unit gone from the org matches no scope
			units[t.Unit] = u
		}
		for _, root := range roots {
			if u.Path != "" && root.Contains(u) {
				return true
			}
		}
		return false
	}, nil
}

// Recompute recomputes the deadlines of every ticket not yet answered
// after the working calendar changed (an admin loaded a year's schedule
// or set a day): each changed deadline and provisional mark is saved,
// its timers set again, recorded in the ticket's history and the audit
// log, and its assignees told. It returns how many tickets changed.
func (s *Service) Recompute(ctx context.Context, actor core.Actor) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		ts, err := tx.Tickets(ctx, false, ListLimit)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, listed := range ts {
			if listed.State != "open" && listed.State != "waiting" {
				continue
			}
			t, err := tx.Ticket(ctx, listed.ID, true)
			if err != nil {
				return err
			}
			before := t
			s.deadline(&t)
			if t.DueAt.Equal(before.DueAt) && t.Provisional == before.Provisional {
				continue
			}
			if t.State == "open" {
				if err := tx.CancelTimers(ctx, t.Ref(), ""); err != nil {
					return err
				}
				if err := s.schedule(ctx, tx, &t, now); err != nil {
					return err
				}
			}
			if err := tx.UpdateTicket(ctx, t); err != nil {
				return err
			}
			body := before.DueAt.In(s.cal.Location()).Format("2006-01-02 15:04") + " → " + t.DueAt.In(s.cal.Location()).Format("2006-01-02 15:04")
			if err := tx.InsertTicketEvent(ctx, t.ID, Event{At: now, Actor: actor.UserID, Kind: "recompute", Body: body}); err != nil {
				return err
			}
			if err := tell(ctx, tx, t, t.Assignees, Recomputed{Ticket: subjectOf(t), Before: before.DueAt}); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, now, actor, "ticket.recompute", t.Ref(), before, t); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Show returns a ticket, its history and its clock to those who may
// follow it (as List shows it): its asker, its assignees and those whose
// scope covers it; others are refused (ticket_forbidden).
func (s *Service) Show(ctx context.Context, actor core.Actor, id int64) (Detail, error) {
	var d Detail
	err := s.store.Read(ctx, func(r Reader) error {
		t, err := r.Ticket(ctx, id, false)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("ticket_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		if t.Asker != actor.UserID && !slices.Contains(t.Assignees, actor.UserID) {
			see, err := s.scope(ctx, r, actor, false, t.Overdue && t.State == "open")
			if err != nil {
				return err
			}
			if !see(t) {
				return core.Forbidden("ticket_forbidden", "id", itoa(id))
			}
		}
		d.Ticket, d.Clock = t, s.ClockOf(t)
		d.Events, err = r.TicketEvents(ctx, id)
		return err
	})
	return d, err
}

// HandleTimer fires a 50 % / 80 % reminder or the deadline, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	now := s.clock.Now()
	return core.Fire(ctx, s.store.InTx, id, now, func(tx Tx, tm core.Timer) error {
		tid, err := tm.RefID("ticket:")
		if err != nil {
			return fmt.Errorf("ticket: %w", err)
		}
		t, err := tx.Ticket(ctx, tid, true)
		if err != nil || t.State != "open" {
			return err
		}
		if tm.Data["mark"] != "100" {
			mark, err := strconv.Atoi(tm.Data["mark"])
			if err != nil {
				return fmt.Errorf("ticket: timer %d mark %q: %w", id, tm.Data["mark"], err)
			}
			return tell(ctx, tx, t, t.Assignees, Reminder{Ticket: subjectOf(t), Mark: mark})
		}
		before := t
		t.Overdue = true
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return err
		}
		to, err := overdueRecipients(ctx, tx, t)
		if err != nil {
			return err
		}
		if err := tx.InsertTicketEvent(ctx, t.ID, Event{At: now, Actor: core.SystemUser, Kind: "overdue", Body: strings.Join(to, ",")}); err != nil {
			return err
		}
		if err := tell(ctx, tx, t, to, Overdue{Ticket: subjectOf(t)}); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, core.SystemActor(), "ticket.overdue", t.Ref(), before, t)
	})
}

// overdueRecipients are who hear of an overdue ticket: the operator lead
// (sys admins), the operators, and the unit and district admins whose
// scope contains the ticket's unit; each once, sorted.
func overdueRecipients(ctx context.Context, tx Directory, t Ticket) ([]string, error) {
	var to []string
	for _, role := range []org.Role{org.RoleSysAdmin, org.RoleOperator} {
		us, err := holdersOf(ctx, tx, role, "")
		if err != nil {
			return nil, err
		}
		to = append(to, us...)
	}
	if u, err := tx.Unit(ctx, t.Unit); err == nil {
		for _, role := range []org.Role{org.RoleUnitAdmin, org.RoleDistrictAdmin} {
			gs, err := tx.Holders(ctx, role)
			if err != nil {
				return nil, err
			}
			for _, g := range gs {
				if scope, err := tx.Unit(ctx, g.Scope); err == nil && scope.Contains(u) {
					to = append(to, g.UserID)
				}
			}
		}
	}
	slices.Sort(to)
	return slices.Compact(to), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
