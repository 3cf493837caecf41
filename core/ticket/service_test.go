package ticket_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

type bundle struct {
	f     *fake
	clock *tickettest.Clock
	svc   *ticket.Service
}

func setup(t *testing.T, now time.Time) bundle {
	t.Helper()
	return setupCal(t, now, tickettest.SpringFestival2026())
}

func setupCal(t *testing.T, now time.Time, cal *calendar.Calendar) bundle {
	t.Helper()
	f := newFake()
	city(f)
	c := &tickettest.Clock{T: now}
	return bundle{f: f, clock: c, svc: ticket.NewService(f, c, cal)}
}

func actor(id string) core.Actor { return core.Actor{UserID: id, Platform: core.PlatformWebchat} }

// code is the message code of a domain error ("" for others).
func code(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// open opens a ticket of kind from "asker" at the clock's time and forgets its notices.
func (b bundle) open(t *testing.T, kind, app, unit string) ticket.Ticket {
	t.Helper()
	tk, err := b.svc.Open(context.Background(), actor("asker"), kind, "VPN 无法登录", app, unit)
	require.NoError(t, err)
	b.f.take()
	return tk
}

// fire fires the pending timer at mark with the clock at its due time.
func (b bundle) fire(t *testing.T, ref, mark string) {
	t.Helper()
	id := b.f.timerID(ref, mark)
	require.NotZerof(t, id, "no pending %s%% timer", mark)
	b.clock.T = b.f.Timers[id-1].DueAt
	require.NoError(t, b.svc.HandleTimer(context.Background(), id))
}

// TestDeadlines: M 6.2 and W 5.5 c — technical questions 2, business 5,
// disclosure 20 working days of receipt: the day of receipt is not
// counted, the period ends at the close of working hours (17:30) of the
// last working day of the calendar (the 2026 Spring Festival holidays and
// make-up Saturdays included), with reminders at 50 % and 80 % of the
// working time from receipt to the deadline.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kind     string
		opened   time.Time
		due      time.Time
		m50, m80 time.Time
	}{
		{name: "tech before the holiday ends on the make-up Saturday", kind: "tech", opened: tickettest.At(2, 12, 10, 0),
			due: tickettest.At(2, 14, 17, 30), m50: tickettest.At(2, 13, 14, 45), m80: tickettest.At(2, 14, 11, 36)},
		{name: "business spans the Spring Festival", kind: "business", opened: tickettest.At(2, 12, 10, 0),
			due: tickettest.At(2, 26, 17, 30), m50: tickettest.At(2, 24, 9, 15), m80: tickettest.At(2, 25, 16, 24)},
		{name: "disclosure: 20 working days with the make-up Saturday Feb 28", kind: "disclosure", opened: tickettest.At(2, 12, 10, 0),
			due: tickettest.At(3, 18, 17, 30), m50: tickettest.At(3, 4, 14, 45), m80: tickettest.At(3, 12, 16, 24)},
		{name: "tech received on a holiday evening starts on the next working day", kind: "tech", opened: tickettest.At(2, 15, 20, 0),
			due: tickettest.At(2, 25, 17, 30), m50: tickettest.At(2, 24, 17, 30), m80: tickettest.At(2, 25, 14, 42)},
		{name: "business received late on Friday", kind: "business", opened: tickettest.At(2, 13, 16, 0),
			due: tickettest.At(2, 27, 17, 30), m50: tickettest.At(2, 25, 11, 15), m80: tickettest.At(2, 26, 17, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opened)
			app := ""
			if tt.kind == "business" {
				app = "oa"
			}
			tk := b.open(t, tt.kind, app, "")
			require.Equal(t, tt.due, tk.DueAt.In(tickettest.CST()))
			require.Equal(t, map[string]time.Time{"50": tt.m50, "80": tt.m80, "100": tt.due}, b.f.pending(tk.Ref()))
		})
	}
}

// TestOpenRouting: technical questions go to the operators, business
// questions to the app's access party, disclosure tickets to the admin of
// the asker's unit (or its contact when it has no admin).
func TestOpenRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		asker          string
		kind, app, unt string
		title          string
		assignees      []string
		err            error
		code           string
	}{
		{name: "tech to the operators", asker: "asker", kind: "tech", assignees: []string{"op1", "op2"}},
		{name: "business to the access party", asker: "asker", kind: "business", app: "oa", assignees: []string{"ap"}},
		{name: "disclosure from a department to its unit's admin", asker: "asker", kind: "disclosure", assignees: []string{"eduadm"}},
		{name: "disclosure to the unit contact of a unit without admin", asker: "asker", kind: "disclosure", unt: "tax", assignees: []string{"taxcontact"}},
		{name: "business needs an app", asker: "asker", kind: "business", err: core.ErrInvalid, code: "ticket_needs_app"},
		{name: "an app without access party", asker: "asker", kind: "business", app: "mail", err: core.ErrConflict, code: "ticket_no_assignee"},
		{name: "unknown app", asker: "asker", kind: "tech", app: "nope", err: core.ErrNotFound, code: "app_not_found"},
		{name: "unknown unit", asker: "asker", kind: "tech", unt: "nope", err: core.ErrNotFound, code: "unit_not_found"},
		{name: "unknown kind", asker: "asker", kind: "gossip", err: core.ErrInvalid, code: "ticket_kind"},
		{name: "empty title", asker: "asker", kind: "tech", title: " ", err: core.ErrInvalid, code: "name"},
		{name: "unregistered asker", asker: "ghost", kind: "tech", err: core.ErrForbidden, code: "not_registered"},
		{name: "removed asker", asker: "gone", kind: "tech", err: core.ErrForbidden, code: "not_registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tickettest.At(3, 2, 9, 0))
			title := tt.title
			if title == "" {
				title = "年度报告公开"
			}
			tk, err := b.svc.Open(context.Background(), actor(tt.asker), tt.kind, title, tt.app, tt.unt)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Equal(t, tt.code, code(err))
				require.Empty(t, b.f.tickets)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.assignees, tk.Assignees)
			require.Equal(t, "open", tk.State)
			ns := b.f.take()
			require.Equal(t, tt.assignees, recipients(ns))
			for _, n := range ns {
				require.Equal(t, ticket.Assigned{Ticket: ticket.Subject{ID: tk.ID, Kind: tt.kind, Title: title, Asker: tt.asker,
					Due: tk.DueAt, Assignees: tt.assignees}}, n.Body)
				require.Equal(t, tk.Ref(), n.Ref)
			}
			require.Len(t, b.f.Trail, 1)
			require.Equal(t, "ticket.open", b.f.Trail[0].Action)
			require.Empty(t, b.f.Trail[0].Before)
			require.Equal(t, []ticket.Event{{At: tickettest.At(3, 2, 9, 0), Actor: tt.asker, Kind: "open", Body: title}}, b.f.events[tk.ID])
		})
	}
}

// TestRemindersAndOverdue: the assignees hear at 50 % and 80 %, once each;
// at the deadline the ticket is overdue and the operators, the sys admin
// and the admins whose scope holds the ticket's unit are told.
func TestRemindersAndOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(2, 12, 10, 0))
	tk := b.open(t, "tech", "", "")
	ref := tk.Ref()

	early := b.f.timerID(ref, "50")
	b.clock.T = tickettest.At(2, 13, 9, 59)
	require.NoError(t, b.svc.HandleTimer(ctx, early))
	require.Empty(t, b.f.take(), "not due yet")

	for _, mark := range []int{50, 80} {
		b.fire(t, ref, map[int]string{50: "50", 80: "80"}[mark])
		ns := b.f.take()
		require.Equal(t, []string{"op1", "op2"}, recipients(ns))
		require.Equal(t, ticket.Reminder{Ticket: ticket.Subject{ID: tk.ID, Kind: "tech", Title: tk.Title, Asker: "asker", Due: tk.DueAt,
			Assignees: []string{"op1", "op2"}}, Mark: mark}, ns[0].Body)
	}
	require.NoError(t, b.svc.HandleTimer(ctx, early))
	require.Empty(t, b.f.take(), "a reminder fires once")

	b.fire(t, ref, "100")
	require.Equal(t, tickettest.At(2, 14, 17, 30), b.clock.T.In(tickettest.CST()))
	ns := b.f.take()
	// The asker's unit edu-it is under edu (unit admin) under east (district admin).
	require.Equal(t, []string{"dist", "eduadm", "op1", "op2", "sys"}, recipients(ns))
	for _, n := range ns {
		require.IsType(t, ticket.Overdue{}, n.Body)
	}
	got := b.f.tickets[tk.ID]
	require.True(t, got.Overdue)
	require.Equal(t, "open", got.State)
	evs := b.f.events[tk.ID]
	require.Equal(t, ticket.Event{At: b.clock.T, Actor: core.SystemUser, Kind: "overdue", Body: "dist,eduadm,op1,op2,sys"}, evs[len(evs)-1])
	last := b.f.Trail[len(b.f.Trail)-1]
	require.Equal(t, "ticket.overdue", last.Action)
	require.Equal(t, core.SystemUser, last.Actor)
	require.Contains(t, last.Before, `"overdue":false`)
	require.Contains(t, last.After, `"overdue":true`)

	overdue, err := b.svc.List(ctx, actor("sys"), true, false)
	require.NoError(t, err)
	require.Len(t, overdue, 1)
	mine, err := b.svc.List(ctx, actor("sys"), false, true)
	require.NoError(t, err)
	require.Empty(t, mine, "the sys admin neither asked nor answers it")
}

// TestOverdueOtherUnit: a ticket of a unit with no admin reaches only the
// operators and the sys admin; no district admin outside its branch.
func TestOverdueOtherUnit(t *testing.T) {
	t.Parallel()
	b := setup(t, tickettest.At(3, 2, 9, 0))
	tk := b.open(t, "tech", "", "tax")
	b.fire(t, tk.Ref(), "50")
	b.fire(t, tk.Ref(), "80")
	b.f.take()
	b.fire(t, tk.Ref(), "100")
	require.Equal(t, []string{"op1", "op2", "sys"}, recipients(b.f.take()))
}

// TestWaitReply: waiting on the asker pauses the clock; the asker's reply
// resumes it with the working time that was left, and only the marks not
// yet passed are scheduled again.
func TestWaitReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		wait, reply time.Time
		due         time.Time
		marks       map[string]time.Time
	}{
		{name: "paused over the Spring Festival: 14.5 h of the period added back", wait: tickettest.At(2, 12, 11, 0), reply: tickettest.At(2, 24, 9, 0), due: tickettest.At(2, 26, 9, 0),
			marks: map[string]time.Time{"50": tickettest.At(2, 24, 15, 15), "80": tickettest.At(2, 25, 14, 6), "100": tickettest.At(2, 26, 9, 0)}},
		{name: "paused past the 50 % mark with 5.5 h left", wait: tickettest.At(2, 14, 10, 0), reply: tickettest.At(3, 2, 9, 0), due: tickettest.At(3, 2, 16, 30),
			marks: map[string]time.Time{"80": tickettest.At(3, 2, 10, 36), "100": tickettest.At(3, 2, 16, 30)}},
		{name: "a pause on the day of receipt costs the period nothing", wait: tickettest.At(2, 12, 11, 0), reply: tickettest.At(2, 12, 20, 0), due: tickettest.At(2, 14, 17, 30),
			marks: map[string]time.Time{"50": tickettest.At(2, 13, 14, 45), "80": tickettest.At(2, 14, 11, 36), "100": tickettest.At(2, 14, 17, 30)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t, tickettest.At(2, 12, 10, 0))
			tk := b.open(t, "tech", "", "")
			old := b.f.timerID(tk.Ref(), "100")

			b.clock.T = tt.wait
			got, err := b.svc.Wait(ctx, actor("op1"), tk.ID, "哪个账号？")
			require.NoError(t, err)
			require.Equal(t, "waiting", got.State)
			require.Empty(t, b.f.pending(tk.Ref()), "the clock is paused")
			require.Equal(t, []core.Notice{{Ref: tk.Ref(), To: core.Recipient{User: "asker"}, Body: ticket.Step{
				Ticket: ticket.Subject{ID: tk.ID, Kind: "tech", Title: tk.Title, Asker: "asker", Due: tk.DueAt, Assignees: tk.Assignees},
				Event:  "wait", Body: "哪个账号？", By: "op1"}}}, b.f.take())

			_, err = b.svc.Wait(ctx, actor("op1"), tk.ID, "again")
			require.ErrorIs(t, err, core.ErrConflict)
			require.Equal(t, "ticket_state", code(err))
			_, err = b.svc.Reply(ctx, actor("op1"), tk.ID, "I am not the asker")
			require.ErrorIs(t, err, core.ErrForbidden)

			b.clock.T = tt.reply
			require.NoError(t, b.svc.HandleTimer(ctx, old))
			require.Empty(t, b.f.take(), "the cancelled deadline does not fire")
			got, err = b.svc.Reply(ctx, actor("asker"), tk.ID, "zhangsan")
			require.NoError(t, err)
			require.Equal(t, "open", got.State)
			require.Nil(t, got.PausedAt)
			require.Equal(t, tt.due, got.DueAt.In(tickettest.CST()))
			require.Equal(t, tt.marks, b.f.pending(tk.Ref()))
			ns := b.f.take()
			require.Equal(t, []string{"op1", "op2"}, recipients(ns), "the reply goes to the assignees, not back to the asker")
			require.Equal(t, "reply", ns[0].Body.(ticket.Step).Event)
		})
	}
}

// TestReplyWhileOpen: a reply to a ticket not waiting adds to it and
// leaves the clock alone.
func TestReplyWhileOpen(t *testing.T) {
	t.Parallel()
	b := setup(t, tickettest.At(2, 12, 10, 0))
	tk := b.open(t, "tech", "", "")
	before := b.f.pending(tk.Ref())
	b.clock.T = tickettest.At(2, 12, 15, 0)
	got, err := b.svc.Reply(context.Background(), actor("asker"), tk.ID, "补充截图")
	require.NoError(t, err)
	require.Equal(t, tk.DueAt, got.DueAt)
	require.Equal(t, before, b.f.pending(tk.Ref()))
}

// TestForward: a ticket goes to a user or to an app's access party; its
// clock runs on (a technical question forwarded to an app starts a new
// leg: TestForwardNewLeg).
func TestForward(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		to        string
		assignees []string
		app       string
		err       error
		code      string
	}{
		{name: "to a user", to: "other", assignees: []string{"other"}},
		{name: "to an app without access party", to: "mail", err: core.ErrConflict, code: "ticket_no_assignee"},
		{name: "to a removed user", to: "gone", err: core.ErrNotFound, code: "forward_target"},
		{name: "to nobody", to: "nobody", err: core.ErrNotFound, code: "forward_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t, tickettest.At(2, 12, 10, 0))
			tk := b.open(t, "tech", "", "")
			timers := b.f.pending(tk.Ref())
			b.clock.T = tickettest.At(2, 12, 11, 0)
			got, err := b.svc.Forward(ctx, actor("op1"), tk.ID, tt.to)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Equal(t, tt.code, code(err))
				require.Equal(t, tk, b.f.tickets[tk.ID], "nothing changed")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.assignees, got.Assignees)
			require.Equal(t, tt.app, got.App)
			require.Equal(t, tk.DueAt, got.DueAt)
			require.Equal(t, timers, b.f.pending(tk.Ref()), "the clock runs on")
			ns := b.f.take()
			require.Len(t, ns, len(tt.assignees)+1)
			for _, n := range ns[:len(tt.assignees)] {
				require.IsType(t, ticket.Assigned{}, n.Body)
			}
			require.Equal(t, "asker", ns[len(ns)-1].To.User)
			require.Equal(t, "forward", ns[len(ns)-1].Body.(ticket.Step).Event)

			_, err = b.svc.Answer(ctx, actor("op2"), tk.ID, "operators may still answer")
			require.NoError(t, err)
		})
	}
}

// TestAnswerClose: answering stops the clock; the asker, an assignee or
// an operator closes; nothing happens to a closed ticket; strangers may
// not act.
func TestAnswerClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(2, 12, 10, 0))
	tk := b.open(t, "business", "oa", "")

	_, err := b.svc.Answer(ctx, actor("other"), tk.ID, "not mine")
	require.ErrorIs(t, err, core.ErrForbidden)
	require.Equal(t, "ticket_not_yours", code(err))
	_, err = b.svc.Answer(ctx, actor("ap"), tk.ID, "  ")
	require.ErrorIs(t, err, core.ErrInvalid)
	_, err = b.svc.Answer(ctx, actor("ap"), 99, "x")
	require.ErrorIs(t, err, core.ErrNotFound)

	b.clock.T = tickettest.At(2, 13, 9, 0)
	got, err := b.svc.Answer(ctx, actor("ap"), tk.ID, "在设置里改")
	require.NoError(t, err)
	require.Equal(t, "answered", got.State)
	require.Equal(t, "在设置里改", got.Answer)
	require.Equal(t, tickettest.At(2, 13, 9, 0), *got.AnsweredAt)
	require.Empty(t, b.f.pending(tk.Ref()), "the clock stopped")
	ns := b.f.take()
	require.Equal(t, []string{"asker"}, recipients(ns))
	require.Equal(t, ticket.Step{Ticket: ticket.Subject{ID: tk.ID, Kind: "business", Title: tk.Title, Asker: "asker", Due: tk.DueAt,
		Assignees: []string{"ap"}}, Event: "answer", Body: "在设置里改", By: "ap"}, ns[0].Body)

	got, err = b.svc.Close(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	require.Equal(t, "closed", got.State)
	require.Empty(t, b.f.take(), "the asker closing hears nothing")
	_, err = b.svc.Reply(ctx, actor("asker"), tk.ID, "one more")
	require.ErrorIs(t, err, core.ErrConflict)
	require.Equal(t, "ticket_closed", code(err))

	d, err := b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	var kinds []string
	for _, e := range d.Events {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"open", "answer", "close"}, kinds)
	var actions []string
	for _, e := range b.f.Trail {
		actions = append(actions, e.Action)
		require.Equal(t, tk.Ref(), e.Entity)
	}
	require.Equal(t, []string{"ticket.open", "ticket.answer", "ticket.close"}, actions)
	_, err = b.svc.Show(ctx, actor("asker"), 99)
	require.ErrorIs(t, err, core.ErrNotFound)
}

// TestForwardNewLeg: M 6.2 — a technical question forwarded to an app's
// access party becomes a business question with 5 working days from the
// forward; the first leg (its kind and deadline) stays on the ticket and
// in its notices. A business question forwarded to another app keeps its
// clock; a waiting one starts its new clock paused.
func TestForwardNewLeg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(2, 12, 10, 0))
	tk := b.open(t, "tech", "", "")
	require.Equal(t, tickettest.At(2, 14, 17, 30), tk.DueAt)
	b.clock.T = tickettest.At(2, 13, 11, 0)
	got, err := b.svc.Forward(ctx, actor("op1"), tk.ID, "oa")
	require.NoError(t, err)
	require.Equal(t, "business", got.Kind)
	require.Equal(t, []string{"ap"}, got.Assignees)
	require.Equal(t, &ticket.Leg{Kind: "tech", DueAt: tk.DueAt, ForwardedAt: tickettest.At(2, 13, 11, 0)}, got.FirstLeg)
	// Feb 14 (make-up), 24, 25, 26, 27: the fifth working day after the forward.
	require.Equal(t, tickettest.At(2, 27, 17, 30), got.DueAt.In(tickettest.CST()))
	require.Equal(t, tickettest.At(2, 27, 17, 30), b.f.pending(tk.Ref())["100"])
	require.Len(t, b.f.pending(tk.Ref()), 3, "a fresh clock: 50 %, 80 %, deadline")
	ns := b.f.take()
	require.Equal(t, ticket.Assigned{Ticket: ticket.Subject{ID: tk.ID, Kind: "business", Title: tk.Title, Asker: "asker", Due: got.DueAt,
		Assignees: []string{"ap"}, FirstLeg: got.FirstLeg}}, ns[0].Body)
	last := b.f.Trail[len(b.f.Trail)-1]
	require.Equal(t, "ticket.forward", last.Action)
	require.Contains(t, last.Before, `"kind":"tech"`)
	require.Contains(t, last.After, `"first_leg":{"kind":"tech"`)

	// Forwarded again to another app: the business clock runs on.
	b.f.apps["crm"] = org.App{Code: "crm", Name: "客户管理"}
	b.f.grants = append(b.f.grants, org.Grant{UserID: "other", Role: org.RoleAccessParty, Scope: "crm"})
	before := b.f.pending(tk.Ref())
	b.clock.T = tickettest.At(2, 24, 9, 0)
	again, err := b.svc.Forward(ctx, actor("ap"), tk.ID, "crm")
	require.NoError(t, err)
	require.Equal(t, got.DueAt, again.DueAt)
	require.Equal(t, got.FirstLeg, again.FirstLeg)
	require.Equal(t, before, b.f.pending(tk.Ref()))

	// A waiting technical question forwarded starts its clock paused.
	b.clock.T = tickettest.At(3, 2, 9, 0)
	w := b.open(t, "tech", "", "")
	_, err = b.svc.Wait(ctx, actor("op1"), w.ID, "哪个系统？")
	require.NoError(t, err)
	fw, err := b.svc.Forward(ctx, actor("op1"), w.ID, "oa")
	require.NoError(t, err)
	require.Equal(t, "waiting", fw.State)
	require.Empty(t, b.f.pending(w.Ref()))
	b.clock.T = tickettest.At(3, 3, 9, 0)
	fw, err = b.svc.Reply(ctx, actor("asker"), w.ID, "OA")
	require.NoError(t, err)
	// 5 working days from Mar 2 (Mar 3–9), plus the paused half hour of the period (Mar 3 08:30–09:00).
	require.Equal(t, tickettest.At(3, 10, 9, 0), fw.DueAt.In(tickettest.CST()))
}

// TestDeadlinesOverNationalDay: received Wed 2026-09-30 10:00, a
// technical, business and disclosure ticket are due at 17:30 of the 2nd,
// 5th and 20th working day after it — Oct 1–7 off, Oct 8 the first
// working day, Sat Oct 10 a make-up workday. With elapsed_hours (the old
// rule) the technical one was due Oct 9 10:00.
func TestDeadlinesOverNationalDay(t *testing.T) {
	t.Parallel()
	received := tickettest.At(9, 30, 10, 0)
	for kind, due := range map[string]time.Time{"tech": tickettest.At(10, 9, 17, 30), "business": tickettest.At(10, 13, 17, 30),
		"disclosure": tickettest.At(11, 3, 17, 30)} {
		b := setupCal(t, received, tickettest.National2026())
		app := map[string]string{"business": "oa"}[kind]
		tk := b.open(t, kind, app, "")
		require.Equal(t, due, tk.DueAt.In(tickettest.CST()), kind)
		require.False(t, tk.Provisional)
		require.Equal(t, due, b.f.pending(tk.Ref())["100"])
	}
	cal := tickettest.National2026()
	cal.SetPeriodRule(calendar.ElapsedHours)
	b := setupCal(t, received, cal)
	require.Equal(t, tickettest.At(10, 9, 10, 0), b.open(t, "tech", "", "").DueAt.In(tickettest.CST()))
}

// TestProvisionalDeadline: a ticket received 2026-12-15 counts through
// 2027, which has no holiday data: 2027-01-01 (元旦) is skipped by the
// statutory rules and the deadline is provisional, in its notices too.
// Loading 2027 recomputes open deadlines (audited, in the history, the
// assignees told) and drops the mark; a corrected day moves them.
func TestProvisionalDeadline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cal := tickettest.National2026()
	b := setupCal(t, tickettest.At(12, 15, 10, 0), cal)
	tk, err := b.svc.Open(ctx, actor("asker"), "disclosure", "2026 年报公开", "", "")
	require.NoError(t, err)
	jan := func(day int) time.Time { return time.Date(2027, 1, day, 17, 30, 0, 0, tickettest.CST()) }
	require.Equal(t, jan(13), tk.DueAt.In(tickettest.CST()), "Dec 16–31 are 12 working days, Jan 1 is skipped, Jan 4–13 the other 8")
	require.True(t, tk.Provisional)
	ns := b.f.take()
	require.True(t, ns[0].Body.(ticket.Assigned).Ticket.Provisional)
	short := b.open(t, "tech", "", "")
	require.False(t, short.Provisional, "a deadline inside 2026 is not provisional")

	// Nothing changed: nothing recomputed.
	n, err := b.svc.Recompute(ctx, actor("sys"))
	require.NoError(t, err)
	require.Zero(t, n)

	// The official 2027 schedule is loaded: same days, the mark goes.
	cal.Set("2027-01-01", true, "元旦")
	cal.MarkYear(2027)
	b.clock.T = tickettest.At(12, 20, 10, 0)
	n, err = b.svc.Recompute(ctx, actor("sys"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got := b.f.tickets[tk.ID]
	require.Equal(t, jan(13), got.DueAt.In(tickettest.CST()))
	require.False(t, got.Provisional)
	last := b.f.Trail[len(b.f.Trail)-1]
	require.Equal(t, "ticket.recompute", last.Action)
	require.Equal(t, "sys", last.Actor)
	require.Contains(t, last.Before, `"provisional":true`)
	require.NotContains(t, last.After, `"provisional"`)
	ns = b.f.take()
	require.Equal(t, []string{"eduadm"}, recipients(ns))
	require.Equal(t, ticket.Recomputed{Ticket: ticket.Subject{ID: tk.ID, Kind: "disclosure", Title: tk.Title, Asker: "asker", Due: got.DueAt,
		Assignees: []string{"eduadm"}}, Before: tk.DueAt}, ns[0].Body)

	// An admin makes Dec 31 a day off: the deadline moves a day, the timers with it.
	cal.Set("2026-12-31", true, "调整")
	n, err = b.svc.Recompute(ctx, actor("sys"))
	require.NoError(t, err)
	require.Equal(t, 1, n, "the technical ticket (due Dec 17) does not run through Dec 31")
	require.Equal(t, jan(14), b.f.tickets[tk.ID].DueAt.In(tickettest.CST()))
	require.Equal(t, jan(14), b.f.pending(tk.Ref())["100"])
	evs := b.f.events[tk.ID]
	require.Equal(t, ticket.Event{At: b.clock.T, Actor: "sys", Kind: "recompute", Body: "2027-01-13 17:30 → 2027-01-14 17:30"}, evs[len(evs)-1])
}

// TestListScope: /ticket list shows a sys admin every ticket, a district
// or unit admin the tickets of units under them, an operator the
// technical ones, an access party the business ones of its apps, anyone
// their own; --mine only their own.
func TestListScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(3, 2, 9, 0))
	tech := b.open(t, "tech", "", "")             // asker of edu-it
	biz := b.open(t, "business", "oa", "")        // asker of edu-it
	taxDisc := b.open(t, "disclosure", "", "tax") // unit tax, under the city only
	ids := func(who string, mine bool) []int64 {
		ts, err := b.svc.List(ctx, actor(who), false, mine)
		require.NoError(t, err)
		var out []int64
		for _, t := range ts {
			out = append(out, t.ID)
		}
		slices.Sort(out)
		return out
	}
	all := []int64{tech.ID, biz.ID, taxDisc.ID}
	require.Equal(t, all, ids("sys", false))
	require.Empty(t, ids("sys", true))
	require.Equal(t, []int64{tech.ID, biz.ID}, ids("dist", false), "east holds edu-it, not tax")
	require.Equal(t, []int64{tech.ID, biz.ID}, ids("eduadm", false))
	require.Equal(t, []int64{tech.ID}, ids("op1", false))
	require.Equal(t, []int64{tech.ID}, ids("op1", true), "assigned to it")
	require.Equal(t, []int64{biz.ID}, ids("ap", false))
	require.Equal(t, []int64{taxDisc.ID}, ids("taxcontact", false), "its own assignment only")
	require.Equal(t, all, ids("asker", false))
	require.Empty(t, ids("other", false))

	// Overdue: operators are told of every overdue ticket, so they list them all.
	b.clock.T = tickettest.At(4, 30, 9, 0)
	for _, tk := range []ticket.Ticket{tech, biz, taxDisc} {
		b.fire(t, tk.Ref(), "100")
	}
	overdue, err := b.svc.List(ctx, actor("op1"), true, false)
	require.NoError(t, err)
	require.Len(t, overdue, 3)
	overdue, err = b.svc.List(ctx, actor("dist"), true, false)
	require.NoError(t, err)
	require.Len(t, overdue, 2)
}

// TestShowScope: a ticket is shown to exactly those whose list holds it
// (its asker, assignees, the admins whose scope covers it); others are
// refused with ticket_forbidden, as in chat.
func TestShowScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(3, 2, 9, 0))
	tickets := []ticket.Ticket{b.open(t, "tech", "", ""), b.open(t, "business", "oa", ""), b.open(t, "disclosure", "", "tax")}
	for _, who := range []string{"sys", "dist", "eduadm", "op1", "ap", "taxcontact", "asker", "other"} {
		listed, err := b.svc.List(ctx, actor(who), false, false)
		require.NoError(t, err)
		for _, tk := range tickets {
			_, err := b.svc.Show(ctx, actor(who), tk.ID)
			if slices.ContainsFunc(listed, func(l ticket.Ticket) bool { return l.ID == tk.ID }) {
				require.NoErrorf(t, err, "%s sees #%d in the list", who, tk.ID)
			} else {
				require.ErrorIsf(t, err, core.ErrForbidden, "%s may not see #%d", who, tk.ID)
				require.Equal(t, "ticket_forbidden", code(err))
			}
		}
	}
	_, err := b.svc.Show(ctx, actor("other"), tickets[2].ID)
	require.Equal(t, "ticket_forbidden", code(err), "a member of the ticket's unit who is not its contact")
}

// TestShowClock: the clock counts the working time left, stops while
// waiting on the asker, goes negative once overdue, and stops when answered.
func TestShowClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(3, 2, 9, 0)) // Monday 09:00; due Wednesday 17:30
	tk := b.open(t, "tech", "", "")
	d, err := b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	day := tickettest.SpringFestival2026().DayLength()
	r0 := d.Clock.Remaining
	require.Equal(t, ticket.Clock{Due: tk.DueAt, Running: true, Remaining: r0}, d.Clock)
	require.True(t, r0 > 2*day && r0 <= 3*day, "most of the day of receipt and two more: %s", r0)

	b.clock.T = tickettest.At(3, 3, 9, 0)
	_, err = b.svc.Wait(ctx, actor("op1"), tk.ID, "which account?")
	require.NoError(t, err)
	b.clock.T = tickettest.At(3, 4, 9, 0)
	d, err = b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	require.True(t, d.Clock.Paused)
	require.False(t, d.Clock.Running)
	require.Equal(t, r0-day, d.Clock.Remaining, "as of the pause, a working day later")

	_, err = b.svc.Reply(ctx, actor("asker"), tk.ID, "zhangsan")
	require.NoError(t, err)
	d, err = b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	b.clock.T = d.Clock.Due.Add(24 * time.Hour) // the next working day, same time
	d, err = b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	require.Equal(t, -day, d.Clock.Remaining)

	_, err = b.svc.Answer(ctx, actor("op1"), tk.ID, "done")
	require.NoError(t, err)
	d, err = b.svc.Show(ctx, actor("asker"), tk.ID)
	require.NoError(t, err)
	require.Equal(t, ticket.Clock{Due: d.Ticket.DueAt}, d.Clock, "stopped")
}
