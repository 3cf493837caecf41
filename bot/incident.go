package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/paging"
)

// incidentBot is the incident lifecycle's part of the bot.
type incidentBot struct {
	*Bot
	svc *incident.Service
}

// Incidents plugs the incident lifecycle: declare, acknowledge, assign,
// update, regrade, escalate, mitigate, resolve, review, the timeline, the
// escalation policy, and the escalation, progress and action-due timers.
func Incidents(svc *incident.Service) Plug {
	return func(b *Bot) Module {
		c := incidentBot{Bot: b, svc: svc}
		return Module{
			Name:  "incident",
			Topic: "incident",
			Commands: []*Command{
				{Path: "incident declare", Usage: "<title> --level 1|2|3|4 [--system <app>] [--unit <code>]", MinArgs: 1, MaxArgs: -1,
					Flags: map[string]bool{"level": true, "system": true, "unit": true}, Required: []string{"level"}, Run: c.declare},
				{Path: "incident ack", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.simple(svc.Ack)},
				{Path: "incident escalate", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.simple(svc.Escalate)},
				{Path: "incident show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.show},
				{Path: "incident assign", Users: []int{1}, Usage: "<id> <userid>", MinArgs: 2, MaxArgs: 2, Run: c.text(svc.Assign)},
				{Path: "incident update", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: c.text(svc.Update)},
				{Path: "incident mitigate", Usage: "<id> [text]", MinArgs: 1, MaxArgs: -1, Run: c.mitigate},
				{Path: "incident level", Usage: "<id> <1-4>", MinArgs: 2, MaxArgs: 2, Run: c.level},
				{Path: "incident resolve", Usage: "<id> <summary>", MinArgs: 2, MaxArgs: -1, Run: c.text(svc.Resolve)},
				{Path: "incident review", Usage: "<id> --cause … --actions \"<action>@<userid>@<YYYY-MM-DD>; …\"", MinArgs: 1, MaxArgs: 1,
					Flags: map[string]bool{"cause": true, "actions": true}, Required: []string{"cause", "actions"}, Run: c.review},
				{Path: "incident action done", Usage: "<id> <n>", MinArgs: 2, MaxArgs: 2, Run: c.actionDone},
				{Path: "incident list", Usage: "[--open] [--page N]", Flags: map[string]bool{"open": false, "page": true}, Run: c.list},
				{Path: "duty policy", Run: c.policy},
			},
			Actions: map[string]ActionFunc{
				"incident.ack":      c.button(svc.Ack),
				"incident.escalate": c.button(svc.Escalate),
				"incident.resolve": func(_ context.Context, _ core.Actor, ev Event) ([]Message, error) {
					id := strings.TrimPrefix(ev.Value, "incident:")
					return reply(Message{Ref: ev.Value, Title: c.t("incident.resolve_prompt.title"), Text: c.t("incident.resolve_prompt", "id", id)})
				},
			},
			Notices: []NoticeRenderer{Renders(c.renderCard), Renders(c.renderCardUpdate), Renders(c.renderEvent), Renders(c.renderProgress),
				Renders(c.renderOverdue), Renders(c.renderDuty24), Renders(c.renderActionDue), Renders(c.renderActionOverdue)},
			Timers: map[string]TimerFunc{incident.TimerEscalation: svc.HandleTimer, incident.TimerProgress: svc.HandleTimer,
				incident.TimerActionDue: svc.HandleActionDue, incident.TimerActionOverdue: svc.HandleActionOverdue},
		}
	}
}

// button acknowledges or escalates from a card's button.
func (c incidentBot) button(fn func(context.Context, core.Actor, int64) (incident.Incident, error)) ActionFunc {
	return func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		id, err := incidentID(strings.TrimPrefix(ev.Value, "incident:"))
		if err != nil {
			return nil, err
		}
		i, err := fn(ctx, actor, id)
		if err != nil {
			return nil, err
		}
		return reply(c.incidentReply(i))
	}
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
		Text: b.t("level.n"+strconv.Itoa(i.Level)) + " · " + b.coreText(i.Title), Fields: []Field{{Name: b.t("field.owner_person"), Value: b.personOrNone(i.Owner)}}}.Leveled(i.Level)
}

func (b incidentBot) simple(fn func(context.Context, core.Actor, int64) (incident.Incident, error)) func(context.Context, *Request) ([]Message, error) {
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

func (b incidentBot) text(fn func(context.Context, core.Actor, int64, string) (incident.Incident, error)) func(context.Context, *Request) ([]Message, error) {
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

func (b incidentBot) mitigate(ctx context.Context, r *Request) ([]Message, error) {
	text := ""
	if len(r.Args) > 1 {
		text = r.Args[1]
	}
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	i, err := b.svc.Mitigate(ctx, r.Actor, id, text)
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

func (b incidentBot) declare(ctx context.Context, r *Request) ([]Message, error) {
	level, err := parseLevel(r.Flag("level"))
	if err != nil {
		return nil, err
	}
	i, err := b.svc.Declare(ctx, r.Actor, r.Args[0], level, r.Flag("system"), r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	m := b.incidentReply(i)
	m.Title = b.t("incident.declared.title", "id", itoa64(i.ID))
	m = m.Leveled(i.Level)
	m.Fields = append(m.Fields, Field{Name: b.t("field.rotation"), Value: orNone(b.Bot, i.Rotation)})
	return reply(m)
}

func (b incidentBot) level(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	level, err := parseLevel(r.Args[1])
	if err != nil {
		return nil, err
	}
	i, err := b.svc.SetLevel(ctx, r.Actor, id, level)
	if err != nil {
		return nil, err
	}
	return reply(b.incidentReply(i))
}

func (b incidentBot) review(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	i, err := b.svc.Review(ctx, r.Actor, id, r.Flag("cause"), r.Flag("actions"))
	if err != nil {
		return nil, err
	}
	return reply(b.incidentReply(i))
}

func (b incidentBot) list(ctx context.Context, r *Request) ([]Message, error) {
	page, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	// One more than the pages up to this one tells whether another follows.
	list, err := b.svc.List(ctx, r.Actor, r.Has("open"), page*PageSize+1)
	if err != nil {
		return nil, err
	}
	more := len(list) > page*PageSize
	if more {
		list = list[:page*PageSize]
	}
	next := "/incident list"
	if r.Has("open") {
		next += " --open"
	}
	// Only this page's lines are rendered; earlier ones just count.
	skip := min(len(list), (page-1)*PageSize)
	lines := make([]string, skip, len(list))
	for _, i := range list[skip:] {
		lines = append(lines, "- #"+itoa64(i.ID)+" "+b.t("level.n"+strconv.Itoa(i.Level))+" · "+b.coreText(i.Title)+" · "+b.t("istate."+i.State)+
			" · "+b.personOrNone(i.Owner)+" · "+b.fmtTime(i.CreatedAt))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	text, err := b.paged(lines, page, more, next)
	if err != nil {
		return nil, err
	}
	return reply(Message{Title: b.t("incident.list.title"), Text: text})
}

func (b incidentBot) show(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := b.svc.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	m := b.incidentCard(d.Incident, incident.CardData{})
	m.Buttons = nil
	if d.Incident.Open() && d.OnDuty.Primary != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.on_duty"), Value: b.names([]string{d.OnDuty.Primary, d.OnDuty.Secondary})})
	}
	lines := make([]string, 0, len(d.Events))
	for _, e := range d.Events {
		line := "- " + b.fmtTime(e.At) + " " + b.person(e.Actor) + " " + b.t("ievent."+e.Kind)
		if e.Body != "" {
			line += "：" + b.eventBody(e.Kind, e.Body)
		}
		lines = append(lines, line)
	}
	m.Text += "\n" + strings.Join(lines, "\n")
	if d.Incident.Cause != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.cause"), Value: d.Incident.Cause})
	}
	now := b.now().In(b.cfg.Location)
	for k, a := range d.Actions {
		state := b.t("action.open")
		switch {
		case a.Done:
			state = b.t("action.done")
		case a.Overdue(now):
			state = b.t("action.overdue")
		}
		m.Fields = append(m.Fields, Field{Name: b.t("field.action") + " " + strconv.Itoa(k+1),
			Value: a.Body + " · " + b.person(a.Owner) + " · " + a.Due.Format("2006-01-02") + " · " + state})
	}
	if d.Problem != 0 {
		m.Fields = append(m.Fields, Field{Name: b.t("field.problem"), Value: "#" + itoa64(d.Problem)})
	}
	return reply(m.Leveled(d.Incident.Level))
}

// eventPeople are the incident timeline events whose body lists user ids
// (comma-separated): whom an assignment, escalation, joint
// troubleshooting or overdue progress report reached.
var eventPeople = map[string]bool{"assign": true, "escalate": true, "joint": true, "report_overdue": true}

// eventBody is how an incident event's body shows: the people it lists by
// name ("周杰、孙丽"), a page's status in words ("短信 → 孙丽：已发送"),
// any other body as it is.
func (b *Bot) eventBody(kind, body string) string {
	if kind == "page" {
		if e, ok := paging.ParseEvent(body); ok {
			return b.pageEvent(e)
		}
	}
	if !eventPeople[kind] || body == "" {
		return body
	}
	return b.names(strings.Split(body, ","))
}

// incidentCard renders an incident as a card with the buttons its state allows.
func (b *Bot) incidentCard(i incident.Incident, c incident.CardData) Message {
	m := Message{Ref: i.Ref(), Title: b.t("incident.card.title", "level", b.t("level.n"+strconv.Itoa(i.Level)), "title", b.coreText(i.Title), "id", itoa64(i.ID)),
		Text: b.t("istate." + i.State),
		Fields: []Field{
			{Name: b.t("field.owner_person"), Value: b.personOrNone(i.Owner)},
			{Name: b.t("field.declared_by"), Value: b.declarer(i)},
		}}
	if i.System != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.system"), Value: i.System})
	}
	if i.Unit != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.unit"), Value: i.Unit})
	}
	if i.Summary != "" {
		m.Fields = append(m.Fields, Field{Name: b.t("field.summary"), Value: b.coreText(i.Summary)})
	}
	if i.Level <= 2 && i.Open() {
		v := b.t("incident.duty24")
		if len(c.OnDuty) > 0 {
			v += "：" + b.t("incident.duty24.who", "on_duty", b.names(c.OnDuty), "next", b.person(c.NextDuty))
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
	b.alertFields(&m, i, c.Alert)
	return m
}

// wallOr shows a notice's time in the bot's zone, or as it is when it
// came from a version-0 row (wall clock already).
func (b *Bot) wallOr(t time.Time, wall bool) string {
	if wall {
		return t.Format(incident.LegacyTime)
	}
	return b.fmtTime(t)
}

func (b incidentBot) card(ref string, c incident.CardData) Message {
	m := b.incidentCard(c.Brief.Incident(), c)
	m.Ref, m.Status = ref, StatusNotice
	if c.Escalated {
		m.Title = b.t("incident.escalated") + m.Title
	}
	if len(c.NoUnit) > 0 {
		m.Fields = append(m.Fields, Field{Name: b.t("field.no_unit"), Value: b.t("incident.no_unit", "to", b.names(c.NoUnit))})
	}
	return m.Leveled(c.Level)
}

func (b incidentBot) renderCard(ref string, p incident.Card) (Message, error) {
	return b.card(ref, p.CardData), nil
}

func (b incidentBot) renderCardUpdate(ref string, p incident.CardUpdate) (Message, error) {
	return b.card(ref, p.CardData), nil
}

func (b incidentBot) title(p incident.Brief) string {
	return b.t("incident.card.title", "level", b.t("level.n"+strconv.Itoa(p.Level)), "title", b.coreText(p.Title), "id", itoa64(p.ID))
}

func (b incidentBot) renderEvent(ref string, p incident.EventNotice) (Message, error) {
	text := b.t("incident.event", "by", b.named(p.By, p.ByName), "event", b.t("ievent."+p.Event))
	if p.Body != "" {
		text += "：" + b.eventBody(p.Event, p.Body)
	}
	return Message{Ref: ref, Status: StatusNotice, Title: b.title(p.Brief),
		Text: text + "\n" + b.t("field.status") + "：" + b.t("istate."+p.State)}.Leveled(p.Level), nil
}

func (b incidentBot) renderProgress(ref string, p incident.ProgressDue) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("incident.progress.title", "id", id),
		Text: b.t("incident.progress", "id", id, "title", b.coreText(p.Title), "last", b.wallOr(p.LastUpdate, p.Wall))}, nil
}

func (b incidentBot) renderOverdue(ref string, p incident.ReportOverdue) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("incident.overdue.title", "id", id),
		Text: b.t("incident.overdue", "id", id, "title", b.coreText(p.Title), "owner", b.personOrNone(p.Owner), "last", b.wallOr(p.LastUpdate, p.Wall))}, nil
}

func (b incidentBot) renderDuty24(ref string, p incident.Duty24) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("incident.duty24.title", "id", id),
		Text: b.t("incident.duty24.text", "id", id, "title", b.coreText(p.Title), "level", b.t("level.n"+strconv.Itoa(p.Level)), "on_duty", b.names(p.OnDuty))}, nil
}

func (b incidentBot) renderActionDue(ref string, p incident.ActionDue) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("action_due.title", "id", id),
		Text: b.t("action_due", "id", id, "title", b.coreText(p.Title), "action", p.Action, "due", p.Due.Format("2006-01-02"))}, nil
}

func (b incidentBot) renderActionOverdue(ref string, p incident.ActionOverdue) (Message, error) {
	id := itoa64(p.ID)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("action_overdue.title", "id", id),
		Text: b.t("action_overdue", "id", id, "title", b.coreText(p.Title), "action", p.Action, "owner", b.person(p.ActionOwner), "due", p.Due.Format("2006-01-02"))}, nil
}

func (b incidentBot) actionDone(ctx context.Context, r *Request) ([]Message, error) {
	id, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(r.Args[1])
	if err != nil || n < 1 {
		return nil, core.Invalid("action_n", "value", r.Args[1])
	}
	a, err := b.svc.ActionDone(ctx, r.Actor, id, n)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "incident:" + itoa64(id), Text: b.t("action.done_reply", "id", itoa64(id), "n", strconv.Itoa(n), "action", a.Body)})
}

func (b incidentBot) policy(_ context.Context, _ *Request) ([]Message, error) {
	pol := b.svc.Policy()
	var fields []Field
	for level := 1; level <= 4; level++ {
		var steps []string
		for _, st := range pol.Steps[level] {
			names := make([]string, len(st.Notify))
			for i, n := range st.Notify {
				names[i] = b.t("target." + n)
			}
			when := "+" + FormatDuration(b.cfg.Language, st.After)
			if st.After == 0 {
				when = b.t("policy.now")
			}
			steps = append(steps, when+" "+strings.Join(names, "、"))
		}
		value := strings.Join(steps, " → ") + "；" + b.t("policy.progress", "every", FormatDurationOrNone(b.cfg.Language, pol.Progress[level]))
		if chain := b.pagingChain(level); chain != "" {
			value += "\n" + b.t("policy.paging", "chain", chain)
		}
		fields = append(fields, Field{Name: b.t("level.n" + strconv.Itoa(level)), Value: value})
	}
	return reply(Message{Title: b.t("policy.title"), Text: b.t("policy.text"), Fields: fields})
}
