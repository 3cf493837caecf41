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
	{"ticket.card", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"open","due":"2026-12-02 17:30","assignees":"op1,op2","answer":""}`,
		"Ticket #12 from u7 is due by 2026-12-02 17:30 (/ticket answer 12 <answer>)."},
	{"ticket.event", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"waiting","due":"2026-12-02 17:30","assignees":"op1","answer":"","event":"wait","body":"哪个账号？","by":"op1"}`,
		"op1 asked：哪个账号？"},
	{"ticket.event", "ticket:12", `{"id":"12","kind":"tech","title":"VPN 无法登录","asker":"u7","app":"","state":"closed","due":"2026-12-02 17:30","assignees":"op1","answer":"已重置","event":"close","body":"","by":"op1"}`,
		"op1 closed"},
	{"ticket.remind", "ticket:12", `{"id":"12","kind":"business","title":"审批流程咨询","asker":"u7","app":"oa","state":"open","due":"2026-12-07 17:30","assignees":"ap1","answer":"","mark":"80"}`,
		"Ticket #12 has used 80% of its time; answer by 2026-12-07 17:30."},
	{"ticket.overdue", "ticket:12", `{"id":"12","kind":"disclosure","title":"年度报告公开","asker":"u7","app":"","state":"open","due":"2026-12-28 17:30","assignees":"ua1,ua2","answer":""}`,
		"Ticket #12 passed its deadline 2026-12-28 17:30 unanswered (assignees ua1,ua2)."},
	{"digest.daily", "digest:2026-11-29:mgr", `{"day":"2026-11-27 ~ 2026-11-29","scope":"district","scope_names":"东区","opened":"3","closed":"2",` +
		`"open_l1":"0","open_l2":"1","open_l3":"0","open_l4":"0","mtta":"12m0s","mttr":"1h30m0s","acked":"3","resolved":"2","escalations":"1",` +
		`"tickets_due":"1","tickets_overdue":"0","approvals_waiting":"2","inspections_done":"4","inspections_missed":"0","inspections_open":"1",` +
		`"backups_ok":"9","backups_failed":"1","backups_missing":"0","on_duty":"ops: a / b\nnet: c",` +
		`"series":"2026-11-16:0:-1,2026-11-17:1:100,2026-11-18:0:-1,2026-11-19:2:50,2026-11-20:0:-1,2026-11-21:0:-1,2026-11-22:0:-1,` +
		`2026-11-23:1:100,2026-11-24:0:-1,2026-11-25:0:-1,2026-11-26:0:-1,2026-11-27:1:-1,2026-11-28:1:-1,2026-11-29:1:0"}`,
		"Chart: incidents opened per day (bars) and tickets answered in time (line), last 14 days."},
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
