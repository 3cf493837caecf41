package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/incident"
)

func (b *Bot) registerIncidents() {
	for _, c := range []*Command{
		{Path: "incident declare", Usage: "<title> --level 1|2|3|4 [--system <app>] [--unit <code>]", MinArgs: 1, MaxArgs: -1,
			Flags: map[string]bool{"level": true, "system": true, "unit": true}, Required: []string{"level"}, Run: b.incidentDeclare},
		{Path: "incident ack", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.incidentSimple(b.incidents.Ack)},
		{Path: "incident escalate", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.incidentSimple(b.incidents.Escalate)},
		{Path: "incident show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.incidentShow},
		{Path: "incident assign", Usage: "<id> <userid>", MinArgs: 2, MaxArgs: 2, Run: b.incidentText(b.incidents.Assign)},
		{Path: "incident update", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: b.incidentText(b.incidents.Update)},
		{Path: "incident mitigate", Usage: "<id> [text]", MinArgs: 1, MaxArgs: -1, Run: b.incidentMitigate},
		{Path: "incident level", Usage: "<id> <1-4>", MinArgs: 2, MaxArgs: 2, Run: b.incidentLevel},
		{Path: "incident resolve", Usage: "<id> <summary>", MinArgs: 2, MaxArgs: -1, Run: b.incidentText(b.incidents.Resolve)},
		{Path: "incident review", Usage: "<id> --cause … --actions \"<action>@<userid>@<YYYY-MM-DD>; …\"", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"cause": true, "actions": true}, Required: []string{"cause", "actions"}, Run: b.incidentReview},
		{Path: "incident list", Usage: "[--open]", Flags: map[string]bool{"open": false}, Run: b.incidentList},
		{Path: "duty now", Usage: "[rotation]", MaxArgs: 1, Run: b.dutyNow},
		{Path: "duty rotation add", Usage: "<name> --members a,b,c --every day|week --handover HH:MM [--unit <code>] [--skip-holidays]", MinArgs: 1, MaxArgs: 1,
			Flags:    map[string]bool{"members": true, "every": true, "handover": true, "unit": true, "skip-holidays": false},
			Required: []string{"members", "every", "handover"}, Run: b.dutyRotationAdd},
		{Path: "duty swap", Usage: "<rotation> <date> <userid>", MinArgs: 3, MaxArgs: 3, Run: b.dutySwap},
	} {
		c.Topic = "incident"
		b.router.Handle(c)
	}
	for _, a := range []struct {
		action string
		fn     func(context.Context, core.Actor, int64) (incident.Incident, error)
	}{{"incident.ack", b.incidents.Ack}, {"incident.escalate", b.incidents.Escalate}} {
		fn := a.fn
		b.HandleAction(a.action, func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
			id, err := incidentID(strings.TrimPrefix(ev.Value, "incident:"))
			if err != nil {
				return nil, err
			}
			i, err := fn(ctx, actor, id)
			if err != nil {
				return nil, err
			}
			return reply(b.incidentReply(i))
		})
	}
	b.HandleAction("incident.resolve", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		id := strings.TrimPrefix(ev.Value, "incident:")
		return reply(Message{Ref: ev.Value, Title: b.t("incident.resolve_prompt.title"), Text: b.t("incident.resolve_prompt", "id", id)})
	})
}

func incidentID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid("incident_id", "value", s)
	}
	return n, nil
}

func (b *Bot) incidentReply(i incident.Incident) Message {
	return Message{Ref: i.Ref(), Title: b.t("incident.reply.title", "id", itoa64(i.ID), "state", b.t("istate."+i.State)),
		Text: b.t("level.n"+strconv.Itoa(i.Level)) + " · " + i.Title, Fields: []Field{{Name: b.t("field.owner_person"), Value: orNone(b, i.Owner)}}}
}

func (b *Bot) incidentSimple(fn func(context.Context, core.Actor, int64) (incident.Incident, error)) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := incidentID(r.Args[0])
		if err != nil {
			return nil, err
		}
		i, err := fn(ctx, r.Actor, id)
		if err != nil {
			return nil, err
		}
		return reply(b.incidentReply(i))
	}
}

func (b *Bot) incidentText(fn func(context.Context, core.Actor, int64, string) (incident.Incident, error)) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := incidentID(r.Args[0])
		if err != nil {
			return nil, err
		}
		i, err := fn(ctx, r.Actor, id, r.Args[1])
		if err != nil {
			return nil, err
		}
		return reply(b.incidentReply(i))
	}
}

func (b *Bot) incidentMitigate(ctx context.Context, r *Request) ([]Message, error) {
	text := ""
	if len(r.Args) > 1 {
		text = r.Args[1]
	}
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	i, err := b.incidents.Mitigate(ctx, r.Actor, id, text)
	if err != nil {
		return nil, err
	}
	return reply(b.incidentReply(i))
}

func parseLevel(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, core.Invalid("incident_level", "value", s)
	}
	return n, nil
}

func (b *Bot) incidentDeclare(ctx context.Context, r *Request) ([]Message, error) {
	level, err := parseLevel(r.Flag("level"))
	if err != nil {
		return nil, err
	}
	i, err := b.incidents.Declare(ctx, r.Actor, r.Args[0], level, r.Flag("system"), r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	m := b.incidentReply(i)
	m.Title = b.t("incident.declared.title", "id", itoa64(i.ID))
	m.Fields = append(m.Fields, Field{Name: b.t("field.rotation"), Value: orNone(b, i.Rotation)})
	return reply(m)
}

func (b *Bot) incidentLevel(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	level, err := parseLevel(r.Args[1])
	if err != nil {
		return nil, err
	}
	i, err := b.incidents.SetLevel(ctx, r.Actor, id, level)
	if err != nil {
		return nil, err
	}
	return reply(b.incidentReply(i))
}

func (b *Bot) incidentReview(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	i, err := b.incidents.Review(ctx, r.Actor, id, r.Flag("cause"), r.Flag("actions"))
	if err != nil {
		return nil, err
	}
	return reply(b.incidentReply(i))
}

func (b *Bot) incidentList(ctx context.Context, r *Request) ([]Message, error) {
	list, err := b.incidents.List(ctx, r.Actor, r.Has("open"))
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(list))
	for _, i := range list {
		lines = append(lines, "- #"+itoa64(i.ID)+" "+b.t("level.n"+strconv.Itoa(i.Level))+" · "+i.Title+" · "+b.t("istate."+i.State)+
			" · "+orNone(b, i.Owner)+" · "+b.fmtTime(i.CreatedAt))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("incident.list.title"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) incidentShow(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := b.incidents.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	m := b.incidentCard(d.Incident, map[string]string{})
	m.Buttons = nil
	if d.Incident.Open() && d.OnDuty.Primary != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.on_duty"), Value: d.OnDuty.Primary + "、" + d.OnDuty.Secondary})
	}
	lines := make([]string, 0, len(d.Events))
	for _, e := range d.Events {
		line := "- " + b.fmtTime(e.At) + " " + e.Actor + " " + b.t("ievent."+e.Kind)
		if e.Body != "" {
			line += "：" + e.Body
		}
		lines = append(lines, line)
	}
	m.Text += "\n" + strings.Join(lines, "\n")
	if d.Incident.Cause != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.cause"), Value: d.Incident.Cause})
	}
	for _, a := range d.Actions {
		m.Fields = append(m.Fields, Field{Name: b.t("field.action"), Value: a.Body + " · " + a.Owner + " · " + a.Due.Format("2006-01-02")})
	}
	if d.Problem != 0 {
		m.Fields = append(m.Fields, Field{Name: b.t("field.problem"), Value: "#" + itoa64(d.Problem)})
	}
	return reply(m)
}

// incidentCard renders an incident as a card with the buttons its state allows.
func (b *Bot) incidentCard(i incident.Incident, d map[string]string) Message {
	m := Message{Ref: i.Ref(), Title: b.t("incident.card.title", "level", b.t("level.n"+strconv.Itoa(i.Level)), "title", i.Title, "id", itoa64(i.ID)),
		Text: b.t("istate." + i.State),
		Fields: []Field{
			{Name: b.t("field.owner_person"), Value: orNone(b, i.Owner)},
			{Name: b.t("field.declared_by"), Value: i.DeclaredBy},
		}}
	if i.System != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.system"), Value: i.System})
	}
	if i.Unit != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.unit"), Value: i.Unit})
	}
	if i.Summary != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.summary"), Value: i.Summary})
	}
	if i.Level <= 2 && i.Open() {
		v := b.t("incident.duty24")
		if d["on_duty"] != "" {
			v += "：" + b.t("incident.duty24.who", "on_duty", d["on_duty"], "next", d["next_duty"])
		}
		m.Fields = append(m.Fields, Field{Name: b.t("field.duty24"), Value: v})
	}
	value := i.Ref()
	if i.State == incident.StateDeclared {
		m.Buttons = append(m.Buttons, Button{Action: "incident.ack", Value: value, Label: b.t("btn.ack"), Style: "primary"})
	}
	if i.Open() {
		m.Buttons = append(m.Buttons,
			Button{Action: "incident.escalate", Value: value, Label: b.t("btn.escalate"), Style: "danger", Confirm: b.t("confirm.escalate")},
			Button{Action: "incident.resolve", Value: value, Label: b.t("btn.resolve")})
	}
	b.alertFields(&m, i, d)
	return m
}

// incidentFromData rebuilds an incident from notice data.
func incidentFromData(d map[string]string) incident.Incident {
	id, _ := strconv.ParseInt(d["id"], 10, 64)
	level, _ := strconv.Atoi(d["level"])
	return incident.Incident{ID: id, Title: d["title"], Level: level, State: d["state"], System: d["system"], Unit: d["unit"],
		Owner: d["owner"], DeclaredBy: d["declared_by"], Summary: d["summary"]}
}

// renderIncident renders incident notices; ok is false for other kinds.
func (b *Bot) renderIncident(n notice) (Message, bool) {
	d := n.Data
	i := incidentFromData(d)
	switch n.Kind {
	case incident.NoticeCard, incident.NoticeUpdate:
		m := b.incidentCard(i, d)
		m.Ref, m.Status = n.Ref, StatusNotice
		if d["escalated"] == "1" {
			m.Title = b.t("incident.escalated") + m.Title
		}
		return m, true
	case incident.NoticeEvent:
		text := b.t("incident.event", "by", d["by_name"], "event", b.t("ievent."+d["event"]))
		if d["body"] != "" {
			text += "：" + d["body"]
		}
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("incident.card.title", "level", b.t("level.n"+d["level"]), "title", d["title"], "id", d["id"]),
			Text: text + "\n" + b.t("field.status") + "：" + b.t("istate."+d["state"])}, true
	case incident.NoticeProgress:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("incident.progress.title", "id", d["id"]),
			Text: b.t("incident.progress", "id", d["id"], "title", d["title"], "last", d["last_update"])}, true
	case incident.NoticeOverdue:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("incident.overdue.title", "id", d["id"]),
			Text: b.t("incident.overdue", "id", d["id"], "title", d["title"], "owner", d["owner"], "last", d["last_update"])}, true
	case incident.NoticeDuty24:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("incident.duty24.title", "id", d["id"]),
			Text: b.t("incident.duty24.text", "id", d["id"], "title", d["title"], "level", b.t("level.n"+d["level"]), "on_duty", d["on_duty"])}, true
	}
	return Message{}, false
}

func (b *Bot) dutyNow(ctx context.Context, r *Request) ([]Message, error) {
	name := ""
	if len(r.Args) > 0 {
		name = r.Args[0]
	}
	list, err := b.incidents.Now(ctx, r.Actor, name)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, od := range list {
		lines = append(lines, "**"+od.Rotation.Name+"**："+b.t("duty.line", "primary", b.names(ctx, []string{od.Now.Primary}),
			"secondary", b.names(ctx, []string{od.Now.Secondary}), "until", b.fmtTime(od.Now.End), "next", b.names(ctx, []string{od.Next.Primary})))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("duty.now.title"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) dutyRotationAdd(ctx context.Context, r *Request) ([]Message, error) {
	var members []string
	for _, m := range splitList(r.Flag("members")) {
		if m = strings.TrimSpace(m); m != "" {
			members = append(members, m)
		}
	}
	rot, err := b.incidents.AddRotation(ctx, r.Actor, duty.Rotation{Name: r.Args[0], Unit: r.Flag("unit"), Members: members,
		Every: canonicalValue(r.Flag("every")), Handover: r.Flag("handover"), SkipHolidays: r.Has("skip-holidays")})
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "rotation:" + rot.Name, Text: b.t("duty.rotation.added", "name", rot.Name, "members", strings.Join(rot.Members, "、"),
		"every", rot.Every, "handover", rot.Handover)})
}

func (b *Bot) dutySwap(ctx context.Context, r *Request) ([]Message, error) {
	if err := b.incidents.Swap(ctx, r.Actor, r.Args[0], r.Args[1], r.Args[2]); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "rotation:" + r.Args[0], Text: b.t("duty.swapped", "rotation", r.Args[0], "day", r.Args[1], "user", r.Args[2])})
}
