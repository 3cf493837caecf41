package calendar

import "time"

// FirstWorkday is the first working day of year's month, midnight in the
// calendar's zone: statutory holidays are skipped and make-up workdays
// (调休) count, so 2026-10 (国庆 Oct 1–7) gives Oct 8 and 2026-01 (元旦
// Jan 1–3, Sunday Jan 4 worked) gives Jan 4.
func (c *Calendar) FirstWorkday(year int, month time.Month) time.Time {
	day := time.Date(year, month, 1, 0, 0, 0, 0, c.loc)
	for i := 0; i < 31 && !c.IsWorkday(day.Add(12*time.Hour)); i++ {
		day = day.AddDate(0, 0, 1)
	}
	return day
}
