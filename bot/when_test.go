package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestParseWhen reads each form relative to a fixed now (Monday
// 2026-11-23 10:00 in Shanghai).
func TestParseWhen(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, loc) // a Monday
	for _, tt := range []struct {
		in    string
		want  string
		timed bool
	}{
		{"2026-11-25 22:00", "2026-11-25 22:00", true},
		{"2026-11-25", "2026-11-25 00:00", false},
		{"22:00", "2026-11-23 22:00", true},
		{"9:30", "2026-11-23 09:30", true},
		{"今天 23:05", "2026-11-23 23:05", true},
		{"明天09:00", "2026-11-24 09:00", true},
		{"后天", "2026-11-25 00:00", false},
		{"周三 22:00", "2026-11-25 22:00", true},
		{"星期一 08:00", "2026-11-23 08:00", true},
		{"周日", "2026-11-29 00:00", false},
		{"本周五", "2026-11-27 00:00", false},
		{"这周一 18:00", "2026-11-23 18:00", true},
		{"下周三 22:00", "2026-12-02 22:00", true},
		{"下周一", "2026-11-30 00:00", false},
		{"下星期日 10:00", "2026-12-06 10:00", true},
		{"next Wednesday 22:00", "2026-12-02 22:00", true},
		{"next  wed 22:00", "2026-12-02 22:00", true},
		{"this Friday", "2026-11-27 00:00", false},
		{"wednesday 10:00", "2026-11-25 10:00", true},
		{"Monday", "2026-11-23 00:00", false},
		{"tomorrow 09:00", "2026-11-24 09:00", true},
		{"TODAY 18:30", "2026-11-23 18:30", true},
		{"+2h", "2026-11-23 12:00", true},
		{"+30m", "2026-11-23 10:30", true},
		{"+3d", "2026-11-26 10:00", true},
	} {
		got, timed, err := ParseWhen(tt.in, now, loc)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got.Format("2006-01-02 15:04"), tt.in)
		require.Equal(t, tt.timed, timed, tt.in)
		require.Equal(t, loc, got.Location(), tt.in)
	}
	// A Sunday: "周三" is three days on, 本周三 was four days ago, 下周三 ten days on.
	sunday := time.Date(2026, 11, 29, 20, 0, 0, 0, loc)
	for in, want := range map[string]string{"周三": "2026-12-02", "本周三": "2026-11-25", "下周三": "2026-12-02", "周日": "2026-11-29", "下周日": "2026-12-06"} {
		got, _, err := ParseWhen(in, sunday, loc)
		require.NoError(t, err, in)
		require.Equal(t, want, got.Format("2006-01-02"), in)
	}
	for _, in := range []string{"", "  ", "soon", "25:00", "明天 24:10", "下周八", "2026-13-01", "next month", "+2y", "2026/11/25", "22:00 明天", "周三 10点"} {
		_, _, err := ParseWhen(in, now, loc)
		var e *core.Error
		require.ErrorAs(t, err, &e, "%q", in)
		require.Equal(t, "when", e.Code, in)
	}
}

// TestWhenErrorsListTheForms: a date or window the bot cannot read is
// answered in Chinese with the forms it can.
func TestWhenErrorsListTheForms(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	_, _, err := ParseWhen("soon", b.now(), b.cfg.Location)
	msg := b.ErrorReply(err, nil).Text
	require.Contains(t, msg, "时间“soon”无法识别")
	for _, form := range []string{"下周三 22:00", "明天", "本周五", "+2h", "2026-11-25 22:00"} {
		require.Contains(t, msg, form)
	}
	a := approvalBot{Bot: b}
	_, _, err = a.parseWindow("下周三 22:00")
	msg = b.ErrorReply(err, nil).Text
	require.Contains(t, msg, "变更窗口“下周三 22:00”格式应为 开始~结束")
	require.Contains(t, msg, "下周三 22:00~02:00")
	start, end, err := a.parseWindow("下周三 22:00～02:00")
	require.NoError(t, err)
	require.Equal(t, 4*time.Hour, end.Sub(start))
	require.Equal(t, time.Wednesday, start.In(b.cfg.Location).Weekday())
	start, end, err = a.parseWindow("tomorrow 22:00~tomorrow 23:30")
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, end.Sub(start))
}
