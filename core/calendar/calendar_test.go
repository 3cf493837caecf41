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
	c.MarkYear(2026)           // only the days set above are special
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

// national2026 is a calendar with the State Council's 2026 arrangement
// around the Mid-Autumn and National Day holidays: Oct 1–8 off, Sat
// Sep 20 and Sat Oct 10 worked; 2027 has no data.
func national2026(rule calendar.PeriodRule) *calendar.Calendar {
	c := calendar.New(sh, nil)
	for _, d := range []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08"} {
		c.Set(d, true, "国庆节、中秋节")
	}
	c.Set("2026-09-20", false, "调休上班")
	c.Set("2026-10-10", false, "调休上班")
	c.MarkYear(2026)
	c.SetPeriodRule(rule)
	return c
}

// TestDueAfterDays: M 6.2 and W 5.5 c count "within N working days of
// receipt" from the next working day (the day of receipt is not counted)
// to the close of working hours of the Nth; the old rule (N days of
// working hours from receipt) stays available as elapsed_hours.
func TestDueAfterDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule calendar.PeriodRule
		from string
		n    int
		want string
	}{
		{"next day: Tue 09:00, two days → Thu close", calendar.NextDay, "2026-11-24 09:00", 2, "2026-11-26 17:30"},
		{"next day: received after hours counts the same", calendar.NextDay, "2026-11-24 23:00", 2, "2026-11-26 17:30"},
		{"next day: received on Saturday", calendar.NextDay, "2026-11-28 10:00", 1, "2026-11-30 17:30"},
		{"next day: tech over National Day, Oct 9 and make-up Oct 10", calendar.NextDay, "2026-09-30 10:00", 2, "2026-10-10 17:30"},
		{"next day: business", calendar.NextDay, "2026-09-30 10:00", 5, "2026-10-14 17:30"},
		{"next day: disclosure", calendar.NextDay, "2026-09-30 10:00", 20, "2026-11-04 17:30"},
		{"elapsed hours: Tue 09:00, two days → Thu 09:00", calendar.ElapsedHours, "2026-11-24 09:00", 2, "2026-11-26 09:00"},
		{"elapsed hours: over National Day", calendar.ElapsedHours, "2026-09-30 10:00", 2, "2026-10-10 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := national2026(tt.rule)
			require.Equal(t, ts(tt.want), c.DueAfterDays(ts(tt.from), tt.n))
			require.False(t, c.Provisional(ts(tt.from), c.DueAfterDays(ts(tt.from), tt.n)))
		})
	}
	c := national2026(calendar.NextDay)
	require.Equal(t, ts("2026-10-09 08:30"), c.PeriodStart(ts("2026-09-30 10:00")))
	require.Equal(t, ts("2026-09-30 10:00"), national2026(calendar.ElapsedHours).PeriodStart(ts("2026-09-30 10:00")))
	r, err := calendar.ParsePeriodRule("")
	require.NoError(t, err)
	require.Equal(t, calendar.NextDay, r)
	_, err = calendar.ParsePeriodRule("calendar_days")
	require.Error(t, err)
}

// TestYearWithoutData: 2027 has no holiday data; its statutory days are
// computed (元旦, 春节 from 除夕, 清明, 劳动节, 端午, 中秋, 国庆) and
// deadlines through it are provisional until the year is loaded.
func TestYearWithoutData(t *testing.T) {
	t.Parallel()
	c := national2026(calendar.NextDay)
	for _, off := range []string{"2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-04-05", "2027-05-03", "2027-06-09", "2027-09-15",
		"2027-10-01", "2027-10-04"} {
		want := map[string]bool{"2027-02-09": true, "2027-05-03": true, "2027-10-04": true}[off] // the day after: worked
		require.Equal(t, want, c.IsWorkday(ts(off+" 10:00")), off)
	}
	require.False(t, c.IsWorkday(ts("2027-05-01 10:00")))
	require.True(t, c.IsWorkday(ts("2027-02-04 10:00")), "no make-up day or bridge is guessed")
	// Received Thu 2026-12-31: 2027-01-01 is skipped.
	due := c.DueAfterDays(ts("2026-12-31 10:00"), 2)
	require.Equal(t, ts("2027-01-05 17:30"), due)
	require.True(t, c.Provisional(ts("2026-12-31 10:00"), due))
	require.False(t, c.Provisional(ts("2026-12-01 10:00"), ts("2026-12-03 17:30")))
	// Loading the year replaces the computed days.
	c.Set("2027-01-04", true, "元旦调休")
	c.MarkYear(2027)
	require.True(t, c.IsWorkday(ts("2027-01-01 10:00")), "the loaded data alone decides a loaded year")
	c.Set("2027-01-01", true, "元旦")
	require.Equal(t, ts("2027-01-06 17:30"), c.DueAfterDays(ts("2026-12-31 10:00"), 2))
	require.False(t, c.Provisional(ts("2026-12-31 10:00"), c.DueAfterDays(ts("2026-12-31 10:00"), 2)))
	require.True(t, c.IsWorkday(ts("2027-06-09 10:00")), "a loaded year has no computed days")
}

// TestDayName: special days carry their loaded name; in a year without
// data the statutory holidays carry theirs; ordinary days none.
func TestDayName(t *testing.T) {
	t.Parallel()
	c := calendar.New(time.UTC, nil)
	c.Set("2026-09-20", false, "调休上班")
	c.Set("2026-10-01", true, "法定节假日")
	c.MarkYear(2026)
	for date, want := range map[string]string{"2026-09-20": "调休上班", "2026-10-01": "法定节假日", "2026-10-09": "",
		"2030-10-01": "国庆节", "2030-10-09": "", "bad": ""} {
		require.Equal(t, want, c.DayName(date), date)
	}
}
