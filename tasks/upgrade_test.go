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
