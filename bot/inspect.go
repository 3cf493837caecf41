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

func (b *Bot) registerInspections() {
	for _, c := range []*Command{
		{Path: "inspect plan add", Usage: `<name> --cron "<m h dom mon dow>" --assignee <userid|role> --items a,b,c [--grace 2h] [--level 1-4]`, MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"cron": true, "assignee": true, "items": true, "grace": true, "level": true}, Required: []string{"cron", "assignee", "items"}, Run: b.inspectPlanAdd},
		{Path: "inspect plan list", Run: b.inspectPlanList},
		{Path: "inspect plan remove", Usage: "<name>", MinArgs: 1, MaxArgs: 1, Run: b.inspectPlanRemove},
		{Path: "inspect report", Usage: "<plan> ok|issues [--item n[,m]] [--note …]", MinArgs: 2, MaxArgs: 2,
			Flags: map[string]bool{"item": true, "note": true}, Run: b.inspectReport},
		{Path: "inspect log", Usage: "<plan>", MinArgs: 1, MaxArgs: 1, Run: b.inspectLog},
		{Path: "report inspections", Usage: "[--month YYYY-MM | --quarter YYYY-Qn]", Flags: map[string]bool{"month": true, "quarter": true}, Run: b.reportInspections},
	} {
		c.Topic = "inspect"
		b.router.Handle(c)
	}
	for _, verb := range []string{"ok", "issue"} {
		b.HandleAction("inspect."+verb, b.inspectAction(verb == "ok"))
	}
}

func (b *Bot) inspectPlanAdd(ctx context.Context, r *Request) ([]Message, error) {
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
	p, err := b.inspections.AddPlan(ctx, r.Actor, r.Args[0], r.Flag("cron"), canonicalValue(r.Flag("assignee")), splitList(r.Flag("items")), opts)
	if err != nil {
		return nil, err
	}
	infos, err := b.inspections.Plans(ctx)
	if err != nil {
		return nil, err
	}
	next := ""
	for _, i := range infos {
		if i.Plan.ID == p.ID && !i.Next.IsZero() {
			next = b.fmtTime(i.Next)
		}
	}
	return reply(Message{Ref: p.Ref(), Title: b.t("inspect.plan.added", "name", p.Name), Fields: []Field{
		{Name: b.t("field.cron"), Value: p.Cron},
		{Name: b.t("field.assignees"), Value: b.assigneeName(p.Assignee)},
		{Name: b.t("field.items"), Value: strings.Join(p.Items, "、")},
		{Name: b.t("field.next_run"), Value: next},
		{Name: b.t("field.grace_level"), Value: b.t("inspect.grace_level", "grace", p.Grace.String(), "level", strconv.Itoa(p.Level))},
	}})
}

func (b *Bot) assigneeName(a string) string {
	if _, ok := zh["role."+a]; ok {
		return b.roleName(a)
	}
	return a
}

func (b *Bot) inspectPlanList(ctx context.Context, r *Request) ([]Message, error) {
	infos, err := b.inspections.Plans(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, i := range infos {
		lines = append(lines, b.t("inspect.plan.line", "name", i.Plan.Name, "cron", i.Plan.Cron, "assignee", b.assigneeName(i.Plan.Assignee),
			"items", strconv.Itoa(len(i.Plan.Items)), "next", b.fmtTime(i.Next)))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("inspect.plan.list"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) inspectPlanRemove(ctx context.Context, r *Request) ([]Message, error) {
	p, err := b.inspections.RemovePlan(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: b.t("inspect.plan.removed", "name", p.Name)})
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

func (b *Bot) inspectReport(ctx context.Context, r *Request) ([]Message, error) {
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
	out, err := b.inspections.Report(ctx, r.Actor, r.Args[0], items, ok, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return b.inspectOutcome(out), nil
}

func (b *Bot) inspectOutcome(out inspect.Outcome) []Message {
	m := b.inspectCardData(out.Run.Ref(), b.inspections.CardData(out.Run), false)
	m.Status = StatusOK
	for _, inc := range out.Incidents {
		m.Text += "\n" + b.t("inspect.issue.opened", "id", itoa64(inc.ID), "level", strconv.Itoa(inc.Level))
	}
	return []Message{m}
}

func (b *Bot) inspectAction(ok bool) ActionFunc {
	return func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		var run int64
		var item int
		if _, err := fmt.Sscanf(ev.Value, "inspect:%d:%d", &run, &item); err != nil {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		out, err := b.inspections.Mark(ctx, actor, run, []int{item}, ok, ev.Text)
		if err != nil {
			return nil, err
		}
		return b.inspectOutcome(out), nil
	}
}

func (b *Bot) inspectCardData(ref string, d map[string]string, withButtons bool) Message {
	items := strings.Split(d["items"], "\n")
	states := strings.Split(d["states"], "\n")
	m := Message{Ref: ref, Status: StatusNotice, Title: b.t("inspect.card.title", "plan", d["plan"], "id", d["id"]),
		Text: b.t("inspect.card.text", "due", d["due"], "plan", d["plan"])}
	for i, it := range items {
		st := ""
		if i < len(states) {
			st = states[i]
		}
		label := b.t("inspect.state.todo")
		if st != "" {
			label = b.t("inspect.state." + st)
		}
		m.Fields = append(m.Fields, Field{Name: strconv.Itoa(i+1) + ". " + it, Value: label})
		if withButtons && st == "" && d["state"] == inspect.StatePending {
			v := "inspect:" + d["id"] + ":" + strconv.Itoa(i+1)
			m.Buttons = append(m.Buttons,
				Button{Action: "inspect.ok", Value: v, Label: b.t("inspect.btn.ok", "n", strconv.Itoa(i+1)), Style: "primary"},
				Button{Action: "inspect.issue", Value: v, Label: b.t("inspect.btn.issue", "n", strconv.Itoa(i+1)), Style: "danger",
					Confirm: b.t("inspect.btn.issue_confirm", "item", it)})
		}
	}
	if d["state"] == inspect.StateDone {
		m.Text = b.t("inspect.card.done", "plan", d["plan"])
	} else if d["missed"] == "true" {
		m.Text += "\n" + b.t("inspect.card.missed")
	}
	return m
}

func (b *Bot) inspectLog(ctx context.Context, r *Request) ([]Message, error) {
	p, runs, err := b.inspections.Log(ctx, r.Args[0], 30)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, run := range runs {
		state := b.t("inspect.log." + run.State)
		if run.Missed {
			state += "（" + b.t("inspect.log.missed") + "）"
		}
		lines = append(lines, b.t("inspect.log.line", "id", itoa64(run.ID), "due", b.fmtTime(run.DueAt), "state", state,
			"issues", strconv.Itoa(run.Issues()), "items", strconv.Itoa(len(run.Items))))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Ref: p.Ref(), Title: b.t("inspect.log.title", "name", p.Name), Text: strings.Join(lines, "\n")})
}

// period parses --month YYYY-MM or --quarter YYYY-Qn into [from, to).
func (b *Bot) period(r *Request) (from, to time.Time, label string, err error) {
	loc := b.cfg.Location
	now := b.now().In(loc)
	if q := r.Flag("quarter"); q != "" {
		var y, n int
		if _, e := fmt.Sscanf(strings.ToUpper(q), "%d-Q%d", &y, &n); e != nil || n < 1 || n > 4 {
			return from, to, "", core.Invalid("quarter", "value", q)
		}
		from = time.Date(y, time.Month(3*n-2), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 3, 0), fmt.Sprintf("%d-Q%d", y, n), nil
	}
	month := r.Flag("month")
	if month == "" {
		month = now.Format("2006-01")
	}
	m, e := time.ParseInLocation("2006-01", month, loc)
	if e != nil {
		return from, to, "", core.Invalid("month", "value", month)
	}
	return m, m.AddDate(0, 1, 0), month, nil
}

func (b *Bot) reportInspections(ctx context.Context, r *Request) ([]Message, error) {
	from, to, label, err := b.period(r)
	if err != nil {
		return nil, err
	}
	sums, err := b.inspections.Summary(ctx, from, to)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	var runs, done, missed, issues int
	for _, s := range sums {
		runs, done, missed, issues = runs+s.Runs, done+s.Done, missed+s.Missed, issues+s.Issues
		lines = append(lines, b.t("inspect.summary.line", "plan", s.Plan, "runs", strconv.Itoa(s.Runs), "done", strconv.Itoa(s.Done),
			"missed", strconv.Itoa(s.Missed), "pending", strconv.Itoa(s.Pending), "issues", strconv.Itoa(s.Issues)))
		for _, it := range s.IssueItems {
			lines = append(lines, "    · "+it)
		}
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("inspect.summary.title", "period", label), Fields: []Field{
		{Name: b.t("field.runs"), Value: strconv.Itoa(runs)},
		{Name: b.t("field.done"), Value: strconv.Itoa(done)},
		{Name: b.t("field.missed"), Value: strconv.Itoa(missed)},
		{Name: b.t("field.issues"), Value: strconv.Itoa(issues)},
	}, Text: strings.Join(lines, "\n")})
}

// renderInspect renders inspection notices; ok is false for other kinds.
func (b *Bot) renderInspect(n notice) (Message, bool) {
	d := n.Data
	switch n.Kind {
	case inspect.NoticeCard:
		return b.inspectCardData(n.Ref, d, true), true
	case inspect.NoticeUpdate:
		return b.inspectCardData(n.Ref, d, true), true
	case inspect.NoticeRemind:
		return Message{Ref: n.Ref + "#remind", Status: StatusNotice, Title: b.t("inspect.card.title", "plan", d["plan"], "id", d["id"]),
			Text: b.t("inspect.remind", "plan", d["plan"], "due", d["due"])}, true
	case inspect.NoticeEscalated:
		return Message{Ref: n.Ref + "#escalated", Status: StatusNotice, Title: b.t("inspect.card.title", "plan", d["plan"], "id", d["id"]),
			Text: b.t("inspect.escalated", "plan", d["plan"], "due", d["due"], "assignees", d["assignees"])}, true
	case inspect.NoticeIssue:
		return Message{Ref: "incident:" + d["incident"], Status: StatusNotice, Title: b.t("inspect.card.title", "plan", d["plan"], "id", d["id"]),
			Text: b.t("inspect.issue.notice", "by", d["by"], "incident", d["incident"], "note", d["note"])}, true
	}
	return Message{}, false
}
