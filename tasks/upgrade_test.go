package tasks_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/tasks"
)

// oldRows are outbox rows exactly as the release before typed notices
// wrote them: kind, ref, recipient and the renderer's string map, with no
// version column (the migration gives them version 0). Each domain whose
// notices become typed adds its kinds here, so a notice queued before an
// upgrade is still delivered after it.
var oldRows = []struct {
	kind, ref, data string
	want            string // the text delivered
}{
	{"org.user_added", "user:u1", `{"by":"admin","unit":"示范市"}`, "admin added you to 示范市. Type /help to see what you can do."},
	{"calendar.missing_year", "calendar:2027", `{"year":"2027"}`,
		"The working calendar has no official holidays or make-up days for 2027; until then the statutory holidays are computed (no make-up days) and ticket deadlines through 2027 are provisional. Load the State Council's schedule with /calendar import (one \"date holiday|workday name\" a line) or enter days with /calendar set <date> holiday|workday once announced."},
	{"ticket.card", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"open","due":"2026-12-02 17:30","assignees":"op1,op2","answer":""}`,
		"Ticket #12 from u7 is due by 2026-12-02 17:30 (/ticket answer 12 <answer>)."},
	{"ticket.event", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"waiting","due":"2026-12-02 17:30","assignees":"op1","answer":"","event":"wait","body":"哪个账号？","by":"op1"}`,
		"op1 asked：哪个账号？"},
	{"ticket.event", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"closed","due":"2026-12-02 17:30","assignees":"op1","answer":"已重置","event":"close","body":"","by":"op1"}`,
		"op1 closed"},
	{"ticket.remind", "ticket:12", `{"id":"12","kind":"business","title":"审批流程咨询","asker":"u7","app":"oa","state":"open","due":"2026-12-07 17:30","assignees":"ap1","answer":"","mark":"80"}`,
		"Ticket #12 has used 80% of its time; answer by 2026-12-07 17:30."},
	{"ticket.overdue", "ticket:12", `{"id":"12","kind":"disclosure","title":"年度报告公开","asker":"u7","app":"","state":"open","due":"2026-12-28 17:30","assignees":"ua1,ua2","answer":""}`,
		"Ticket #12 passed its deadline 2026-12-28 17:30 unanswered (assignees ua1, ua2)."},
	{"digest.daily", "digest:2026-11-29:mgr", `{"day":"2026-11-27 ~ 2026-11-29","scope":"district","scope_names":"东区","opened":"3","closed":"2",` +
		`"open_l1":"0","open_l2":"1","open_l3":"0","open_l4":"0","mtta":"12m0s","mttr":"1h30m0s","acked":"3","resolved":"2","escalations":"1",` +
		`"tickets_due":"1","tickets_overdue":"0","approvals_waiting":"2","inspections_done":"4","inspections_missed":"0","inspections_open":"1",` +
		`"backups_ok":"9","backups_failed":"1","backups_missing":"0","on_duty":"ops: a / b\nnet: c",` +
		`"series":"2026-11-16:0:-1,2026-11-17:1:100,2026-11-18:0:-1,2026-11-19:2:50,2026-11-20:0:-1,2026-11-21:0:-1,2026-11-22:0:-1,` +
		`2026-11-23:1:100,2026-11-24:0:-1,2026-11-25:0:-1,2026-11-26:0:-1,2026-11-27:1:-1,2026-11-28:1:-1,2026-11-29:1:0"}`,
		"Chart: incidents opened per day (bars) and tickets answered in time (line), last 14 days."},
	{"backup.missing", "backup-plan:1#2026-11-20", `{"system":"db1","day":"2026-11-20","due":"2026-11-20 02:00","full":"true"}`,
		"The backup report of db1 was due by 2026-11-20 02:00 and has not arrived; please check and report (/backup report db1 ok|fail). Today is the full-backup day."},
	{"backup.escalated", "backup-plan:1#2026-11-20", `{"system":"db1","day":"2026-11-20","due":"2026-11-20 02:00"}`,
		"The backup report of db1 (due 2026-11-20 02:00) is still missing; please follow up."},
	{"backup.fault", "backup-fault:2", `{"system":"db1","day":"2026-11-20","kind":"incremental","note":"disk full","by":"op1","report":"3","fault":"2","incident":"9"}`,
		"Backup of db1 for 2026-11-20 failed: disk full. Fault report #2 and incident #9 filed. Please re-run the backup and send /backup report db1 ok."},
	{"backup.recovered", "backup-fault:2", `{"system":"db1","fault":"2","incident":"9","by":"op1"}`,
		"op1 reported the re-run of db1 ok: fault report #2 closed (incident #9 can be resolved)."},
	{"backup.verify_due", "backup-plan:1#verify-2026-11", `{"system":"db1","month":"2026-11","due":"2026-11-25 18:00"}`,
		"The restore test of db1 for 2026-11 is due by 2026-11-25 18:00; record it with /backup verify db1 ok|fail --note …."},
	{"backup.verify_missed", "backup-plan:1#verify-2026-11", `{"system":"db1","month":"2026-11","due":"2026-11-25 18:00"}`,
		"The restore test of db1 for 2026-11 is past its deadline 2026-11-25 18:00; please follow up."},
	{"backup.audit", "backup-audit:2026-10", `{"month":"2026-10","systems":"db1|31|30|1|1|1|true\ndb2|31|31|0|0|0|false","signed_by":""}`,
		"Please check last month's backup record and sign it off."},
	{"update.backup.audit", "backup-audit:2026-10", `{"month":"2026-10","systems":"db1|31|30|1|1|1|true\ndb2|31|31|0|0|0|false","signed_by":"lead1","signed_at":"2026-11-02T09:00:00+08:00"}`,
		"Signed off by lead1."},
	{"inspect.card", "inspect:5", `{"id":"5","plan":"daily-check","items":"disk\nbackup","states":"\n","state":"pending","assignees":"op1,op2","due":"2026-11-20 09:00","issues":"0","missed":"false"}`,
		"Please do the inspection daily-check due 2026-11-20 09:00: tap OK or Issue per item, or send /inspect report daily-check ok."},
	{"inspect.remind", "inspect:5", `{"id":"5","plan":"daily-check","items":"disk\nbackup","states":"\n","state":"pending","assignees":"op1,op2","due":"2026-11-20 09:00","issues":"0","missed":"false"}`,
		"Inspection daily-check (2026-11-20 09:00) is not reported yet; please finish it."},
	{"inspect.escalated", "inspect:5", `{"id":"5","plan":"daily-check","items":"disk\nbackup","states":"\n","state":"pending","assignees":"op1,op2","due":"2026-11-20 09:00","issues":"0","missed":"true"}`,
		"Inspection daily-check (2026-11-20 09:00) is overdue, assignees op1, op2; please follow up."},
	{"inspect.issue", "inspect:5", `{"id":"5","plan":"daily-check","items":"disk\nbackup","states":"ok\nissue","state":"done","assignees":"op1,op2","due":"2026-11-20 09:00","issues":"1","missed":"false","incident":"12","by":"op1","note":"disk 95%"}`,
		"op1 found an issue during the inspection and opened incident #12: disk 95%"},
	{"update.inspect", "inspect:5", `{"id":"5","plan":"daily-check","items":"disk\nbackup","states":"ok\nok","state":"done","assignees":"op1,op2","due":"2026-11-20 09:00","issues":"0","missed":"false"}`,
		"Inspection daily-check is done."},
	{"approval.card", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"","p.version":"v2.1","p.notes":"修复导出","p.level":"city"}`,
		"step 1/4: approval"},
	{"approval.remind", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"","p.version":"v2.1","p.notes":"修复导出","p.level":"city","since":"2026-11-23 09:30"}`,
		"Waiting for you since 2026-11-23 09:30.\nstep 1/4: approval"},
	{"update.approval", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"admin","p.version":"v2.1","p.notes":"修复导出","p.level":"city","decided_verb":"approve","decided_by":"admin","decided_by_name":"系统管理员","decided_at":"2026-11-23 10:05","note":"同意"}`,
		"step 1/4: approval\napproved by 系统管理员 at 2026-11-23 10:05：同意"},
	{"update.approval", "request:13#1", `{"id":"13","kind":"operation","title":"清理历史日志","requester":"sunli","requester_name":"孙丽","step":"1","steps":"2","step_name":"approve","verbs":"approve,reject","app":"","unit":"city","state":"pending","count":"2","approved_by":"admin","p.reason":"磁盘将满","decided_verb":"approve","decided_by":"admin","decided_by_name":"系统管理员","decided_at":"2026-11-23 10:05","note":"","waiting":"1"}`,
		"step 1/2: approval\napproved by 系统管理员 at 2026-11-23 10:05\n1 more approval(s) needed"},
	{"approval.progress", "request:12", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","verb":"approve","by":"admin","by_name":"系统管理员","note":"同意","step_name":"approve","next_step":"uat","state":"pending"}`,
		"Your Release request #12 (双随机抽查系统 v2.1): approved by 系统管理员：同意\nNext: UAT"},
	{"approval.progress", "request:14", `{"id":"14","kind":"app_online","title":"双随机抽查系统","verb":"reject","by":"admin","by_name":"系统管理员","note":"材料不全","step_name":"approve","state":"rejected"}`,
		"Your App onboarding request #14 (双随机抽查系统): rejected by 系统管理员：材料不全\nStatus：rejected"},
	{"change.window_missed", "request:15", `{"id":"15","kind":"change","title":"数据库升级","requester":"sunli","requester_name":"孙丽","step":"3","steps":"5","step_name":"implement","verbs":"start","app":"","unit":"city","state":"pending","count":"1","approved_by":"","p.target":"db01","p.risk":"medium","p.plan":"滚动升级","p.rollback":"回切快照","p.window":"2026-11-25 22:00 ~ 2026-11-26 02:00","p.window_end":"2026-11-25T18:00:00Z","p.emergency":"no","since":"2026-11-24 10:00"}`,
		"The window 2026-11-25 22:00 ~ 2026-11-26 02:00 of change #15 (数据库升级) has ended and it has not started; postpone or withdraw it."},
	{"approval.announce.app_online", "request:16", `{"id":"16","app":"sjsj","title":"双随机抽查系统","app_name":"双随机抽查系统","note":"已部署"}`,
		"双随机抽查系统 (sjsj) is online. 已部署"},
	{"approval.announce.app_offline", "request:17", `{"id":"17","app":"sjsj","title":"双随机抽查系统","app_name":"双随机抽查系统","note":""}`,
		"双随机抽查系统 (sjsj) is offline; its grants were revoked. "},
	{"approval.announce.release_notice", "request:12", `{"id":"12","app":"sjsj","title":"双随机抽查系统 v2.1","version":"v2.1","notes":"修复导出","by_name":"孙丽","note":""}`,
		"双随机抽查系统 v2.1 passed UAT and is about to be released. Changes: 修复导出"},
	{"approval.announce.release_admin", "request:12", `{"id":"12","title":"双随机抽查系统 v2.1","app":"sjsj","version":"v2.1","notes":"修复导出","by_name":"孙丽","note":""}`,
		"孙丽 reports: 双随机抽查系统 v2.1 passed UAT and the release notice is published (request #12). Changes: 修复导出"},
	{"org.user_moved", "user:zhengmin", `{"from":"办公室","to":"东城区教育局","by":"张伟"}`,
		"张伟 moved you from 办公室 to 东城区教育局."},
	{"org.role_granted", "user:zhaolei", `{"role":"unit_contact","scope":"xc-civil","by":"王芳"}`,
		"王芳 granted you unit contact(unit_contact) on xc-civil."},
	// The previous release showed a literal "{reason}" here (no reason given).
	{"org.role_revoked", "user:zhaolei", `{"role":"unit_contact","scope":"xc-civil","by":"王芳"}`,
		"王芳 revoked your unit contact(unit_contact) on xc-civil."},
	{"org.role_revoked", "user:chenjing", `{"role":"unit_admin","scope":"xc-market","by":"王芳","reason":"unit merged into xc-civil"}`,
		"王芳 revoked your unit admin(unit_admin) on xc-market. (unit merged into xc-civil)"},
	// Incidents, duty, problems and alerts (29bd5a3: core/incident/*.go wrote these maps; bot/incident.go,
	// handover.go, problem.go and alert.go rendered them). Times were written as wall clock of the zone.
	{"incident.card", "incident:12#card", `{"id":"12","title":"Site down","level":"2","state":"declared","system":"portal","unit":"city","owner":"zhangsan","declared_by":"lisi","rotation":"ops","escalation":"0","created_at":"2026-11-23 10:00","summary":"","on_duty":"zhangsan、wangwu","next_duty":"zhaoliu","escalated":"1"}`,
		"unacknowledged"},
	{"incident.card", "incident:13#card", `{"id":"13","title":"HTTP 5xx portal","level":"3","state":"declared","system":"portal","unit":"","owner":"zhangsan","declared_by":"system","rotation":"ops","escalation":"0","created_at":"2026-11-23 10:00","summary":"","source":"alertmanager","firing":"2","resolved":"0","group_labels":"alertname=HTTP5xx, app=portal","joint":"1","external_url":"http://am:9093"}`,
		"unacknowledged"},
	{"incident.event", "incident:12", `{"id":"12","title":"Site down","level":"2","state":"acknowledged","system":"","unit":"","owner":"zhangsan","declared_by":"lisi","rotation":"ops","escalation":"1","created_at":"2026-11-23 10:00","summary":"","event":"update","body":"restarting web","by":"zhangsan","by_name":"张三"}`,
		"张三 update：restarting web\nStatus：in progress"},
	{"incident.progress", "incident:12", `{"id":"12","title":"Site down","level":"2","state":"acknowledged","owner":"zhangsan","declared_by":"lisi","escalation":"0","created_at":"2026-11-23 10:00","summary":"","last_update":"2026-11-23 18:05"}`,
		"Incident #12 (Site down) is open; last update 2026-11-23 18:05. Send /incident update 12 <progress>."},
	{"incident.overdue", "incident:12", `{"id":"12","title":"Site down","level":"2","state":"acknowledged","owner":"zhangsan","declared_by":"lisi","escalation":"0","created_at":"2026-11-23 10:00","summary":"","last_update":"2026-11-23 18:05"}`,
		"The owner zhangsan of incident #12 (Site down) missed a progress report (last 2026-11-23 18:05)."},
	{"incident.duty24", "incident:12", `{"id":"12","title":"Site down","level":"2","state":"declared","owner":"zhangsan","declared_by":"lisi","escalation":"0","created_at":"2026-11-23 10:00","summary":"","on_duty":"zhangsan,wangwu,zhaoliu"}`,
		"Level II (major) incident #12 (Site down) is declared; 24-hour duty until closure: zhangsan, wangwu, zhaoliu."},
	{"incident.action_due", "incident:12", `{"id":"12","title":"Site down","level":"2","state":"closed","owner":"zhangsan","declared_by":"lisi","escalation":"0","created_at":"2026-11-23 10:00","summary":"fixed","action":"add a disk alert","due":"2026-12-01","action_owner":"wangwu"}`,
		`The action "add a disk alert" of incident #12 (Site down) is due on 2026-12-01.`},
	{"incident.problem", "problem:3", `{"problem":"3","title":"portal：disk full","count":"3"}`,
		"3 incidents with the same system and cause in 30 days; problem #3 (portal：disk full) was proposed for a root-cause fix."},
	{"incident.notice_draft", "incident:13#notice:outage", `{"id":"13","title":"HTTP 5xx portal","level":"3","state":"declared","owner":"zhangsan","declared_by":"system","escalation":"0","created_at":"2026-11-23 10:00","summary":"","notice":"outage","app":"portal","app_name":"门户网站","since":"2026-11-23 10:00"}`,
		"门户网站 has been partly unavailable since 2026-11-23 10:00; operations and the app's team are working on it. We will announce the recovery."},
	{"incident.public_notice", "incident:13", `{"id":"13","title":"HTTP 5xx portal","level":"3","state":"resolved","owner":"zhangsan","declared_by":"system","escalation":"0","created_at":"2026-11-23 10:00","summary":"","notice":"recovery","app":"portal","app_name":"门户网站","by":"admin","by_name":"管理员","since":"2026-11-23 10:00","published":"1"}`,
		"The disruption of 门户网站 since 2026-11-23 10:00 is over. Thank you for your patience."},
	{"duty.handover", "handover:4#card", `{"id":"4","rotation":"ops","outgoing":"zhangsan","incoming":"wangwu","state":"pending","notes":"","open_items":"incident #12 L2 Site down [declared]","shift_start":"2026-11-23 09:00"}`,
		"zhangsan hands over to wangwu. The outgoing person may add notes with /duty handover <notes>; the incoming person taps Accept."},
	{"duty.handover_late", "handover:4", `{"id":"4","rotation":"ops","outgoing":"zhangsan","incoming":"wangwu","state":"pending","notes":"","open_items":"","shift_start":"2026-11-23 09:00","round":"1"}`,
		"The handover at 2026-11-23 09:00 (zhangsan → wangwu) is not accepted yet; tap Accept."},
	{"duty.handover_late", "handover:4", `{"id":"4","rotation":"ops","outgoing":"zhangsan","incoming":"wangwu","state":"pending","notes":"","open_items":"","shift_start":"2026-11-23 09:00","round":"2"}`,
		"The handover at 2026-11-23 09:00 (zhangsan → wangwu) is still not accepted after an hour; please follow up."},
}

// TestOldReleaseNoticesDelivered inserts rows in the previous release's
// format and delivers them with this release's renderers.
func TestOldReleaseNoticesDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	renderer := bot.New(bot.Config{Language: bot.LangEN, Location: time.UTC}, b.orgs, b.log, bot.Hooks{}, allPlugs()...)
	del := tasks.NewDeliverer(tasks.DeliveryConfig{Platforms: []string{core.PlatformWebchat}, RetryBase: 50 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, MaxAttempts: 5}, b.store.Outbox(), renderer, []bot.Sender{b.rec}, b.orgs.Addresses, b.queue, b.log, nil)
	addUser(t, b, "old")
	require.NoError(t, b.del.Deliver(ctx, 1)) // the welcome to "old"
	var want []string
	for _, r := range oldRows {
		var id int64
		err := b.store.Pool().QueryRow(ctx, `INSERT INTO outbox (kind, ref, to_user, to_channel, data) VALUES ($1, $2, 'old', '', $3) RETURNING id`,
			r.kind, r.ref, r.data).Scan(&id)
		require.NoError(t, err)
		if core.IsUpdate(r.kind) { // replaces cards the recorder never got: render it as delivery does
			m, err := renderer.Render(ctx, core.StoredNotice{Type: r.kind, Ref: r.ref, Payload: []byte(r.data)})
			require.NoError(t, err, r.kind)
			require.Equal(t, r.want, m.Text, r.kind)
			continue
		}
		require.NoError(t, del.Deliver(ctx, id), r.kind)
		state, _, err := b.store.Outbox().State(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "delivered", state, r.kind)
		if core.IsUpdate(r.kind) { // replaces cards already sent, sends nothing new: check its rendering
			m, err := renderer.Render(ctx, core.StoredNotice{Type: r.kind, Ref: r.ref, Payload: []byte(r.data)})
			require.NoError(t, err, r.kind)
			require.Equal(t, r.want, m.Text, r.kind)
			continue
		}
		want = append(want, "user:old|"+r.want)
	}
	require.Equal(t, want, b.rec.sent()[1:])
}

// allPlugs plugs every domain with no services behind it: enough to
// render notices.
func allPlugs() []bot.Plug {
	return []bot.Plug{bot.Approvals(nil), bot.Incidents(nil), bot.Duty(nil, nil, time.Minute), bot.Problems(nil, nil), bot.Alerts(nil, nil), bot.Tickets(nil), bot.Inspections(nil, nil),
		bot.Backups(nil), bot.Calendar(nil), bot.Digests(nil, "08:30"), bot.Monthly(nil, "09:00"), bot.Tokens(nil),
		bot.Emergency(nil), bot.DutyTasks(nil)}
}
