package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/calendar"
)

// date is a civil date as the lunar conversions return it (UTC midnight).
func date(s string) time.Time { return ts(s + " 00:00").In(time.UTC).Add(8 * time.Hour) }

// TestLunarConversion pins the table against known dates: Spring
// Festivals, Dragon Boat and Mid-Autumn days, a leap month, both ends.
func TestLunarConversion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		solar string
		lunar calendar.LunarDate
	}{
		{"1900-01-31", calendar.LunarDate{Year: 1900, Month: 1, Day: 1}},
		{"1949-01-29", calendar.LunarDate{Year: 1949, Month: 1, Day: 1}},
		{"2000-02-05", calendar.LunarDate{Year: 2000, Month: 1, Day: 1}},
		{"2020-01-25", calendar.LunarDate{Year: 2020, Month: 1, Day: 1}},
		{"2020-05-23", calendar.LunarDate{Year: 2020, Month: 4, Day: 1, Leap: true}},
		{"2023-01-22", calendar.LunarDate{Year: 2023, Month: 1, Day: 1}},
		{"2025-01-29", calendar.LunarDate{Year: 2025, Month: 1, Day: 1}},
		{"2026-02-17", calendar.LunarDate{Year: 2026, Month: 1, Day: 1}},
		{"2026-02-16", calendar.LunarDate{Year: 2025, Month: 12, Day: 29}},
		{"2026-06-19", calendar.LunarDate{Year: 2026, Month: 5, Day: 5}},
		{"2026-09-25", calendar.LunarDate{Year: 2026, Month: 8, Day: 15}},
		{"2027-02-06", calendar.LunarDate{Year: 2027, Month: 1, Day: 1}},
		{"2027-06-09", calendar.LunarDate{Year: 2027, Month: 5, Day: 5}},
		{"2027-09-15", calendar.LunarDate{Year: 2027, Month: 8, Day: 15}},
		{"2028-01-26", calendar.LunarDate{Year: 2028, Month: 1, Day: 1}},
		{"2030-02-03", calendar.LunarDate{Year: 2030, Month: 1, Day: 1}},
		{"2050-01-23", calendar.LunarDate{Year: 2050, Month: 1, Day: 1}},
		{"2100-02-09", calendar.LunarDate{Year: 2100, Month: 1, Day: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.solar, func(t *testing.T) {
			got, err := calendar.ToLunar(date(tt.solar))
			require.NoError(t, err)
			require.Equal(t, tt.lunar, got)
			back, err := calendar.ToSolar(tt.lunar)
			require.NoError(t, err)
			require.Equal(t, date(tt.solar), back)
		})
	}
	// Every day of the table's range converts there and back.
	for d := date("1900-01-31"); d.Year() <= 2100 && d.Before(date("2100-12-31")); d = d.AddDate(0, 0, 1) {
		l, err := calendar.ToLunar(d)
		require.NoError(t, err, d)
		back, err := calendar.ToSolar(l)
		require.NoError(t, err, d)
		require.Equal(t, d, back)
	}
	_, err := calendar.ToLunar(date("1899-12-31"))
	require.Error(t, err)
	_, err = calendar.ToSolar(calendar.LunarDate{Year: 2026, Month: 4, Day: 1, Leap: true})
	require.Error(t, err, "2026 has no leap fourth month")
	_, err = calendar.ToSolar(calendar.LunarDate{Year: 2101, Month: 1, Day: 1})
	require.Error(t, err)
}

func TestQingming(t *testing.T) {
	t.Parallel()
	for year, day := range map[int]int{1990: 5, 2000: 4, 2008: 4, 2019: 5, 2020: 4, 2024: 4, 2025: 4, 2026: 5, 2027: 5, 2028: 4, 2029: 4} {
		require.Equal(t, day, calendar.Qingming(year), year)
	}
}
