package bot

import (
	"context"
	"sort"
	"strconv"
	"strings"

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
				{Path: "problem assign", Users: []int{1}, Usage: "<id> <userid> --due YYYY-MM-DD", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"due": true}, Required: []string{"due"}, Run: c.assign},
				{Path: "problem analyse", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.analyse},
				{Path: "problem cause", Usage: "<id> <text>", MinArgs: 2, MaxArgs: -1, Run: c.cause},
				{Path: "problem resolve", Usage: "<id> --change <request>|--ref <text>", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"change": true, "ref": true}, Run: c.resolve},
				{Path: "problem close", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: c.close},
				{Path: "report incidents", Usage: "[--month YYYY-MM] [--unit <code>]", Flags: map[string]bool{"month": true, "unit": true}, Run: c.report},
			},
			Notices: []NoticeRenderer{Renders(c.renderProposed), Renders(c.renderAssigned), Renders(c.renderDue)},
			Timers:  map[string]TimerFunc{problem.TimerDue: svc.HandleTimer, problem.TimerOverdue: svc.HandleTimer},
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
	switch {
	case p.Proposed && p.Incident != 0: // a level I/II incident's, on resolution
		line += " · " + b.t("problem.proposed_major", "id", itoa64(p.Incident))
	case p.Proposed:
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
		lines = append(lines, "- #"+itoa64(i.ID)+" "+b.fmtTime(i.CreatedAt)+" "+b.coreText(i.Title)+" · "+b.t("istate."+i.State))
	}
	p := d.Problem
	fields := []Field{
		{Name: b.t("field.system"), Value: orNone(b.Bot, p.System)}, {Name: b.t("field.cause"), Value: orNone(b.Bot, p.Cause)},
		{Name: b.t("field.status"), Value: b.t("pstate." + p.State)}, {Name: b.t("field.owner_person"), Value: b.personOrNone(p.Owner)}}
	if p.Due != nil {
		fields = append(fields, Field{Name: b.t("field.due"), Value: p.Due.Format("2006-01-02")})
	}
	if p.ChangeID != 0 {
		fields = append(fields, Field{Name: b.t("problem.fix"), Value: "request:" + itoa64(p.ChangeID)})
	} else if p.ChangeRef != "" {
		fields = append(fields, Field{Name: b.t("problem.fix"), Value: p.ChangeRef})
	}
	return reply(Message{Ref: "problem:" + itoa64(p.ID), Title: b.t("problem.title", "id", itoa64(p.ID), "title", p.Title),
		Text: strings.Join(lines, "\n"), Fields: fields})
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
		{Name: "MTTA", Value: FormatDurationOrNone(b.cfg.Language, rep.MTTA)},
		{Name: "MTTR", Value: FormatDurationOrNone(b.cfg.Language, rep.MTTR)},
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
	if len(rep.Actions) > 0 {
		now := b.now().In(b.cfg.Location)
		acts := []string{b.t("report.actions", "open", strconv.Itoa(len(rep.Actions)), "overdue", strconv.Itoa(rep.Overdue)) + "："}
		for _, a := range rep.Actions {
			state := b.t("action.open")
			if a.Overdue(now) {
				state = b.t("action.overdue")
			}
			acts = append(acts, "- #"+itoa64(a.IncidentID)+" "+a.Body+" · "+b.person(a.Owner)+" · "+a.Due.Format("2006-01-02")+" · "+state)
		}
		text += "\n" + strings.Join(acts, "\n")
	}
	return reply(Message{Ref: "report:incidents:" + month, Title: b.t("report.title", "month", month), Text: text, Fields: fields})
}

func (b problemBot) renderProposed(ref string, p problem.Proposed) (Message, error) {
	id := itoa64(p.Problem)
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("problem.proposed.title", "id", id),
		Text: b.t("problem.proposed.text", "id", id, "title", p.Title, "count", strconv.Itoa(p.Count))}, nil
}

// stepped replies with a problem's new state.
func (b problemBot) stepped(p problem.Problem, err error) ([]Message, error) {
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: b.t("problem.stepped", "id", itoa64(p.ID), "pstate", b.t("pstate."+p.State))})
}

func (b problemBot) assign(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	due, err := b.day(r.Flag("due"))
	if err != nil {
		return nil, err
	}
	p, err := b.svc.Assign(ctx, r.Actor, id, r.Args[1], due)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: b.t("problem.assigned_reply", "id", itoa64(p.ID), "owner", b.person(p.Owner), "due", p.Due.Format("2006-01-02"))})
}

func (b problemBot) analyse(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	return b.stepped(b.svc.Analyse(ctx, r.Actor, id))
}

func (b problemBot) cause(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	return b.stepped(b.svc.Cause(ctx, r.Actor, id, strings.Join(r.Args[1:], " ")))
}

func (b problemBot) resolve(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	var change int64
	if c := r.Flag("change"); c != "" {
		if change, err = strconv.ParseInt(strings.TrimPrefix(c, "#"), 10, 64); err != nil || change <= 0 {
			return nil, core.Invalid("problem_fix")
		}
	}
	return b.stepped(b.svc.Resolve(ctx, r.Actor, id, change, r.Flag("ref")))
}

func (b problemBot) close(ctx context.Context, r *Request) ([]Message, error) {
	id, err := problemID(r.Args[0])
	if err != nil {
		return nil, err
	}
	return b.stepped(b.svc.Close(ctx, r.Actor, id))
}

func (b problemBot) renderAssigned(ref string, p problem.Assigned) (Message, error) {
	id := itoa64(p.Problem)
	text := b.t("problem.assigned.text", "id", id, "title", p.Title, "due", p.Due.Format("2006-01-02"), "by", b.person(p.By))
	if p.Incident != 0 {
		text = b.t("problem.major.text", "id", id, "incident", itoa64(p.Incident), "title", p.Title, "due", p.Due.Format("2006-01-02"))
	}
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("problem.assigned.title", "id", id), Text: text}, nil
}

func (b problemBot) renderDue(ref string, p problem.Due) (Message, error) {
	id, due := itoa64(p.Problem), p.Due.Format("2006-01-02")
	if p.Overdue {
		return Message{Ref: ref, Status: StatusNotice, Title: b.t("problem.overdue.title", "id", id),
			Text: b.t("problem.overdue.text", "id", id, "title", p.Title, "owner", b.person(p.Owner), "due", due, "pstate", b.t("pstate."+p.State))}, nil
	}
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("problem.due.title", "id", id),
		Text: b.t("problem.due.text", "id", id, "title", p.Title, "due", due, "pstate", b.t("pstate."+p.State))}, nil
}
