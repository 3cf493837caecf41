package calendar

import (
	"fmt"
	"math"
	"time"
)

// lunarYears encodes the Chinese lunar years 1900–2100, one word a year
// (the table published with the common lunar calendar converters):
// bits 15..4 say whether months 1..12 have 30 days (else 29), bits 3..0
// are the leap month (0: none), bit 16 says whether the leap month has 30
// days. Lunar 1900-01-01 is Gregorian 1900-01-31.
var lunarYears = [...]uint32{
	0x04bd8, 0x04ae0, 0x0a570, 0x054d5, 0x0d260, 0x0d950, 0x16554, 0x056a0, 0x09ad0, 0x055d2, // 1900
	0x04ae0, 0x0a5b6, 0x0a4d0, 0x0d250, 0x1d255, 0x0b540, 0x0d6a0, 0x0ada2, 0x095b0, 0x14977, // 1910
	0x04970, 0x0a4b0, 0x0b4b5, 0x06a50, 0x06d40, 0x1ab54, 0x02b60, 0x09570, 0x052f2, 0x04970, // 1920
	0x06566, 0x0d4a0, 0x0ea50, 0x06e95, 0x05ad0, 0x02b60, 0x186e3, 0x092e0, 0x1c8d7, 0x0c950, // 1930
	0x0d4a0, 0x1d8a6, 0x0b550, 0x056a0, 0x1a5b4, 0x025d0, 0x092d0, 0x0d2b2, 0x0a950, 0x0b557, // 1940
	0x06ca0, 0x0b550, 0x15355, 0x04da0, 0x0a5d0, 0x14573, 0x052d0, 0x0a9a8, 0x0e950, 0x06aa0, // 1950
	0x0aea6, 0x0ab50, 0x04b60, 0x0aae4, 0x0a570, 0x05260, 0x0f263, 0x0d950, 0x05b57, 0x056a0, // 1960
	0x096d0, 0x04dd5, 0x04ad0, 0x0a4d0, 0x0d4d4, 0x0d250, 0x0d558, 0x0b540, 0x0b5a0, 0x195a6, // 1970
	0x095b0, 0x049b0, 0x0a974, 0x0a4b0, 0x0b27a, 0x06a50, 0x06d40, 0x0af46, 0x0ab60, 0x09570, // 1980
	0x04af5, 0x04970, 0x064b0, 0x074a3, 0x0ea50, 0x06b58, 0x055c0, 0x0ab60, 0x096d5, 0x092e0, // 1990
	0x0c960, 0x0d954, 0x0d4a0, 0x0da50, 0x07552, 0x056a0, 0x0abb7, 0x025d0, 0x092d0, 0x0cab5, // 2000
	0x0a950, 0x0b4a0, 0x0baa4, 0x0ad50, 0x055d9, 0x04ba0, 0x0a5b0, 0x15176, 0x052b0, 0x0a930, // 2010
	0x07954, 0x06aa0, 0x0ad50, 0x05b52, 0x04b60, 0x0a6e6, 0x0a4e0, 0x0d260, 0x0ea65, 0x0d530, // 2020
	0x05aa0, 0x076a3, 0x096d0, 0x04bd7, 0x04ad0, 0x0a4d0, 0x1d0b6, 0x0d250, 0x0d520, 0x0dd45, // 2030
	0x0b5a0, 0x056d0, 0x055b2, 0x049b0, 0x0a577, 0x0a4b0, 0x0aa50, 0x1b255, 0x06d20, 0x0ada0, // 2040
	0x14b63, 0x09370, 0x049f8, 0x04970, 0x064b0, 0x168a6, 0x0ea50, 0x06b20, 0x1a6c4, 0x0aae0, // 2050
	0x0a2e0, 0x0d2e3, 0x0c960, 0x0d557, 0x0d4a0, 0x0da50, 0x05d55, 0x056a0, 0x0a6d0, 0x055d4, // 2060
	0x052d0, 0x0a9b8, 0x0a950, 0x0b4a0, 0x0b6a6, 0x0ad50, 0x055a0, 0x0aba4, 0x0a5b0, 0x052b0, // 2070
	0x0b273, 0x06930, 0x07337, 0x06aa0, 0x0ad50, 0x14b55, 0x04b60, 0x0a570, 0x054e4, 0x0d160, // 2080
	0x0e968, 0x0d520, 0x0daa0, 0x16aa6, 0x056d0, 0x04ae0, 0x0a9d4, 0x0a2d0, 0x0d150, 0x0f252, // 2090
	0x0d520, // 2100
}

// Lunar years the table covers.
const (
	LunarFirstYear = 1900
	LunarLastYear  = 1900 + len(lunarYears) - 1
)

// LunarDate is a date of the Chinese lunar calendar.
type LunarDate struct {
	Year, Month, Day int
	Leap             bool // the leap month after Month
}

// lunarEpoch is lunar 1900-01-01, as a civil date.
var lunarEpoch = civil(1900, time.January, 31)

// civil is the UTC midnight of a Gregorian date; dates are counted in UTC
// days so that no zone's offset moves them.
func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func leapMonth(y int) int { return int(lunarYears[y-LunarFirstYear] & 0xf) }

func leapDays(y int) int {
	switch {
	case leapMonth(y) == 0:
		return 0
	case lunarYears[y-LunarFirstYear]&0x10000 != 0:
		return 30
	default:
		return 29
	}
}

func monthDays(y, m int) int {
	if lunarYears[y-LunarFirstYear]&(0x10000>>uint(m)) != 0 {
		return 30
	}
	return 29
}

func lunarYearDays(y int) int {
	n := leapDays(y)
	for m := 1; m <= 12; m++ {
		n += monthDays(y, m)
	}
	return n
}

// ToSolar returns the Gregorian date (UTC midnight) of a lunar date.
func ToSolar(d LunarDate) (time.Time, error) {
	if d.Year < LunarFirstYear || d.Year > LunarLastYear || d.Month < 1 || d.Month > 12 {
		return time.Time{}, fmt.Errorf("calendar: lunar date %d-%d-%d out of range", d.Year, d.Month, d.Day)
	}
	if d.Leap && leapMonth(d.Year) != d.Month {
		return time.Time{}, fmt.Errorf("calendar: lunar year %d has no leap month %d", d.Year, d.Month)
	}
	length := monthDays(d.Year, d.Month)
	if d.Leap {
		length = leapDays(d.Year)
	}
	if d.Day < 1 || d.Day > length {
		return time.Time{}, fmt.Errorf("calendar: lunar month %d of %d has %d days, not %d", d.Month, d.Year, length, d.Day)
	}
	days := 0
	for y := LunarFirstYear; y < d.Year; y++ {
		days += lunarYearDays(y)
	}
	lm := leapMonth(d.Year)
	for m := 1; m < d.Month; m++ {
		days += monthDays(d.Year, m)
		if m == lm {
			days += leapDays(d.Year)
		}
	}
	if d.Leap {
		days += monthDays(d.Year, d.Month)
	}
	return lunarEpoch.AddDate(0, 0, days+d.Day-1), nil
}

// ToLunar returns the lunar date of a Gregorian date (its year, month and
// day are read as they are, in any zone).
func ToLunar(t time.Time) (LunarDate, error) {
	day := civil(t.Year(), t.Month(), t.Day())
	offset := int(math.Round(day.Sub(lunarEpoch).Hours() / 24))
	if offset < 0 {
		return LunarDate{}, fmt.Errorf("calendar: %s is before the lunar table", t.Format("2006-01-02"))
	}
	y := LunarFirstYear
	for ; y <= LunarLastYear && offset >= lunarYearDays(y); y++ {
		offset -= lunarYearDays(y)
	}
	if y > LunarLastYear {
		return LunarDate{}, fmt.Errorf("calendar: %s is after the lunar table", t.Format("2006-01-02"))
	}
	lm := leapMonth(y)
	for m := 1; m <= 12; m++ {
		if n := monthDays(y, m); offset < n {
			return LunarDate{Year: y, Month: m, Day: offset + 1}, nil
		} else {
			offset -= n
		}
		if m == lm {
			if n := leapDays(y); offset < n {
				return LunarDate{Year: y, Month: m, Day: offset + 1, Leap: true}, nil
			} else {
				offset -= n
			}
		}
	}
	return LunarDate{}, fmt.Errorf("calendar: lunar table inconsistent for %d", y)
}

// Qingming returns the day of April of the solar term 清明 in year
// (1901–2100), by the usual formula [Y·D + C] − L with Y the year's last
// two digits, D = 0.2422, C = 5.59 (20th century) or 4.81 (21st), L the
// leap days [Y/4].
func Qingming(year int) int {
	y := year % 100
	c := 4.81
	if year <= 2000 {
		c = 5.59
		if year == 2000 {
			y = 100
		}
	}
	if year == 2100 {
		c = 4.81 // no 22nd-century constant is used; 2100-04-05 by this value
	}
	return int(float64(y)*0.2422+c) - y/4
}
