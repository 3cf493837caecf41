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
}

// payloadFields are the request payload keys shown on cards, in order.
var payloadFields = []string{"version", "notes", "grantee", "grant", "target", "window", "risk", "plan", "rollback",
	"emergency", "reason", "note", "implementer", "result", "review"}

func (b *Bot) registerApprovals() {
	id := func(c *Command) *Command { c.Topic = "approval"; return c }
	note := map[string]bool{"note": true}
	for _, c := range []*Command{
		{Path: "app register", Usage: "<code> <name> --owner <unit> --scope unit|cross [--level city|district|unit]", MinArgs: 2, MaxArgs: 2,
			Flags: map[string]bool{"owner": true, "scope": true, "level": true}, Required: []string{"owner", "scope"}, Run: b.appRegister},
		{Path: "app online", Usage: "<app> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: b.appOnline},
		{Path: "app offline", Usage: "<app> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: b.appOffline},
		{Path: "app release", Usage: "<app> <version> --notes …", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"notes": true}, Required: []string{"notes"}, Run: b.appRelease},
		{Path: "app uat", Usage: "<request> request|pass|fail [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note, Run: b.appUAT},
		{Path: "app publish", Usage: "<request> [--note …]", MinArgs: 1, MaxArgs: 1, Flags: note, Run: b.verbCommand(approval.VerbPublish)},
		{Path: "app confirm", Usage: "<request>", MinArgs: 1, MaxArgs: 1, Run: b.verbCommand(approval.VerbConfirm)},
		{Path: "app grant", Usage: "<app> --to <userid|unit> --kind visible|inapp:<name>", MinArgs: 1, MaxArgs: 1,
			Flags: map[string]bool{"to": true, "kind": true}, Required: []string{"to", "kind"}, Run: b.appGrant},
		{Path: "app access", Usage: "<app>", MinArgs: 1, MaxArgs: 1, Run: b.appAccess},
		{Path: "app list", Run: b.appList},
		{Path: "app show", Usage: "<app>", MinArgs: 1, MaxArgs: 1, Run: b.appShow},
		{Path: "change new", Usage: `<title> --target <system> --window "<start>~<end>" --risk low|medium|high --plan … --rollback … [--emergency]`,
			MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"target": true, "window": true, "risk": true, "plan": true, "rollback": true, "emergency": false},
			Required: []string{"target", "window", "risk", "plan", "rollback"}, Run: b.changeNew},
		{Path: "change start", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.verbCommand(approval.VerbStart)},
		{Path: "change done", Usage: "<id> --result …", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"result": true}, Required: []string{"result"}, Run: b.verbCommand(approval.VerbDone)},
		{Path: "change review", Usage: "<id> ok|issues [--note …]", MinArgs: 2, MaxArgs: 2, Flags: note, Run: b.changeReview},
		{Path: "op request", Usage: "<title> --reason …", MinArgs: 1, MaxArgs: -1, Flags: map[string]bool{"reason": true}, Required: []string{"reason"}, Run: b.opRequest},
		{Path: "op done", Usage: "<id> --result …", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"result": true}, Required: []string{"result"}, Run: b.verbCommand(approval.VerbDone)},
		{Path: "request list", Usage: "[--mine|--pending]", Flags: map[string]bool{"mine": false, "pending": false}, Run: b.requestList},
		{Path: "request show", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.requestShow},
		{Path: "request cancel", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: b.requestCancel},
		{Path: "request approve", Usage: "<id> [note]", MinArgs: 1, MaxArgs: -1, Run: b.verbArgs(approval.VerbApprove)},
		{Path: "request reject", Usage: "<id> <reason>", MinArgs: 2, MaxArgs: -1, Run: b.verbArgs(approval.VerbReject)},
		{Path: "request done", Usage: "<id> [note]", MinArgs: 1, MaxArgs: -1, Run: b.verbArgs(approval.VerbDone)},
	} {
		b.router.Handle(id(c))
	}
	for verb := range approvalVerbs {
		b.HandleAction("approval."+verb, b.approvalAction(verb))
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
func noteHint(verb string, id int64) string {
	n := strconv.FormatInt(id, 10)
	switch verb {
	case approval.VerbFail:
		return "/app uat " + n + " fail --note …"
	case approval.VerbIssues:
		return "/change review " + n + " issues --note …"
	case approval.VerbDone:
		return "/change done " + n + " --result …"
	default:
		return "/request reject " + n + " …"
	}
}

func (b *Bot) approvalAction(verb string) ActionFunc {
	return func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		id, step, err := parseStepRef(ev.Value)
		if err != nil {
			return nil, err
		}
		if approval.NeedsNote[verb] {
			if note := strings.TrimSpace(ev.Text); note != "" {
				return b.decide(ctx, actor, id, step, verb, note) // a reason asked for in a dialog (Slack's modal)
			}
			return reply(Message{Ref: "request:" + strconv.FormatInt(id, 10), Title: b.t("approval.need_note.title", "verb", b.t("verb."+verb)),
				Text: b.t("approval.need_note", "hint", noteHint(verb, id))})
		}
		return b.decide(ctx, actor, id, step, verb, "")
	}
}

func (b *Bot) decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string) ([]Message, error) {
	res, err := b.approvals.Decide(ctx, actor, id, step, verb, note)
	if err != nil {
		if ce, ok := err.(*core.Error); ok && ce.Code == "note_required" {
			ce.Args["hint"] = noteHint(verb, id)
		}
		return nil, err
	}
	r := res.Request
	m := Message{Ref: r.Ref(), Title: b.t("approval.decided.title", "verb", b.t("verb."+verb), "id", itoa64(r.ID)),
		Text: b.requestLine(r)}
	switch {
	case res.Waiting > 0:
		m.Fields = append(m.Fields, Field{Name: b.t("field.status"), Value: b.t("approval.waiting", "n", strconv.Itoa(res.Waiting))})
	case r.State == approval.StatePending:
		m.Fields = append(m.Fields, Field{Name: b.t("field.next"), Value: b.stepLabel(res.Step, r.Step, res.Steps) + " · " + b.names(ctx, res.Next)})
	default:
		m.Fields = append(m.Fields, Field{Name: b.t("field.status"), Value: b.t("state." + string(r.State))})
	}
	return reply(m)
}

func (b *Bot) verbCommand(verb string) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := requestID(r.Args[0])
		if err != nil {
			return nil, err
		}
		note := r.Flag("note")
		if note == "" {
			note = r.Flag("result")
		}
		return b.decide(ctx, r.Actor, id, 0, verb, note)
	}
}

func (b *Bot) verbArgs(verb string) func(context.Context, *Request) ([]Message, error) {
	return func(ctx context.Context, r *Request) ([]Message, error) {
		id, err := requestID(r.Args[0])
		if err != nil {
			return nil, err
		}
		note := ""
		if len(r.Args) > 1 {
			note = r.Args[1]
		}
		return b.decide(ctx, r.Actor, id, 0, verb, note)
	}
}

func (b *Bot) appUAT(ctx context.Context, r *Request) ([]Message, error) {
	verbs := map[string]string{"request": approval.VerbUATRequest, "pass": approval.VerbPass, "fail": approval.VerbFail,
		"申请": approval.VerbUATRequest, "通过": approval.VerbPass, "不通过": approval.VerbFail}
	verb, ok := verbs[r.Args[1]]
	if !ok {
		return nil, core.Invalid("uat_verb", "value", r.Args[1])
	}
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	return b.decide(ctx, r.Actor, id, 0, verb, r.Flag("note"))
}

func (b *Bot) changeReview(ctx context.Context, r *Request) ([]Message, error) {
	verbs := map[string]string{"ok": approval.VerbOK, "issues": approval.VerbIssues, "通过": approval.VerbOK, "有问题": approval.VerbIssues}
	verb, ok := verbs[r.Args[1]]
	if !ok {
		return nil, core.Invalid("review_verb", "value", r.Args[1])
	}
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	return b.decide(ctx, r.Actor, id, 0, verb, r.Flag("note"))
}

// submitted is the requester's confirmation of a new request.
func (b *Bot) submitted(ctx context.Context, res approval.Result) ([]Message, error) {
	r := res.Request
	return reply(Message{
		Ref:   r.Ref(),
		Title: b.t("approval.submitted.title", "id", itoa64(r.ID), "kind", b.t("kind."+string(r.Kind))),
		Text:  b.requestLine(r),
		Fields: append(b.payloadFields(r.Payload), Field{Name: b.t("field.next"),
			Value: b.stepLabel(res.Step, r.Step, res.Steps) + " · " + b.names(ctx, res.Next)}),
	})
}

func (b *Bot) appRegister(ctx context.Context, r *Request) ([]Message, error) {
	app, err := b.approvals.RegisterApp(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("owner"), canonicalValue(r.Flag("scope")), canonicalValue(r.Flag("level")))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "app:" + app.Code, Text: b.t("app.registered", "name", app.Name, "code", app.Code, "owner", app.Owner,
		"scope", b.t("scope."+app.Scope), "level", b.t("level."+app.Level))})
}

func (b *Bot) appOnline(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.approvals.RequestOnline(ctx, r.Actor, r.Args[0], r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) appOffline(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.approvals.RequestOffline(ctx, r.Actor, r.Args[0], r.Flag("note"))
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) appRelease(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.approvals.RequestRelease(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("notes"))
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) appGrant(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.approvals.RequestPermission(ctx, r.Actor, r.Args[0], r.Flag("to"), r.Flag("kind"))
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) appAccess(ctx context.Context, r *Request) ([]Message, error) {
	info, err := b.approvals.ShowApp(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(info.Grants))
	for _, g := range info.Grants {
		lines = append(lines, "- "+g.Grantee+" · "+g.Kind+" · #"+itoa64(g.RequestID)+" · "+b.fmtTime(g.GrantedAt))
	}
	text := strings.Join(lines, "\n")
	if len(lines) == 0 {
		text = b.t("app.no_grants")
	}
	return reply(Message{Ref: "app:" + info.App.Code, Title: b.t("app.access.title", "name", info.App.Name, "code", info.App.Code), Text: text})
}

func (b *Bot) appList(ctx context.Context, r *Request) ([]Message, error) {
	apps, err := b.approvals.Apps(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(apps))
	for _, a := range apps {
		v := ""
		if a.Version != "" {
			v = " " + a.Version
		}
		lines = append(lines, fmt.Sprintf("- **%s**（%s%s）· %s · %s · %s", a.Name, a.Code, v, b.t("app.status."+a.Status), a.Owner, b.t("scope."+a.Scope)))
	}
	return reply(Message{Title: b.t("app.list.title"), Text: strings.Join(lines, "\n")})
}

func (b *Bot) appShow(ctx context.Context, r *Request) ([]Message, error) {
	info, err := b.approvals.ShowApp(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	a := info.App
	fields := []Field{
		{Name: b.t("field.status"), Value: b.t("app.status." + a.Status)},
		{Name: b.t("field.owner"), Value: a.Owner},
		{Name: b.t("field.scope"), Value: b.t("scope."+a.Scope) + " · " + b.t("level."+a.Level)},
		{Name: b.t("field.version"), Value: orNone(b, a.Version)},
		{Name: b.t("field.grants"), Value: strconv.Itoa(len(info.Grants))},
	}
	var pend []string
	for _, p := range info.Pending {
		pend = append(pend, "#"+itoa64(p.ID)+" "+b.t("kind."+string(p.Kind)))
	}
	fields = append(fields, Field{Name: b.t("field.pending"), Value: orNone(b, strings.Join(pend, "; "))})
	return reply(Message{Ref: "app:" + a.Code, Title: a.Name + "（" + a.Code + "）", Fields: fields})
}

func orNone(b *Bot, s string) string {
	if s == "" {
		return b.t("none")
	}
	return s
}

// parseWindow parses "2026-11-25 22:00~2026-11-26 02:00" or
// "2026-11-25 22:00~02:00" (the end on the next day when earlier).
func (b *Bot) parseWindow(s string) (time.Time, time.Time, error) {
	s = strings.NewReplacer("～", "~", "—", "~", "至", "~").Replace(s)
	from, to, ok := strings.Cut(s, "~")
	if !ok {
		return time.Time{}, time.Time{}, core.Invalid("window_format", "value", s)
	}
	start, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(from), b.cfg.Location)
	if err != nil {
		return time.Time{}, time.Time{}, core.Invalid("window_format", "value", s)
	}
	to = strings.TrimSpace(to)
	end, err := time.ParseInLocation("2006-01-02 15:04", to, b.cfg.Location)
	if err != nil {
		hm, err2 := time.Parse("15:04", to)
		if err2 != nil {
			return time.Time{}, time.Time{}, core.Invalid("window_format", "value", s)
		}
		end = time.Date(start.Year(), start.Month(), start.Day(), hm.Hour(), hm.Minute(), 0, 0, b.cfg.Location)
		if !end.After(start) {
			end = end.AddDate(0, 0, 1)
		}
	}
	return start, end, nil
}

func (b *Bot) changeNew(ctx context.Context, r *Request) ([]Message, error) {
	start, end, err := b.parseWindow(r.Flag("window"))
	if err != nil {
		return nil, err
	}
	res, err := b.approvals.RequestChange(ctx, r.Actor, approval.ChangeInput{
		Title: r.Args[0], Target: r.Flag("target"), Risk: canonicalValue(r.Flag("risk")), Plan: r.Flag("plan"),
		Rollback: r.Flag("rollback"), Start: start, End: end, Emergency: r.Has("emergency"),
	})
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) opRequest(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.approvals.RequestOperation(ctx, r.Actor, r.Args[0], r.Flag("reason"))
	if err != nil {
		return nil, err
	}
	return b.submitted(ctx, res)
}

func (b *Bot) requestList(ctx context.Context, r *Request) ([]Message, error) {
	mine, pending := r.Has("mine"), r.Has("pending")
	if !mine && !pending {
		mine, pending = true, true
	}
	own, waiting, err := b.approvals.List(ctx, r.Actor, mine, pending)
	if err != nil {
		return nil, err
	}
	var parts []string
	if pending {
		parts = append(parts, "**"+b.t("request.list.pending")+"**")
		parts = append(parts, b.detailLines(waiting)...)
	}
	if mine {
		parts = append(parts, "**"+b.t("request.list.mine")+"**")
		parts = append(parts, b.detailLines(own)...)
	}
	return reply(Message{Title: b.t("request.list.title"), Text: strings.Join(parts, "\n")})
}

func (b *Bot) detailLines(ds []approval.Detail) []string {
	if len(ds) == 0 {
		return []string{b.t("none")}
	}
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		r := d.Request
		line := "- #" + itoa64(r.ID) + " " + b.t("kind."+string(r.Kind)) + " · " + r.Title + " · " + b.t("state."+string(r.State))
		if r.State == approval.StatePending {
			line += " · " + b.stepLabel(d.Steps[r.Step-1], r.Step, len(d.Steps)) + " · " + b.t("field.since") + " " + b.fmtTime(r.StepSince)
		}
		out = append(out, line)
	}
	return out
}

func (b *Bot) requestShow(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	d, err := b.approvals.Show(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	req := d.Request
	fields := []Field{
		{Name: b.t("field.requester"), Value: req.Requester},
		{Name: b.t("field.status"), Value: b.t("state." + string(req.State))},
	}
	if req.State == approval.StatePending {
		fields = append(fields, Field{Name: b.t("field.next"), Value: b.stepLabel(d.Steps[req.Step-1], req.Step, len(d.Steps)) + " · " + b.names(ctx, d.Next)})
	}
	fields = append(fields, b.payloadFields(req.Payload)...)
	lines := []string{"- " + b.fmtTime(req.CreatedAt) + " " + req.Requester + " " + b.t("verb.submit")}
	for _, dec := range d.Decisions {
		line := "- " + b.fmtTime(dec.At) + " " + dec.Actor + "（" + dec.Platform + "）" + b.t("verb."+dec.Verb) +
			" · " + b.stepLabel(d.Steps[dec.Step-1], dec.Step, len(d.Steps))
		if dec.Note != "" {
			line += "：" + dec.Note
		}
		lines = append(lines, line)
	}
	return reply(Message{Ref: req.Ref(), Title: b.t("approval.show.title", "id", itoa64(req.ID), "kind", b.t("kind."+string(req.Kind)), "title", req.Title),
		Text: strings.Join(lines, "\n"), Fields: fields})
}

func (b *Bot) requestCancel(ctx context.Context, r *Request) ([]Message, error) {
	id, err := requestID(r.Args[0])
	if err != nil {
		return nil, err
	}
	req, err := b.approvals.Cancel(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: req.Ref(), Text: b.t("approval.cancelled", "id", itoa64(req.ID))})
}

// requestLine is "应用上线 · 双随机抽查系统".
func (b *Bot) requestLine(r approval.Request) string {
	return b.t("kind."+string(r.Kind)) + " · " + r.Title
}

// stepLabel is "第 1/2 步：审批".
func (b *Bot) stepLabel(st approval.Step, n, of int) string {
	return b.t("approval.step", "n", strconv.Itoa(n), "of", strconv.Itoa(of), "name", b.t("step."+st.Name))
}

// names renders user ids with names where known.
func (b *Bot) names(ctx context.Context, ids []string) string {
	if len(ids) == 0 {
		return b.t("none")
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if p, err := b.org.ShowUser(ctx, core.SystemActor(), id); err == nil {
			out[i] = p.User.Name + "(" + id + ")"
		}
	}
	return strings.Join(out, "、")
}

func (b *Bot) payloadFields(p map[string]string) []Field {
	var out []Field
	for _, k := range payloadFields {
		if v := p[k]; v != "" {
			if k == "emergency" {
				v = b.t("yesno." + v)
			}
			out = append(out, Field{Name: b.t("field." + k), Value: v})
		}
	}
	return out
}

// cardButtons turns step verbs into buttons.
func (b *Bot) cardButtons(verbs, value string) []Button {
	var out []Button
	for _, v := range strings.Split(verbs, ",") {
		if v == "" {
			continue
		}
		btn := Button{Action: "approval." + v, Value: value, Label: b.t("verb." + v), Style: approvalVerbs[v]}
		if v == approval.VerbConfirm || v == approval.VerbPublish {
			btn.Confirm = b.t("confirm." + v)
		}
		out = append(out, btn)
	}
	return out
}

// renderApproval renders approval notices; ok is false for other kinds.
func (b *Bot) renderApproval(n notice) (Message, bool) {
	d := n.Data
	p := map[string]string{}
	for k, v := range d {
		if rest, ok := strings.CutPrefix(k, "p."); ok {
			p[rest] = v
		}
	}
	kind := b.t("kind." + d["kind"])
	step, _ := strconv.Atoi(d["step"])
	steps, _ := strconv.Atoi(d["steps"])
	stepText := b.stepLabel(approval.Step{Name: d["step_name"]}, step, steps)
	base := []Field{{Name: b.t("field.requester"), Value: d["requester_name"] + "(" + d["requester"] + ")"}}
	if d["app"] != "" {
		base = append(base, Field{Name: b.t("field.app"), Value: d["app"]})
	}
	base = append(base, b.payloadFields(p)...)
	switch {
	case n.Kind == approval.NoticeCard || n.Kind == approval.NoticeRemind:
		m := Message{Ref: n.Ref, Status: StatusNotice,
			Title:   b.t("approval.card.title", "step", b.t("step."+d["step_name"]), "kind", kind, "title", d["title"], "id", d["id"]),
			Text:    stepText,
			Fields:  base,
			Buttons: b.cardButtons(d["verbs"], n.Ref),
		}
		if d["approved_by"] != "" {
			m.Fields = append(m.Fields, Field{Name: b.t("field.approved_by"), Value: d["approved_by"]})
		}
		if n.Kind == approval.NoticeRemind {
			m.Title = b.t("approval.remind.title") + m.Title
			m.Text = b.t("approval.remind", "since", d["since"]) + "\n" + stepText
		}
		return m, true
	case n.Kind == approval.NoticeUpdate:
		outcome := b.t("approval.outcome", "by", d["decided_by_name"]+"("+d["decided_by"]+")", "verb", b.t("verb."+d["decided_verb"]), "at", d["decided_at"])
		if d["note"] != "" {
			outcome += "：" + d["note"]
		}
		m := Message{Ref: n.Ref, Status: StatusNotice,
			Title:  b.t("approval.done.title", "verb", b.t("verb."+d["decided_verb"]), "kind", kind, "title", d["title"], "id", d["id"]),
			Text:   stepText + "\n" + outcome,
			Fields: base,
		}
		if d["waiting"] != "" {
			m.Title = b.t("approval.card.title", "step", b.t("step."+d["step_name"]), "kind", kind, "title", d["title"], "id", d["id"])
			m.Text = stepText + "\n" + outcome + "\n" + b.t("approval.waiting", "n", d["waiting"])
			m.Buttons = b.cardButtons(d["verbs"], n.Ref)
		}
		return m, true
	case n.Kind == approval.NoticeProgress:
		text := b.t("approval.progress", "id", d["id"], "kind", kind, "title", d["title"], "by", d["by_name"], "verb", b.t("verb."+d["verb"]))
		if d["note"] != "" {
			text += "：" + d["note"]
		}
		if d["next_step"] != "" {
			text += "\n" + b.t("approval.progress.next", "step", b.t("step."+d["next_step"]))
		} else {
			text += "\n" + b.t("field.status") + "：" + b.t("state."+d["state"])
		}
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("approval.progress.title", "id", d["id"]), Text: text}, true
	case n.Kind == approval.NoticeWindowMiss:
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("change.window_missed.title", "id", d["id"]),
			Text: b.t("change.window_missed", "id", d["id"], "title", d["title"], "window", p["window"]), Fields: base}, true
	case strings.HasPrefix(n.Kind, approval.NoticeAnnounce+"."):
		what := strings.TrimPrefix(n.Kind, approval.NoticeAnnounce+".")
		return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("announce."+what+".title", "app_name", d["app_name"], "title", d["title"]),
			Text: tmap(b.cfg.Language, "announce."+what, d)}, true
	}
	return Message{}, false
}
