package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTicketSLAOverSpringFestival: a business ticket opened before the 2026
// Spring Festival goes to the app's access party; its 5 working days count
// the make-up Saturday and skip the holiday; reminders at 50 % and 80 %,
// then the overdue escalation; the answer reaches the asker.
func TestTicketSLAOverSpringFestival(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		require.NoError(t, err)
		return v
	}
	clock := &testClock{now: at("2026-02-12 10:00")}
	a := startAppWith(t, clock)
	requireRefused(t, a.say("huangyu", "/ticket open business 抽查名单导出失败"), "--app")
	r := a.say("huangyu", "/ticket open business 抽查名单导出失败 --app sjsj")
	requireOK(t, r)
	require.Contains(t, r.all(), "处理人: wuhao")
	require.Contains(t, r.all(), "期限: 2026-02-26 10:00")
	eventually(t, "forwarded to the access party", func() bool { return countText(a, "wuhao", "请在 2026-02-26 10:00 前答复") == 1 })

	clock.Set(at("2026-02-14 15:29"))
	never(t, "no reminder before half the time", func() bool { return countText(a, "wuhao", "已用去 50%") > 0 })
	clock.Set(at("2026-02-14 15:31")) // the make-up Saturday counts
	eventually(t, "50% reminder", func() bool { return countText(a, "wuhao", "已用去 50%") == 1 })
	clock.Set(at("2026-02-25 10:01")) // the holiday does not
	eventually(t, "80% reminder", func() bool { return countText(a, "wuhao", "已用去 80%") == 1 })
	clock.Set(at("2026-02-26 10:01"))
	eventually(t, "overdue escalated", func() bool { return countText(a, "admin", "已超过期限 2026-02-26 10:00") == 1 })
	require.Contains(t, a.say("sunli", "/ticket list --overdue").Text, "#1 业务问题 · 抽查名单导出失败")

	requireRefused(t, a.say("zhengmin", "/ticket answer 1 不是我的"), "不是工单 #1 的处理人")
	requireOK(t, a.say("wuhao", "/ticket answer 1 已修复导出模板，请重试"))
	eventually(t, "asker told", func() bool { return countText(a, "huangyu", "已修复导出模板") == 1 })
	require.NotContains(t, a.say("sunli", "/ticket list --overdue").Text, "#1 ")
	requireOK(t, a.say("huangyu", "/ticket close 1"))
	r = a.say("huangyu", "/ticket show 1")
	for _, want := range []string{"提交：抽查名单导出失败", "超期，已通知", "答复：已修复导出模板", "关闭"} {
		require.Contains(t, r.Text, want)
	}
}

// TestTicketForwardAndPause: a technical question goes to the operators,
// is forwarded to an app's access party, and waiting on the asker pauses
// the clock.
func TestTicketForwardAndPause(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, sh)} // a Tuesday
	a := startAppWith(t, clock)
	r := a.say("zhengmin", "/ticket open tech 登录后页面空白")
	requireOK(t, r)
	require.Contains(t, r.all(), "期限: 2026-11-26 09:00")
	require.Contains(t, r.all(), "sunli")
	requireOK(t, a.say("sunli", "/ticket wait 1 请提供浏览器版本"))
	eventually(t, "asker asked", func() bool { return countText(a, "zhengmin", "请提供浏览器版本") == 1 })
	clock.Set(time.Date(2026, 11, 25, 9, 0, 0, 0, sh)) // a working day later
	r = a.say("zhengmin", "/ticket reply 1 Chrome 120")
	requireOK(t, r)
	require.Contains(t, r.all(), "期限: 2026-11-27 09:00", "the paused working day is added back")
	r = a.say("sunli", "/ticket forward 1 sjsj")
	requireOK(t, r)
	require.Contains(t, r.all(), "处理人: wuhao")
	eventually(t, "access party gets it", func() bool { return countText(a, "wuhao", "工单 #1") >= 1 })
	require.True(t, strings.Contains(a.say("zhengmin", "/ticket show 1").Text, "转交：sjsj"))
}

// TestCalendarWarnsInDecember: in December, with no data for next year,
// the sys admin is told once.
func TestCalendarWarnsInDecember(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, sh)}
	a := startAppWith(t, clock)
	eventually(t, "sys admin warned", func() bool { return countText(a, "admin", "还没有 2027 年的法定节假日") == 1 })
	require.Zero(t, countText(a, "sunli", "2027 年"), "only sys admins")
	a.restart() // a second scheduler start in the same day sends nothing more
	never(t, "not twice a day", func() bool { return countText(a, "admin", "还没有 2027 年的法定节假日") > 1 })
}
