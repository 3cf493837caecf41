package bot

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
)

// problemBot is the problem library's part of the bot.
type problemBot struct {
	*Bot
	svc     *problem.Service
	reports Reports
}

// Reports are the periodic reports of an actor's view narrowed by a unit
// (report.Service), as /report commands read them.
type Reports interface {
	// View is actor's view of the org narrowed to unit ("" the whole view).
	View(ctx context.Context, actor core.Actor, unit string) (org.View, error)
	Incidents(ctx context.Context, actor core.Actor, view org.View, month string) (problem.Report, error)
	Inspections(ctx context.Context, view org.View, month, quarter string) (string, []inspect.PlanSummary, error)
}

// Problems plugs the problem library and the monthly incident analysis
// (read through reports, per the actor's view).
func Problems(svc *problem.Service, reports Reports) Plug {
	return func(b *Bot) Module {
		c := problemBot{Bot: b, svc: svc, reports: reports}
		return Module{
			Name:  "problem",
			Topic: "incident",
			Commands: []*Command{
				{Path: "problem list", Run: c.list},
				{Path: "problem show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.show},
				{Path: "problem link", Usage: "<incident> <problem>", MinArgs: 2, MaxArgs: 2, Run: c.link},
				{Path: "problem add", Usage: "<title> [--system <app>]", MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"system": true}, Run: c.add},
				{Path: "report incidents", Usage: "[--month YYYY-MM] [--unit <code>]", Flags: map[string]bool{"month": true, "unit": true}, Run: c.report},
			},
			Notices: []NoticeRenderer{Renders(c.renderProposed)},
		}
	}
}

func problemID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid("problem_id", "value", s)
	}
	return n, nil
}

func (b problemBot) line(d problem.Detail) string {
	p := d.Problem
	line := "- #" + itoa64(p.ID) + " " + p.Title + " · " + b.t("pstate."+p.State) + " · " + b.t("problem.count", "n", strconv.Itoa(len(d.Incidents)))
	if p.Proposed {
		line += " · " + b.t("problem.proposed")
	}
	return line
}

func (b problemBot) list(ctx context.Context, r *Request) ([]Message, error) {
	ps, err := b.svc.List(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, d := range ps {
		lines = append(lines, b.line(d))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("problem.list.title"), Text: strings.Join(lines, "\n")})
}

func (b problemBot) show(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := b.svc.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, i := range d.Incidents {
		lines = append(lines, "- #"+itoa64(i.ID)+" "+b.fmtTime(i.CreatedAt)+" "+i.Title+" · "+b.t("istate."+i.State))
	}
	p := d.Problem
	return reply(Message{Ref: "problem:" + itoa64(p.ID), Title: b.t("problem.title", "id", itoa64(p.ID), "title", p.Title),
		Text: strings.Join(lines, "\n"), Fields: []Field{
			{Name: b.t("field.system"), Value: orNone(b.Bot, p.System)}, {Name: b.t("field.cause"), Value: orNone(b.Bot, p.Cause)},
			{Name: b.t("field.status"), Value: b.t("pstate." + p.State)}}})
}

func (b problemBot) link(ctx context.Context, r *Request) ([]Message, error) {
	iid, err := incidentID(r.Args[0])
	if err != nil {
		return nil, err
	}
	pid, err := problemID(r.Args[1])
	if err != nil {
		return nil, err
	}
	if err := b.svc.Link(ctx, r.Actor, iid, pid); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "problem:" + itoa64(pid), Text: b.t("problem.linked", "incident", itoa64(iid), "problem", itoa64(pid))})
}

func (b problemBot) add(ctx context.Context, r *Request) ([]Message, error) {
	p, err := b.svc.Add(ctx, r.Actor, r.Args[0], r.Flag("system"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "problem:" + itoa64(p.ID), Text: b.t("problem.added", "id", itoa64(p.ID), "title", p.Title)})
}

func fmtDur(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

func countsLine(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, c int) bool { return m[keys[a]] > m[keys[c]] || (m[keys[a]] == m[keys[c]] && keys[a] < keys[c]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + strconv.Itoa(m[k])
	}
	return strings.Join(parts, "，")
}

func (b problemBot) report(ctx context.Context, r *Request) ([]Message, error) {
	month := r.Flag("month")
	if month == "" {
		month = b.now().In(b.cfg.Location).Format("2006-01")
	}
	view, err := b.reports.View(ctx, r.Actor, r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	rep, err := b.reports.Incidents(ctx, r.Actor, view, month)
	if err != nil {
		return nil, err
	}
	levels := map[string]int{}
	for l, n := range rep.ByLevel {
		levels[b.t("level.n"+strconv.Itoa(l))] = n
	}
	scope := b.t("report.scope_city")
	switch {
	case rep.Own != "":
		scope = b.t("report.scope_own", "user", rep.Own)
	case rep.Scope != nil:
		scope = orNone(b.Bot, strings.Join(rep.Scope, "、"))
	}
	fields := []Field{
		{Name: b.t("report.scope"), Value: scope},
		{Name: b.t("report.total"), Value: b.t("report.total_value", "total", strconv.Itoa(rep.Total), "open", strconv.Itoa(rep.Open))},
		{Name: b.t("report.by_level"), Value: orNone(b.Bot, countsLine(levels))},
		{Name: b.t("report.by_unit"), Value: orNone(b.Bot, countsLine(rep.ByUnit))},
		{Name: b.t("report.by_system"), Value: orNone(b.Bot, countsLine(rep.BySystem))},
		{Name: "MTTA", Value: fmtDur(rep.MTTA)},
		{Name: "MTTR", Value: fmtDur(rep.MTTR)},
		{Name: b.t("report.escalations"), Value: strconv.Itoa(rep.Escalations)},
	}
	var lines []string
	for _, d := range rep.Repeats {
		lines = append(lines, b.line(d))
	}
	text := b.t("report.repeats") + "：" + b.t("none")
	if len(lines) > 0 {
		text = b.t("report.repeats") + "：\n" + strings.Join(lines, "\n")
	}
	return reply(Message{Ref: "report:incidents:" + month, Title: b.t("report.title", "month", month), Text: text, Fields: fields})
}

func (b problemBot) renderProposed(ref string, p problem.Proposed) (Message, error) {
	id := itoa64(p.Problem)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("problem.proposed.title", "id", id),
		Text: b.t("problem.proposed.text", "id", id, "title", p.Title, "count", strconv.Itoa(p.Count))}, nil
}
