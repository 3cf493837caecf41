package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspectRunNowAndBackupAuditSoFar: an operator starts an inspection
// run outside its schedule (others may not), the checklist goes out at
// once and the schedule still runs; /backup audit shows the current month
// so far, without a sign-off button.
func TestInspectRunNowAndBackupAuditSoFar(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")} // a Tuesday
	a := startAppWith(t, clock)

	requireOK(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee operator --items 主机CPU,磁盘空间`))
	requireRefused(t, a.say("zhengmin", "/inspect run daily-host"), "运营方")
	requireRefused(t, a.say("sunli", "/inspect run nosuch"), "nosuch")
	r := a.say("sunli", "/巡检 执行 daily-host")
	requireOK(t, r)
	require.Contains(t, r.all(), "已开始巡检 daily-host · 第 1 次，检查清单已发给 2 位责任人。")
	eventually(t, "the checklist at once", func() bool { _, ok := a.refCard("zhoujie", "inspect:1"); return ok })
	requireOK(t, a.say("zhoujie", "/inspect report daily-host ok"))
	clock.Set(at("2026-11-24 09:00"))
	eventually(t, "the scheduled run still comes", func() bool { _, ok := a.refCard("zhoujie", "inspect:2"); return ok })
	require.Contains(t, a.say("sunli", "/inspect log daily-host").Text, "第 1 次 · 2026-11-24 08:00 · 已完成")

	requireOK(t, a.say("sunli", "/backup plan add cmdb --daily 10:00"))
	clock.Set(at("2026-11-24 09:30"))
	requireOK(t, a.say("sunli", "/backup report cmdb ok"))
	for _, cmd := range []string{"/backup audit", "/备份 审计 2026-11"} {
		r = a.say("sunli", cmd)
		requireOK(t, r)
		require.Contains(t, r.all(), "备份记录月度审计 · 2026-11（本月至今）", cmd)
		require.Contains(t, r.all(), "截至 2026-11-24 09:30", cmd)
		require.Contains(t, r.all(), "cmdb: 应报", cmd)
		require.Empty(t, r.Buttons, cmd)
		require.False(t, strings.Contains(r.all(), "请核对上月备份记录"), cmd)
	}
	requireRefused(t, a.say("sunli", "/backup audit 2026-10"), "没有备份审计记录")
}
