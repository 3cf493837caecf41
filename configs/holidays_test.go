package configs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/calendar"
)

func TestPRCHolidays2026(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	cal := calendar.New(sh, nil)
	require.NoError(t, LoadPRCHolidays(cal))
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		require.NoError(t, err)
		return v
	}
	require.True(t, cal.IsWorkday(at("2026-02-14 10:00")), "a make-up Saturday is worked")
	require.False(t, cal.IsWorkday(at("2026-02-16 10:00")), "Spring Festival Monday is off")
	require.True(t, cal.IsWorkday(at("2026-02-24 10:00")))
	require.True(t, cal.IsWorkday(at("2026-02-28 10:00")), "the second make-up Saturday")
	require.False(t, cal.IsWorkday(at("2026-10-05 10:00")), "National Day week")
	// A Friday-evening deadline before the break moves to the make-up Saturday,
	// and the Saturday evening one past the whole break.
	require.Equal(t, at("2026-02-14 09:00"), cal.AddWorking(at("2026-02-13 17:00"), time.Hour))
	require.Equal(t, at("2026-02-24 09:00"), cal.AddWorking(at("2026-02-14 17:00"), time.Hour))
	require.True(t, cal.HasData(2026))
	require.False(t, cal.HasData(2027), "2027 has no data: its statutory holidays are computed")
	days := cal.Special(2026)
	require.Contains(t, days, calendar.Day{Date: "2026-02-14", Off: false, Name: "调休上班"})
	require.Contains(t, days, calendar.Day{Date: "2026-10-01", Off: true, Name: "法定节假日"})
}

// TestStatutoryWithinOfficial: under the rules in force from 2025 every
// day calendar.Statutory computes was a day off in the State Council's
// schedule (the bundled data), so a year without data errs only by the
// bridging days and make-up days it cannot guess.
func TestStatutoryWithinOfficial(t *testing.T) {
	t.Parallel()
	sh := time.FixedZone("CST", 8*3600)
	cal := calendar.New(sh, nil)
	require.NoError(t, LoadPRCHolidays(cal))
	for _, year := range []int{2025, 2026} {
		for _, d := range calendar.Statutory(year) {
			day, err := time.ParseInLocation("2006-01-02", d.Date, sh)
			require.NoError(t, err)
			require.Falsef(t, cal.IsWorkday(day.Add(10*time.Hour)), "%s %s", d.Date, d.Name)
		}
	}
}
