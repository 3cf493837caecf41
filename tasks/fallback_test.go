package tasks_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/delivery"
	"opsbot/tasks"
)

// brokenPlatform fails every send for good, as WeCom does for a user who
// left the corp.
type brokenPlatform struct{ sends int }

func (p *brokenPlatform) Platform() string { return core.PlatformWeCom }

func (p *brokenPlatform) Send(context.Context, core.Recipient, bot.Message) error {
	p.sends++
	return bot.Permanent(errors.New("wecom: 60111 user not found"))
}

// TestPermanentFailureFallsBackToWebchat (issue 21 item 11): a notice
// that fails for good on the user's first platform goes to the next one
// (webchat), and the failure is counted for the sys admins' hourly notice.
func TestPermanentFailureFallsBackToWebchat(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	broken := &brokenPlatform{}
	addresses := func(_ context.Context, user string) (map[string]string, error) {
		return map[string]string{core.PlatformWeCom: "wx-" + user, core.PlatformWebchat: user}, nil
	}
	del := tasks.NewDeliverer(tasks.DeliveryConfig{
		Platforms: []string{core.PlatformWeCom, core.PlatformWebchat}, RetryBase: 50 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, MaxAttempts: 5,
	}, b.store.Outbox(), b.renderer, []bot.Sender{broken, b.rec}, addresses, b.queue, b.log, nil)
	addUser(t, b, "fb1")
	require.NoError(t, del.Deliver(ctx, 1))
	require.Equal(t, 1, broken.sends, "tried on WeCom first")
	require.Equal(t, []string{"user:fb1"}, recipients(b.rec.sent()), "then on webchat")
	state, _, err := b.store.Outbox().State(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "delivered", state)
	require.NoError(t, del.Deliver(ctx, 1))
	require.Equal(t, 1, broken.sends, "delivered rows are not tried again")
	require.Len(t, b.rec.sent(), 1)

	// The hourly report tells the sys admins once, with the count.
	report := delivery.NewService(b.store.Delivery(), core.SystemClock{})
	n, err := report.Report(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var notices int
	var data string
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*), max(data::text) FROM outbox
		WHERE kind = 'delivery.failures' AND to_user = 'admin'`).Scan(&notices, &data))
	require.Equal(t, 1, notices)
	require.Contains(t, data, `"platforms": [{"count": 1, "platform": "wecom"}]`)
	n, err = report.Report(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "each failure is reported once")

	// Two replicas reporting at once count each failure once.
	addUser(t, b, "fb2")
	require.NoError(t, del.Deliver(ctx, 3))
	require.Equal(t, 2, broken.sends)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Add(1)
		go func() { defer wg.Done(); counts[i], _ = report.Report(ctx) }()
	}
	wg.Wait()
	require.Equal(t, 1, counts[0]+counts[1])
}
