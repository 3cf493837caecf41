package configs

import (
	"fmt"
	"time"

	"github.com/bastengao/chinese-holidays-go/holidays"

	"opsbot/core/calendar"
)

// Holiday data bundled by github.com/bastengao/chinese-holidays-go v1.7.0.
const (
	HolidayFirstYear = 2016
	HolidayLastYear  = 2026
)

// LoadPRCHolidays marks the PRC statutory holidays that fall on weekdays
// and the weekend days worked instead (调休) for the years the bundled data
// covers, and records those years as known. Admin overrides are applied
// after it (see the calendar_overrides table).
func LoadPRCHolidays(cal *calendar.Calendar) error {
	q, err := holidays.BundleQueryer()
	if err != nil {
		return fmt.Errorf("holidays: %w", err)
	}
	loc := cal.Location()
	for y := HolidayFirstYear; y <= HolidayLastYear; y++ {
		for d := time.Date(y, 1, 1, 12, 0, 0, 0, loc); d.Year() == y; d = d.AddDate(0, 0, 1) {
			working, err := q.IsWorkingday(d)
			if err != nil {
				return fmt.Errorf("holidays: %s: %w", d.Format("2006-01-02"), err)
			}
			weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
			switch {
			case weekend && working:
				cal.Set(d.Format("2006-01-02"), false, "调休上班")
			case !weekend && !working:
				cal.Set(d.Format("2006-01-02"), true, "法定节假日")
			}
		}
		cal.MarkYear(y)
	}
	return nil
}
