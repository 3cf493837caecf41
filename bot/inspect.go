package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/inspect"
)

// inspectBot is the inspection domain's part of the bot.
type inspectBot struct {
	*Bot
	svc     *inspect.Service
	reports Reports
}

// Inspections plugs inspection plans and checklists, and their report
// (read through reports, per the actor's view).
func Inspections(svc *inspect.Service, reports Reports) Plug {
	return func(b *Bot) Module {
		k := inspectBot{Bot: b, svc: svc, reports: reports}
		return Module{
			Name:  "inspect",
			Topic: "inspect",
			Commands: []*Command{
				{Path: "inspect plan add", UserFlags: []string{"assignee"}, Usage: `<name> --cron "<m h dom mon dow>"|--workdays HH:MM --assignee <userid|role> --items a,b,c [--grace 2h] [--level 1-4]`, MinArgs: 1, MaxArgs: 1,
					Flags:    map[string]bool{"cron": true, "workdays": true, "assignee": true, "items": true, "grace": true, "level": true},
					Required: []string{"assignee", "items"}, Run: k.planAdd},
				{Path: "inspect plan list", Run: k.planList},
				{Path: "inspect plan remove", Usage: "<name>", MinArgs: 1, MaxArgs: 1, Run: k.planRemove},
				{Path: "inspect report", Usage: "<plan> ok|issues [--item n[,m]] [--note …]", MinArgs: 2, MaxArgs: 2,
					Flags: map[string]bool{"item": true, "note": true}, Run: k.report},
				{Path: "inspect log", Usage: "<plan>", MinArgs: 1, MaxArgs: 1, Run: k.runLog},
				{Path: "inspect run", Usage: "<plan>", MinArgs: 1, MaxArgs: 1, Run: k.runNow},
				{Path: "report inspections", Usage: "[--month YYYY-MM | --quarter YYYY-Qn] [--unit <code>]", Flags: map[string]bool{"month": true, "quarter": true, "unit": true},
					Run: k.summary},
			},
			Actions: map[string]ActionFunc{"inspect.ok": k.action(true), "inspect.issue": k.action(false)},
			Notices: []NoticeRenderer{Renders(k.renderCard), Renders(k.renderUpdated), Renders(k.renderRemind),
				Renders(k.renderEscalated), Renders(k.renderIssue)},
			Timers: map[string]TimerFunc{inspect.TimerDue: svc.HandleTimer, inspect.TimerGrace: svc.HandleTimer},
		}
	}
}

func (k inspectBot) planAdd(ctx context.Context, r *Request) ([]Message, error) {
	var opts inspect.PlanOptions
	if v := r.Flag("grace"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, core.Invalid("inspect_grace", "value", v)
		}
		opts.Grace = d
	}
	if v := r.Flag("level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, core.Invalid("incident_level", "value", v)
		}
		opts.Level = n
	}
	p, err := k.svc.AddPlan(ctx, r.Actor, r.Args[0], inspect.Schedule{Cron: r.Flag("cron"), Workdays: r.Flag("workdays")}, canonicalValue(r.Flag("assignee")), splitList(r.Flag("items")), opts)
	if err != nil {
		return nil, err
	}
	infos, err := k.svc.Plans(ctx)
	if err != nil {
		return nil, err
	}
	next := ""
	for _, i := range infos {
		if i.Plan.ID == p.ID && !i.Next.IsZero() {
			next = k.fmtTime(i.Next)
		}
	}
	return reply(Message{Ref: p.Ref(), Title: k.t("inspect.plan.added", "name", p.Name), Fields: []Field{
		{Name: k.t("field.cron"), Value: k.schedule(p)},
		{Name: k.t("field.assignees"), Value: k.assigneeName(p.Assignee)},
		{Name: k.t("field.items"), Value: strings.Join(p.Items, "、")},
		{Name: k.t("field.next_run"), Value: next},
		{Name: k.t("field.grace_level"), Value: k.t("inspect.grace_level", "grace", FormatDuration(k.cfg.Language, p.Grace), "level", strconv.Itoa(p.Level))},
	}})
}

// schedule says when a plan runs: working days at a time, or its cron
// spec in words (daily, on weekdays, monthly at a time), the spec itself
// when it says more than that.
func (k inspectBot) schedule(p inspect.Plan) string {
	if p.Workdays != "" {
		return k.t("inspect.schedule.workdays", "at", p.Workdays)
	}
	return k.cronWords(p.Cron)
}

// cronWords reads a five-field cron spec "m h dom mon dow" in words when
// it runs once a day at a fixed time: every day, on some weekdays (a
// list or range of 0–7, Sunday 0 or 7) or on a day of the month.
func (b *Bot) cronWords(spec string) string {
	f := strings.Fields(spec)
	raw := b.t("inspect.schedule.cron", "cron", spec)
	if len(f) != 5 || f[3] != "*" {
		return raw
	}
	m, errM := strconv.Atoi(f[0])
	h, errH := strconv.Atoi(f[1])
	if errM != nil || errH != nil || m < 0 || m > 59 || h < 0 || h > 23 {
		return raw
	}
	at := fmt.Sprintf("%02d:%02d", h, m)
	switch dom, dow := f[2], f[4]; {
	case dom == "*" && dow == "*":
		return b.t("inspect.schedule.daily", "at", at)
	case dom == "*":
		days, ok := b.weekdays(dow)
		if !ok {
			return raw
		}
		return b.t("inspect.schedule.weekly", "days", days, "at", at)
	case dow == "*":
		d, err := strconv.Atoi(dom)
		if err != nil || d < 1 || d > 31 {
			return raw
		}
		return b.t("inspect.schedule.monthly", "day", dom, "at", at)
	}
	return raw
}

// weekdays reads a cron day-of-week field (a list of days and ranges,
// 0–7) as day names: "一至五", "一、三、五" (Mon–Fri, Mon, Wed, Fri).
func (b *Bot) weekdays(field string) (string, bool) {
	var parts []string
	for _, p := range strings.Split(field, ",") {
		lo, hi, isRange := strings.Cut(p, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 || a > 7 {
			return "", false
		}
		if !isRange {
			parts = append(parts, b.t("inspect.weekday."+strconv.Itoa(a%7)))
			continue
		}
		z, err := strconv.Atoi(hi)
		if err != nil || z < a || z > 7 {
			return "", false
		}
		parts = append(parts, b.t("inspect.weekday.range", "from", b.t("inspect.weekday."+strconv.Itoa(a%7)),
			"to", b.t("inspect.weekday."+strconv.Itoa(z%7))))
	}
	return strings.Join(parts, b.t("inspect.weekday.sep")), true
}

func (k inspectBot) assigneeName(a string) string {
	if _, ok := zh["role."+a]; ok {
		return k.roleName(a)
	}
	return k.person(a)
}

func (k inspectBot) planList(ctx context.Context, r *Request) ([]Message, error) {
	infos, err := k.svc.Plans(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, i := range infos {
		lines = append(lines, k.t("inspect.plan.line", "name", i.Plan.Name, "schedule", k.schedule(i.Plan), "assignee", k.assigneeName(i.Plan.Assignee),
			"items", strconv.Itoa(len(i.Plan.Items)), "next", k.fmtTime(i.Next)))
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Title: k.t("inspect.plan.list"), Text: strings.Join(lines, "\n")})
}

func (k inspectBot) planRemove(ctx context.Context, r *Request) ([]Message, error) {
	p, err := k.svc.RemovePlan(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: k.t("inspect.plan.removed", "name", p.Name)})
}

// runNow starts a plan's run at once, outside its schedule.
func (k inspectBot) runNow(ctx context.Context, r *Request) ([]Message, error) {
	run, err := k.svc.RunNow(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	// Not the run's ref: update.inspect replaces the checklist cards of
	// that ref, and this line must not become a second checklist.
	return reply(Message{Ref: run.Ref() + "#started", Text: k.t("inspect.run.started", "plan", run.Plan, "id", itoa64(run.ID),
		"n", strconv.Itoa(len(run.Assignees)))})
}

func parseItems(s string) ([]int, error) {
	var out []int
	for _, part := range splitList(s) {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, core.Invalid("inspect_item", "value", part, "max", "20")
		}
		out = append(out, n)
	}
	return out, nil
}

func (k inspectBot) report(ctx context.Context, r *Request) ([]Message, error) {
	var ok bool
	switch canonicalValue(r.Args[1]) {
	case "ok", "正常":
		ok = true
	case "issues", "issue", "问题", "有问题":
	default:
		return nil, core.Invalid("inspect_outcome", "value", r.Args[1])
	}
	items, err := parseItems(r.Flag("item"))
	if err != nil {
		return nil, err
	}
	out, err := k.svc.Report(ctx, r.Actor, r.Args[0], items, ok, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return k.outcome(out), nil
}

func (k inspectBot) outcome(out inspect.Outcome) []Message {
	m := k.card(out.Run.Ref(), inspect.ChecklistOf(out.Run), false)
	m.Status = StatusOK
	for _, inc := range out.Incidents {
		m.Text += "\n" + k.t("inspect.issue.opened", "id", itoa64(inc.ID), "level", strconv.Itoa(inc.Level))
	}
	return []Message{m}
}

func (k inspectBot) action(ok bool) ActionFunc {
	return func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		var run int64
		var item int
		if _, err := fmt.Sscanf(ev.Value, "inspect:%d:%d", &run, &item); err != nil {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		out, err := k.svc.Mark(ctx, actor, run, []int{item}, ok, ev.Text)
		if err != nil {
			return nil, err
		}
		return k.marked(out, item), nil
	}
}

// marked answers a tap on a checklist item: a line saying what was
// recorded, not the checklist again — the update.inspect notice replaces
// the checklist card in place.
func (k inspectBot) marked(out inspect.Outcome, item int) []Message {
	c := inspect.ChecklistOf(out.Run)
	name, state := strconv.Itoa(item), k.t("inspect.state.todo")
	if item >= 1 && item <= len(c.Items) {
		name += ". " + c.Items[item-1]
		if st := c.States[item-1]; st != "" {
			state = k.t("inspect.state." + st)
		}
	}
	m := Message{Ref: out.Run.Ref() + "#marked", Status: StatusOK, Text: k.t("inspect.marked", "item", name, "state", state)}
	if c.State == inspect.StateDone {
		m.Text += "\n" + k.t("inspect.card.done", "plan", c.Plan)
	}
	for _, inc := range out.Incidents {
		m.Text += "\n" + k.t("inspect.issue.opened", "id", itoa64(inc.ID), "level", strconv.Itoa(inc.Level))
	}
	return []Message{m}
}

// card shows a run's checklist, with OK / Issue buttons per open item
// when withButtons.
func (k inspectBot) card(ref string, c inspect.Checklist, withButtons bool) Message {
	id := itoa64(c.ID)
	due := c.DueText()
	if due == "" {
		due = k.fmtTime(c.Due)
	}
	m := Message{Ref: ref, Status: StatusNotice, Title: k.t("inspect.card.title", "plan", c.Plan, "id", id),
		Text: k.t("inspect.card.text", "due", due, "plan", c.Plan)}
	for i, it := range c.Items {
		st := ""
		if i < len(c.States) {
			st = c.States[i]
		}
		label := k.t("inspect.state.todo")
		if st != "" {
			label = k.t("inspect.state." + st)
		}
		m.Fields = append(m.Fields, Field{Name: strconv.Itoa(i+1) + ". " + it, Value: label})
		if withButtons && st == "" && c.State == inspect.StatePending {
			v := "inspect:" + id + ":" + strconv.Itoa(i+1)
			m.Buttons = append(m.Buttons,
				Button{Action: "inspect.ok", Value: v, Label: k.t("inspect.btn.ok", "n", strconv.Itoa(i+1)), Style: "primary"},
				Button{Action: "inspect.issue", Value: v, Label: k.t("inspect.btn.issue", "n", strconv.Itoa(i+1)), Style: "danger",
					Confirm: k.t("inspect.btn.issue_confirm", "item", it)})
		}
	}
	if c.State == inspect.StateDone {
		m.Text = k.t("inspect.card.done", "plan", c.Plan)
	} else if c.Missed {
		m.Text += "\n" + k.t("inspect.card.missed")
	}
	return m
}

func (k inspectBot) runLog(ctx context.Context, r *Request) ([]Message, error) {
	p, runs, err := k.svc.Log(ctx, r.Args[0], 30)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, run := range runs {
		state := k.t("inspect.log." + run.State)
		if run.Missed {
			state += "（" + k.t("inspect.log.missed") + "）"
		}
		lines = append(lines, k.t("inspect.log.line", "id", itoa64(run.ID), "due", k.fmtTime(run.DueAt), "state", state,
			"issues", strconv.Itoa(run.Issues()), "items", strconv.Itoa(len(run.Items))))
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Ref: p.Ref(), Title: k.t("inspect.log.title", "name", p.Name), Text: strings.Join(lines, "\n")})
}

func (k inspectBot) summary(ctx context.Context, r *Request) ([]Message, error) {
	view, err := k.reports.View(ctx, r.Actor, r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	label, sums, err := k.reports.Inspections(ctx, view, r.Flag("month"), r.Flag("quarter"))
	if err != nil {
		return nil, err
	}
	lines := []string{}
	var runs, done, missed, issues int
	for _, s := range sums {
		runs, done, missed, issues = runs+s.Runs, done+s.Done, missed+s.Missed, issues+s.Issues
		lines = append(lines, k.t("inspect.summary.line", "plan", s.Plan, "runs", strconv.Itoa(s.Runs), "done", strconv.Itoa(s.Done),
			"missed", strconv.Itoa(s.Missed), "pending", strconv.Itoa(s.Pending), "issues", strconv.Itoa(s.Issues)))
		for _, it := range s.IssueItems {
			lines = append(lines, "    · "+it)
		}
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Title: k.t("inspect.summary.title", "period", label), Fields: []Field{
		{Name: k.t("field.runs"), Value: strconv.Itoa(runs)},
		{Name: k.t("field.done"), Value: strconv.Itoa(done)},
		{Name: k.t("field.missed"), Value: strconv.Itoa(missed)},
		{Name: k.t("field.issues"), Value: strconv.Itoa(issues)},
	}, Text: strings.Join(lines, "\n")})
}

func (k inspectBot) renderCard(ref string, n inspect.Card) (Message, error) {
	return k.card(ref, n.Checklist, true), nil
}

func (k inspectBot) renderUpdated(ref string, n inspect.Updated) (Message, error) {
	return k.card(ref, n.Checklist, true), nil
}

func (k inspectBot) renderRemind(ref string, n inspect.Remind) (Message, error) {
	return Message{Ref: ref + "#remind", Status: StatusNotice, Title: k.t("inspect.card.title", "plan", n.Plan, "id", itoa64(n.ID)),
		Text: k.t("inspect.remind", "plan", n.Plan, "due", k.dueOf(n.Checklist))}, nil
}

func (k inspectBot) renderEscalated(ref string, n inspect.Escalated) (Message, error) {
	return Message{Ref: ref + "#escalated", Status: StatusNotice, Title: k.t("inspect.card.title", "plan", n.Plan, "id", itoa64(n.ID)),
		Text: k.t("inspect.escalated", "plan", n.Plan, "due", k.dueOf(n.Checklist), "assignees", k.names(n.Assignees))}, nil
}

func (k inspectBot) renderIssue(_ string, n inspect.Issue) (Message, error) {
	return Message{Ref: "incident:" + itoa64(n.Incident), Status: StatusNotice, Title: k.t("inspect.card.title", "plan", n.Plan, "id", itoa64(n.ID)),
		Text: k.t("inspect.issue.notice", "by", k.person(n.By), "incident", itoa64(n.Incident), "note", n.Note)}, nil
}

// dueOf shows a run's due time in the bot's zone, or as a notice of the
// previous release carried it.
func (k inspectBot) dueOf(c inspect.Checklist) string {
	if t := c.DueText(); t != "" {
		return t
	}
	return k.fmtTime(c.Due)
}
