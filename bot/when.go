package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// whenClock is a trailing time of day: "22:00", "9:30".
var whenClock = regexp.MustCompile(`^(.*?)\s*(\d{1,2}):(\d{2})$`)

// whenShift is a moment counted from now: "+2h", "+30m", "+3d".
var whenShift = regexp.MustCompile(`^\+(\d+)\s*([mhd])$`)

// whenWeekday is a day of a week: 周三, 星期三, 本周五, 这周五, 下周三,
// "wednesday", "this fri", "next wednesday".
var whenWeekday = regexp.MustCompile(`^(本|这|下)?(?:周|星期|礼拜)([一二三四五六日天])$|^(?:(this|next)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)$`)

// whenDays are the named days, counted from today.
var whenDays = map[string]int{"今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2}

// weekdayNames maps a weekday's Chinese or English name to its number
// (Monday 1 … Sunday 7).
var weekdayNames = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
	"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}

// ParseWhen reads a moment as people type it, relative to now in loc: the
// absolute "2026-11-25 22:00" and "2026-11-25"; "22:00" (today);
// 今天/明天/后天 and today/tomorrow; 周三 or "wednesday" (the next Wednesday,
// today included), 本周五 or "this friday" (this week's, weeks start on
// Monday), 下周三 or "next wednesday" (next week's) — each with an optional
// time of day; and "+2h", "+30m", "+3d" counted from now. timed is false
// when s names no time of day (the moment is then that day's midnight).
// Anything else is core.Invalid("when"), whose message lists these forms.
// All date and time arguments of commands go through it.
func ParseWhen(s string, now time.Time, loc *time.Location) (t time.Time, timed bool, err error) {
	bad := core.Invalid("when", "value", s)
	v := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if m := whenShift.FindStringSubmatch(v); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		return now.Add(time.Duration(n) * unit).In(loc).Truncate(time.Minute), true, nil
	}
	hour, minute := 0, 0
	if m := whenClock.FindStringSubmatch(v); m != nil {
		hour, _ = strconv.Atoi(m[2])
		minute, _ = strconv.Atoi(m[3])
		if hour > 23 || minute > 59 {
			return time.Time{}, false, bad
		}
		v, timed = m[1], true
	}
	today := now.In(loc)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if n, ok := whenDays[v]; ok {
		day = day.AddDate(0, 0, n)
	} else if m := whenWeekday.FindStringSubmatch(v); m != nil {
		want, rel := weekdayNames[m[2]], m[1]
		if m[4] != "" {
			want, rel = weekdayNames[m[4][:3]], m[3]
		}
		have := int(day.Weekday()+6)%7 + 1 // Monday 1 … Sunday 7
		switch rel {
		case "本", "这", "this":
			day = day.AddDate(0, 0, want-have)
		case "下", "next":
			day = day.AddDate(0, 0, 7+want-have)
		default:
			day = day.AddDate(0, 0, (want-have+7)%7)
		}
	} else if v != "" || !timed {
		d, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return time.Time{}, false, bad
		}
		day = d
	}
	return time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, loc), timed, nil
}

// when reads a moment typed to the bot, relative to its clock.
func (b *Bot) when(s string) (time.Time, bool, error) {
	return ParseWhen(s, b.now(), b.cfg.Location)
}

// day reads a date typed to the bot ("2026-11-25", 明天, 下周三, "next
// friday", …) as the core takes it: "2006-01-02".
func (b *Bot) day(s string) (string, error) {
	t, _, err := b.when(s)
	if err != nil {
		return "", err
	}
	return t.Format("2006-01-02"), nil
}

// whenFormsZH and whenFormsEN list the forms ParseWhen reads, for its
// errors.
const (
	whenFormsZH = "可用写法：2026-11-25 22:00、2026-11-25、22:00（今天）、今天/明天/后天 22:00、周三 22:00（今天起最近的周三）、本周五、下周三 22:00、+2h/+30m/+3d（从现在起）。"
	whenFormsEN = "Accepted: 2026-11-25 22:00, 2026-11-25, 22:00 (today), today/tomorrow 09:00, wednesday 22:00 (the next one, today included), this friday, next wednesday 22:00, +2h/+30m/+3d (from now); in Chinese 今天/明天/后天, 周三, 本周五, 下周三."
)
