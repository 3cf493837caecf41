package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/ticket"
)

// ticketBot is the tickets' part of the bot.
type ticketBot struct {
	*Bot
	svc *ticket.Service
}

// Tickets plugs tickets with working-day SLAs: the /ticket commands, the
// ticket notices and the SLA timer (50 %, 80 %, deadline).
func Tickets(svc *ticket.Service) Plug {
	return func(b *Bot) Module {
		c := ticketBot{Bot: b, svc: svc}
		return Module{
			Name:  "ticket",
			Topic: "ticket",
			Commands: []*Command{
				{Path: "ticket open", Usage: "tech|business|disclosure <title> [--app <app>] [--unit <code>]", MinArgs: 2, MaxArgs: -1,
					Flags: map[string]bool{"app": true, "unit": true}, Run: c.open},
				{Path: "ticket answer", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: c.text(svc.Answer)},
				{Path: "ticket forward", Users: []int{1}, Usage: "<id> <userid|app>", MinArgs: 2, MaxArgs: 2, Run: c.text(svc.Forward)},
				{Path: "ticket wait", Usage: "<id> <question to the asker>", MinArgs: 2, MaxArgs: -1, Run: c.text(svc.Wait)},
				{Path: "ticket reply", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: c.text(svc.Reply)},
				{Path: "ticket close", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.close},
				{Path: "ticket list", Usage: "[--overdue] [--mine]", Flags: map[string]bool{"overdue": false, "mine": false}, Run: c.list},
				{Path: "ticket show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.show},
			},
			Notices: []NoticeRenderer{Renders(c.renderAssigned), Renders(c.renderStep), Renders(c.renderReminder), Renders(c.renderOverdue),
				Renders(c.renderRecomputed)},
			Timers: map[string]TimerFunc{ticket.TimerSLA: svc.HandleTimer},
		}
	}
}

// textStep is a ticket step that takes a text (answer, forward, wait, reply).
type textStep func(context.Context, core.Actor, int64, string) (ticket.Ticket, error)

func ticketID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid("ticket_id", "value", s)
	}
	return n, nil
}

func (c ticketBot) card(t ticket.Ticket) Message {
	fields := []Field{
		{Name: c.t("field.status"), Value: c.t("tstate." + t.State)},
		{Name: c.t("field.assignees"), Value: c.names(t.Assignees)},
		{Name: c.t("field.due"), Value: c.dueText(t.DueAt, t.Provisional)},
	}
	if l := t.FirstLeg; l != nil {
		fields = append(fields, Field{Name: c.t("ticket.first_leg.field"), Value: c.leg(l)})
	}
	return Message{Ref: t.Ref(), Title: c.title(t.ID, t.Kind, t.Title), Fields: fields}
}

// TicketClock is a ticket's working-time clock as /ticket show and the
// console's ticket page give it: the working time left, how long it is
// overdue, or what is left while paused; "" once answered or closed.
func TicketClock(lang string, c ticket.Clock) string {
	d := FormatDuration(lang, c.Remaining)
	switch {
	case c.Paused:
		return T(lang, "ticket.clock.paused", "d", d)
	case !c.Running:
		return ""
	case c.Remaining < 0 || c.Overdue && c.Remaining == 0:
		return T(lang, "ticket.clock.overdue", "d", d)
	}
	return T(lang, "ticket.clock.left", "d", d)
}

// dueText is a due time, marked when it is provisional.
func (c ticketBot) dueText(due time.Time, provisional bool) string {
	s := c.fmtTime(due)
	if provisional {
		s += c.t("ticket.provisional")
	}
	return s
}

// leg describes a ticket's first leg.
func (c ticketBot) leg(l *ticket.Leg) string {
	return c.t("ticket.first_leg", "kind", c.t("tkind."+l.Kind), "due", c.fmtTime(l.DueAt), "at", c.fmtTime(l.ForwardedAt))
}

func (c ticketBot) title(id int64, kind, title string) string {
	return c.t("ticket.title", "id", itoa64(id), "kind", c.t("tkind."+kind), "title", title)
}

func (c ticketBot) open(ctx context.Context, r *Request) ([]Message, error) {
	kind := map[string]string{"技术": "tech", "业务": "business", "公开": "disclosure"}[r.Args[0]]
	if kind == "" {
		kind = r.Args[0]
	}
	t, err := c.svc.Open(ctx, r.Actor, kind, r.Args[1], r.Flag("app"), r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	return reply(c.card(t))
}

// text runs a ticket step that takes a text.
func (c ticketBot) text(step textStep) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := ticketID(r.Args[0])
		if err != nil {
			return nil, err
		}
		t, err := step(ctx, r.Actor, id, r.Args[1])
		if err != nil {
			return nil, err
		}
		return reply(c.card(t))
	}
}

func (c ticketBot) close(ctx context.Context, r *Request) ([]Message, error) {
	id, err := ticketID(r.Args[0])
	if err != nil {
		return nil, err
	}
	t, err := c.svc.Close(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	return reply(c.card(t))
}

func (c ticketBot) list(ctx context.Context, r *Request) ([]Message, error) {
	ts, err := c.svc.List(ctx, r.Actor, r.Has("overdue"), r.Has("mine"))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, t := range ts {
		line := "- #" + itoa64(t.ID) + " " + c.t("tkind."+t.Kind) + " · " + t.Title + " · " + c.t("tstate."+t.State) + " · " + c.t("field.due") + " " + c.dueText(t.DueAt, t.Provisional)
		if t.Overdue && t.State == "open" {
			line += " · **" + c.t("ticket.overdue_tag") + "**"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = append(lines, c.t("none"))
	}
	return reply(Message{Title: c.t("ticket.list.title"), Text: strings.Join(lines, "\n")})
}

func (c ticketBot) show(ctx context.Context, r *Request) ([]Message, error) {
	id, err := ticketID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := c.svc.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	m := c.card(d.Ticket)
	if clock := TicketClock(c.cfg.Language, d.Clock); clock != "" {
		m.Fields = append(m.Fields, Field{Name: c.t("field.remaining"), Value: clock})
	}
	var lines []string
	for _, e := range d.Events {
		line := "- " + c.fmtTime(e.At) + " " + c.person(e.Actor) + " " + c.t("tevent."+e.Kind)
		if e.Body != "" {
			line += "：" + e.Body
		}
		lines = append(lines, line)
	}
	m.Text = strings.Join(lines, "\n")
	return reply(m)
}

// due shows a notice's due time in the bot's zone, marked when
// provisional; rows queued by the previous release carry it as text already.
func (c ticketBot) due(s ticket.Subject) string {
	if d := s.LegacyDue(); d != "" {
		return d
	}
	return c.dueText(s.Due, s.Provisional)
}

func (c ticketBot) notice(ref string, s ticket.Subject, text string) Message {
	m := Message{Ref: ref, Status: StatusNotice, Title: c.title(s.ID, s.Kind, s.Title), Text: text}
	if s.FirstLeg != nil {
		m.Fields = []Field{{Name: c.t("ticket.first_leg.field"), Value: c.leg(s.FirstLeg)}}
	}
	return m
}

func (c ticketBot) renderAssigned(ref string, n ticket.Assigned) (Message, error) {
	s := n.Ticket
	return c.notice(ref, s, c.t("ticket.assigned", "id", itoa64(s.ID), "due", c.due(s), "asker", c.person(s.Asker))), nil
}

func (c ticketBot) renderStep(ref string, n ticket.Step) (Message, error) {
	text := c.t("ticket.event", "by", c.person(n.By), "event", c.t("tevent."+n.Event))
	if n.Body != "" {
		text += "：" + n.Body
	}
	return c.notice(ref, n.Ticket, text), nil
}

func (c ticketBot) renderReminder(ref string, n ticket.Reminder) (Message, error) {
	s := n.Ticket
	return c.notice(ref, s, c.t("ticket.remind", "mark", strconv.Itoa(n.Mark), "due", c.due(s), "id", itoa64(s.ID))), nil
}

func (c ticketBot) renderOverdue(ref string, n ticket.Overdue) (Message, error) {
	s := n.Ticket
	return c.notice(ref, s, c.t("ticket.overdue", "id", itoa64(s.ID), "due", c.due(s), "assignees", c.names(s.Assignees))), nil
}

func (c ticketBot) renderRecomputed(ref string, n ticket.Recomputed) (Message, error) {
	s := n.Ticket
	return c.notice(ref, s, c.t("ticket.recomputed", "id", itoa64(s.ID), "before", c.fmtTime(n.Before), "due", c.due(s))), nil
}
