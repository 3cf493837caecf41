package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/calendar"
)

var sh = time.FixedZone("CST", 8*3600)

func ts(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddWorking(t *testing.T) {
	t.Parallel()
	c := calendar.New(sh, nil)
	c.SetHoliday("2026-10-01")
	c.SetWorkday("2026-10-10") // a make-up Saturday
	tests := []struct {
		name, from string
		d          time.Duration
		want       string
	}{
		{"within the morning", "2026-11-24 09:00", 2 * time.Hour, "2026-11-24 11:00"},
		{"across lunch", "2026-11-24 11:00", 2 * time.Hour, "2026-11-24 15:00"},
		{"across the night", "2026-11-24 16:30", 2 * time.Hour, "2026-11-25 09:30"},
		{"from before work", "2026-11-24 06:00", time.Hour, "2026-11-24 09:30"},
		{"friday evening to monday", "2026-11-27 17:00", time.Hour, "2026-11-30 09:00"},
		{"over a holiday", "2026-09-30 17:00", time.Hour, "2026-10-02 09:00"},
		{"make-up saturday counts", "2026-10-09 17:00", time.Hour, "2026-10-10 09:00"},
		{"four working hours", "2026-11-24 15:00", 4 * time.Hour, "2026-11-25 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, ts(tt.want), c.AddWorking(ts(tt.from), tt.d))
		})
	}
}

func TestNextOutsideDaytime(t *testing.T) {
	t.Parallel()
	c := calendar.New(sh, nil)
	day := calendar.Period{Start: 8*60 + 30, End: 18 * 60}
	_, _, ok := c.Overlap(ts("2026-11-24 22:00"), ts("2026-11-25 02:00"), day)
	require.False(t, ok, "a night window is allowed")
	s, e, ok := c.Overlap(ts("2026-11-24 17:00"), ts("2026-11-24 19:00"), day)
	require.True(t, ok)
	require.Equal(t, ts("2026-11-24 17:00"), s)
	require.Equal(t, ts("2026-11-24 18:00"), e)
	require.Equal(t, ts("2026-11-24 18:00"), c.NextOutside(ts("2026-11-24 10:00"), 2*time.Hour, day))
	require.Equal(t, ts("2026-11-28 10:00"), c.NextOutside(ts("2026-11-28 10:00"), 2*time.Hour, day), "saturday daytime is fine")
	require.Equal(t, ts("2026-11-27 18:00"), c.NextOutside(ts("2026-11-27 07:00"), 3*time.Hour, day))
}

func TestWorkingBetween(t *testing.T) {
	t.Parallel()
	c := calendar.New(sh, nil)
	require.Equal(t, 2*time.Hour, c.WorkingBetween(ts("2026-11-24 09:00"), ts("2026-11-24 11:00")))
	require.Equal(t, 7*time.Hour, c.WorkingBetween(ts("2026-11-27 08:00"), ts("2026-11-30 08:00")), "a whole Friday, a weekend")
	require.Equal(t, time.Duration(0), c.WorkingBetween(ts("2026-11-28 09:00"), ts("2026-11-29 18:00")))
	from := ts("2026-11-24 15:00")
	require.Equal(t, 4*time.Hour, c.WorkingBetween(from, c.AddWorking(from, 4*time.Hour)))
}

func TestConfiguredWorkingHours(t *testing.T) {
	t.Parallel()
	c := calendar.New(sh, []calendar.Period{{Start: 9 * 60, End: 12 * 60}, {Start: 13*60 + 30, End: 18 * 60}})
	require.Equal(t, 7*time.Hour+30*time.Minute, c.DayLength())
	require.Equal(t, ts("2026-11-24 14:30"), c.AddWorking(ts("2026-11-24 11:00"), 2*time.Hour))
	require.Equal(t, ts("2026-11-25 09:30"), c.AddWorking(ts("2026-11-24 17:30"), time.Hour))
	require.Equal(t, 7*time.Hour, calendar.New(sh, nil).DayLength())
}
