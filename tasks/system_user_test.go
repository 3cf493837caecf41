package tasks_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/tasks"
)

// TestSystemUserGetsNoNotices: a notice addressed to the pseudo-user
// "system" (an alert incident's declarer, say) is dropped at delivery, once
// and counted in a log line, instead of being retried forever with
// user_not_found; a real user's notice in the same batch still goes out.
func TestSystemUserGetsNoNotices(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	var logs bytes.Buffer
	del := tasks.NewDeliverer(tasks.DeliveryConfig{Platforms: []string{core.PlatformWebchat}, RetryBase: 50 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, MaxAttempts: 5}, b.store.Outbox(), b.renderer, []bot.Sender{b.rec}, b.orgs.Addresses,
		b.queue, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	require.NoError(t, b.store.WithTx(ctx, func(tx *postgres.Tx) error {
		for _, to := range []string{core.SystemUser, core.SystemUser, "admin"} {
			if err := tx.Notify(ctx, core.Notice{Ref: "user:" + to, To: core.Recipient{User: to}, Body: org.UserAdded{ByName: "x", UnitName: "y"}}); err != nil {
				return err
			}
		}
		return nil
	}))
	for id := int64(1); id <= 3; id++ {
		require.NoError(t, del.Deliver(ctx, id))
		state, attempts, err := b.store.Outbox().State(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "delivered", state, "outbox %d", id)
		require.Equal(t, 1, attempts, "outbox %d", id)
	}
	require.Len(t, b.rec.sent(), 1)
	require.True(t, strings.HasPrefix(b.rec.sent()[0], "user:admin|"), b.rec.sent()[0])
	require.Equal(t, 2, strings.Count(logs.String(), "notice to the system user dropped"), logs.String())
	require.Contains(t, logs.String(), "dropped_total=2")
}
