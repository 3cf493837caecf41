package bot

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/backup"
)

// backupBot is the backup domain's part of the bot.
type backupBot struct {
	*Bot
	svc *backup.Service
}

// Backups plugs backup plans, reports, restore tests and the monthly
// audit (sent at 09:00 on the 1st, caught up until the evening).
func Backups(svc *backup.Service) Plug {
	return func(b *Bot) Module {
		k := backupBot{Bot: b, svc: svc}
		return Module{
			Name:  "backup",
			Topic: "backup",
			Commands: []*Command{
				{Path: "backup plan add", UserFlags: []string{"owner"}, Usage: "<system> --daily HH:MM [--full-monthly <day>] [--location …] [--retention 30d|6m|1y] [--method full|incremental|differential|snapshot|log] [--owner <userid>]",
					MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"daily": true, "full-monthly": true, "location": true, "retention": true, "method": true, "owner": true},
					Required: []string{"daily"}, Run: k.planAdd},
				{Path: "backup plan set", UserFlags: []string{"owner"}, Usage: "<system> [--location …] [--retention …] [--method …] [--owner <userid>]", MinArgs: 1, MaxArgs: 1,
					Flags: map[string]bool{"location": true, "retention": true, "method": true, "owner": true}, Run: k.planSet},
				{Path: "backup plan list", Run: k.planList},
				{Path: "backup plan remove", Usage: "<system>", MinArgs: 1, MaxArgs: 1, Run: k.planRemove},
				{Path: "backup plan show", Usage: "<system>", MinArgs: 1, MaxArgs: 1, Run: k.planShow},
				{Path: "backup report", Usage: "<system> ok|fail [--kind full|incremental] [--note …]", MinArgs: 2, MaxArgs: 2,
					Flags: map[string]bool{"kind": true, "note": true}, Run: k.report},
				{Path: "backup verify", Usage: "<system> ok|fail [--note …]", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"note": true}, Run: k.verify},
				{Path: "backup log", Usage: "<system>", MinArgs: 1, MaxArgs: 1, Run: k.history},
				{Path: "backup audit", Usage: "[YYYY-MM]", MaxArgs: 1, Run: k.audit},
			},
			Actions: map[string]ActionFunc{"backup.signoff": k.signOff},
			Notices: []NoticeRenderer{
				Renders(k.renderMissing), Renders(k.renderEscalated), Renders(k.renderFailed), Renders(k.renderRecovered), Renders(k.renderNotFull),
				Renders(k.renderRestoreDue), Renders(k.renderRestoreMissed), Renders(k.renderAuditCard), Renders(k.renderAuditSigned),
			},
			Timers: map[string]TimerFunc{backup.TimerCheck: svc.HandleTimer, backup.TimerVerify: svc.HandleTimer},
			Jobs: []Job{{Type: backup.TaskAudit, At: "09:00", CatchUp: 15 * time.Hour, Run: func(ctx context.Context, _ time.Time) error {
				created, err := svc.MonthlyAudit(ctx)
				if created {
					b.log.Info("monthly backup audit sent")
				}
				return err
			}}},
		}
	}
}

func (k backupBot) signOff(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
	month, ok := strings.CutPrefix(ev.Value, "backup-audit:")
	if !ok {
		return nil, core.Invalid("button_value", "value", ev.Value)
	}
	a, err := k.svc.SignOff(ctx, actor, month)
	if err != nil {
		return nil, err
	}
	m := k.auditCard(a.Ref(), backup.SheetOf(a))
	m.Status = StatusOK
	return []Message{m}, nil
}

func outcomeOK(v string) (bool, error) {
	switch canonicalValue(v) {
	case "ok", "正常", "成功":
		return true, nil
	case "fail", "failed", "失败":
		return false, nil
	}
	return false, core.Invalid("backup_outcome", "value", v)
}

func (k backupBot) planAdd(ctx context.Context, r *Request) ([]Message, error) {
	full := 0
	if v := r.Flag("full-monthly"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, core.Invalid("backup_full_day", "value", v)
		}
		full = n
	}
	p, err := k.svc.AddPlan(ctx, r.Actor, r.Args[0], r.Flag("daily"), full, policyFlags(r))
	if err != nil {
		return nil, err
	}
	m := Message{Ref: p.Ref(), Title: k.t("backup.plan.added", "system", p.System), Text: k.planLine(p), Fields: k.policyFields(p.Policy)}
	if missing := p.Missing(); len(missing) > 0 {
		m.Text += "\n" + k.t("backup.policy.missing", "fields", k.policyNames(missing), "system", p.System)
	}
	return reply(m)
}

// policyFlags are the backup policy flags of a command (W 8.4.1).
func policyFlags(r *Request) backup.Policy {
	return backup.Policy{Location: r.Flag("location"), Retention: r.Flag("retention"), Method: r.Flag("method"), Owner: r.Flag("owner")}
}

// policyFields shows a plan's policy, "未填" for a missing field.
func (k backupBot) policyFields(p backup.Policy) []Field {
	var out []Field
	for i, v := range []string{p.Location, p.Retention, p.Method, p.Owner} {
		if v == "" {
			v = k.t("backup.policy.unset")
		} else if i == 2 {
			v = k.methodText(v)
		} else if i == 3 {
			v = k.person(v)
		}
		out = append(out, Field{Name: k.t("backup.policy." + backup.PolicyFields[i]), Value: v})
	}
	return out
}

// methodText shows a method such as full+incremental in words.
func (k backupBot) methodText(m string) string {
	parts := strings.Split(m, "+")
	for i, p := range parts {
		parts[i] = k.t("backup.method." + p)
	}
	return strings.Join(parts, "+")
}

// policyNames names policy fields in words.
func (k backupBot) policyNames(fields []string) string {
	var out []string
	for _, f := range fields {
		if slices.Contains(backup.PolicyFields, f) {
			out = append(out, k.t("backup.policy."+f))
		} else if f != "" {
			out = append(out, f)
		}
	}
	return strings.Join(out, "、")
}

// planSet changes a plan's policy fields (W 8.4.1).
func (k backupBot) planSet(ctx context.Context, r *Request) ([]Message, error) {
	before, err := k.svc.PlanDetails(ctx, r.Args[0])
	if err != nil {
		return nil, err
	}
	p, err := k.svc.SetPolicy(ctx, r.Actor, r.Args[0], policyFlags(r))
	if err != nil {
		return nil, err
	}
	old, now := k.policyFields(before.Plan.Policy), k.policyFields(p.Policy)
	var fields []Field
	for i := range now {
		if old[i].Value != now[i].Value {
			fields = append(fields, Field{Name: now[i].Name, Value: old[i].Value + " → " + now[i].Value})
		}
	}
	return reply(Message{Ref: p.Ref(), Title: k.t("backup.policy.set", "system", p.System), Fields: fields})
}

func (k backupBot) planLine(p backup.Plan) string {
	full := k.t("backup.full.none")
	if p.FullDay > 0 {
		full = k.t("backup.full.day", "day", strconv.Itoa(p.FullDay))
	}
	return k.t("backup.plan.line", "system", p.System, "daily", p.DailyAt, "full", full)
}

func (k backupBot) planList(ctx context.Context, _ *Request) ([]Message, error) {
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
	return reply(Message{Title: k.t("backup.plan.list"), Text: strings.Join(lines, "\n")})
}

func (k backupBot) planShow(ctx context.Context, r *Request) ([]Message, error) {
	d, err := k.svc.PlanDetails(ctx, r.Args[0])
	if err != nil {
		return nil, err
	}
	full := k.t("backup.full.none")
	if d.Plan.FullDay > 0 {
		full = k.t("backup.full.day", "day", strconv.Itoa(d.Plan.FullDay))
	}
	faults := []string{}
	for _, f := range d.Faults {
		faults = append(faults, k.t("backup.show.fault", "fault", itoa64(f.ID), "incident", itoa64(f.IncidentID)))
	}
	if len(faults) == 0 {
		faults = append(faults, k.t("none"))
	}
	lines := []string{k.t("backup.show.reports")}
	for _, rep := range d.Reports {
		lines = append(lines, k.t("backup.show.report", "day", rep.Day, "kind", k.t("backup.kind."+rep.Kind),
			"result", k.t("backup.result."+strconv.FormatBool(rep.OK)), "by", k.person(rep.By), "at", k.fmtTime(rep.At)))
	}
	if len(d.Reports) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Ref: d.Plan.Ref(), Title: k.t("backup.show.title", "system", d.Plan.System), Fields: append([]Field{
		{Name: k.t("backup.show.daily"), Value: d.Plan.DailyAt},
		{Name: k.t("backup.show.full"), Value: full},
		{Name: k.t("backup.show.next_check"), Value: k.fmtTime(d.NextCheck)},
		{Name: k.t("backup.show.faults"), Value: strings.Join(faults, "、")},
		{Name: k.t("backup.show.restore"), Value: k.fmtTime(d.NextRestore)},
	}, k.policyFields(d.Plan.Policy)...), Text: strings.Join(lines, "\n")})
}

func (k backupBot) planRemove(ctx context.Context, r *Request) ([]Message, error) {
	p, err := k.svc.RemovePlan(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: k.t("backup.plan.removed", "system", p.System)})
}

func (k backupBot) report(ctx context.Context, r *Request) ([]Message, error) {
	ok, err := outcomeOK(r.Args[1])
	if err != nil {
		return nil, err
	}
	res, err := k.svc.Report(ctx, r.Actor, r.Args[0], ok, r.Flag("kind"), r.Flag("note"), "chat")
	if err != nil {
		return nil, err
	}
	return reply(k.reportReply(res))
}

// reportReply says what a backup report did.
func (k backupBot) reportReply(res backup.ReportResult) Message {
	rep := res.Report
	m := Message{Ref: "backup-report:" + itoa64(rep.ID), Title: k.t("backup.report.title", "day", rep.Day),
		Fields: []Field{{Name: k.t("field.kind"), Value: k.t("backup.kind." + rep.Kind)}, {Name: k.t("field.result"), Value: k.t("backup.result." + strconv.FormatBool(rep.OK))}}}
	if res.NotFull {
		m.Text = k.t("backup.report.not_full") + "\n"
	}
	if res.Fault != nil {
		m.Text += k.t("backup.report.fault", "fault", itoa64(res.Fault.ID), "incident", itoa64(res.Incident.ID), "assignees", k.names(res.Fault.Assignees))
	}
	for _, f := range res.Closed {
		m.Text += k.t("backup.report.closed", "fault", itoa64(f.ID), "incident", itoa64(f.IncidentID)) + "\n"
	}
	m.Text = strings.TrimSpace(m.Text)
	return m
}

func (k backupBot) verify(ctx context.Context, r *Request) ([]Message, error) {
	ok, err := outcomeOK(r.Args[1])
	if err != nil {
		return nil, err
	}
	res, err := k.svc.Verify(ctx, r.Actor, r.Args[0], ok, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	v := res.Verification
	m := Message{Ref: "backup-verify:" + itoa64(v.ID), Text: k.t("backup.verify.recorded", "system", r.Args[0], "month", v.Month,
		"result", k.t("backup.result."+strconv.FormatBool(v.OK)))}
	if res.Incident != nil {
		m.Text += "\n" + k.t("backup.verify.incident", "incident", itoa64(res.Incident.ID))
	}
	return reply(m)
}

func (k backupBot) history(ctx context.Context, r *Request) ([]Message, error) {
	l, err := k.svc.History(ctx, r.Args[0])
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, d := range l.Days {
		day := "- " + d.Check.Day + " " + k.t("backup.check."+d.Check.State)
		if l.Plan.FullOn(d.Check.Day) {
			day += k.t("backup.log.full_day")
		}
		lines = append(lines, day)
		for _, a := range d.Attempts {
			line := k.t("backup.log.attempt", "at", k.fmtTime(a.Report.At), "kind", k.t("backup.kind."+a.Report.Kind),
				"result", k.t("backup.result."+strconv.FormatBool(a.Report.OK)), "by", k.person(a.Report.By))
			if a.Report.Note != "" {
				line += k.t("backup.log.note", "note", a.Report.Note)
			}
			if a.Rerun {
				line += k.t("backup.log.rerun")
			}
			if a.NotFull {
				line += k.t("backup.log.not_full")
			}
			lines = append(lines, line)
		}
	}
	for _, f := range l.Faults {
		lines = append(lines, k.t("backup.log.fault", "fault", itoa64(f.ID), "incident", itoa64(f.IncidentID), "assignees", k.names(f.Assignees)))
	}
	if len(lines) == 0 {
		lines = append(lines, k.t("none"))
	}
	return reply(Message{Ref: l.Plan.Ref(), Title: k.t("backup.log.title", "system", l.Plan.System), Text: strings.Join(lines, "\n")})
}

// audit shows a month's backup audit; without a month, or for the
// current one, the month so far (the audit itself is made on the 1st).
func (k backupBot) audit(ctx context.Context, r *Request) ([]Message, error) {
	current := k.now().In(k.cfg.Location).Format("2006-01")
	month := current
	if len(r.Args) > 0 {
		month = r.Args[0]
	}
	if month == current {
		a, err := k.svc.AuditMonth(ctx, month, nil)
		if err != nil {
			return nil, err
		}
		m := k.auditCard(a.Ref(), backup.SheetOf(a.Audit))
		m.Status = StatusOK
		m.Buttons = nil
		if a.Draft {
			m.Ref = "" // not the audit card the 1st brings
			m.Title = k.t("backup.audit.so_far.title", "month", month)
			m.Text = k.t("backup.audit.so_far", "now", k.fmtTime(k.now()))
		}
		return reply(m)
	}
	a, err := k.svc.Audit(ctx, month)
	if err != nil {
		return nil, err
	}
	m := k.auditCard(a.Ref(), backup.SheetOf(a))
	m.Status = StatusOK
	m.Buttons = nil
	return reply(m)
}

// auditCard shows the monthly backup-record audit, with the sign-off
// button until it is signed.
func (k backupBot) auditCard(ref string, a backup.AuditSheet) Message {
	m := Message{Ref: ref, Status: StatusNotice, Title: k.t("backup.audit.title", "month", a.Month)}
	for _, sm := range a.Systems {
		m.Fields = append(m.Fields, Field{Name: sm.System, Value: k.t("backup.audit.line", "expected", strconv.Itoa(sm.Expected),
			"reported", strconv.Itoa(sm.Reported), "failed", strconv.Itoa(sm.Failed), "missing", strconv.Itoa(sm.Missing),
			"full", strconv.Itoa(sm.Full), "full_missing", strconv.Itoa(sm.FullMissing), "verified", k.t("backup.verified."+strconv.FormatBool(sm.Verified)))})
	}
	// Plans missing policy fields are findings (W 8.4.1).
	var findings []string
	for _, sm := range a.Systems {
		if names := k.policyNames(sm.PolicyMissing); names != "" {
			findings = append(findings, k.t("backup.audit.finding", "system", sm.System, "fields", names))
		}
	}
	if len(findings) > 0 {
		m.Fields = append(m.Fields, Field{Name: k.t("backup.audit.findings"), Value: strings.Join(findings, "\n")})
	}
	if a.SignedBy != "" {
		m.Text = k.t("backup.audit.signed", "by", k.person(a.SignedBy))
	} else {
		m.Text = k.t("backup.audit.ask")
		m.Buttons = []Button{{Action: "backup.signoff", Value: ref, Label: k.t("backup.audit.button"), Style: "primary"}}
	}
	return m
}

// due shows a deadline in the bot's zone, or as a notice of the previous
// release carried it.
func (k backupBot) due(t time.Time, text string) string {
	if text != "" {
		return text
	}
	return k.fmtTime(t)
}

// notice is a backup notice about a system.
func (k backupBot) notice(ref, system, text string) Message {
	return Message{Ref: ref, Status: StatusNotice, Title: k.t("backup.title", "system", system), Text: text}
}

func (k backupBot) renderMissing(ref string, n backup.Missing) (Message, error) {
	text := k.t("backup.missing", "system", n.System, "due", k.due(n.Due, n.DueText()))
	if n.Full {
		text += k.t("backup.missing.full")
	}
	return k.notice(ref, n.System, text), nil
}

func (k backupBot) renderEscalated(ref string, n backup.Escalated) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.escalated", "system", n.System, "due", k.due(n.Due, n.DueText()))), nil
}

func (k backupBot) renderFailed(ref string, n backup.Failed) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.fault", "system", n.System, "day", n.Day, "note", n.Note,
		"fault", itoa64(n.Fault), "incident", itoa64(n.Incident))), nil
}

func (k backupBot) renderRecovered(ref string, n backup.Recovered) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.recovered", "system", n.System, "fault", itoa64(n.Fault),
		"incident", itoa64(n.Incident), "by", k.person(n.By))), nil
}

func (k backupBot) renderNotFull(ref string, n backup.NotFull) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.not_full", "system", n.System, "day", n.Day, "by", k.person(n.By), "report", itoa64(n.Report))), nil
}

func (k backupBot) renderRestoreDue(ref string, n backup.RestoreDue) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.verify_due", "system", n.System, "month", n.Month, "due", k.due(n.Due, n.DueText()))), nil
}

func (k backupBot) renderRestoreMissed(ref string, n backup.RestoreMissed) (Message, error) {
	return k.notice(ref, n.System, k.t("backup.verify_missed", "system", n.System, "month", n.Month, "due", k.due(n.Due, n.DueText()))), nil
}

func (k backupBot) renderAuditCard(ref string, n backup.AuditCard) (Message, error) {
	return k.auditCard(ref, n.AuditSheet), nil
}

func (k backupBot) renderAuditSigned(ref string, n backup.AuditSigned) (Message, error) {
	return k.auditCard(ref, n.AuditSheet), nil
}
