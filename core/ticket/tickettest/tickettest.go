// Package tickettest holds what tests of working-time rules share: the
// 2026 working calendar around the Spring Festival and a clock moved by
// hand.
package tickettest

import (
	"time"

	"opsbot/core/calendar"
)

// CST is the calendar's zone, China Standard Time.
func CST() *time.Location { return time.FixedZone("CST", 8*3600) }

// At is a wall-clock time of 2026 in the calendar's zone.
func At(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, CST())
}

// SpringFestival2026 is a working calendar (08:30–12:00, 14:00–17:30)
// with the State Council's 2026 arrangement around the Spring Festival:
// Feb 16–20 and 23 off (with the weekend Feb 15–22 a nine-day break),
// Saturdays Feb 14 and Feb 28 worked.
func SpringFestival2026() *calendar.Calendar {
	cal := calendar.New(CST(), []calendar.Period{{Start: 8*60 + 30, End: 12 * 60}, {Start: 14 * 60, End: 17*60 + 30}})
	for _, d := range []string{"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23"} {
		cal.Set(d, true, "春节")
	}
	cal.SetWorkday("2026-02-14")
	cal.SetWorkday("2026-02-28")
	cal.MarkYear(2026)
	return cal
}

// National2026 is a working calendar (08:30–12:00, 14:00–17:30) with the
// State Council's 2026 arrangement from the Mid-Autumn Festival to the
// end of the year: Sep 25 (中秋) and Oct 1–7 (国庆) off, Sun Sep 20 and
// Sat Oct 10 worked. 2027 has no data: its holidays are computed.
func National2026() *calendar.Calendar {
	cal := calendar.New(CST(), []calendar.Period{{Start: 8*60 + 30, End: 12 * 60}, {Start: 14 * 60, End: 17*60 + 30}})
	cal.Set("2026-09-25", true, "中秋节")
	for _, d := range []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"} {
		cal.Set(d, true, "国庆节")
	}
	cal.SetWorkday("2026-09-20")
	cal.SetWorkday("2026-10-10")
	cal.MarkYear(2026)
	return cal
}

// Clock is a clock moved by hand.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }
