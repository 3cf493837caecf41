package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func shanghai(t *testing.T) func(string) time.Time {
	t.Helper()
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		require.NoError(t, err)
		return v
	}
}

// card returns user's latest direct message with ref.
func (a *app) refCard(user, ref string) (wmsg, bool) {
	a.t.Helper()
	var out wmsg
	found := false
	for _, m := range a.inbox(user) {
		if m.Ref == ref && m.To["user"] == user {
			out, found = m, true
		}
	}
	return out, found
}

// TestInspectionPlanRunsRemindsAndEscalates: a plan added in chat runs on
// its cron schedule without a restart; the assignees get a checklist card;
// an item marked Issue opens an incident; an unreported run reminds them
// and is then escalated to their admin; the log and the monthly report
// count runs, misses and issues.
func TestInspectionPlanRunsRemindsAndEscalates(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")} // a Tuesday
	a := startAppWith(t, clock)

	requireRefused(t, a.say("zhengmin", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee operator --items cpu,disk`), "运营方")
	requireRefused(t, a.say("sunli", `/inspect plan add daily-host --cron "0 25 * * *" --assignee operator --items cpu`), "周期")
	requireRefused(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee nobody --items cpu`), "nobody")
	r := a.say("sunli", `/巡检 计划 添加 daily-host --cron "0 9 * * 1-5" --assignee operator --items 主机CPU,磁盘空间,备份目录`)
	requireOK(t, r)
	require.Contains(t, r.all(), "下次执行: 2026-11-24 09:00")

	clock.Set(at("2026-11-24 09:00"))
	eventually(t, "checklist to both operators", func() bool {
		_, s := a.refCard("sunli", "inspect:1")
		_, z := a.refCard("zhoujie", "inspect:1")
		return s && z
	})
	c, _ := a.refCard("sunli", "inspect:1")
	require.Len(t, c.Buttons, 6, "OK and Issue per item")
	require.Contains(t, c.all(), "1. 主机CPU: 待检")

	requireRefused(t, a.say("zhengmin", "/inspect report daily-host ok"), "不是你负责")
	requireOK(t, a.click("sunli", c.ID, "inspect.ok", "inspect:1:1"))
	r = a.click("sunli", c.ID, "inspect.issue", "inspect:1:2")
	requireOK(t, r)
	require.Contains(t, r.all(), "2. 磁盘空间: ⚠️ 有问题")
	eventually(t, "the issue is an incident on the duty rotation", func() bool {
		return len(a.cards("sunli", 1)) > 0 || len(a.cards("zhoujie", 1)) > 0
	})
	require.Contains(t, a.say("sunli", "/incident show 1").all(), "daily-host · 磁盘空间")
	eventually(t, "the other assignee's card is updated", func() bool {
		c, _ := a.refCard("zhoujie", "inspect:1")
		return c.Revision > 1 && len(c.Buttons) == 2 && strings.Contains(c.all(), "1. 主机CPU: ✅ 正常")
	})
	requireRefused(t, a.click("sunli", c.ID, "inspect.ok", "inspect:1:1"), "已上报过")

	clock.Set(at("2026-11-24 10:59"))
	never(t, "no reminder within the grace time", func() bool { return countText(a, "sunli", "尚未上报") > 0 })
	clock.Set(at("2026-11-24 11:00"))
	eventually(t, "reminded after the grace time", func() bool {
		return countText(a, "sunli", "尚未上报") == 1 && countText(a, "zhoujie", "尚未上报") == 1
	})
	clock.Set(at("2026-11-24 13:01"))
	eventually(t, "escalated to the operators' admin", func() bool { return countText(a, "admin", "超时未报") == 1 })

	requireRefused(t, a.say("zhoujie", "/inspect report daily-host issues"), "--item")
	r = a.say("zhoujie", "/inspect report daily-host ok")
	requireOK(t, r)
	require.Contains(t, r.all(), "已完成")

	clock.Set(at("2026-11-25 09:00"))
	eventually(t, "the next working day's run", func() bool { _, ok := a.refCard("sunli", "inspect:2"); return ok })
	requireOK(t, a.say("sunli", "/inspect report daily-host ok --note 全部正常"))

	log := a.say("sunli", "/inspect log daily-host").Text
	require.Contains(t, log, "第 2 次 · 2026-11-25 09:00 · 已完成 · 问题 0/3")
	require.Contains(t, log, "第 1 次 · 2026-11-24 09:00 · 已完成（超时已上报管理员） · 问题 1/3")
	rep := a.say("admin", "/report inspections --month 2026-11").all()
	require.Contains(t, rep, "daily-host：2 次，完成 2，漏检 1，未完成 0，问题 1")
	require.Contains(t, rep, "11-24 磁盘空间 (#1)")
	require.Contains(t, a.say("admin", "/report inspections --quarter 2026-Q4").all(), "巡检次数: 2")

	requireOK(t, a.say("sunli", "/inspect plan remove daily-host"))
	clock.Set(at("2026-11-26 09:00"))
	never(t, "a removed plan does not run", func() bool { _, ok := a.refCard("sunli", "inspect:3"); return ok })
}
