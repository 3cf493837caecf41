package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/emergency"
)

// emergencyBot is the emergency domain's part of the bot: plans, drills,
// warnings and the reports to superiors.
type emergencyBot struct {
	*Bot
	svc *emergency.Service
}

// Emergency plugs the emergency-plan register, drills and early warnings
// (W 9.1 k, W 9.3) and renders the continuous incident reports (W 9.3 f).
func Emergency(svc *emergency.Service) Plug {
	return func(b *Bot) Module {
		k := emergencyBot{Bot: b, svc: svc}
		m := Module{
			Name:  "emergency",
			Topic: "emergency",
			Commands: []*Command{
				{Path: "plan add", Usage: "<system> <title> --level 1|2|3|4 --file <link>", MinArgs: 2, MaxArgs: 2,
					Flags: map[string]bool{"level": true, "file": true}, Required: []string{"level", "file"}, Run: k.planAdd},
				{Path: "plan list", Run: k.planList},
				{Path: "plan show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: k.planShow},
				{Path: "plan review", Usage: "<id> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"note": true}, Run: k.planReview},
				{Path: "drill schedule", UserFlags: []string{"participants"}, Usage: "<plan> <YYYY-MM-DD> [--participants a,b]", MinArgs: 2, MaxArgs: 2,
					Flags: map[string]bool{"participants": true}, Run: k.drillSchedule},
				{Path: "drill record", UserFlags: []string{"participants"}, Usage: `<id> --participants a,b [--findings "<finding>@<owner>@<YYYY-MM-DD>; …"]`, MinArgs: 1, MaxArgs: 1,
					Flags: map[string]bool{"participants": true, "findings": true}, Required: []string{"participants"}, Run: k.drillRecord},
				{Path: "drill done", Usage: "<id> <n>", MinArgs: 2, MaxArgs: 2, Run: k.drillDone},
				{Path: "warning issue", Usage: "<level 1-4> <text>", MinArgs: 2, MaxArgs: -1, Run: k.warningIssue},
				{Path: "warning lift", Usage: "<id> [text]", MinArgs: 1, MaxArgs: -1, Run: k.warningLift},
			},
			Notices: []NoticeRenderer{
				Renders(k.renderReviewDue), Renders(k.renderReviewMissed), Renders(k.renderDrillDue), Renders(k.renderFinding),
				Renders(k.renderWarningIssued), Renders(k.renderWarningLifted), Renders(k.renderIncidentReport),
			},
		}
		if svc != nil {
			m.Timers = map[string]TimerFunc{emergency.TimerReview: svc.HandleTimer, emergency.TimerDrill: svc.HandleDrillTimer,
				emergency.TimerFinding: svc.HandleDrillTimer}
		}
		return m
	}
}

func entityID(code, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid(code, "value", s)
	}
	return n, nil
}

func (k emergencyBot) planLine(p emergency.Plan) string {
	due := k.fmtTime(p.ReviewDue)
	if p.Overdue(k.now()) {
		due = k.t("emergency.overdue", "due", due)
	}
	return k.t("emergency.plan.line", "id", itoa64(p.ID), "system", p.System, "title", p.Title,
		"level", k.t("level.n"+strconv.Itoa(p.Level)), "due", due)
}

func (k emergencyBot) planAdd(ctx context.Context, r *Request) ([]Message, error) {
	level, err := strconv.Atoi(r.Flag("level"))
	if err != nil {
		return nil, core.Invalid("emergency_level", "value", r.Flag("level"))
	}
	p, err := k.svc.AddPlan(ctx, r.Actor, r.Args[0], r.Args[1], level, r.Flag("file"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Title: k.t("emergency.plan.added", "id", itoa64(p.ID)), Text: k.planLine(p)})
}

func (k emergencyBot) planList(ctx context.Context, _ *Request) ([]Message, error) {
	ps, err := k.svc.Plans(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, p := range ps {
		lines = append(lines, k.planLine(p))
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Title: k.t("emergency.plan.list"), Text: strings.Join(lines, "\n")})
}

func (k emergencyBot) drillState(state string) string {
	if state == emergency.DrillRecorded {
		return k.t("emergency.drill.recorded")
	}
	return k.t("emergency.drill.scheduled_state")
}

func (k emergencyBot) drillLine(d emergency.Drill) string {
	line := k.t("emergency.drill.line", "id", itoa64(d.ID), "day", d.Day, "state", k.drillState(d.State),
		"participants", orNone(k.Bot, strings.Join(d.Participants, "、")))
	for _, f := range d.Findings {
		state := k.t("emergency.finding.open")
		if f.Done {
			state = k.t("emergency.finding.done")
		}
		line += "\n" + k.t("emergency.finding.line", "n", strconv.Itoa(f.N), "text", f.Text, "owner", k.person(f.Owner), "due", f.Due, "state", state)
	}
	return line
}

func (k emergencyBot) planShow(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("emergency_plan_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	p, ds, err := k.svc.ShowPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	reviewed := k.t("none")
	if p.ReviewedAt != nil {
		reviewed = k.t("emergency.reviewed", "at", k.fmtTime(*p.ReviewedAt), "by", p.ReviewedBy, "note", orNone(k.Bot, p.ReviewNote))
	}
	lines := []string{k.t("emergency.show.drills")}
	for _, d := range ds {
		lines = append(lines, k.drillLine(d))
	}
	if len(ds) == 0 {
		lines = append(lines, k.t("none"))
	}
	due := k.fmtTime(p.ReviewDue)
	if p.Overdue(k.now()) {
		due = k.t("emergency.overdue", "due", due)
	}
	return reply(Message{Ref: p.Ref(), Title: k.t("emergency.show.title", "id", itoa64(p.ID), "title", p.Title), Fields: []Field{
		{Name: k.t("field.system"), Value: p.System},
		{Name: k.t("emergency.field.level"), Value: k.t("level.n" + strconv.Itoa(p.Level))},
		{Name: k.t("emergency.show.file"), Value: p.File},
		{Name: k.t("emergency.show.reviewed"), Value: reviewed},
		{Name: k.t("emergency.show.due"), Value: due},
	}, Text: strings.Join(lines, "\n")})
}

func (k emergencyBot) planReview(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("emergency_plan_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	p, err := k.svc.Review(ctx, r.Actor, id, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: k.t("emergency.plan.reviewed", "id", itoa64(p.ID), "due", k.fmtTime(p.ReviewDue))})
}

func (k emergencyBot) drillSchedule(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("emergency_plan_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	day, err := k.day(r.Args[1])
	if err != nil {
		return nil, err
	}
	d, err := k.svc.ScheduleDrill(ctx, r.Actor, id, day, splitList(r.Flag("participants")))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: d.Ref(), Title: k.t("emergency.drill.scheduled", "id", itoa64(d.ID), "plan", itoa64(d.PlanID)), Text: k.drillLine(d)})
}

func (k emergencyBot) drillRecord(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("drill_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := k.svc.RecordDrill(ctx, r.Actor, id, splitList(r.Flag("participants")), r.Flag("findings"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: d.Ref(), Title: k.t("emergency.drill.recorded_title", "id", itoa64(d.ID)), Text: k.drillLine(d)})
}

func (k emergencyBot) drillDone(ctx context.Context, r *Request) ([]Message, error) {
	id, err := entityID("drill_id", r.Args[0])
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(r.Args[1])
	if err != nil {
		return nil, core.Invalid("drill_finding_n", "value", r.Args[1])
	}
	d, err := k.svc.FindingDone(ctx, r.Actor, id, n)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: d.Ref(), Text: k.t("emergency.finding.marked", "id", itoa64(d.ID), "n", strconv.Itoa(n))})
}

func (k emergencyBot) warningIssue(ctx context.Context, r *Request) ([]Message, error) {
	level, err := strconv.Atoi(r.Args[0])
	if err != nil {
		return nil, core.Invalid("emergency_level", "value", r.Args[0])
	}
	w, err := k.svc.Issue(ctx, r.Actor, level, r.Args[1])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: w.Ref(), Text: k.t("emergency.warning.issued", "id", itoa64(w.ID), "level", k.t("level.n"+strconv.Itoa(w.Level)))})
}

func (k emergencyBot) warningLift(ctx context.Context, r *Request) ([]Message, error) {
	// One argument: the id and the text joined (MaxArgs -1 with MinArgs 1).
	first, text, _ := strings.Cut(strings.TrimSpace(strings.Join(r.Args, " ")), " ")
	id, err := entityID("warning_id", first)
	if err != nil {
		return nil, err
	}
	w, err := k.svc.Lift(ctx, r.Actor, id, text)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: w.Ref(), Text: k.t("emergency.warning.lifted", "id", itoa64(w.ID))})
}

func (k emergencyBot) renderReviewDue(ref string, p emergency.ReviewDue) (Message, error) {
	return Message{Ref: ref, Title: k.t("emergency.review_due.title", "id", itoa64(p.Plan)),
		Text: k.t("emergency.review_due.text", "system", p.System, "title", p.Title, "due", k.fmtTime(p.Due), "id", itoa64(p.Plan))}, nil
}

func (k emergencyBot) renderReviewMissed(ref string, p emergency.ReviewMissed) (Message, error) {
	return Message{Ref: ref, Title: k.t("emergency.review_missed.title", "id", itoa64(p.Plan)),
		Text: k.t("emergency.review_missed.text", "system", p.System, "title", p.Title, "due", k.fmtTime(p.Due))}, nil
}

func (k emergencyBot) renderDrillDue(ref string, p emergency.DrillDue) (Message, error) {
	return Message{Ref: ref, Title: k.t("emergency.drill_due.title", "id", itoa64(p.Drill)),
		Text: k.t("emergency.drill_due.text", "system", p.System, "title", p.Title, "day", p.Day)}, nil
}

func (k emergencyBot) renderFinding(ref string, p emergency.FindingNotice) (Message, error) {
	stage := p.Stage
	if stage != "due" && stage != "overdue" {
		stage = "assigned"
	}
	return Message{Ref: ref, Title: k.t("emergency.finding."+stage, "id", itoa64(p.Drill), "n", strconv.Itoa(p.N)),
		Text: k.t("emergency.finding.text", "text", p.Text, "owner", k.person(p.Owner), "due", p.Due, "id", itoa64(p.Drill), "n", strconv.Itoa(p.N))}, nil
}

func (k emergencyBot) renderWarningIssued(ref string, p emergency.WarningIssuedNotice) (Message, error) {
	return Message{Ref: ref, Title: k.t("emergency.warning_issued.title", "id", itoa64(p.Warning), "level", k.t("level.n"+strconv.Itoa(p.Level))),
		Text: p.Text, Fields: []Field{{Name: k.t("emergency.field.by"), Value: k.person(p.By)}}}, nil
}

func (k emergencyBot) renderWarningLifted(ref string, p emergency.WarningLiftedNotice) (Message, error) {
	text := k.t("emergency.warning_lifted.text", "text", p.Text)
	if p.Lift != "" {
		text += "\n" + p.Lift
	}
	return Message{Ref: ref, Title: k.t("emergency.warning_lifted.title", "id", itoa64(p.Warning)),
		Text: text, Fields: []Field{{Name: k.t("emergency.field.by"), Value: k.person(p.By)}}}, nil
}

func (k emergencyBot) renderIncidentReport(ref string, p emergency.IncidentReport) (Message, error) {
	event := k.firstKnown(strings.TrimPrefix(p.Action, "incident."), "ievent.")
	return Message{Ref: ref, Title: k.t("emergency.report.title", "id", itoa64(p.Incident), "level", k.t("level.n"+strconv.Itoa(p.Level)), "title", k.coreText(p.Title)),
		Fields: []Field{
			{Name: k.t("emergency.report.event"), Value: event},
			{Name: k.t("field.status"), Value: k.t("istate." + p.State)},
			{Name: k.t("field.system"), Value: orNone(k.Bot, p.System)},
			{Name: k.t("field.owner_person"), Value: k.personOrNone(p.Owner)},
			{Name: k.t("emergency.report.declared"), Value: k.fmtTime(p.Declared)},
			{Name: k.t("emergency.report.at"), Value: k.fmtTime(p.At)},
			{Name: k.t("emergency.field.by"), Value: k.person(p.By)},
		}, Text: k.coreText(p.Summary)}, nil
}
