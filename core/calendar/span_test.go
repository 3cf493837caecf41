package calendar_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
)

func TestReportSpan(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC) // 2026-11-30 04:00 in loc
	day := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		require.NoError(t, err)
		return d
	}
	for _, c := range []struct {
		name, month, quarter string
		from, to, label      string
		code                 string
	}{
		{"a month", "2026-02", "", "2026-02-01", "2026-03-01", "2026-02", ""},
		{"this month by default, in the zone", "", "", "2026-11-01", "2026-12-01", "2026-11", ""},
		{"a quarter", "", "2026-q4", "2026-10-01", "2027-01-01", "2026-Q4", ""},
		{"the quarter wins", "2026-02", "2026-Q1", "2026-01-01", "2026-04-01", "2026-Q1", ""},
		{"a bad month", "2026-13", "", "", "", "", "month"},
		{"a bad quarter", "", "2026-Q5", "", "", "", "quarter"},
		{"trailing text", "", "2026-Q1x", "", "", "", "quarter"},
	} {
		from, to, label, err := calendar.ReportSpan(c.month, c.quarter, now, loc)
		if c.code != "" {
			var ce *core.Error
			require.True(t, errors.As(err, &ce), c.name)
			require.Equal(t, c.code, ce.Code, c.name)
			require.ErrorIs(t, err, core.ErrInvalid, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, day(c.from), from, c.name)
		require.Equal(t, day(c.to), to, c.name)
		require.Equal(t, c.label, label, c.name)
	}
}
