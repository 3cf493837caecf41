package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/incident"
)

// Silencer creates Alertmanager silences for alert incidents.
type Silencer interface {
	Silence(ctx context.Context, actor core.Actor, incidentID int64, span string) (silenceID string, until time.Time, err error)
}

// alertBot is alert ingestion's part of the bot.
type alertBot struct {
	*Bot
	svc *alert.Service
}

// Alerts plugs Alertmanager incidents: the silence buttons on their cards
// (when silencer is set), public-notice drafts and their publishing, and
// the coalesced-update and non-200 timers.
func Alerts(svc *alert.Service, silencer Silencer) Plug {
	return func(b *Bot) Module {
		c := alertBot{Bot: b, svc: svc}
		b.silencer = silencer
		return Module{
			Name:    "alert",
			Actions: map[string]ActionFunc{"alert.silence": c.silence, "alert.notice": c.publish},
			Notices: []NoticeRenderer{Renders(c.renderDraft), Renders(c.renderPublished), Renders(c.renderPublic)},
			Timers:  map[string]TimerFunc{alert.TimerFlush: svc.HandleTimer, alert.TimerNon200: svc.HandleTimer},
		}
	}
}

func (b alertBot) silence(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
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
}

func (b alertBot) publish(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
	// value: incident:N#notice:outage
	ref, kind, ok := strings.Cut(ev.Value, "#notice:")
	if !ok {
		return nil, core.Invalid("button_value", "value", ev.Value)
	}
	id, err := incidentID(strings.TrimPrefix(ref, "incident:"))
	if err != nil {
		return nil, err
	}
	if err := b.svc.PublishNotice(ctx, actor, id, kind); err != nil {
		return nil, err
	}
	return reply(Message{Ref: ev.Value, Text: b.t("alert.notice.published", "id", itoa64(id))})
}

// alertFields adds what an alert incident's card shows and its silence buttons.
func (b *Bot) alertFields(m *Message, i incident.Incident, a *incident.AlertState) {
	if a == nil {
		return
	}
	m.Fields = append(m.Fields, Field{Name: b.t("field.alerts"), Value: b.t("alert.counts", "firing", strconv.Itoa(a.Firing), "resolved", strconv.Itoa(a.Resolved))})
	if labels := a.SortedLabels(); len(labels) > 0 {
		m.Fields = append(m.Fields, Field{Name: b.t("field.group"), Value: strings.Join(labels, ", ")})
	}
	if a.Joint {
		m.Fields = append(m.Fields, Field{Name: b.t("field.joint"), Value: b.t("alert.joint")})
	}
	for k, it := range a.Alerts {
		n := strconv.Itoa(k + 1)
		var parts []string
		for _, p := range []string{it.Name, clipRunes(strings.TrimSpace(it.Description), maxAlertDescription)} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if !it.StartsAt.IsZero() {
			parts = append(parts, b.t("alert.since", "time", b.fmtTime(it.StartsAt)))
		}
		if len(parts) > 0 {
			m.Fields = append(m.Fields, Field{Name: b.t("field.alert_n", "n", n), Value: strings.Join(parts, " · ")})
		}
		if it.GeneratorURL != "" {
			m.Fields = append(m.Fields, Field{Name: b.t("field.alert_source", "n", n), Value: it.GeneratorURL})
		}
		if it.Runbook != "" {
			m.Fields = append(m.Fields, Field{Name: b.t("field.runbook", "n", n), Value: it.Runbook})
		}
	}
	if a.More > 0 {
		m.Fields = append(m.Fields, Field{Name: b.t("field.alerts_more"), Value: b.t("alert.more", "n", strconv.Itoa(a.More))})
	}
	if i.Open() && b.silencer != nil {
		for _, span := range []string{"1h", "4h", "tomorrow"} {
			m.Buttons = append(m.Buttons, Button{Action: "alert.silence", Value: i.Ref() + "|" + span, Label: b.t("btn.silence." + span)})
		}
	}
}

// maxAlertDescription is how many characters of an alert's description
// a card shows.
const maxAlertDescription = 200

// clipRunes shortens s to at most n characters, ending with "…" when cut.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// noticeText is a public notice's text.
func (b alertBot) noticeText(p alert.PublicText) string {
	return b.t("public."+p.Notice, "app_name", orNone(b.Bot, p.AppName), "since", b.wallOr(p.Since, p.Wall), "title", p.Title)
}

func (b alertBot) renderDraft(ref string, p alert.NoticeDraft) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("notice_draft.title."+p.Notice, "id", id), Text: b.noticeText(p.PublicText),
		Buttons: []Button{{Action: "alert.notice", Value: "incident:" + id + "#notice:" + p.Notice, Label: b.t("btn.publish_notice"),
			Style: "primary", Confirm: b.t("confirm.publish_notice")}}}, nil
}

func (b alertBot) renderPublished(ref string, p alert.NoticePublished) (Message, error) {
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("notice_draft.published", "id", itoa64(p.ID), "by", b.named(p.By, p.ByName)),
		Text: b.noticeText(p.PublicText)}, nil
}

func (b alertBot) renderPublic(ref string, p alert.PublicNotice) (Message, error) {
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("public.title." + p.Notice), Text: b.noticeText(p.PublicText)}, nil
}
