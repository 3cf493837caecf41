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
		"The working calendar has no statutory holidays or make-up days for 2027; SLAs, reminders and rotations would count weekends only. Enter them with /calendar set <date> holiday|workday once announced."},
	{"approval.card", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"","p.version":"v2.1","p.notes":"修复导出","p.level":"city"}`,
		"step 1/4: approval"},
	{"approval.remind", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"","p.version":"v2.1","p.notes":"修复导出","p.level":"city","since":"2026-11-23 09:30"}`,
		"Waiting for you since 2026-11-23 09:30.\nstep 1/4: approval"},
	{"update.approval", "request:12#1", `{"id":"12","kind":"app_release","title":"双随机抽查系统 v2.1","requester":"wuhao","requester_name":"吴昊","step":"1","steps":"4","step_name":"approve","verbs":"approve,reject","app":"sjsj","unit":"xc-market","state":"pending","count":"1","approved_by":"admin","p.version":"v2.1","p.notes":"修复导出","p.level":"city","decided_verb":"approve","decided_by":"admin","decided_by_name":"系统管理员","decided_at":"2026-11-23 10:05","note":"同意"}`,
		"step 1/4: approval\napproved by 系统管理员(admin) at 2026-11-23 10:05：同意"},
	{"update.approval", "request:13#1", `{"id":"13","kind":"operation","title":"清理历史日志","requester":"sunli","requester_name":"孙丽","step":"1","steps":"2","step_name":"approve","verbs":"approve,reject","app":"","unit":"city","state":"pending","count":"2","approved_by":"admin","p.reason":"磁盘将满","decided_verb":"approve","decided_by":"admin","decided_by_name":"系统管理员","decided_at":"2026-11-23 10:05","note":"","waiting":"1"}`,
		"step 1/2: approval\napproved by 系统管理员(admin) at 2026-11-23 10:05\n1 more approval(s) needed"},
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
		"王芳 revoked your unit admin(unit_admin) on xc-market. unit merged into xc-civil"},
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
		want = append(want, "user:old|"+r.want)
	}
	require.Equal(t, want, b.rec.sent()[1:])
}

// allPlugs plugs every domain with no services behind it: enough to
// render notices.
func allPlugs() []bot.Plug {
	return []bot.Plug{bot.Approvals(nil), bot.Incidents(nil, nil, time.Minute), bot.Tickets(nil), bot.Inspections(nil),
		bot.Backups(nil), bot.Calendar(nil), bot.Digests(nil, "08:30")}
}
