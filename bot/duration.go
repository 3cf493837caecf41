package bot

import (
	"fmt"
	"strings"
	"time"
)

// FormatDuration shows a duration in days, hours and minutes ("1天2小时",
// "1d 2h"; under a minute "0分钟", "0m"), its size when negative: the
// console's clocks and waits, and /ticket show's remaining working time.
func FormatDuration(lang string, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	units := [3]string{"天", "小时", "分钟"}
	sep := ""
	if lang == LangEN {
		units, sep = [3]string{"d", "h", "m"}, " "
	}
	var parts []string
	for i, n := range []int{days, hours, mins} {
		if n > 0 || (i == 2 && len(parts) == 0) {
			parts = append(parts, fmt.Sprint(n)+units[i])
		}
		if len(parts) == 2 {
			break
		}
	}
	return strings.Join(parts, sep)
}

// FormatDurationOrNone is FormatDuration of a duration of a minute or more
// (rounded), and "—" when there is none to show (an MTTR with no incidents
// resolved).
func FormatDurationOrNone(lang string, d time.Duration) string {
	if d.Round(time.Minute) <= 0 {
		return "—"
	}
	return FormatDuration(lang, d)
}
