package bot

import (
	"context"
	"go/ast"
	"go/token"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/approval"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
)

// Realistic notice samples. The golden test fills payloads with field
// names ("title", "s"), which hide English leaking into Chinese text; here
// every string field gets values a real notice carries, and every enum
// field each of its values. A value is looked up as "<pkg>.<Struct>.<Field>"
// (for names that mean different things in different payloads) and then by
// "<Field>"; a field with neither fails the test, so a new payload field
// must add its realistic values here.
var realisticFields = map[string][]string{
	// people: user ids (the test bot's name source, testNames, names
	// them) and names
	"By": {"zhangsan"}, "ByName": {"张三"}, "Owner": {"lisi"}, "Owners": {"lisi"}, "ActionOwner": {"lisi"},
	"Requester": {"wangwu"}, "RequesterName": {"王五"}, "ApprovedBy": {"zhangsan"}, "AssignedBy": {"zhangsan"},
	"DecidedBy": {"zhangsan"}, "DecidedByName": {"张三"}, "DeclaredBy": {"zhangsan"}, "DoneBy": {"lisi"},
	"Asker": {"wangwu"}, "Assignees": {"lisi"}, "OnDuty": {"lisi"}, "NextDuty": {"wangwu"}, "Incoming": {"wangwu"},
	"Outgoing": {"lisi"}, "SignedBy": {"zhangsan"}, "digest.Digest.OnDuty": {"网络组: lisi / wangwu"},
	// free text written by people
	"Title": {"政务外网出口中断"}, "Summary": {"出口链路恢复，业务正常"}, "Note": {"已核实"}, "Notes": {"机房空调巡检正常"},
	"Text": {"今晚 22:00 系统维护"}, "Body": {"已更换交换机端口"}, "Item": {"核对备份日志"}, "Items": {"机房温湿度"},
	"OpenItems": {"跟进出口链路"}, "Notice": {"outage", "recovery"}, "Lift": {"预警解除"},
	"emergency.IncidentReport.Action": {"incident.ack"},
	"incident.ActionDue.Action":       {"更换光模块"}, "incident.ActionOverdue.Action": {"更换光模块"},
	"Plan": {"每日机房巡检"}, "Name": {"值班日志"}, "StepName": {"approve"}, "NextStep": {"approve2"},
	"Label": {"同意"}, "Confirm": {"确认同意？"}, "Value": {"3"}, "Rotation": {"网络组"},
	// systems, units, apps: codes and names
	"System": {"政务外网"}, "Unit": {"x1020"}, "UnitName": {"市大数据局"}, "UnitNames": {"市大数据局"},
	"Units": {"x1020"}, "NoUnit": {"政务外网"}, "From": {"市大数据局"}, "To": {"市政务服务中心"},
	"App": {"zwfw"}, "AppName": {"政务服务网"}, "ScopeNames": {"示范市"}, "Scope": {"x1020"},
	"monthly.Report.Scope": {"x1020"}, "PolicyMissing": {"政务外网"}, "Version": {"v2.3.1"},
	"ExternalURL": {"https://alerts.example.gov.cn/#/alerts"}, "Platform": {"wecom", "slack", "webchat"},
	"Ref": {"ref:42"}, "Hash": {"9f2c4e1a"}, "Sig": {"3045a1"}, "KeyID": {"k1"}, "Broken": {""},
	// dates
	"Day": {"2026-11-22"}, "Month": {"2026-10"}, "Quarter": {"2026Q4"}, "Due": {"2026-11-30"},
	// enums
	"Role":                           {string(org.RoleSysAdmin), string(org.RoleDistrictAdmin), string(org.RoleUnitAdmin), string(org.RoleUnitContact), string(org.RoleOperator), string(org.RoleAccessParty)},
	"org.RoleRevoked.Reason":         {"", "unit removed", "unit merged into x1021"},
	"incident.Brief.Source":          {incident.SourceChat, incident.SourceAPI, incident.SourceAlertmanager},
	"incident.Brief.State":           {incident.StateDeclared, incident.StateAcknowledged, incident.StateMitigated, incident.StateResolved, incident.StateClosed},
	"emergency.IncidentReport.State": {incident.StateDeclared, incident.StateAcknowledged, incident.StateMitigated, incident.StateResolved, incident.StateClosed},
	"incident.EventNotice.Event":     {"declare", "ack", "assign", "update", "level", "escalate", "mitigate", "resolve", "review", "report_overdue", "auto_resolve", "reopen", "joint", "silence", "notice", "problem"},
	"ticket.Step.Event":              {"answer", "forward", "wait", "reply", "close"},
	"approval.Card.Kind":             approvalKinds(),
	"approval.Progress.Kind":         approvalKinds(),
	"approval.Card.State":            approvalStates(),
	"approval.Progress.State":        approvalStates(),
	"Verbs":                          {"approve", "reject"},
	"Verb":                           {"approve", "reject"},
	"DecidedVerb":                    {"approve", "reject", "cancel"},
	"ticket.Subject.Kind":            {"tech", "business", "disclosure"},
	"ticket.Leg.Kind":                {"tech", "business", "disclosure"},
	"backup.Failed.Kind":             {"full", "incremental"},
	"digest.Scope.Kind":              {"city", "district", "unit"},
	"duty.HandoverNotice.State":      {"pending", "accepted"},
	"inspect.Checklist.State":        {inspect.StatePending, inspect.StateDone},
	"States":                         {inspect.ItemOK, inspect.ItemIssue, ""},
	"problem.Due.State":              {problem.StateNew, problem.StateAnalysing, problem.StateCauseFound, problem.StateResolved, problem.StateClosed},
	"monthly.Action.Kind":            {"monthly", "check"},
	"monthly.Action.State":           {"open", "done"},
	"emergency.FindingNotice.Stage":  {"drill", "review"},
	"chat.Reply.Status":              {"ok", "error", "info"},
	"Status":                         {"ok"},
	"Style":                          {"primary", "danger"},
	"Action":                         {"approve"},
	"Event":                          {"declare"},
	"Kind":                           {"full"},
	"State":                          {"open"},
	"Stage":                          {"drill"},
	"Reason":                         {""},
	// core markers the bot renders (coreText)
	"incident.Brief.Title": {"政务外网出口中断", "db1 backup failed 2026-11-22: 磁盘已满"}, "incident.Brief.Summary": {"出口链路恢复，业务正常", alert.ResolvedSummary},
}

func approvalKinds() []string {
	return []string{string(approval.KindAppOnline), string(approval.KindAppOffline), string(approval.KindRelease), string(approval.KindPermission),
		string(approval.KindChange), string(approval.KindOperation), string(approval.KindAppNotice), string(approval.KindRevoke),
		string(approval.KindOrgChange), string(approval.KindBackupAccess)}
}

func approvalStates() []string {
	return []string{string(approval.StatePending), string(approval.StateDone), string(approval.StateRejected), string(approval.StateCancelled), string(approval.StateExpired)}
}

// realisticInts: int fields by name; levels take each of 1-4.
var realisticInts = map[string][]int64{"Level": {1, 2, 3, 4}, "Step": {1}, "Steps": {2}}

// realisticDurations: every duration field takes these values.
var realisticDurations = []time.Duration{2 * time.Hour, 90 * time.Minute, 26*time.Hour + 5*time.Minute}

// realisticSamples builds one payload per enum value of T's sample: the
// first of every value list, then each further value of one field at a
// time.
func realisticSamples(t *testing.T, base core.Payload) []core.Payload {
	t.Helper()
	type choice struct{ key string }
	var variants []map[string]int
	seen := map[string]int{}
	var collect func(tp reflect.Type, d int)
	collect = func(tp reflect.Type, d int) {
		if d > 4 || tp == timeType {
			return
		}
		switch tp.Kind() {
		case reflect.Struct:
			for i := 0; i < tp.NumField(); i++ {
				f := tp.Field(i)
				if !f.IsExported() {
					continue
				}
				ft := f.Type
				if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String {
					ft = ft.Elem()
				}
				switch {
				case ft.Kind() == reflect.String:
					key, vals := lookupField(tp, f.Name)
					require.NotEmptyf(t, vals, "%s.%s has no realistic value in realisticFields (zh_test.go)", tp, f.Name)
					seen[key] = len(vals)
				case ft == reflect.TypeOf(time.Duration(0)):
					seen["duration"] = len(realisticDurations)
				case ft.Kind() == reflect.Int || ft.Kind() == reflect.Int64:
					if vals, ok := realisticInts[f.Name]; ok {
						seen["int."+f.Name] = len(vals)
					}
				default:
					collect(f.Type, d+1)
				}
			}
		case reflect.Slice, reflect.Pointer, reflect.Array:
			collect(tp.Elem(), d+1)
		case reflect.Map:
			collect(tp.Elem(), d+1)
		}
	}
	collect(reflect.TypeOf(base), 0)
	variants = append(variants, map[string]int{})
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for i := 1; i < seen[k]; i++ {
			variants = append(variants, map[string]int{k: i})
		}
	}
	out := make([]core.Payload, 0, len(variants))
	for _, pick := range variants {
		v := reflect.New(reflect.TypeOf(base)).Elem()
		v.Set(reflect.ValueOf(base))
		realistic(v, pick, 0)
		out = append(out, v.Interface().(core.Payload))
	}
	return out
}

func lookupField(parent reflect.Type, name string) (string, []string) {
	if vals, ok := realisticFields[parent.String()+"."+name]; ok {
		return parent.String() + "." + name, vals
	}
	return name, realisticFields[name]
}

// realistic overwrites the string, duration and level fields of a
// fill()ed sample with realistic values (pick: which value of a key).
func realistic(v reflect.Value, pick map[string]int, d int) {
	if d > 4 || v.Type() == timeType {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		tp := v.Type()
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			str := func() (string, bool) {
				key, vals := lookupField(tp, f.Name)
				if len(vals) == 0 {
					return "", false
				}
				return vals[pick[key]], true
			}
			switch {
			case fv.Kind() == reflect.String:
				if s, ok := str(); ok {
					fv.SetString(s)
				}
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
				if s, ok := str(); ok {
					for j := 0; j < fv.Len(); j++ {
						fv.Index(j).SetString(s)
					}
				}
			case fv.Type() == reflect.TypeOf(time.Duration(0)):
				fv.SetInt(int64(realisticDurations[pick["duration"]]))
			case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
				if vals, ok := realisticInts[f.Name]; ok {
					fv.SetInt(vals[pick["int."+f.Name]])
				}
			default:
				realistic(fv, pick, d+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			realistic(v.Index(i), pick, d+1)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			realistic(v.Elem(), pick, d+1)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			realistic(e, pick, d+1)
			v.SetMapIndex(k, e)
		}
	}
}

// English words allowed in Chinese text. Keep it short.
var (
	// product, platform, protocol and format names, written so in Chinese
	// text too
	allowedNames = []string{"WeCom", "Slack", "Alertmanager", "MTTA", "MTTR", "SLA", "API", "OIDC", "UAT", "IP", "URL",
		"HTTP", "CSRF", "JSON", "SHA", "UTF", "NUL", "PNG", "CSV", "ID"}
	// date format placeholders shown in examples (YYYY-MM-DD, YYYY-Qn)
	allowedFormats = []string{"YYYY", "MM", "DD", "HH", "Qn"}
	// codes of the samples: units, apps, keys
	allowedCodes = []string{"zwfw", "k1", "ref"}
	// role codes: a role is shown as 名称(code) because the code is what
	// /org role grant takes (roleName); the names helper may revisit this
	allowedRoleCodes = []string{string(org.RoleSysAdmin), string(org.RoleDistrictAdmin), string(org.RoleUnitAdmin),
		string(org.RoleUnitContact), string(org.RoleOperator), string(org.RoleAccessParty)}
)

// inputWords: per message, the English words it shows because the user
// must type them as they are (the valid values of an option, a config key
// an admin edits, a CLI command); the parser takes these literally.
// Showing Chinese aliases instead (parse.go valueAliases) is a follow-up.
var inputWords = map[string]string{
	"err.alertmanager_unreachable": "alerts alertmanager_url", "err.no_alertmanager": "alerts alertmanager_url",
	"err.api_unauthenticated": "Authorization Bearer opsb", "err.audit_unkeyed": "opsbot audit key_file",
	"err.channel_member_configured": "channels members", "err.channel_not_found": "channels",
	"err.not_service_user": "api service_users", "err.service_user_roles": "api service_users",
	"err.sync_not_configured": "wecom enabled", "err.sync_platform": "wecom", "err.platform": "wecom slack",
	"err.app_level": "city district unit", "err.app_scope": "unit cross", "err.level": "district unit department",
	"err.backup_kind": "full incremental", "err.backup_method": "full incremental", "err.backup_outcome": "ok fail",
	"err.change_risk": "low medium high", "err.incident_state": "open declared acknowledged mitigated resolved closed",
	"err.inspect_outcome": "ok issues", "err.ticket_kind": "tech business disclosure", "err.grant_kind": "visible inapp",
	"err.day_kind": "workday holiday", "err.schedule_kind": "workday holiday", "err.schedule_line": "workday holiday",
	"err.schedule_empty": "holiday", "err.duty_task_every": "month quarter year", "err.duty_task_rule": "day first working",
	"err.entity_ref": "user unit dc edu zhangsan", "err.language_unknown": "zh en", "err.token_scope": "read write",
	"err.read_only_token": "write", "err.report_not_found": "incidents inspections backups tickets approvals xlsx csv",
	// examples of durations as the options take them (6m = six months)
	"err.backup_retention": "6m", "err.inspect_grace": "1m 168h 2h", "err.token_expires": "12h", "err.trend_range": "3m 12m",
	// audit helper: audit entries name their object as type:id
	"err.audit_forbidden": "user zhangsan",
	// relative times as typed: +2h, +30m, +3d from now
	"err.when": "2h 30m 3d", "err.window_format": "2h 30m 3d",
}

// botArgs: arguments the bot adds to a core error before showing it.
var botArgs = map[string][]string{"note_required": {"hint"}}

var (
	// a Go duration (2h0m0s, 90m, 1h30m) is English too
	goDurations = regexp.MustCompile(`\b\d+(\.\d+)?(h|m|s|ms)(\d+(\.\d+)?(m|s))*\b`)
	asciiWord   = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*[A-Za-z]`)
	// what is not a word: URLs, e-mail addresses, /commands and opsbot
	// command lines with what follows up to the end of the clause (what a
	// user types), --flags with their value, versions, hex hashes, codes
	// with digits (x1020, 2026Q4).
	notWords = regexp.MustCompile(`https?://\S+|[\w.-]+@[\w.-]+|(^|[\s（(：:“"「，、])(/[a-z_-]+|opsbot [a-z])[^。，；）)”"」\n]*|--[a-z_-]+( [a-z_]+)?|\bv\d+(\.\d+)*|\b[0-9a-f]{6,}\b|\b\w*\d\w*\b`)
)

// englishWords returns the English words in s outside the allow-list.
func englishWords(s string) []string {
	allowed := map[string]bool{}
	for _, l := range [][]string{allowedNames, allowedFormats, allowedCodes, allowedRoleCodes} {
		for _, w := range l {
			allowed[w] = true
		}
	}
	out := goDurations.FindAllString(s, -1)
	s = notWords.ReplaceAllString(s, " ")
	for _, w := range asciiWord.FindAllString(s, -1) {
		if !allowed[w] {
			out = append(out, w)
		}
	}
	return out
}

// without drops the words of allowed (space-separated) from words.
func without(words []string, allowed string) []string {
	ok := map[string]bool{}
	for _, w := range strings.Fields(allowed) {
		ok[w] = true
	}
	var out []string
	for _, w := range words {
		if !ok[w] {
			out = append(out, w)
		}
	}
	return out
}

func visibleText(m Message) string {
	parts := []string{m.Title, m.Text}
	for _, f := range m.Fields {
		parts = append(parts, f.Name, f.Value)
	}
	for _, b := range m.Buttons {
		parts = append(parts, b.Label, b.Confirm)
	}
	return withoutNamedIDs(strings.Join(parts, "\n"))
}

// withoutNamedIDs drops the ids shown after a person's name where a
// command needs them ("张三（zhangsan）", personID): the name is what
// people read; a bare id stays and is caught.
func withoutNamedIDs(s string) string {
	for id, name := range testNames {
		s = strings.ReplaceAll(s, name+"（"+id+"）", name)
	}
	return s
}

func TestEnglishWordsChecker(t *testing.T) {
	t.Parallel()
	require.Empty(t, englishWords("请用 /incident list --level 2 查看 x1020 的 v2.3.1，详见 https://a.b/c?x=y 与 WeCom"))
	require.Equal(t, []string{"day", "permission"}, englishWords("每day于 09:00 交接，不能申请permission"))
	require.Equal(t, []string{"2h0m0s", "90m"}, englishWords("每 2h0m0s 报告，已过 90m"))
}

// TestNoEnglishInChinese renders every notice type with realistic
// payloads, and every error code with realistic arguments, in zh-CN, and
// fails on English words outside the allow-list.
func TestNoEnglishInChinese(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	t.Run("notices", func(t *testing.T) {
		t.Parallel()
		require.NotEmpty(t, b.renderers)
		types := make([]string, 0, len(b.renderers))
		for typ := range b.renderers {
			types = append(types, typ)
		}
		sort.Strings(types)
		for _, typ := range types {
			for i, p := range realisticSamples(t, b.renderers[typ].sample()) {
				m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "ref:1", To: core.Recipient{User: "lisi"}, Body: p})
				require.NoErrorf(t, err, "%s", typ)
				text := visibleText(m)
				if w := englishWords(text); len(w) > 0 {
					t.Errorf("%s sample %d: English %q in:\n%s", typ, i, w, text)
				}
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		sites := errorCallSites(t)
		require.Greater(t, len(sites), 100)
		codes := make([]string, 0, len(sites))
		for c := range sites {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, code := range codes {
			for _, args := range sites[code] {
				var kv []string
				for _, a := range args {
					v, ok := realisticArgs[a]
					require.Truef(t, ok, "error %s: argument %q has no realistic value in realisticArgs (zh_test.go)", code, a)
					kv = append(kv, a, v)
				}
				for _, a := range botArgs[code] {
					kv = append(kv, a, realisticArgs[a])
				}
				m := b.ErrorReply(core.Invalid(code, kv...), nil)
				if w := without(englishWords(visibleText(m)), inputWords["err."+code]); len(w) > 0 {
					t.Errorf("err.%s%v: English %q in:\n%s", code, args, w, m.Text)
				}
			}
		}
		for _, code := range []string{"unknown_flag", "flag_value"} {
			m := b.ErrorReply(&usageError{code: code, arg: "--levle"}, nil)
			if w := englishWords(visibleText(m)); len(w) > 0 {
				t.Errorf("usage %s: English %q in:\n%s", code, w, m.Text)
			}
		}
	})
}

// realisticArgs: the raw value a core error carries for each argument
// name, as core passes it (codes, enum words, durations), before the bot
// localises it.
var realisticArgs = map[string]string{
	"action": "org.user.add", "method": "voice", "app": "zwfw", "at": "2026-11-23 09:30", "by": "zhangsan", "channel": "值班群",
	"choices": "zhangsan、zhangsan2", "code": "x1020", "constraint": "users_pkey", "count": "12000",
	"email": "zhangsan@example.gov.cn", "entity": "user:zhangsan", "field": "title", "from": "2026-11-01",
	"to": "2026-11-30", "from_level": "district", "into_level": "city", "parent_level": "district", "level": "district",
	"want": "unit", "grantee": "user:lisi", "id": "42", "incoming": "wangwu", "into": "x1021", "istate": "acknowledged",
	"item": "机房温湿度", "kind": "permission", "language": "粤语", "line": "3", "max": "200", "methods": "full, incremental",
	"missing": "--test-plan --steps", "hint": "/approve 42 已核实", "month": "2026-10", "n": "2", "name": "张三", "need": "analysing",
	"next_end": "2026-11-24 04:00", "next_start": "2026-11-24 02:00", "start": "2026-11-24 02:00", "on_duty": "lisi",
	"owner": "lisi", "page": "4", "pages": "3", "parent": "x1000", "platform": "wecom", "pstate": "open", "pstep": "analyse", "quarter": "2026Q4",
	"requester": "wangwu", "role": "unit_admin", "roles": "unit_admin,district_admin", "rotation": "网络组",
	"scope": "x1020", "scopes": "x1020、x1021", "seconds": "30", "seq": "1024", "since": "2026-11-01T00:00:00+08:00",
	"until": "2026-11-30T00:00:00+08:00", "state": "open", "status": "offline", "step": "approve",
	"system": "政务外网", "topic": "事件", "unit": "x1020", "units": "2", "url": "http://127.0.0.1:9093",
	"user": "zhangsan", "users": "3", "value": "42x", "verb": "approve", "verbs": "approve,reject",
	"window": "2026-11-24 02:00–04:00",
	// text of a Go error (a parse error, a broken hash chain): system text,
	// not translatable; a code stands in for it
	"reason": "E42", "why": "E42", "detail": "E42",
}

// errorCallSites finds each core error built in the tree with the argument
// names of each call (the string literals at the key positions).
func errorCallSites(t *testing.T) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	goSources(t, func(_ string, _ *token.FileSet, f *ast.File) {
		inCore := f.Name.Name == "core"
		ast.Inspect(f, func(n ast.Node) bool {
			code, x, ok := coreErrorCall(n, inCore)
			if !ok {
				return true
			}
			var args []string
			for i := 1; i < len(x.Args); i += 2 {
				if a, ok := x.Args[i].(*ast.BasicLit); ok && a.Kind == token.STRING {
					s, _ := strconv.Unquote(a.Value)
					args = append(args, s)
				}
			}
			out[code] = append(out[code], args)
			return true
		})
	})
	return out
}
