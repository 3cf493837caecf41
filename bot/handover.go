package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/duty"
)

// dutyBot is the duty rotations' and handovers' part of the bot.
type dutyBot struct {
	*Bot
	rotations *duty.Service
	handovers *duty.Handovers
}

// Duty plugs duty rotations, swaps and shift handovers; handovers are
// looked for every handoverEvery.
func Duty(rotations *duty.Service, handovers *duty.Handovers, handoverEvery time.Duration) Plug {
	return func(b *Bot) Module {
		c := dutyBot{Bot: b, rotations: rotations, handovers: handovers}
		return Module{
			Name:  "duty",
			Topic: "incident",
			Commands: []*Command{
				{Path: "duty now", Usage: "[rotation]", MaxArgs: 1, Run: c.now},
				{Path: "duty rotation add", UserFlags: []string{"members"}, Usage: "<name> --members a,b,c --every day|week --handover HH:MM [--unit <code>] [--skip-holidays]", MinArgs: 1, MaxArgs: 1,
					Flags:    map[string]bool{"members": true, "every": true, "handover": true, "unit": true, "skip-holidays": false},
					Required: []string{"members", "every", "handover"}, Run: c.rotationAdd},
				{Path: "duty swap", Users: []int{2}, Usage: "<rotation> <date> <userid>", MinArgs: 3, MaxArgs: 3, Run: c.swap},
				{Path: "duty handover", Usage: "[notes]", MaxArgs: -1, Run: c.handover},
				{Path: "duty log", Usage: "[rotation]", MaxArgs: 1, Run: c.log},
			},
			Actions: map[string]ActionFunc{"duty.accept": c.accept},
			Notices: []NoticeRenderer{Renders(c.renderCard), Renders(c.renderUpdate), Renders(c.renderLate)},
			Timers:  map[string]TimerFunc{duty.TimerHandoverCheck: handovers.HandleTimer},
			Jobs: []Job{{Type: "duty:handover", Every: handoverEvery, Run: func(ctx context.Context, _ time.Time) error {
				n, err := handovers.Start(ctx)
				if n > 0 {
					b.log.Info("handovers started", "count", n)
				}
				return err
			}}},
		}
	}
}

func (b dutyBot) accept(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(ev.Value, "handover:"), "#card"), 10, 64)
	if err != nil {
		return nil, core.Invalid("button_value", "value", ev.Value)
	}
	h, err := b.handovers.Accept(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: h.Ref(), Title: b.t("handover.accepted.title", "rotation", h.Rotation),
		Text: b.t("handover.accepted", "outgoing", b.person(h.Outgoing), "incoming", b.person(h.Incoming), "at", b.fmtTime(*h.AcceptedAt))})
}

func (b dutyBot) handover(ctx context.Context, r *Request) ([]Message, error) {
	notes := ""
	if len(r.Args) > 0 {
		notes = r.Args[0]
	}
	h, err := b.handovers.Notes(ctx, r.Actor, notes)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: h.Ref(), Text: b.t("handover.noted", "rotation", h.Rotation, "incoming", b.person(h.Incoming))})
}

func (b dutyBot) log(ctx context.Context, r *Request) ([]Message, error) {
	name := ""
	if len(r.Args) > 0 {
		name = r.Args[0]
	}
	hs, err := b.handovers.Log(ctx, r.Actor, name)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, h := range hs {
		line := "- " + b.fmtTime(h.ShiftStart) + " " + h.Rotation + "：" + b.person(h.Outgoing) + " → " + b.person(h.Incoming)
		if h.AcceptedAt != nil {
			line += " · " + b.t("handover.signed", "at", b.fmtTime(*h.AcceptedAt))
		} else {
			line += " · " + b.t("handover.unsigned")
		}
		if h.Notes != "" {
			line += " · " + b.t("field.notes_handover") + "：" + h.Notes
		}
		if h.OpenItems != "" {
			line += " · " + b.t("field.open_items") + "：" + strings.ReplaceAll(h.OpenItems, "\n", "；")
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("handover.log.title"), Text: strings.Join(lines, "\n")})
}

func (b dutyBot) handoverCard(ref string, p duty.HandoverNotice) Message {
	at := b.wallOr(p.ShiftStart, p.Wall)
	m := Message{Ref: ref, Status: StatusNotice,
		Title: b.t("handover.card.title", "rotation", p.Rotation, "at", at),
		Fields: []Field{
			{Name: b.t("field.outgoing"), Value: b.person(p.Outgoing)},
			{Name: b.t("field.incoming"), Value: b.person(p.Incoming)},
			{Name: b.t("field.open_items"), Value: orNone(b.Bot, p.OpenItems)},
			{Name: b.t("field.notes_handover"), Value: orNone(b.Bot, p.Notes)},
		}}
	if p.State == "accepted" {
		accepted := ""
		if p.AcceptedAt != nil {
			accepted = b.wallOr(*p.AcceptedAt, p.Wall)
		}
		m.Text = b.t("handover.accepted", "outgoing", b.person(p.Outgoing), "incoming", b.person(p.Incoming), "at", accepted)
	} else {
		m.Text = b.t("handover.card", "outgoing", b.person(p.Outgoing), "incoming", b.person(p.Incoming))
		m.Buttons = []Button{{Action: "duty.accept", Value: "handover:" + itoa64(p.ID), Label: b.t("btn.accept"), Style: "primary"}}
	}
	return m
}

func (b dutyBot) renderCard(ref string, p duty.HandoverCard) (Message, error) {
	return b.handoverCard(ref, p.HandoverNotice), nil
}

func (b dutyBot) renderUpdate(ref string, p duty.HandoverUpdate) (Message, error) {
	return b.handoverCard(ref, p.HandoverNotice), nil
}

func (b dutyBot) renderLate(ref string, p duty.HandoverLate) (Message, error) {
	key := "handover.late.incoming"
	if p.Round == 2 {
		key = "handover.late.admin"
	}
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("handover.late.title", "rotation", p.Rotation),
		Text: b.t(key, "incoming", b.person(p.Incoming), "outgoing", b.person(p.Outgoing), "at", b.wallOr(p.ShiftStart, p.Wall))}, nil
}

func (b dutyBot) now(ctx context.Context, r *Request) ([]Message, error) {
	name := ""
	if len(r.Args) > 0 {
		name = r.Args[0]
	}
	list, err := b.rotations.Now(ctx, r.Actor, name)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, od := range list {
		lines = append(lines, "**"+od.Rotation.Name+"**："+b.t("duty.line", "primary", b.person(od.Now.Primary),
			"secondary", b.person(od.Now.Secondary), "until", b.fmtTime(od.Now.End), "next", b.person(od.Next.Primary)))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("duty.now.title"), Text: strings.Join(lines, "\n")})
}

func (b dutyBot) rotationAdd(ctx context.Context, r *Request) ([]Message, error) {
	var members []string
	for _, m := range splitList(r.Flag("members")) {
		if m = strings.TrimSpace(m); m != "" {
			members = append(members, m)
		}
	}
	rot, err := b.rotations.AddRotation(ctx, r.Actor, duty.Rotation{Name: r.Args[0], Unit: r.Flag("unit"), Members: members,
		Every: canonicalValue(r.Flag("every")), Handover: r.Flag("handover"), SkipHolidays: r.Has("skip-holidays")})
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "rotation:" + rot.Name, Text: b.t("duty.rotation.added", "name", rot.Name, "members", b.names(rot.Members),
		"every", b.t("console.duty.every."+rot.Every), "handover", rot.Handover)})
}

func (b dutyBot) swap(ctx context.Context, r *Request) ([]Message, error) {
	day, err := b.day(r.Args[1])
	if err != nil {
		return nil, err
	}
	if err := b.rotations.Swap(ctx, r.Actor, r.Args[0], day, r.Args[2]); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "rotation:" + r.Args[0], Text: b.t("duty.swapped", "rotation", r.Args[0], "day", day, "user", r.Args[2])})
}
