package wecom

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

// TestHeldMessagesAreNotOvertaken: a message held by the per-member limit
// goes out before any later one to that member (issue 18): once the
// window frees, the next send releases what is held first; a send that
// finds messages still held is held behind them.
func TestHeldMessagesAreNotOvertaken(t *testing.T) {
	b := setup(t, func(c *Config) { c.PerMemberMinute = 2 })
	ctx := context.Background()
	to := core.Recipient{User: "zhangsan"}
	for _, s := range []string{"告警 1", "告警 2", "告警 3"} {
		require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: s}))
	}
	require.Len(t, b.api.callsTo("message/send"), 2)
	require.Equal(t, 1, b.heldCount(t), "the third is held")

	b.clock.Advance(61 * time.Second) // the window frees; no Flush has run yet
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "告警 4"}))
	sends := b.api.callsTo("message/send")
	require.Len(t, sends, 4)
	require.Contains(t, sends[2].str("markdown", "content")+sends[2].str("text", "content"), "告警 3", "the held one went first")
	require.Contains(t, sends[3].str("markdown", "content")+sends[3].str("text", "content"), "告警 4")
	require.Equal(t, 0, b.heldCount(t))

	// Full again: the next is held; once the window frees, it goes out
	// before the one sent then; what is over the limit is held behind, and
	// Flush sends it in order.
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "告警 5"}))
	b.clock.Advance(61 * time.Second)
	for _, s := range []string{"告警 6", "告警 7", "告警 8"} {
		require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: s}))
	}
	require.Equal(t, 2, b.heldCount(t))
	b.clock.Advance(61 * time.Second)
	require.NoError(t, b.a.Flush(ctx))
	var got []string
	for _, c := range b.api.callsTo("message/send")[4:] {
		got = append(got, c.str("markdown", "content")+c.str("text", "content"))
	}
	joined := strings.Join(got, "|")
	for _, s := range []string{"告警 5", "告警 6", "告警 7", "告警 8"} {
		require.Contains(t, joined, s)
	}
	for i, s := range []string{"告警 5", "告警 6", "告警 7"} {
		next := []string{"告警 6", "告警 7", "告警 8"}[i]
		require.Less(t, strings.Index(joined, s), strings.Index(joined, next), "sent: %q", got)
	}
	require.Len(t, got, 3, "5 and 6 alone, then 7 and 8 merged")
	require.Equal(t, 0, b.heldCount(t))
}
