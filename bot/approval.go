package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
)

// approvalVerbs are the button verbs of request cards, with their style.
var approvalVerbs = map[string]string{
	approval.VerbApprove: "primary", approval.VerbReject: "danger", approval.VerbDone: "primary",
	approval.VerbUATRequest: "primary", approval.VerbPass: "primary", approval.VerbFail: "danger",
	approval.VerbPublish: "primary", approval.VerbConfirm: "primary", approval.VerbStart: "primary",
	approval.VerbOK: "primary", approval.VerbIssues: "danger",
	approval.VerbTestRequest: "primary", approval.VerbTestPass: "primary", approval.VerbTestFail: "danger",
}

// payloadFields are the request payload keys shown on cards, in order.
var payloadFields = []string{"version", "notes", "text", "grantee", "grant", "target", "window", "window_approved", "risk", "plan", "rollback",
	"test_plan", "steps", "staff", "emergency", "change", "system", "reason", "note", "implementer", "executor", "result",
	"test_before", "test_after", "review", "checker", "check", "systest", "systest_note", "approved_by", "problem"}

// approvalBot is the approval engine's part of the bot.
type approvalBot struct {
	*Bot
	svc *approval.Service
}

// Approvals plugs the approval domain: app onboarding, releases, grants,
// changes and dual-person operations, their cards and reminders.
func Approvals(svc *approval.Service) Plug {
	return func(b *Bot) Module {
		a := approvalBot{Bot: b, svc: svc}
		actions := map[string]ActionFunc{}
		for verb := range approvalVerbs {
			actions["approval."+verb] = a.approvalAction(verb)
		}
		return Module{Name: "approval", Topic: "approval", Commands: a.commands(), Actions: actions,
			Notices: []NoticeRenderer{
				Renders(a.renderCard), Renders(a.renderReminder), Renders(a.renderUpdate), Renders(a.renderProgress),
				Renders(a.renderWindowMissed), Renders(a.renderAppOnline), Renders(a.renderAppOffline),
				Renders(a.renderReleaseNotice), Renders(a.renderReleaseAdmin), Renders(a.renderAppNotice),
			},
			Timers: map[string]TimerFunc{approval.TimerRemind: svc.HandleTimer, approval.TimerWindowEnd: svc.HandleTimer},
		}
	}
}

func (a approvalBot) commands() []*Command {
	note := map[string]bool{"note": true}
	return []*Command{
		{Path: "app register", Usage: "<code> <name> --owner <unit> --scope unit|cross [--level city|district|unit]", MinArgs: 2, MaxArgs: 2,
			Flags: map[string]bool{"owner": true, "scope": true, "level": true}, Required: []string{"owner", "scope"}, Run: a.appRegister},
		{Path: "app online", Usage: "<app> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: a.appOnline},
		{Path: "app offline", Usage: "<app> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: a.appOffline},
		{Path: "app release", Usage: "<app> <version> --notes …", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"notes": true}, Required: []string{"notes"}, Run: a.appRelease},
		{Path: "app notice", Usage: "<app> <text>", MinArgs: 2, MaxArgs: -1, Run: a.appNotice},
		{Path: "app uat", Usage: "<request> request|pass|fail [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note,
			Run: a.verbChoice("uat_verb", map[string]string{"request": approval.VerbUATRequest, "pass": approval.VerbPass, "fail": approval.VerbFail,
				"申请": approval.VerbUATRequest, "通过": approval.VerbPass, "不通过": approval.VerbFail})},
		{Path: "app publish", Usage: "<request> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: a.verbCommand(approval.VerbPublish)},
		{Path: "app confirm", Usage: "<request>", MinArgs: 1, MaxArgs: 1, Run: a.verbCommand(approval.VerbConfirm)},
		{Path: "app grant", UserFlags: []string{"to"}, Usage: "<app> --to <userid|unit> --kind visible|inapp:<name>", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"to": true, "kind": true}, Required: []string{"to", "kind"}, Run: a.appGrant},
		{Path: "app revoke", UserFlags: []string{"from"}, Usage: "<app> --from <userid|unit> --kind visible|inapp:<name>", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"from": true, "kind": true}, Required: []string{"from", "kind"}, Run: a.appRevoke},
		{Path: "app systest", Usage: "<request> request|pass|fail [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note,
			Run: a.verbChoice("systest_verb", map[string]string{"request": approval.VerbTestRequest, "pass": approval.VerbTestPass, "fail": approval.VerbTestFail,
				"申请": approval.VerbTestRequest, "通过": approval.VerbTestPass, "不通过": approval.VerbTestFail})},
		{Path: "org request", Usage: "<text> [--unit <unit>]", MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"unit": true}, Run: a.orgRequest},
		{Path: "backup access request", Usage: "<system> --reason …", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"reason": true},
			Required: []string{"reason"}, Run: a.backupAccessRequest},
		{Path: "backup access list", Run: a.backupAccessList},
		{Path: "app access", Usage: "<app>", MinArgs: 1, MaxArgs: 1, Run: a.appAccess},
		{Path: "app list", Run: a.appList},
		{Path: "app show", Usage: "<app>", MinArgs: 1, MaxArgs: 1, Run: a.appShow},
		{Path: "change new", UserFlags: []string{"staff"}, Usage: `<title> --target <system> --window "<start>~<end>" --risk low|medium|high --plan … --rollback … --test-plan … --steps … --staff <user,user> [--emergency]`,
			MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"target": true, "window": true, "risk": true, "plan": true, "rollback": true, "emergency": false,
				"test-plan": true, "steps": true, "staff": true},
			Required: []string{"target", "window", "risk", "plan", "rollback"}, Run: a.changeNew},
		{Path: "change link", Usage: "<id> <problem id>", MinArgs: 2, MaxArgs: 2, Run: a.changeLink},
		{Path: "change start", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: a.verbCommand(approval.VerbStart)},
		{Path: "change done", Usage: "<id> --result … --test-before … --test-after …", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"result": true, "test-before": true, "test-after": true}, Required: []string{"result"}, Run: a.changeDone},
		{Path: "change review", Usage: "<id> ok|issues [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note, Run: a.verbChoice("review_verb", reviewVerbs)},
		{Path: "op request", Usage: "<title> --reason …", MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"reason": true}, Required: []string{"reason"}, Run: a.opRequest},
		{Path: "op done", Usage: "<id> --result …", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"result": true}, Required: []string{"result"}, Run: a.verbCommand(approval.VerbDone)},
		{Path: "op check", Usage: "<id> ok|issues [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note, Run: a.verbChoice("check_verb", reviewVerbs)},
		{Path: "request list", Usage: "[--mine|--pending]", Flags: map[string]bool{"mine": false, "pending": false}, Run: a.requestList},
		{Path: "request show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: a.requestShow},
		{Path: "request cancel", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: a.requestCancel},
		{Path: "request approve", Usage: `<id> [note] [--window "<start>~<end>"]`, MinArgs: 1, MaxArgs: -1,
			Flags: map[string]bool{"window": true}, Run: a.requestApprove},
		{Path: "request reject", Usage: "<id> <reason>", MinArgs: 2, MaxArgs: -1, Run: a.verbArgs(approval.VerbReject)},
		{Path: "request done", Usage: "<id> [note]", MinArgs: 1, MaxArgs: -1, Run: a.verbArgs(approval.VerbDone)},
	}
}

// requestID parses "42" or "#42".
func requestID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, core.Invalid("request_id", "value", s)
	}
	return n, nil
}

// parseStepRef parses a button value "request:42#1".
func parseStepRef(v string) (id int64, step int, err error) {
	rest, ok := strings.CutPrefix(v, "request:")
	idPart, stepPart, ok2 := strings.Cut(rest, "#")
	if !ok || !ok2 {
		return 0, 0, core.Invalid("button_value", "value", v)
	}
	id, err = strconv.ParseInt(idPart, 10, 64)
	if err != nil {
		return 0, 0, core.Invalid("button_value", "value", v)
	}
	step, err = strconv.Atoi(stepPart)
	if err != nil {
		return 0, 0, core.Invalid("button_value", "value", v)
	}
	return id, step, nil
}

// noteHint is the command that carries a reason for verbs that need one.
func noteHint(kind approval.Kind, verb string, id int64) string {
	n := strconv.FormatInt(id, 10)
	switch {
	case verb == approval.VerbFail:
		return "/app uat " + n + " fail --note …"
	case verb == approval.VerbTestFail:
		return "/app systest " + n + " fail --note …"
	case verb == approval.VerbIssues && kind == approval.KindOperation:
		return "/op check " + n + " issues --note …"
	case verb == approval.VerbIssues:
		return "/change review " + n + " issues --note …"
	case verb == approval.VerbDone && kind == approval.KindOperation:
		return "/op done " + n + " --result …"
	case verb == approval.VerbDone && kind == approval.KindChange:
		return "/change done " + n + " --result … --test-before … --test-after …"
	case verb == approval.VerbDone:
		return "/request done " + n + " …"
	default:
		return "/request reject " + n + " …"
	}
}

func (a approvalBot) approvalAction(verb string) ActionFunc {
	return func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		id, step, err := parseStepRef(ev.Value)
		if err != nil {
			return nil, err
		}
		if approval.NeedsNote[verb] {
			if note := strings.TrimSpace(ev.Text); note != "" {
				return a.decide(ctx, actor, id, step, verb, note) // a reason asked for in a dialog (Slack's modal)
			}
			return reply(Message{Ref: "request:" + strconv.FormatInt(id, 10), Title: a.t("approval.need_note.title", "verb", a.t("verb."+verb)),
				Text: a.t("approval.need_note", "hint", noteHint(a.kindOf(ctx, actor, id), verb, id))})
		}
		return a.decide(ctx, actor, id, step, verb, "")
	}
}

// kindOf is request id's kind as actor may see it ("" when they may not).
func (a approvalBot) kindOf(ctx context.Context, actor core.Actor, id int64) approval.Kind {
	d, err := a.svc.Show(ctx, actor, id)
	if err != nil {
		return ""
	}
	return d.Request.Kind
}

func (a approvalBot) decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string) ([]Message, error) {
	res, err := a.svc.Decide(ctx, actor, id, step, verb, note)
	return a.decided(ctx, actor, id, verb, res, err)
}

// decided is the reply to a decision (or its refusal).
func (a approvalBot) decided(ctx context.Context, actor core.Actor, id int64, verb string, res approval.Result, err error) ([]Message, error) {
	if err != nil {
		if ce, ok := err.(*core.Error); ok && ce.Code == "note_required" {
			ce.Args["hint"] = noteHint(a.kindOf(ctx, actor, id), verb, id)
		}
		return nil, err
	}
	r := res.Request
	m := Message{Ref: r.Ref(), Title: a.t("approval.decided.title", "verb", a.t("verb."+verb), "id", itoa64(r.ID)),
		Text: a.requestLine(r)}
	switch {
	case res.Waiting > 0:
		m.Fields = append(m.Fields, Field{Name: a.t("field.status"), Value: a.t("approval.waiting", "n", strconv.Itoa(res.Waiting))})
	case r.State == approval.StatePending:
		m.Fields = append(m.Fields, Field{Name: a.t("field.next"), Value: a.stepLabel(res.Step, r.Step, res.Steps) + " · " + a.names(res.Next)})
	default:
		m.Fields = append(m.Fields, Field{Name: a.t("field.status"), Value: a.t("state." + string(r.State))})
	}
	return reply(m)
}

func (a approvalBot) verbCommand(verb string) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := requestID(r.Args[0])
		if err != nil {
			return nil, err
		}
		note := r.Flag("note")
		if note == "" {
			note = r.Flag("result")
		}
		return a.decide(ctx, r.Actor, id, 0, verb, note)
	}
}

func (a approvalBot) verbArgs(verb string) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, note, err := idAndNote(r.Args)
		if err != nil {
			return nil, err
		}
		return a.decide(ctx, r.Actor, id, 0, verb, note)
	}
}

// idAndNote splits "<id> [note]": the router joins a command's trailing
// words into its last argument, which for "<id> [note]" is the first.
func idAndNote(args []string) (int64, string, error) {
	first, rest, _ := strings.Cut(strings.TrimSpace(strings.Join(args, " ")), " ")
	id, err := requestID(first)
	return id, strings.TrimSpace(rest), err
}

// requestApprove approves a request; a change's approver may set its
// window with --window (W 8.6 d).
func (a approvalBot) requestApprove(ctx context.Context, r *Request) ([]Message, error) {
	if r.Flag("window") == "" {
		return a.verbArgs(approval.VerbApprove)(ctx, r)
	}
	id, note, err := idAndNote(r.Args)
	if err != nil {
		return nil, err
	}
	start, end, err := a.parseWindow(r.Flag("window"))
	if err != nil {
		return nil, err
	}
	res, err := a.svc.ApproveWindow(ctx, r.Actor, id, 0, note, start, end)
	return a.decided(ctx, r.Actor, id, approval.VerbApprove, res, err)
}

// reviewVerbs are the outcomes of a change's review and an operation's check.
var reviewVerbs = map[string]string{"ok": approval.VerbOK, "issues": approval.VerbIssues, "通过": approval.VerbOK, "有问题": approval.VerbIssues}

// verbChoice runs "<id> <choice> [--note …]": the choice names the verb
// (refused with code when it is none of verbs).
func (a approvalBot) verbChoice(code string, verbs map[string]string) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		verb, ok := verbs[r.Args[1]]
		if !ok {
			return nil, core.Invalid(code, "value", r.Args[1])
		}
		id, err := requestID(r.Args[0])
		if err != nil {
			return nil, err
		}
		return a.decide(ctx, r.Actor, id, 0, verb, r.Flag("note"))
	}
}

// submitted is the requester's confirmation of a new request.
func (a approvalBot) submitted(ctx context.Context, res approval.Result) ([]Message, error) {
	r := res.Request
	return reply(Message{
		Ref:   r.Ref(),
		Title: a.t("approval.submitted.title", "id", itoa64(r.ID), "kind", a.t("kind."+string(r.Kind))),
		Text:  a.requestLine(r),
		Fields: append(a.payloadFields(r.Payload), Field{Name: a.t("field.next"),
			Value: a.stepLabel(res.Step, r.Step, res.Steps) + " · " + a.names(res.Next)}),
	})
}

func (a approvalBot) appRegister(ctx context.Context, r *Request) ([]Message, error) {
	app, err := a.svc.RegisterApp(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("owner"), canonicalValue(r.Flag("scope")), canonicalValue(r.Flag("level")))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "app:" + app.Code, Text: a.t("app.registered", "name", app.Name, "code", app.Code, "owner", app.Owner,
		"scope", a.t("scope."+app.Scope), "level", a.t("level."+app.Level))})
}

func (a approvalBot) appOnline(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestOnline(ctx, r.Actor, r.Args[0], r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) appOffline(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestOffline(ctx, r.Actor, r.Args[0], r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) appRelease(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestRelease(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("notes"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

// appNotice asks for a public notice to the app's users (M 7.3.3 b).
func (a approvalBot) appNotice(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestAppNotice(ctx, r.Actor, r.Args[0], strings.Join(r.Args[1:], " "))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) appGrant(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestPermission(ctx, r.Actor, r.Args[0], r.Flag("to"), r.Flag("kind"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) appAccess(ctx context.Context, r *Request) ([]Message, error) {
	info, err := a.svc.ShowApp(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(info.Grants))
	for _, g := range info.Grants {
		lines = append(lines, "- "+g.Grantee+" · "+g.Kind+" · #"+itoa64(g.RequestID)+" · "+a.fmtTime(g.GrantedAt))
	}
	text := strings.Join(lines, "\n")
	if len(lines) == 0 {
		text = a.t("app.no_grants")
	}
	return reply(Message{Ref: "app:" + info.App.Code, Title: a.t("app.access.title", "name", info.App.Name, "code", info.App.Code), Text: text})
}

func (a approvalBot) appList(ctx context.Context, r *Request) ([]Message, error) {
	apps, err := a.svc.Apps(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(apps))
	for _, app := range apps {
		v := ""
		if app.Version != "" {
			v = " " + app.Version
		}
		lines = append(lines, fmt.Sprintf("- **%s**（%s%s）· %s · %s · %s", app.Name, app.Code, v, a.t("app.status."+app.Status), app.Owner, a.t("scope."+app.Scope)))
	}
	return reply(Message{Title: a.t("app.list.title"), Text: strings.Join(lines, "\n")})
}

func (a approvalBot) appShow(ctx context.Context, r *Request) ([]Message, error) {
	info, err := a.svc.ShowApp(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	app := info.App
	fields := []Field{
		{Name: a.t("field.status"), Value: a.t("app.status." + app.Status)},
		{Name: a.t("field.owner"), Value: app.Owner},
		{Name: a.t("field.scope"), Value: a.t("scope."+app.Scope) + " · " + a.t("level."+app.Level)},
		{Name: a.t("field.version"), Value: orNone(a.Bot, app.Version)},
		{Name: a.t("field.grants"), Value: strconv.Itoa(len(info.Grants))},
	}
	var pend []string
	for _, p := range info.Pending {
		pend = append(pend, "#"+itoa64(p.ID)+" "+a.t("kind."+string(p.Kind)))
	}
	fields = append(fields, Field{Name: a.t("field.pending"), Value: orNone(a.Bot, strings.Join(pend, "; "))})
	return reply(Message{Ref: "app:" + app.Code, Title: app.Name + "（" + app.Code + "）", Fields: fields})
}

func orNone(b *Bot, s string) string {
	if s == "" {
		return b.t("none")
	}
	return s
}

// parseWindow parses "<start>~<end>": each a moment ParseWhen reads
// ("2026-11-25 22:00", "下周三 22:00", "next wednesday 22:00", …) with
// its time of day, the end possibly a bare "02:00" (on the start's day,
// the next day when earlier).
func (a approvalBot) parseWindow(s string) (time.Time, time.Time, error) {
	s = strings.NewReplacer("～", "~", "—", "~", "至", "~").Replace(s)
	from, to, ok := strings.Cut(s, "~")
	bad := core.Invalid("window_format", "value", s)
	if !ok {
		return time.Time{}, time.Time{}, bad
	}
	start, timed, err := a.when(from)
	if err != nil || !timed {
		return time.Time{}, time.Time{}, bad
	}
	to = strings.TrimSpace(to)
	if hm, err := time.Parse("15:04", to); err == nil {
		end := time.Date(start.Year(), start.Month(), start.Day(), hm.Hour(), hm.Minute(), 0, 0, a.cfg.Location)
		if !end.After(start) {
			end = end.AddDate(0, 0, 1)
		}
		return start, end, nil
	}
	end, timed, err := a.when(to)
	if err != nil || !timed {
		return time.Time{}, time.Time{}, bad
	}
	return start, end, nil
}

func (a approvalBot) changeNew(ctx context.Context, r *Request) ([]Message, error) {
	start, end, err := a.parseWindow(r.Flag("window"))
	if err != nil {
		return nil, err
	}
	res, err := a.svc.RequestChange(ctx, r.Actor, approval.ChangeInput{
		Title: r.Args[0], Target: r.Flag("target"), Risk: canonicalValue(r.Flag("risk")), Plan: r.Flag("plan"),
		Rollback: r.Flag("rollback"), TestPlan: r.Flag("test-plan"), Steps: r.Flag("steps"), Staff: splitList(r.Flag("staff")),
		Start: start, End: end, Emergency: r.Has("emergency"),
	})
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

// changeDone reports a change carried out with its result and the record
// of the tests before and after it (W 8.6 e).
func (a approvalBot) changeDone(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	res, err := a.svc.CompleteChange(ctx, r.Actor, id, r.Flag("result"), r.Flag("test-before"), r.Flag("test-after"))
	return a.decided(ctx, r.Actor, id, approval.VerbDone, res, err)
}

// changeLink links a change to the problem it fixes.
func (a approvalBot) changeLink(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	pid, err := strconv.ParseInt(strings.TrimPrefix(r.Args[1], "#"), 10, 64)
	if err != nil || pid <= 0 {
		return nil, core.Invalid("problem_id", "value", r.Args[1])
	}
	req, err := a.svc.LinkProblem(ctx, r.Actor, id, pid)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: req.Ref(), Text: a.t("change.linked", "id", itoa64(id), "problem", req.Payload["problem"])})
}

func (a approvalBot) appRevoke(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestRevoke(ctx, r.Actor, r.Args[0], r.Flag("from"), r.Flag("kind"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) orgRequest(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestOrgChange(ctx, r.Actor, r.Flag("unit"), strings.Join(r.Args, " "))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) backupAccessRequest(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestBackupAccess(ctx, r.Actor, r.Args[0], r.Flag("reason"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

// backupAccessList is the register of approved accesses to offline backup
// data (W 8.4.3 c): who, what, when, why.
func (a approvalBot) backupAccessList(ctx context.Context, r *Request) ([]Message, error) {
	list, err := a.svc.BackupAccess(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(list))
	for _, e := range list {
		lines = append(lines, a.t("backup_access.line", "at", a.fmtTime(e.At), "who", a.person(e.Who), "system", e.System, "reason", e.Reason,
			"by", a.person(e.ApprovedBy), "id", itoa64(e.Request)))
	}
	text := strings.Join(lines, "\n")
	if len(lines) == 0 {
		text = a.t("none")
	}
	return reply(Message{Title: a.t("backup_access.title"), Text: text})
}

func (a approvalBot) opRequest(ctx context.Context, r *Request) ([]Message, error) {
	res, err := a.svc.RequestOperation(ctx, r.Actor, r.Args[0], r.Flag("reason"))
	if err != nil {
		return nil, err
	}
	return a.submitted(ctx, res)
}

func (a approvalBot) requestList(ctx context.Context, r *Request) ([]Message, error) {
	mine, pending := r.Has("mine"), r.Has("pending")
	if !mine && !pending {
		mine, pending = true, true
	}
	own, waiting, err := a.svc.List(ctx, r.Actor, mine, pending)
	if err != nil {
		return nil, err
	}
	var parts []string
	if pending {
		parts = append(parts, "**"+a.t("request.list.pending")+"**")
		parts = append(parts, a.detailLines(waiting)...)
	}
	if mine {
		parts = append(parts, "**"+a.t("request.list.mine")+"**")
		parts = append(parts, a.detailLines(own)...)
	}
	return reply(Message{Title: a.t("request.list.title"), Text: strings.Join(parts, "\n")})
}

func (a approvalBot) detailLines(ds []approval.Detail) []string {
	if len(ds) == 0 {
		return []string{a.t("none")}
	}
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		r := d.Request
		line := "- #" + itoa64(r.ID) + " " + a.t("kind."+string(r.Kind)) + " · " + r.Title + " · " + a.t("state."+string(r.State))
		if r.State == approval.StatePending {
			line += " · " + a.stepLabel(d.Steps[r.Step-1], r.Step, len(d.Steps)) + " · " + a.t("field.since") + " " + a.fmtTime(r.StepSince)
		}
		out = append(out, line)
	}
	return out
}

func (a approvalBot) requestShow(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := a.svc.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	req := d.Request
	fields := []Field{
		{Name: a.t("field.requester"), Value: a.person(req.Requester)},
		{Name: a.t("field.status"), Value: a.t("state." + string(req.State))},
	}
	if req.State == approval.StatePending {
		fields = append(fields, Field{Name: a.t("field.next"), Value: a.stepLabel(d.Steps[req.Step-1], req.Step, len(d.Steps)) + " · " + a.names(d.Next)})
	}
	fields = append(fields, a.payloadFields(req.Payload)...)
	lines := []string{"- " + a.fmtTime(req.CreatedAt) + " " + a.person(req.Requester) + " " + a.t("verb.submit")}
	for _, dec := range d.Decisions {
		line := "- " + a.fmtTime(dec.At) + " " + a.person(dec.Actor) + "（" + a.firstKnown(dec.Platform, "platform.") + "）" + a.t("verb."+dec.Verb) +
			" · " + a.stepLabel(d.Steps[dec.Step-1], dec.Step, len(d.Steps))
		if dec.Note != "" {
			line += "：" + dec.Note
		}
		lines = append(lines, line)
	}
	return reply(Message{Ref: req.Ref(), Title: a.t("approval.show.title", "id", itoa64(req.ID), "kind", a.t("kind."+string(req.Kind)), "title", req.Title),
		Text: strings.Join(lines, "\n"), Fields: fields})
}

func (a approvalBot) requestCancel(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	req, err := a.svc.Cancel(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: req.Ref(), Text: a.t("approval.cancelled", "id", itoa64(req.ID))})
}

// requestLine is "应用上线 · 双随机抽查系统".
func (a approvalBot) requestLine(r approval.Request) string {
	return a.t("kind."+string(r.Kind)) + " · " + r.Title
}

// stepLabel is "第 1/2 步：审批".
func (a approvalBot) stepLabel(st approval.Step, n, of int) string {
	return a.t("approval.step", "n", strconv.Itoa(n), "of", strconv.Itoa(of), "name", a.t("step."+st.Name))
}

func (a approvalBot) payloadFields(p map[string]string) []Field {
	return PayloadFields(a.cfg.Language, p, a.person)
}

// PayloadFields are a request's payload as its cards and /request show
// give it in lang (and the console's request page): the known fields in
// their order, with their values' words and people shown by person (nil
// shows ids).
func PayloadFields(lang string, p map[string]string, person func(id string) string) []Field {
	if person == nil {
		person = func(id string) string { return id }
	}
	var out []Field
	for _, k := range payloadFields {
		if v := p[k]; v != "" {
			switch k {
			case "emergency":
				v = T(lang, "yesno."+v)
			case "review", "check":
				v = T(lang, "verb."+v)
			case "implementer", "executor", "checker", "approved_by":
				v = person(v)
			case "staff":
				ids := strings.Split(v, ",")
				for i, id := range ids {
					ids[i] = person(strings.TrimSpace(id))
				}
				v = strings.Join(ids, T(lang, "person.sep"))
			case "risk":
				v = knownIn(lang, v, "risk.")
			case "grantee":
				if id, ok := strings.CutPrefix(v, "user:"); ok {
					v = person(id)
				}
			}
			out = append(out, Field{Name: T(lang, "field."+k), Value: v})
		}
	}
	return out
}

// cardButtons turns step verbs into buttons.
func (a approvalBot) cardButtons(verbs []string, value string) []Button {
	var out []Button
	for _, v := range verbs {
		if v == "" {
			continue
		}
		btn := Button{Action: "approval." + v, Value: value, Label: a.t("verb." + v), Style: approvalVerbs[v]}
		if v == approval.VerbConfirm || v == approval.VerbPublish {
			btn.Confirm = a.t("confirm." + v)
		}
		out = append(out, btn)
	}
	return out
}

// cardParts are what every card of a request shows: the kind, the step
// line and the requester, app and payload fields.
func (a approvalBot) cardParts(c approval.Card) (kind, step string, fields []Field) {
	kind = a.t("kind." + string(c.Kind))
	step = a.stepLabel(approval.Step{Name: c.StepName}, c.Step, c.Steps)
	fields = []Field{{Name: a.t("field.requester"), Value: a.named(c.Requester, c.RequesterName)}}
	if c.App != "" {
		fields = append(fields, Field{Name: a.t("field.app"), Value: c.App})
	}
	return kind, step, append(fields, a.payloadFields(c.Payload)...)
}

func (a approvalBot) cardTitle(c approval.Card, kind string) string {
	return a.t("approval.card.title", "step", a.t("step."+c.StepName), "kind", kind, "title", c.Title, "id", itoa64(c.ID))
}

func (a approvalBot) renderCard(ref string, c approval.Card) (Message, error) {
	kind, step, fields := a.cardParts(c)
	m := Message{Ref: ref, Status: StatusNotice, Title: a.cardTitle(c, kind), Text: step, Fields: fields,
		Buttons: a.cardButtons(c.Verbs, ref)}
	if len(c.ApprovedBy) > 0 {
		m.Fields = append(m.Fields, Field{Name: a.t("field.approved_by"), Value: a.names(c.ApprovedBy)})
	}
	return m, nil
}

func (a approvalBot) renderReminder(ref string, r approval.Reminder) (Message, error) {
	m, err := a.renderCard(ref, r.Card)
	since, ok := r.SinceShown()
	if !ok {
		since = a.fmtTime(r.Since)
	}
	m.Title = a.t("approval.remind.title") + m.Title
	m.Text = a.t("approval.remind", "since", since) + "\n" + m.Text
	return m, err
}

func (a approvalBot) renderUpdate(ref string, u approval.CardUpdate) (Message, error) {
	kind, step, fields := a.cardParts(u.Card)
	at, ok := u.DecidedShown()
	if !ok {
		at = a.fmtTime(u.DecidedAt)
	}
	outcome := a.t("approval.outcome", "by", a.named(u.DecidedBy, u.DecidedByName), "verb", a.t("verb."+u.DecidedVerb), "at", at)
	if u.Note != "" {
		outcome += "：" + u.Note
	}
	m := Message{Ref: ref, Status: StatusNotice,
		Title:  a.t("approval.done.title", "verb", a.t("verb."+u.DecidedVerb), "kind", kind, "title", u.Title, "id", itoa64(u.ID)),
		Text:   step + "\n" + outcome,
		Fields: fields,
	}
	if u.Waiting > 0 {
		m.Title = a.cardTitle(u.Card, kind)
		m.Text += "\n" + a.t("approval.waiting", "n", strconv.Itoa(u.Waiting))
		m.Buttons = a.cardButtons(u.Verbs, ref)
	}
	return m, nil
}

func (a approvalBot) renderProgress(ref string, p approval.Progress) (Message, error) {
	id := itoa64(p.ID)
	text := a.t("approval.progress", "id", id, "kind", a.t("kind."+string(p.Kind)), "title", p.Title, "by", a.named(p.By, p.ByName), "verb", a.t("verb."+p.Verb))
	if p.Note != "" {
		text += "：" + p.Note
	}
	if p.NextStep != "" {
		text += "\n" + a.t("approval.progress.next", "step", a.t("step."+p.NextStep))
	} else {
		text += "\n" + a.t("field.status") + "：" + a.t("state."+string(p.State))
	}
	return Message{Ref: ref, Status: StatusNotice, Title: a.t("approval.progress.title", "id", id), Text: text}, nil
}

func (a approvalBot) renderWindowMissed(ref string, w approval.WindowMissed) (Message, error) {
	_, _, fields := a.cardParts(w.Card)
	id := itoa64(w.ID)
	// The previous release sent this notice without closing the change.
	key := "change.window_missed"
	if w.State == approval.StateExpired {
		key = "change.expired"
	}
	return Message{Ref: ref, Status: StatusNotice, Title: a.t(key+".title", "id", id),
		Text: a.t(key, "id", id, "title", w.Title, "window", changeWindowText(w.Payload)), Fields: fields}, nil
}

// changeWindowText is the window a change may be carried out in: the
// approved one, else the requested one.
func changeWindowText(p map[string]string) string {
	if w := p["window_approved"]; w != "" {
		return w
	}
	return p["window"]
}

// announcement renders an approvals-channel announcement of kind what.
func (a approvalBot) announcement(ref, what string, kv ...string) Message {
	return Message{Ref: ref, Status: StatusNotice, Title: a.t("announce."+what+".title", kv...), Text: a.t("announce."+what, kv...)}
}

func (a approvalBot) appStatusArgs(s approval.AppStatus) []string {
	return []string{"id", itoa64(s.ID), "app", s.App, "app_name", s.AppName, "title", s.Title, "note", s.Note}
}

func (a approvalBot) renderAppOnline(ref string, n approval.AppWentOnline) (Message, error) {
	return a.announcement(ref, "app_online", a.appStatusArgs(n.AppStatus)...), nil
}

func (a approvalBot) renderAppOffline(ref string, n approval.AppWentOffline) (Message, error) {
	return a.announcement(ref, "app_offline", a.appStatusArgs(n.AppStatus)...), nil
}

func (a approvalBot) releaseArgs(r approval.Release) []string {
	return []string{"id", itoa64(r.ID), "app", r.App, "title", r.Title, "version", r.Version, "notes", r.Notes,
		"by_name", r.ByName, "note", r.Note}
}

func (a approvalBot) renderReleaseNotice(ref string, n approval.ReleaseNotice) (Message, error) {
	return a.announcement(ref, "release_notice", a.releaseArgs(n.Release)...), nil
}

func (a approvalBot) renderReleaseAdmin(ref string, n approval.ReleaseAdmin) (Message, error) {
	return a.announcement(ref, "release_admin", a.releaseArgs(n.Release)...), nil
}

func (a approvalBot) renderAppNotice(ref string, n approval.AppNotice) (Message, error) {
	return a.announcement(ref, "app_notice", "id", itoa64(n.ID), "app", n.App, "app_name", n.AppName, "text", n.Text,
		"requester", a.person(n.Requester), "by_name", n.ByName), nil
}
