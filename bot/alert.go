package bot

import (
	"context"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
)

// Silencer creates Alertmanager silences for alert incidents.
type Silencer interface {
	Silence(ctx context.Context, actor core.Actor, incidentID int64, span string) (silenceID string, until time.Time, err error)
}

func (b *Bot) registerAlerts() {
	b.HandleAction("alert.silence", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		ref, span, ok := strings.Cut(ev.Value, "|")
		if !ok || b.silencer == nil {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		id, err := incidentID(strings.TrimSuffix(strings.TrimPrefix(ref, "incident:"), "#card"))
		if err != nil {
			return nil, err
		}
		sid, until, err := b.silencer.Silence(ctx, actor, id, span)
		if err != nil {
			return nil, err
		}
		return reply(Message{Ref: "incident:" + itoa64(id), Title: b.t("alert.silenced.title", "id", itoa64(id)),
			Text: b.t("alert.silenced", "until", b.fmtTime(until), "silence", sid)})
	})
	b.HandleAction("alert.notice", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		// value: incident:N#notice:outage
		ref, kind, ok := strings.Cut(ev.Value, "#notice:")
		if !ok {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		id, err := incidentID(strings.TrimPrefix(ref, "incident:"))
		if err != nil {
			return nil, err
		}
		if err := b.incidents.PublishNotice(ctx, actor, id, kind); err != nil {
			return nil, err
		}
		return reply(Message{Ref: ev.Value, Text: b.t("alert.notice.published", "id", itoa64(id))})
	})
}

// alertFields adds what an alert incident's card shows and its silence buttons.
func (b *Bot) alertFields(m *Message, i incident.Incident, d map[string]string) {
	if d["source"] != "alertmanager" {
		return
	}
	m.Fields = append(m.Fields, Field{Name: b.t("field.alerts"), Value: b.t("alert.counts", "firing", d["firing"], "resolved", d["resolved"])})
	if d["group_labels"] != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.group"), Value: d["group_labels"]})
	}
	if d["joint"] == "1" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.joint"), Value: b.t("alert.joint")})
	}
	if i.Open() && b.silencer != nil {
		for _, span := range []string{"1h", "4h", "tomorrow"} {
			m.Buttons = append(m.Buttons, Button{Action: "alert.silence", Value: i.Ref() + "|" + span, Label: b.t("btn.silence." + span)})
		}
	}
}

// renderAlertNotice renders notice drafts and public notices.
func (b *Bot) renderAlertNotice(n notice) (Message, bool) {
	d := n.Data
	switch n.Kind {
	case incident.NoticeNoticeDraft, incident.NoticeNoticeDone:
		kind := d["notice"]
		m := Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("notice_draft.title."+kind, "id", d["id"]),
			Text: b.t("public."+kind, "app_name", orNone(b, d["app_name"]), "since", d["since"], "title", d["title"])}
		if d["published"] == "1" {
			m.Title = b.t("notice_draft.published", "id", d["id"], "by", d["by_name"])
		} else {
			m.Buttons = []Button{{Action: "alert.notice", Value: "incident:" + d["id"] + "#notice:" + kind, Label: b.t("btn.publish_notice"),
				Style: "primary", Confirm: b.t("confirm.publish_notice")}}
		}
		return m, true
	case incident.NoticePublic:
		kind := d["notice"]
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("public.title." + kind),
			Text: b.t("public."+kind, "app_name", orNone(b, d["app_name"]), "since", d["since"], "title", d["title"])}, true
	}
	return Message{}, false
}
