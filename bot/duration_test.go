package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/ticket"
)

// TestFormatDuration shows durations in both languages.
func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d      string
		zh, en string
	}{
		{"0s", "0分钟", "0m"}, {"90m", "1小时30分钟", "1h 30m"}, {"49h", "2天1小时", "2d 1h"}, {"-5h30m", "5小时30分钟", "5h 30m"},
	} {
		d, err := time.ParseDuration(tt.d)
		require.NoError(t, err)
		require.Equal(t, tt.zh, FormatDuration("zh-CN", d), tt.d)
		require.Equal(t, tt.en, FormatDuration("en", d), tt.d)
	}
}

// TestTicketClock: /ticket show's clock (and the console's ticket page):
// left, overdue, paused, nothing once stopped.
func TestTicketClock(t *testing.T) {
	t.Parallel()
	require.Equal(t, "5小时30分钟", TicketClock(LangZH, ticket.Clock{Running: true, Remaining: 330 * time.Minute}))
	require.Equal(t, "已超时 2小时", TicketClock(LangZH, ticket.Clock{Running: true, Overdue: true, Remaining: -2 * time.Hour}))
	require.Equal(t, "1h (paused, waiting on the asker)", TicketClock(LangEN, ticket.Clock{Paused: true, Remaining: time.Hour}))
	require.Empty(t, TicketClock(LangZH, ticket.Clock{Overdue: true}))
}
