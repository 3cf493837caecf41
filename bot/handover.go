package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/incident"
)

func (b *Bot) registerHandovers() {
	for _, c := range []*Command{
		{Path: "duty handover", Usage: "[notes]", MaxArgs: -1, Run: b.dutyHandover},
		{Path: "duty log", Usage: "[rotation]", MaxArgs: 1, Run: b.dutyLog},
	} {
		c.Topic = "incident"
		b.router.Handle(c)
	}
	b.HandleAction("duty.accept", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(ev.Value, "handover:"), "#card"), 10, 64)
		if err != nil {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		h, err := b.incidents.AcceptHandover(ctx, actor, id)
		if err != nil {
			return nil, err
		}
		return reply(Message{Ref: h.Ref(), Title: b.t("handover.accepted.title", "rotation", h.Rotation),
			Text: b.t("handover.accepted", "outgoing", h.Outgoing, "incoming", h.Incoming, "at", b.fmtTime(*h.AcceptedAt))})
	})
}

func (b *Bot) dutyHandover(ctx context.Context, r *Request) ([]Message, error) {
	notes := ""
	if len(r.Args) > 0 {
		notes = r.Args[0]
	}
	h, err := b.incidents.HandoverNotes(ctx, r.Actor, notes)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: h.Ref(), Text: b.t("handover.noted", "rotation", h.Rotation, "incoming", h.Incoming)})
}

func (b *Bot) dutyLog(ctx context.Context, r *Request) ([]Message, error) {
	name := ""
	if len(r.Args) > 0 {
		name = r.Args[0]
	}
	hs, err := b.incidents.HandoverLog(ctx, r.Actor, name)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, h := range hs {
		line := "- " + b.fmtTime(h.ShiftStart) + " " + h.Rotation + "：" + h.Outgoing + " → " + h.Incoming
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

// renderHandover renders handover notices; ok is false for other kinds.
func (b *Bot) renderHandover(n notice) (Message, bool) {
	d := n.Data
	switch n.Kind {
	case incident.NoticeHandover, incident.NoticeHandoverUpd:
		m := Message{Ref: n.Ref, Status: StatusNotice,
			Title: b.t("handover.card.title", "rotation", d["rotation"], "at", d["shift_start"]),
			Fields: []Field{
				{Name: b.t("field.outgoing"), Value: d["outgoing"]},
				{Name: b.t("field.incoming"), Value: d["incoming"]},
				{Name: b.t("field.open_items"), Value: orNone(b, d["open_items"])},
				{Name: b.t("field.notes_handover"), Value: orNone(b, d["notes"])},
			}}
		if d["state"] == "accepted" {
			m.Text = b.t("handover.accepted", "outgoing", d["outgoing"], "incoming", d["incoming"], "at", d["accepted_at"])
		} else {
			m.Text = b.t("handover.card", "outgoing", d["outgoing"], "incoming", d["incoming"])
			m.Buttons = []Button{{Action: "duty.accept", Value: "handover:" + d["id"], Label: b.t("btn.accept"), Style: "primary"}}
		}
		return m, true
	case incident.NoticeHandoverLate:
		key := "handover.late.incoming"
		if d["round"] == "2" {
			key = "handover.late.admin"
		}
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("handover.late.title", "rotation", d["rotation"]),
			Text: b.t(key, "incoming", d["incoming"], "outgoing", d["outgoing"], "at", d["shift_start"])}, true
	}
	return Message{}, false
}
