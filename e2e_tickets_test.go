package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTicketSLAOverSpringFestival: a business ticket opened before the 2026
// Spring Festival goes to the app's access party; its 5 working days count
// from the next working day, the make-up Saturday and not the holiday, and
// end at 17:30; reminders at 50 % and 80 %, then the overdue escalation;
// the answer reaches the asker.
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
	require.Contains(t, r.all(), "处理人: 吴昊")
	require.Contains(t, r.all(), "期限: 2026-02-26 17:30")
	eventually(t, "forwarded to the access party", func() bool { return countText(a, "wuhao", "请在 2026-02-26 17:30 前答复") == 1 })

	clock.Set(at("2026-02-24 09:14"))
	never(t, "no reminder before half the time", func() bool { return countText(a, "wuhao", "已用去 50%") > 0 })
	clock.Set(at("2026-02-24 09:16")) // the make-up Saturday counted, the holiday not
	eventually(t, "50% reminder", func() bool { return countText(a, "wuhao", "已用去 50%") == 1 })
	clock.Set(at("2026-02-25 16:25"))
	eventually(t, "80% reminder", func() bool { return countText(a, "wuhao", "已用去 80%") == 1 })
	clock.Set(at("2026-02-26 17:29"))
	never(t, "not overdue before the close of the fifth working day", func() bool { return countText(a, "admin", "已超过期限") > 0 })
	clock.Set(at("2026-02-26 17:31"))
	eventually(t, "overdue escalated", func() bool { return countText(a, "admin", "已超过期限 2026-02-26 17:30") == 1 })
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

// TestTicketForwardAndPause: a technical question received Tue 09:00 is
// due Thu 17:30 (not Thu 09:00); waiting on the asker pauses the clock;
// forwarded to an app's access party it becomes a business question with
// 5 working days from the forward, and shows both legs.
func TestTicketForwardAndPause(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, sh)} // a Tuesday
	a := startAppWith(t, clock)
	r := a.say("zhengmin", "/ticket open tech 登录后页面空白")
	requireOK(t, r)
	require.Contains(t, r.all(), "期限: 2026-11-26 17:30")
	require.Contains(t, r.all(), "孙丽")
	requireOK(t, a.say("sunli", "/ticket wait 1 请提供浏览器版本"))
	eventually(t, "asker asked", func() bool { return countText(a, "zhengmin", "请提供浏览器版本") == 1 })
	clock.Set(time.Date(2026, 11, 25, 9, 0, 0, 0, sh)) // a working day later
	r = a.say("zhengmin", "/ticket reply 1 Chrome 120")
	requireOK(t, r)
	require.Contains(t, r.all(), "期限: 2026-11-27 09:00", "the paused half hour of the period (Nov 25 08:30–09:00) is added back")
	r = a.say("sunli", "/ticket forward 1 sjsj")
	requireOK(t, r)
	require.Contains(t, r.all(), "处理人: 吴昊")
	require.Contains(t, r.Title, "业务问题")
	require.Contains(t, r.all(), "期限: 2026-12-02 17:30", "5 working days from the forward: Nov 26, 27, 30, Dec 1, 2")
	require.Contains(t, r.all(), "首段: 技术问题，期限 2026-11-27 09:00，2026-11-25 09:00 转交接入方")
	eventually(t, "access party gets it", func() bool { return countText(a, "wuhao", "请在 2026-12-02 17:30 前答复") == 1 })
	show := a.say("zhengmin", "/ticket show 1")
	require.True(t, strings.Contains(show.Text, "转交：sjsj"))
	require.Contains(t, show.all(), "期限: 2026-12-02 17:30")
	require.Contains(t, show.all(), "首段: 技术问题，期限 2026-11-27 09:00")
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

// TestTicketDeadlinesNationalDay: received Wed 2026-09-30 10:00, a
// technical, business and disclosure ticket are due at 17:30 of the 2nd,
// 5th and 20th working day after receipt by the State Council's 2026
// schedule (Oct 1–7 off, Oct 8 worked, Sat Oct 10 a make-up workday).
func TestTicketDeadlinesNationalDay(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 9, 30, 10, 0, 0, 0, sh)}
	a := startAppWith(t, clock)
	for cmd, due := range map[string]string{
		"/ticket open tech 门户登录失败":                  "期限: 2026-10-09 17:30", // Oct 8, 9
		"/ticket open business 抽查结果无法导出 --app sjsj": "期限: 2026-10-13 17:30", // Oct 8, 9, 10, 12, 13
		"/ticket open disclosure 公开年度抽查计划":          "期限: 2026-11-03 17:30", // Oct 8–10, 12–16, 19–23, 26–30, Nov 2, 3
	} {
		r := a.say("huangyu", cmd)
		requireOK(t, r)
		require.Contains(t, r.all(), due, cmd)
		require.NotContains(t, r.all(), "暂定", cmd)
	}
}

// TestTicketProvisionalUntilImport: received 2026-12-15, a disclosure
// ticket counts through 2027, which has no holiday data: 2027-01-01 is
// skipped as a statutory holiday and the deadline is provisional on its
// card, its show and the assignee's notice. A member cannot import; the
// sys admin imports the 2027 schedule: the deadline is recomputed
// (audited, in the history, the assignee told) and loses the mark.
func TestTicketProvisionalUntilImport(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 12, 15, 10, 0, 0, 0, sh)}
	a := startAppWith(t, clock)
	r := a.say("huangyu", "/ticket open disclosure 公开 2026 年度报告")
	requireOK(t, r)
	// Dec 16–31: 12 working days; Jan 1 skipped; Jan 4–13: the other 8.
	require.Contains(t, r.all(), "期限: 2027-01-13 17:30（暂定")
	eventually(t, "assignee told, provisional", func() bool { return countText(a, "chenjing", "2027-01-13 17:30（暂定") == 1 })
	require.Contains(t, a.say("admin", "/calendar show 2027").Text, "2027-01-01 放假（推算）（元旦）")

	schedule := "/calendar import\n# 国务院办公厅关于2027年部分节假日安排的通知\n2027-01-01 holiday 元旦\n2027-02-05 holiday 春节\n" +
		"2027-02-08 holiday 春节\n2027-02-09 holiday 春节\n2027-02-10 holiday 春节\n2027-02-11 holiday 春节\n2027-02-20 workday 春节调休"
	requireRefused(t, a.say("huangyu", schedule), "")
	requireRefused(t, a.say("admin", "/calendar import 2027-01-01 vacation"), "第 1 行")
	r = a.say("admin", schedule)
	requireOK(t, r)
	require.Contains(t, r.Text, "已导入 2027 年的放假安排，共 7 天")
	require.Contains(t, r.Text, "已重算 1 张未结工单的期限")
	show := a.say("huangyu", "/ticket show 1")
	require.Contains(t, show.all(), "期限: 2027-01-13 17:30")
	require.NotContains(t, show.all(), "暂定")
	require.Contains(t, show.Text, "按工作日历重算期限")
	eventually(t, "assignee told of the recompute", func() bool { return countText(a, "chenjing", "工作日历已更新，工单 #1") == 1 })
	require.NotContains(t, a.say("admin", "/calendar show 2027").Text, "推算")
}

// TestTicketListScope: /ticket list shows admins the tickets of their
// area, operators the technical ones, the access party its app's business
// ones, a member their own; --mine only one's own.
func TestTicketListScope(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, sh)}
	a := startAppWith(t, clock)
	requireOK(t, a.say("zhengmin", "/ticket open tech 打印机驱动"))                  // #1 dc-edu-office (dongcheng)
	requireOK(t, a.say("huangyu", "/ticket open business 抽查名单导出失败 --app sjsj")) // #2 xc-market (xicheng)
	requireOK(t, a.say("maxin", "/ticket open disclosure 公开卫生监督结果"))            // #3 dc-health (dongcheng)
	for _, tt := range []struct {
		user, cmd string
		see       []string
	}{
		{"admin", "/ticket list", []string{"#1", "#2", "#3"}},
		{"admin", "/ticket list --mine", nil},
		{"liqiang", "/ticket list", []string{"#1", "#3"}},
		{"wangfang", "/ticket list", []string{"#2"}},
		{"zhangwei", "/ticket list", []string{"#1"}},
		{"liuyang", "/ticket list", []string{"#3"}},
		{"liuyang", "/ticket list --mine", []string{"#3"}},
		{"sunli", "/ticket list", []string{"#1"}},
		{"wuhao", "/ticket list", []string{"#2"}},
		{"zhengmin", "/ticket list", []string{"#1"}},
		{"maxin", "/ticket list", []string{"#3"}},
	} {
		text := a.say(tt.user, tt.cmd).Text
		for _, id := range []string{"#1", "#2", "#3"} {
			require.Equal(t, slices.Contains(tt.see, id), strings.Contains(text, id+" "), "%s %s: %s in\n%s", tt.user, tt.cmd, id, text)
		}
	}
}
