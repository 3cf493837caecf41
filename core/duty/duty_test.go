package duty_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/calendar"
	"opsbot/core/duty"
)

var sh = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func TestShiftAt(t *testing.T) {
	t.Parallel()
	cal := calendar.New(sh, nil)
	cal.SetHoliday("2026-10-01")
	cal.SetHoliday("2026-10-02")
	daily := duty.Rotation{Members: []string{"a", "b", "c"}, Every: "day", Handover: "09:00", StartDate: at("2026-09-28 00:00")}
	skip := daily
	skip.SkipHolidays = true
	weekly := duty.Rotation{Members: []string{"a", "b"}, Every: "week", Handover: "09:00", StartDate: at("2026-11-23 00:00")}
	tests := []struct {
		name          string
		r             duty.Rotation
		t             string
		over          map[string]string
		primary, next string
		start, end    string
	}{
		{"first shift", daily, "2026-09-28 10:00", nil, "a", "b", "2026-09-28 09:00", "2026-09-29 09:00"},
		{"before the handover it is still yesterday's", daily, "2026-09-29 08:59", nil, "a", "b", "2026-09-28 09:00", "2026-09-29 09:00"},
		{"at the handover", daily, "2026-09-29 09:00", nil, "b", "c", "2026-09-29 09:00", "2026-09-30 09:00"},
		{"wraps around", daily, "2026-10-01 12:00", nil, "a", "b", "2026-10-01 09:00", "2026-10-02 09:00"},
		{"skipping holidays: on through the holiday", skip, "2026-10-02 12:00", nil, "c", "a", "2026-09-30 09:00", "2026-10-05 09:00"},
		{"skipping holidays: next working day", skip, "2026-10-05 09:30", nil, "a", "b", "2026-10-05 09:00", "2026-10-06 09:00"},
		{"override replaces the primary", daily, "2026-09-29 12:00", map[string]string{"2026-09-29": "z"}, "z", "c", "2026-09-29 09:00", "2026-09-30 09:00"},
		{"weekly", weekly, "2026-12-02 12:00", nil, "b", "a", "2026-11-30 09:00", "2026-12-07 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.r.ShiftAt(at(tt.t), cal, tt.over)
			require.Equal(t, tt.primary, s.Primary)
			require.Equal(t, tt.next, s.Secondary)
			require.Equal(t, at(tt.start), s.Start)
			require.Equal(t, at(tt.end), s.End)
		})
	}
}

// TestShiftsBetween: a range lists the shifts ShiftAt tells, in order and
// without gaps, swaps and skipped holidays included, starting no earlier
// than the rotation's first shift.
func TestShiftsBetween(t *testing.T) {
	t.Parallel()
	cal := calendar.New(sh, nil)
	cal.SetHoliday("2026-10-01")
	cal.SetHoliday("2026-10-02")
	skip := duty.Rotation{Members: []string{"a", "b", "c"}, Every: "day", Handover: "09:00", StartDate: at("2026-09-28 00:00"), SkipHolidays: true}
	over := map[string]string{"2026-09-29": "z"}
	tests := []struct {
		name     string
		from, to string
		want     []string // "primary start"
	}{
		{"before the start: from the first shift", "2026-09-20 00:00", "2026-09-29 00:00", []string{"a 09-28 09:00"}},
		{"a swap and a holiday stretch", "2026-09-29 00:00", "2026-10-06 00:00",
			[]string{"a 09-28 09:00", "z 09-29 09:00", "c 09-30 09:00", "a 10-05 09:00"}},
		{"all before the start", "2026-09-01 00:00", "2026-09-02 00:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shifts := skip.ShiftsBetween(at(tt.from), at(tt.to), cal, over)
			var got []string
			for i, s := range shifts {
				got = append(got, s.Primary+" "+s.Start.Format("01-02 15:04"))
				require.Equal(t, skip.ShiftAt(s.Start, cal, over), s, "what ShiftAt tells")
				if i > 0 {
					require.Equal(t, shifts[i-1].End, s.Start, "no gap")
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}
