package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/backup"
)

func (b *Bot) registerBackups() {
	for _, c := range []*Command{
		{Path: "backup plan add", Usage: "<system> --daily HH:MM [--full-monthly <day>]", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"daily": true, "full-monthly": true}, Required: []string{"daily"}, Run: b.backupPlanAdd},
		{Path: "backup plan list", Run: b.backupPlanList},
		{Path: "backup plan remove", Usage: "<system>", MinArgs: 1, MaxArgs: 1, Run: b.backupPlanRemove},
		{Path: "backup report", Usage: "<system> ok|fail [--kind full|incremental] [--note …]", MinArgs: 2, MaxArgs: 2,
			Flags: map[string]bool{"kind": true, "note": true}, Run: b.backupReport},
		{Path: "backup verify", Usage: "<system> ok|fail [--note …]", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"note": true}, Run: b.backupVerify},
		{Path: "backup log", Usage: "<system>", MinArgs: 1, MaxArgs: 1, Run: b.backupLog},
		{Path: "backup audit", Usage: "[YYYY-MM]", MaxArgs: 1, Run: b.backupAudit},
	} {
		c.Topic = "backup"
		b.router.Handle(c)
	}
	b.HandleAction("backup.signoff", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		month, ok := strings.CutPrefix(ev.Value, "backup-audit:")
		if !ok {
			return nil, core.Invalid("button_value", "value", ev.Value)
		}
		a, err := b.backups.SignOff(ctx, actor, month)
		if err != nil {
			return nil, err
		}
		m := b.auditCard(a.Ref(), backup.AuditData(a))
		m.Status = StatusOK
		return []Message{m}, nil
	})
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

func (b *Bot) backupPlanAdd(ctx context.Context, r *Request) ([]Message, error) {
	full := 0
	if v := r.Flag("full-monthly"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, core.Invalid("backup_full_day", "value", v)
		}
		full = n
	}
	p, err := b.backups.AddPlan(ctx, r.Actor, r.Args[0], r.Flag("daily"), full)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Title: b.t("backup.plan.added", "system", p.System), Text: b.backupPlanLine(p)})
}

func (b *Bot) backupPlanLine(p backup.Plan) string {
	full := b.t("backup.full.none")
	if p.FullDay > 0 {
		full = b.t("backup.full.day", "day", strconv.Itoa(p.FullDay))
	}
	return b.t("backup.plan.line", "system", p.System, "daily", p.DailyAt, "full", full)
}

func (b *Bot) backupPlanList(ctx context.Context, _ *Request) ([]Message, error) {
	ps, err := b.backups.Plans(ctx)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, p := range ps {
		lines = append(lines, b.backupPlanLine(p))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Title: b.t("backup.plan.list"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) backupPlanRemove(ctx context.Context, r *Request) ([]Message, error) {
	p, err := b.backups.RemovePlan(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: p.Ref(), Text: b.t("backup.plan.removed", "system", p.System)})
}

func (b *Bot) backupReport(ctx context.Context, r *Request) ([]Message, error) {
	ok, err := outcomeOK(r.Args[1])
	if err != nil {
		return nil, err
	}
	res, err := b.backups.Report(ctx, r.Actor, r.Args[0], ok, r.Flag("kind"), r.Flag("note"), "chat")
	if err != nil {
		return nil, err
	}
	return reply(b.reportReply(res))
}

// reportReply says what a backup report did.
func (b *Bot) reportReply(res backup.ReportResult) Message {
	rep := res.Report
	m := Message{Ref: "backup-report:" + itoa64(rep.ID), Title: b.t("backup.report.title", "day", rep.Day),
		Fields: []Field{{Name: b.t("field.kind"), Value: b.t("backup.kind." + rep.Kind)}, {Name: b.t("field.result"), Value: b.t("backup.result." + strconv.FormatBool(rep.OK))}}}
	if res.Fault != nil {
		m.Text = b.t("backup.report.fault", "fault", itoa64(res.Fault.ID), "incident", itoa64(res.Incident.ID), "assignees", strings.Join(res.Fault.Assignees, "、"))
	}
	for _, f := range res.Closed {
		m.Text += b.t("backup.report.closed", "fault", itoa64(f.ID), "incident", itoa64(f.IncidentID)) + "\n"
	}
	m.Text = strings.TrimSpace(m.Text)
	return m
}

func (b *Bot) backupVerify(ctx context.Context, r *Request) ([]Message, error) {
	ok, err := outcomeOK(r.Args[1])
	if err != nil {
		return nil, err
	}
	res, err := b.backups.Verify(ctx, r.Actor, r.Args[0], ok, r.Flag("note"))
	if err != nil {
		return nil, err
	}
	v := res.Verification
	m := Message{Ref: "backup-verify:" + itoa64(v.ID), Text: b.t("backup.verify.recorded", "system", r.Args[0], "month", v.Month,
		"result", b.t("backup.result."+strconv.FormatBool(v.OK)))}
	if res.Incident != nil {
		m.Text += "\n" + b.t("backup.verify.incident", "incident", itoa64(res.Incident.ID))
	}
	return reply(m)
}

func (b *Bot) backupLog(ctx context.Context, r *Request) ([]Message, error) {
	l, err := b.backups.History(ctx, r.Args[0])
	if err != nil {
		return nil, err
	}
	lines := []string{}
	for _, c := range l.Checks {
		lines = append(lines, "- "+c.Day+" "+b.t("backup.check."+c.State))
	}
	for _, f := range l.Faults {
		lines = append(lines, b.t("backup.log.fault", "fault", itoa64(f.ID), "incident", itoa64(f.IncidentID), "assignees", strings.Join(f.Assignees, "、")))
	}
	if len(lines) == 0 {
		lines = append(lines, b.t("none"))
	}
	return reply(Message{Ref: l.Plan.Ref(), Title: b.t("backup.log.title", "system", l.Plan.System), Text: strings.Join(lines, "\n")})
}

func (b *Bot) backupAudit(ctx context.Context, r *Request) ([]Message, error) {
	month := b.now().In(b.cfg.Location).AddDate(0, -1, 0).Format("2006-01")
	if len(r.Args) > 0 {
		month = r.Args[0]
	}
	a, err := b.backups.Audit(ctx, month)
	if err != nil {
		return nil, err
	}
	m := b.auditCard(a.Ref(), backup.AuditData(a))
	m.Status = StatusOK
	m.Buttons = nil
	return reply(m)
}

// auditCard shows the monthly backup-record audit, with the sign-off
// button until it is signed.
func (b *Bot) auditCard(ref string, d map[string]string) Message {
	m := Message{Ref: ref, Status: StatusNotice, Title: b.t("backup.audit.title", "month", d["month"])}
	for _, line := range strings.Split(d["systems"], "\n") {
		f := strings.Split(line, "|")
		if len(f) != 7 {
			continue
		}
		m.Fields = append(m.Fields, Field{Name: f[0], Value: b.t("backup.audit.line", "expected", f[1], "reported", f[2], "failed", f[3],
			"missing", f[4], "full", f[5], "verified", b.t("backup.verified."+f[6]))})
	}
	if d["signed_by"] != "" {
		m.Text = b.t("backup.audit.signed", "by", d["signed_by"])
	} else {
		m.Text = b.t("backup.audit.ask")
		m.Buttons = []Button{{Action: "backup.signoff", Value: ref, Label: b.t("backup.audit.button"), Style: "primary"}}
	}
	return m
}

// renderBackup renders backup notices; ok is false for other kinds.
func (b *Bot) renderBackup(n notice) (Message, bool) {
	d := n.Data
	title := b.t("backup.title", "system", d["system"])
	text := ""
	switch n.Kind {
	case backup.NoticeMissing:
		text = b.t("backup.missing", "system", d["system"], "due", d["due"])
		if d["full"] == "true" {
			text += b.t("backup.missing.full")
		}
	case backup.NoticeEscalated:
		text = b.t("backup.escalated", "system", d["system"], "due", d["due"])
	case backup.NoticeFault:
		text = b.t("backup.fault", "system", d["system"], "day", d["day"], "note", d["note"], "fault", d["fault"], "incident", d["incident"])
	case backup.NoticeRecovered:
		text = b.t("backup.recovered", "system", d["system"], "fault", d["fault"], "incident", d["incident"], "by", d["by"])
	case backup.NoticeVerifyDue:
		text = b.t("backup.verify_due", "system", d["system"], "month", d["month"], "due", d["due"])
	case backup.NoticeVerifyMissed:
		text = b.t("backup.verify_missed", "system", d["system"], "month", d["month"], "due", d["due"])
	case backup.NoticeAudit, backup.NoticeAuditDone:
		return b.auditCard(n.Ref, d), true
	default:
		return Message{}, false
	}
	return Message{Ref: n.Ref, Status: StatusNotice, Title: title, Text: text}, true
}
