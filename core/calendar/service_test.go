package calendar_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
)

const schedule2027 = `# 国务院办公厅关于2027年部分节假日安排的通知（示例）
2027-01-01 holiday 元旦
2027-02-05 holiday 春节
2027-02-08 holiday 春节
2027-02-09 holiday 春节
2027-02-10 holiday 春节
2027-02-11 holiday 春节
2027-02-20 workday 春节调休
2027-10-01 放假 国庆节 2027-10-09 上班 国庆节调休
`

func code(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestImportSchedule: a sys admin loads 2027's official schedule; every
// day is set, the year is loaded (no computed days, nothing provisional),
// one audit entry, the listeners recompute; LoadOverrides brings it all
// back after a restart. Bad input names its line and writes nothing.
func TestImportSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFake()
	cal := calendar.New(sh, nil)
	cal.MarkYear(2026)
	svc := calendar.NewService(f, cal, clock{ts("2026-12-02 10:00")})
	var heard []string
	svc.OnChange(func(_ context.Context, a core.Actor) (int, error) { heard = append(heard, a.UserID); return 3, nil })
	admin := core.Actor{UserID: "admin", Platform: core.PlatformWebchat}

	require.True(t, cal.Provisional(ts("2026-12-15 10:00"), ts("2027-01-13 17:30")))
	for _, tt := range []struct{ text, code, line string }{
		{"2027-01-01 holiday 元旦\n2027-13-01 holiday x", "schedule_line", "2"},
		{"2027-01-01 vacation", "schedule_kind", "1"},
		{"2027-01-01", "schedule_kind", "1"},
		{"2027-01-01 holiday\n\n2027-01-01 workday", "schedule_twice", "3"},
		{"# nothing\n", "schedule_empty", ""},
		{"元旦 2027-01-01 holiday", "schedule_line", "1"},
	} {
		_, err := svc.Import(ctx, admin, tt.text)
		require.ErrorIs(t, err, core.ErrInvalid, tt.text)
		require.Equal(t, tt.code, code(err), tt.text)
		var e *core.Error
		require.True(t, errors.As(err, &e))
		if tt.line != "" {
			require.Equal(t, tt.line, e.Args["line"], tt.text)
		}
	}
	_, err := svc.Import(ctx, core.Actor{UserID: "member"}, schedule2027)
	require.ErrorIs(t, err, core.ErrForbidden)
	require.Empty(t, f.overrides)
	require.Empty(t, f.Audits)
	require.Empty(t, heard)

	c, err := svc.Import(ctx, admin, schedule2027)
	require.NoError(t, err)
	require.Equal(t, []int{2027}, c.Years)
	require.Len(t, c.Days, 9)
	require.Equal(t, 3, c.Recomputed)
	require.Equal(t, []string{"admin"}, heard)
	require.Equal(t, calendar.Override{Date: "2027-10-09", Off: false, Name: "国庆节调休", SetBy: "admin", SetAt: ts("2026-12-02 10:00")}, f.overrides["2027-10-09"])
	require.Equal(t, "国庆节", f.overrides["2027-10-01"].Name)
	require.Len(t, f.Audits, 1)
	require.Equal(t, "calendar.import", f.Audits[0].Action)
	require.Contains(t, f.Audits[0].After, `"years":[2027]`)
	require.True(t, cal.HasData(2027))
	require.False(t, cal.Provisional(ts("2026-12-15 10:00"), ts("2027-01-13 17:30")))
	require.True(t, cal.IsWorkday(ts("2027-02-20 10:00")), "a make-up Saturday")
	require.True(t, cal.IsWorkday(ts("2027-06-09 10:00")), "端午 was not in this (sample) list: a loaded year has only its listed days")

	fresh := calendar.New(sh, nil)
	require.NoError(t, calendar.NewService(f, fresh, clock{}).LoadOverrides(ctx))
	require.True(t, fresh.HasData(2027))
	require.False(t, fresh.IsWorkday(ts("2027-02-11 10:00")))

	// /calendar set recomputes as well.
	heard = nil
	c, err = svc.Set(ctx, admin, "2027-06-09", "holiday", "端午节")
	require.NoError(t, err)
	require.Equal(t, 3, c.Recomputed)
	require.Equal(t, []string{"admin"}, heard)
	require.False(t, cal.IsWorkday(ts("2027-06-09 10:00")))
}

// TestImportListenerFails: the schedule is saved; the failure to
// recompute is reported, not hidden.
func TestImportListenerFails(t *testing.T) {
	t.Parallel()
	f := newFake()
	svc := calendar.NewService(f, calendar.New(sh, nil), clock{ts("2026-12-02 10:00")})
	svc.OnChange(func(context.Context, core.Actor) (int, error) { return 0, errors.New("db down") })
	_, err := svc.Import(context.Background(), core.Actor{UserID: "admin"}, "2027-01-01 holiday 元旦")
	require.ErrorContains(t, err, "recomputing deadlines failed")
	require.Contains(t, f.years, 2027)
}
