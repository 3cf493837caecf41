package calendar

import (
	"fmt"
	"time"
)

// Statutory returns the days off of a year by the national rules alone
// (《全国年节及纪念日放假办法》 as revised in 2024, in force from 2025):
// 元旦 Jan 1; 春节 4 days, 除夕 to 正月初三; 清明 on the solar term;
// 劳动节 May 1–2; 端午 lunar 5/5; 中秋 lunar 8/15; 国庆 Oct 1–3. The lunar
// days come from the lunar table, 清明 from its formula. No make-up
// workdays (调休) are guessed: those only the State Council's yearly
// notice fixes. Days fall on weekends as they are. A year outside the
// lunar table gets the fixed-date days only.
func Statutory(year int) []Day {
	d := func(m time.Month, day int, name string) Day {
		return Day{Date: fmt.Sprintf("%04d-%02d-%02d", year, m, day), Off: true, Name: name}
	}
	out := []Day{d(time.January, 1, "元旦")}
	lunar := func(month, day int, name string) {
		if t, err := ToSolar(LunarDate{Year: year, Month: month, Day: day}); err == nil {
			out = append(out, Day{Date: t.Format("2006-01-02"), Off: true, Name: name})
		}
	}
	if year > LunarFirstYear && year <= LunarLastYear {
		// 除夕 is the last day of the previous lunar year.
		if t, err := ToSolar(LunarDate{Year: year, Month: 1, Day: 1}); err == nil {
			out = append(out, Day{Date: t.AddDate(0, 0, -1).Format("2006-01-02"), Off: true, Name: "除夕"})
		}
		for i := 1; i <= 3; i++ {
			lunar(1, i, "春节")
		}
		out = append(out, d(time.April, Qingming(year), "清明节"))
	}
	out = append(out, d(time.May, 1, "劳动节"), d(time.May, 2, "劳动节"))
	if year >= LunarFirstYear && year <= LunarLastYear {
		lunar(5, 5, "端午节")
		lunar(8, 15, "中秋节")
	}
	out = append(out, d(time.October, 1, "国庆节"), d(time.October, 2, "国庆节"), d(time.October, 3, "国庆节"))
	return out
}
