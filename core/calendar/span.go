package calendar

import (
	"fmt"
	"strings"
	"time"

	"opsbot/core"
)

// ReportSpan is the period a monthly or quarterly report covers, in loc:
// quarter ("YYYY-Qn") when given, else month ("YYYY-MM"), else the month
// of now. It returns [from, to) and the period's label; a malformed month
// or quarter is core.Invalid "month" or "quarter".
func ReportSpan(month, quarter string, now time.Time, loc *time.Location) (from, to time.Time, label string, err error) {
	if quarter != "" {
		var y, n int
		var rest string
		if c, _ := fmt.Sscanf(strings.ToUpper(quarter)+" ", "%d-Q%d%s", &y, &n, &rest); c != 2 || n < 1 || n > 4 || y < 1 {
			return from, to, "", core.Invalid("quarter", "value", quarter)
		}
		from = time.Date(y, time.Month(3*n-2), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 3, 0), fmt.Sprintf("%d-Q%d", y, n), nil
	}
	if month == "" {
		month = now.In(loc).Format("2006-01")
	}
	m, e := time.ParseInLocation("2006-01", month, loc)
	if e != nil {
		return from, to, "", core.Invalid("month", "value", month)
	}
	return m, m.AddDate(0, 1, 0), month, nil
}
