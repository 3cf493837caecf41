package bot

import (
	"context"
	"strings"

	"opsbot/core/dutytask"
)

// dutyTaskBot is the recurring duties' part of the bot.
type dutyTaskBot struct {
	*Bot
	svc *dutytask.Service
}

// DutyTasks plugs recurring duties: reminded before their due date and
// escalated after it.
func DutyTasks(svc *dutytask.Service) Plug {
	return func(b *Bot) Module {
		k := dutyTaskBot{Bot: b, svc: svc}
		m := Module{
			Name:  "duty-task",
			Topic: "duty-task",
			Commands: []*Command{
				{Path: "duty-task add", UserFlags: []string{"owner"}, Usage: "<name> --every month|quarter|year --owner <role|user> --due <rule>", MinArgs: 1, MaxArgs: 1,
					Flags: map[string]bool{"every": true, "owner": true, "due": true}, Required: []string{"every", "owner", "due"}, Run: k.add},
				{Path: "duty-task list", Run: k.list},
				{Path: "duty-task done", Usage: "<id> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"note": true}, Run: k.done},
			},
			Notices: []NoticeRenderer{Renders(k.renderDue), Renders(k.renderOverdue)},
		}
		if svc != nil {
			m.Timers = map[string]TimerFunc{dutytask.TimerDue: svc.HandleTimer}
		}
		return m
	}
}

func (k dutyTaskBot) day(t dutytask.Task) string {
	return t.NextDue.In(k.cfg.Location).Format("2006-01-02")
}

func (k dutyTaskBot) line(t dutytask.Task) string {
	due := k.day(t)
	if t.Overdue(k.now(), k.cfg.Location) {
		due = k.t("emergency.overdue", "due", due)
	}
	return k.t("dutytask.line", "id", itoa64(t.ID), "name", t.Name, "every", k.t("dutytask.every."+t.Every), "owner", k.person(t.Owner), "due", due)
}

func (k dutyTaskBot) add(ctx context.Context, r *Request) ([]Message, error) {
	t, err := k.svc.Add(ctx, r.Actor, r.Args[0], r.Flag("every"), r.Flag("owner"), r.Flag("due"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: t.Ref(), Title: k.t("dutytask.added", "id", itoa64(t.ID)), Text: k.line(t)})
}

func (k dutyTaskBot) list(ctx context.Context, _ *Request) ([]Message, error) {
	ts, err := k.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, t := range ts {
		lines = append(lines, k.line(t))
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Title: k.t("dutytask.list"), Text: strings.Join(lines, "\n")})
}

func (k dutyTaskBot) done(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("duty_task_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	t, err := k.svc.Done(ctx, r.Actor, id, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: t.Ref(), Text: k.t("dutytask.done", "id", itoa64(t.ID), "name", t.Name, "due", k.day(t))})
}

func (k dutyTaskBot) renderDue(ref string, p dutytask.Due) (Message, error) {
	return Message{Ref: ref, Title: k.t("dutytask.due.title", "name", p.Name),
		Text: k.t("dutytask.due.text", "id", itoa64(p.Task), "name", p.Name, "due", p.Due, "owner", k.person(p.Owner))}, nil
}

func (k dutyTaskBot) renderOverdue(ref string, p dutytask.Overdue) (Message, error) {
	return Message{Ref: ref, Title: k.t("dutytask.overdue.title", "name", p.Name),
		Text: k.t("dutytask.overdue.text", "id", itoa64(p.Task), "name", p.Name, "due", p.Due, "owner", k.person(p.Owner), "owners", k.names(p.Owners))}, nil
}
