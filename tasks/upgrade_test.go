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
		"Level II (major) incident #12 (Site down) is declared; 24-hour duty until closure: zhangsan,wangwu,zhaoliu."},
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
	return []bot.Plug{bot.Approvals(nil), bot.Incidents(nil), bot.Duty(nil, nil, time.Minute), bot.Problems(nil), bot.Alerts(nil, nil), bot.Tickets(nil), bot.Inspections(nil),
		bot.Backups(nil), bot.Calendar(nil), bot.Digests(nil, "08:30")}
}
