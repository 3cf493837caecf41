package configs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/calendar"
)

// TestFirstWorkday2026: the first working day of each month by the real
// 2026 data — when the monthly reports go out. National Day (Oct 1–7)
// puts October's on Thu Oct 8; the make-up Sunday Jan 4 is January's.
func TestFirstWorkday2026(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	cal := calendar.New(sh, nil)
	require.NoError(t, LoadPRCHolidays(cal))
	for month, want := range map[time.Month]string{
		time.January: "2026-01-04", time.February: "2026-02-02", time.April: "2026-04-01",
		time.May: "2026-05-06", time.October: "2026-10-08", time.November: "2026-11-02", time.December: "2026-12-01",
	} {
		require.Equal(t, want, cal.FirstWorkday(2026, month).Format(time.DateOnly), month.String())
	}
}
