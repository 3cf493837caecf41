package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/monthly"
)

// monthlyBot is the pushed reports' part of the bot.
type monthlyBot struct {
	*Bot
	svc *monthly.Service
}

// Monthly plugs the pushed reports: the monthly report to every manager
// and the quarterly internal check, both from the daily job at at (HH:MM;
// a job missed by then still runs until midnight), the check's corrective
// actions (/check actions, /check action done) and their reminders.
func Monthly(svc *monthly.Service, at string) Plug {
	return func(b *Bot) Module {
		c := monthlyBot{Bot: b, svc: svc}
		catchUp := 15 * time.Hour
		if t, err := time.Parse("15:04", at); err == nil {
			catchUp = 24*time.Hour - time.Duration(t.Hour())*time.Hour - time.Duration(t.Minute())*time.Minute - time.Minute
		}
		return Module{
			Name:  "monthly",
			Topic: "inspect",
			Commands: []*Command{
				{Path: "check actions", Usage: "<YYYY-Qn>", MinArgs: 1, MaxArgs: 1, Run: c.list},
				{Path: "check action done", Usage: "<YYYY-Qn> <n>", MinArgs: 2, MaxArgs: 2, Run: c.done},
			},
			Notices: []NoticeRenderer{Renders(c.renderReport), Renders(c.renderCheck), Renders(c.renderDue)},
			Timers:  map[string]TimerFunc{monthly.TimerRemind: svc.HandleTimer, monthly.TimerOverdue: svc.HandleTimer},
			Jobs: []Job{{Type: monthly.TaskPush, At: at, CatchUp: catchUp, Run: func(ctx context.Context, slot time.Time) error {
				n, q, err := svc.Push(ctx, slot)
				if n+q > 0 {
					b.log.Info("reports pushed", "monthly", n, "checks", q)
				}
				return err
			}}},
		}
	}
}

func (c monthlyBot) list(ctx context.Context, r *Request) ([]Message, error) {
	acts, err := c.svc.Actions(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	m := Message{Ref: "check:" + strings.ToUpper(r.Args[0]), Status: StatusOK, Title: c.t("check.actions.title", "quarter", strings.ToUpper(r.Args[0]))}
	if len(acts) == 0 {
		m.Text = c.t("check.actions.none")
	}
	for _, a := range acts {
		m.Fields = append(m.Fields, c.actionField(a))
	}
	return []Message{m}, nil
}

func (c monthlyBot) done(ctx context.Context, r *Request) ([]Message, error) {
	n, err := strconv.Atoi(r.Args[1])
	if err != nil || n < 1 {
		return nil, core.Invalid("check_action_n", "value", r.Args[1])
	}
	a, err := c.svc.Done(ctx, r.Actor, r.Args[0], n)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: a.Ref(), Text: c.t("check.action.closed", "quarter", a.Quarter, "n", strconv.Itoa(a.N))})
}

// finding is an action's finding in words.
func (c monthlyBot) finding(a monthly.Action) string {
	if a.Kind == "missed" {
		return c.t("check.finding.missed", "plan", a.Plan, "n", strconv.Itoa(a.Count))
	}
	return c.t("check.finding.issue", "plan", a.Plan, "item", a.Item)
}

func (c monthlyBot) actionField(a monthly.Action) Field {
	state := c.t("check.state." + a.State)
	return Field{Name: fmt.Sprintf("#%d %s", a.N, c.finding(a)),
		Value: c.t("check.v.action", "owner", c.person(a.Owner), "due", a.Due.In(c.cfg.Location).Format(time.DateOnly), "state", state)}
}

func pct(permyriad int) string { return fmt.Sprintf("%d.%02d%%", permyriad/100, permyriad%100) }

func (c monthlyBot) renderReport(ref string, r monthly.Report) (Message, error) {
	scope := c.t("monthly.scope.city")
	if r.Scope != "city" {
		scope = strings.Join(r.UnitNames, "、")
	}
	n := strconv.Itoa
	i := r.Incidents
	m := Message{Ref: ref, Status: StatusNotice, Title: c.t("monthly.title", "month", r.Month, "scope", scope), Fields: []Field{
		{Name: c.t("monthly.f.incidents"), Value: c.t("monthly.v.incidents", "total", n(i.Total), "l1", n(i.ByLevel[1]), "l2", n(i.ByLevel[2]),
			"l3", n(i.ByLevel[3]), "l4", n(i.ByLevel[4]), "open", n(i.Open), "repeats", n(i.Repeats))},
		{Name: c.t("monthly.f.mtt"), Value: c.t("monthly.v.mtt", "mtta", FormatDurationOrNone(c.cfg.Language, i.MTTA), "mttr", FormatDurationOrNone(c.cfg.Language, i.MTTR), "escalations", n(i.Escalations))},
		{Name: c.t("monthly.f.tickets"), Value: c.t("monthly.v.tickets", "opened", n(r.Tickets.Opened), "answered", n(r.Tickets.Answered),
			"in_sla", n(r.Tickets.InSLA), "overdue", n(r.Tickets.Overdue))},
		{Name: c.t("monthly.f.approvals"), Value: c.t("monthly.v.approvals", "requested", n(r.Approvals.Requested), "done", n(r.Approvals.Done),
			"rejected", n(r.Approvals.Rejected), "pending", n(r.Approvals.Pending))},
		{Name: c.t("monthly.f.inspections"), Value: c.t("monthly.v.inspections", "runs", n(r.Inspections.Runs), "done", n(r.Inspections.Done),
			"missed", n(r.Inspections.Missed), "issues", n(r.Inspections.Issues))},
		{Name: c.t("monthly.f.backups"), Value: c.t("monthly.v.backups", "systems", n(r.Backups.Systems), "expected", n(r.Backups.Expected),
			"failed", n(r.Backups.Failed), "missing", n(r.Backups.Missing), "unverified", n(r.Backups.Unverified))},
	}}
	if len(r.Availability) == 0 {
		m.Fields = append(m.Fields, Field{Name: c.t("monthly.f.availability"), Value: c.t("monthly.v.no_outage")})
	}
	for _, u := range r.Availability {
		m.Fields = append(m.Fields, Field{Name: c.t("monthly.f.availability") + " · " + u.System,
			Value: c.t("monthly.v.availability", "pct", pct(u.Permyriad), "outages", n(u.Outages), "down", FormatDurationOrNone(c.cfg.Language, u.Down))})
	}
	return m, nil
}

func (c monthlyBot) renderCheck(ref string, ch monthly.Check) (Message, error) {
	m := Message{Ref: ref, Status: StatusNotice, Title: c.t("check.title", "quarter", ch.Quarter)}
	for _, p := range ch.Plans {
		m.Fields = append(m.Fields, Field{Name: c.t("check.f.plan", "plan", p.Plan), Value: c.t("check.v.plan", "runs", strconv.Itoa(p.Runs),
			"done", strconv.Itoa(p.Done), "missed", strconv.Itoa(p.Missed), "issues", strconv.Itoa(p.Issues))})
	}
	for _, a := range ch.Actions {
		m.Fields = append(m.Fields, c.actionField(a))
	}
	if len(ch.Actions) == 0 {
		m.Text = c.t("check.no_findings")
	} else {
		m.Text = c.t("check.howto", "quarter", ch.Quarter)
	}
	return m, nil
}

func (c monthlyBot) renderDue(ref string, d monthly.ActionDue) (Message, error) {
	key := "check.remind.title"
	if d.Overdue {
		key = "check.overdue.title"
	}
	a := d.Action
	return Message{Ref: ref, Status: StatusNotice, Title: c.t(key, "quarter", a.Quarter, "n", strconv.Itoa(a.N)),
		Fields: []Field{c.actionField(a)}, Text: c.t("check.howto.one", "quarter", a.Quarter, "n", strconv.Itoa(a.N))}, nil
}
