package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/ticket"
)

func (b *Bot) registerTickets() {
	for _, c := range []*Command{
		{Path: "ticket open", Usage: "tech|business|disclosure <title> [--app <app>] [--unit <code>]", MinArgs: 2, MaxArgs: -1,
			Flags: map[string]bool{"app": true, "unit": true}, Run: b.ticketOpen},
		{Path: "ticket answer", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: b.ticketText(b.tickets.Answer)},
		{Path: "ticket forward", Usage: "<id> <userid|app>", MinArgs: 2, MaxArgs: 2, Run: b.ticketText(b.tickets.Forward)},
		{Path: "ticket wait", Usage: "<id> <question to the asker>", MinArgs: 2, MaxArgs: -1, Run: b.ticketText(b.tickets.Wait)},
		{Path: "ticket reply", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: b.ticketText(b.tickets.Reply)},
		{Path: "ticket close", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.ticketClose},
		{Path: "ticket list", Usage: "[--overdue]", Flags: map[string]bool{"overdue": false}, Run: b.ticketList},
		{Path: "ticket show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.ticketShow},
	} {
		c.Topic = "ticket"
		b.router.Handle(c)
	}
}

func ticketID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid("ticket_id", "value", s)
	}
	return n, nil
}

func (b *Bot) ticketReply(t ticket.Ticket) Message {
	return Message{Ref: t.Ref(), Title: b.t("ticket.title", "id", itoa64(t.ID), "kind", b.t("tkind."+t.Kind), "title", t.Title),
		Fields: []Field{
			{Name: b.t("field.status"), Value: b.t("tstate." + t.State)},
			{Name: b.t("field.assignees"), Value: strings.Join(t.Assignees, "、")},
			{Name: b.t("field.due"), Value: b.fmtTime(t.DueAt)},
		}}
}

func (b *Bot) ticketOpen(ctx context.Context, r *Request) ([]Message, error) {
	kind := map[string]string{"技术": "tech", "业务": "business", "公开": "disclosure"}[r.Args[0]]
	if kind == "" {
		kind = r.Args[0]
	}
	t, err := b.tickets.Open(ctx, r.Actor, kind, r.Args[1], r.Flag("app"), r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	return reply(b.ticketReply(t))
}

func (b *Bot) ticketText(fn func(context.Context, core.Actor, int64, string) (ticket.Ticket, error)) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := ticketID(r.Args[0])
		if err != nil {
			return nil, err
		}
		t, err := fn(ctx, r.Actor, id, r.Args[1])
		if err != nil {
			return nil, err
		}
		return reply(b.ticketReply(t))
	}
}

func (b *Bot) ticketClose(ctx context.Context, r *Request) ([]Message, error) {
	id, err := ticketID(r.Args[0])
	if err != nil {
		return nil, err
	}
	t, err := b.tickets.Close(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	return reply(b.ticketReply(t))
}

func (b *Bot) ticketList(ctx context.Context, r *Request) ([]Message, error) {
	ts, err := b.tickets.List(ctx, r.Actor, r.Has("overdue"))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, t := range ts {
		line := "- #" + itoa64(t.ID) + " " + b.t("tkind."+t.Kind) + " · " + t.Title + " · " + b.t("tstate."+t.State) + " · " + b.t("field.due") + " " + b.fmtTime(t.DueAt)
		if t.Overdue && t.State == "open" {
			line += " · **" + b.t("ticket.overdue_tag") + "**"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("ticket.list.title"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) ticketShow(ctx context.Context, r *Request) ([]Message, error) {
	id, err := ticketID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := b.tickets.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	m := b.ticketReply(d.Ticket)
	var lines []string
	for _, e := range d.Events {
		line := "- " + b.fmtTime(e.At) + " " + e.Actor + " " + b.t("tevent."+e.Kind)
		if e.Body != "" {
			line += "：" + e.Body
		}
		lines = append(lines, line)
	}
	m.Text = strings.Join(lines, "\n")
	return reply(m)
}

// renderTicket renders ticket notices; ok is false for other kinds.
func (b *Bot) renderTicket(n notice) (Message, bool) {
	d := n.Data
	title := b.t("ticket.title", "id", d["id"], "kind", b.t("tkind."+d["kind"]), "title", d["title"])
	switch n.Kind {
	case ticket.NoticeTicket:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: title, Text: b.t("ticket.assigned", "id", d["id"], "due", d["due"], "asker", d["asker"])}, true
	case ticket.NoticeEvent:
		text := b.t("ticket.event", "by", d["by"], "event", b.t("tevent."+d["event"]))
		if d["body"] != "" {
			text += "：" + d["body"]
		}
		return Message{Ref: n.Ref, Status: StatusNotice, Title: title, Text: text}, true
	case ticket.NoticeRemind:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: title, Text: b.t("ticket.remind", "mark", d["mark"], "due", d["due"], "id", d["id"])}, true
	case ticket.NoticeOverdue:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: title, Text: b.t("ticket.overdue", "id", d["id"], "due", d["due"], "assignees", d["assignees"])}, true
	}
	return Message{}, false
}
