package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"opsbot/core/digest"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks"
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
	requireRefused(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee operator --items cpu --grace 10s`), "时限")
	requireRefused(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee operator --items cpu --level 5`), "事件等级")
	r := a.say("sunli", `/巡检 计划 添加 daily-host --cron "0 9 * * 1-5" --assignee operator --items 主机CPU,磁盘空间,备份目录 --level 2`)
	requireOK(t, r)
	require.Contains(t, r.all(), "下次执行: 2026-11-24 09:00")
	require.Contains(t, r.all(), "问题开 2 级事件")

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
	require.Contains(t, r.all(), "已记录 2. 磁盘空间：⚠️ 有问题", "the tap is answered in a line; the card itself is updated")
	eventually(t, "the issue is an incident on the duty rotation", func() bool {
		return len(a.cards("sunli", 1)) > 0 || len(a.cards("zhoujie", 1)) > 0
	})
	shown := a.say("sunli", "/incident show 1").all()
	require.Contains(t, shown, "daily-host · 磁盘空间")
	require.Contains(t, shown, "Ⅱ级", "the plan's --level")
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

// TestWorkdaysInspectionFollowsThePRCCalendar: a plan on "working days
// at 09:00" (M 7.3.2.2.1) runs on 2026-09-30, not on the National Day
// holidays 10-01..07, again on 10-08 and on the make-up Saturday 10-10;
// plain cron plans stay available and /inspect plan list tells the two
// apart.
func TestWorkdaysInspectionFollowsThePRCCalendar(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-09-29 10:00")} // a Tuesday
	a := startAppWith(t, clock)

	requireRefused(t, a.say("sunli", "/inspect plan add wd --assignee operator --items cpu"), "--workdays")
	requireRefused(t, a.say("sunli", `/inspect plan add wd --cron "0 9 * * *" --workdays 09:00 --assignee operator --items cpu`), "二者之一")
	requireRefused(t, a.say("sunli", "/inspect plan add wd --workdays 9点 --assignee operator --items cpu"), "HH:MM")
	r := a.say("sunli", "/inspect plan add wd --workdays 09:00 --assignee sunli --items 主机CPU,磁盘空间")
	requireOK(t, r)
	require.Contains(t, r.all(), "周期: 工作日 09:00")
	require.Contains(t, r.all(), "下次执行: 2026-09-30 09:00")
	requireOK(t, a.say("sunli", `/inspect plan add weekly --cron "0 10 * * 1" --assignee sunli --items 机房`))
	list := a.say("sunli", "/inspect plan list").all()
	require.Contains(t, list, "- wd · 工作日 09:00（遵循法定节假日与调休） · 责任人 孙丽 · 2 项 · 下次 2026-09-30 09:00")
	require.Contains(t, list, "- weekly · 每周一 10:00 · 责任人 孙丽 · 1 项 · 下次 2026-10-05 10:00")

	runsOf := func() string { return a.say("sunli", "/inspect log wd").Text }
	clock.Set(at("2026-09-30 09:00"))
	eventually(t, "the 09-30 run", func() bool { return strings.Contains(runsOf(), "第 1 次 · 2026-09-30 09:00") })
	requireOK(t, a.say("sunli", "/inspect report wd ok"))
	for _, day := range []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-07"} {
		clock.Set(at(day + " 09:30"))
		never(t, "no run on the holiday "+day, func() bool { return strings.Count(runsOf(), "第 ") > 1 })
	}
	eventually(t, "the cron plan ran on Monday 10-05 all the same", func() bool {
		return strings.Contains(a.say("sunli", "/inspect log weekly").Text, "2026-10-05 10:00")
	})
	clock.Set(at("2026-10-08 09:00"))
	eventually(t, "the 10-08 run", func() bool { return strings.Contains(runsOf(), "2026-10-08 09:00 · 未完成") })
	clock.Set(at("2026-10-09 09:00"))
	eventually(t, "the 10-09 run", func() bool { return strings.Contains(runsOf(), "2026-10-09 09:00 · 未完成") })
	clock.Set(at("2026-10-10 09:00"))
	eventually(t, "the run on the make-up Saturday", func() bool { return strings.Contains(runsOf(), "2026-10-10 09:00 · 未完成") })
	require.Equal(t, 4, strings.Count(runsOf(), "第 "), "09-30, 10-08, 10-09, 10-10")
	require.Contains(t, a.say("sunli", "/inspect plan list").all(), "- wd · 工作日 09:00（遵循法定节假日与调休） · 责任人 孙丽 · 2 项 · 下次 2026-10-12 09:00")
}

// TestInspectionReportIsScoped: /report inspections shows a district
// admin the runs whose assignees are in their district only; the sys
// admin sees the city.
func TestInspectionReportIsScoped(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")}
	a := startAppWith(t, clock)
	requireOK(t, a.say("sunli", `/inspect plan add dc-check --cron "0 9 * * *" --assignee zhangwei --items 机房`)) // 东城 dc-edu
	requireOK(t, a.say("sunli", `/inspect plan add xc-check --cron "0 9 * * *" --assignee chenjing --items 机房`)) // 西城 xc-market
	clock.Set(at("2026-11-24 09:00"))
	eventually(t, "both plans ran", func() bool {
		_, z := a.refCard("zhangwei", "inspect:1")
		_, c := a.refCard("chenjing", "inspect:2")
		_, z2 := a.refCard("zhangwei", "inspect:2")
		_, c2 := a.refCard("chenjing", "inspect:1")
		return (z && c) || (z2 && c2)
	})
	dc := a.say("liqiang", "/report inspections --month 2026-11").all()
	require.Contains(t, dc, "dc-check：1 次")
	require.NotContains(t, dc, "xc-check", "another district's plan")
	require.Contains(t, dc, "巡检次数: 1")
	xc := a.say("wangfang", "/report inspections --month 2026-11").all()
	require.Contains(t, xc, "xc-check：1 次")
	require.NotContains(t, xc, "dc-check")
	unit := a.say("chenjing", "/report inspections --month 2026-11").all()
	require.Contains(t, unit, "xc-check：1 次")
	require.NotContains(t, unit, "dc-check")
	city := a.say("admin", "/report inspections --month 2026-11").all()
	require.Contains(t, city, "dc-check：1 次")
	require.Contains(t, city, "xc-check：1 次")
	member := a.say("zhaolei", "/report inspections --month 2026-11").all()
	require.NotContains(t, member, "-check", "a plain member is assigned none")
}

// postBackup posts a backup script's report. An error answer
// {"error":{"code","message"}} comes back flattened: out["error"] is the
// code, out["message"] the text.
func (a *app) postBackup(token string, body map[string]any) (int, map[string]any) {
	a.t.Helper()
	buf, err := json.Marshal(body)
	require.NoError(a.t, err)
	req, err := http.NewRequest("POST", a.base+"/api/v1/backups/report", bytes.NewReader(buf))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if e, ok := out["error"].(map[string]any); ok {
		out["error"], out["message"] = e["code"], e["message"]
	}
	return resp.StatusCode, out
}

// TestBackupChecksFaultsAndMonthlyAudit: a missing daily report reminds the
// operators and is escalated; a failure reported by the backup script
// files a fault report, opens an incident and gives the operators a re-run
// task that the next good report closes; a missed restore test is
// escalated; on the 1st the lead signs off last month's record, once.
func TestBackupChecksFaultsAndMonthlyAudit(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")}
	a := startAppWith(t, clock, "OPSBOT_BACKUPS_TOKEN=bk-token")

	requireRefused(t, a.say("zhengmin", "/backup plan add cmdb --daily 10:00"), "运营方")
	requireRefused(t, a.say("sunli", "/backup plan add cmdb --daily 25:00"), "HH:MM")
	r := a.say("sunli", "/备份 计划 添加 cmdb --daily 10:00 --full-monthly 1")
	requireOK(t, r)
	require.Contains(t, r.all(), "每天 10:00 前上报 · 每月 1 日全量备份")

	clock.Set(at("2026-11-24 10:00"))
	eventually(t, "operators reminded at the deadline", func() bool {
		return countText(a, "sunli", "目前仍未收到") == 1 && countText(a, "zhoujie", "目前仍未收到") == 1
	})
	clock.Set(at("2026-11-24 11:00"))
	eventually(t, "escalated to the lead", func() bool {
		return countText(a, "admin", "cmdb 的备份结果（截止 2026-11-24 10:00）超时仍未上报") == 1
	})
	r = a.say("sunli", "/backup report cmdb ok")
	requireOK(t, r)
	require.Contains(t, r.all(), "2026-11-24", "a late report answers the missed check")

	clock.Set(at("2026-11-25 09:30"))
	code, _ := a.postBackup("wrong", map[string]any{"system": "cmdb", "status": "fail"})
	require.Equal(t, 401, code)
	code, out := a.postBackup("bk-token", map[string]any{"system": "nosuch", "status": "ok"})
	require.Equal(t, 404, code)
	require.Contains(t, out["message"], "nosuch 没有备份计划")
	code, out = a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "weird"})
	require.Equal(t, 422, code)
	require.Equal(t, "backup_outcome", out["error"])
	code, out = a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "fail", "note": "磁盘空间不足"})
	require.Equal(t, 200, code, out)
	require.Equal(t, "2026-11-25", out["day"])
	require.EqualValues(t, 1, out["fault"])
	require.EqualValues(t, 1, out["incident"])
	eventually(t, "re-run task to the operators", func() bool {
		return countText(a, "sunli", "请重新执行备份") == 1 && countText(a, "zhoujie", "请重新执行备份") == 1
	})
	require.Contains(t, a.say("sunli", "/incident show 1").all(), "cmdb 2026-11-25 备份失败: 磁盘空间不足")
	log := a.say("sunli", "/backup log cmdb").Text
	require.Contains(t, log, "2026-11-25 ❌ 失败")
	require.Contains(t, log, "2026-11-24 ✅ 成功")
	require.Contains(t, log, "未关闭故障报告 #1（事件 #1）")

	r = a.say("zhoujie", "/backup report cmdb ok --note 清理后重跑成功")
	requireOK(t, r)
	require.Contains(t, r.all(), "故障报告 #1 已关闭")
	eventually(t, "the fault's closing is told", func() bool { return countText(a, "sunli", "重新备份成功，故障报告 #1 已关闭") == 1 })
	require.NotContains(t, a.say("sunli", "/backup log cmdb").Text, "未关闭故障报告")
	show := a.say("sunli", "/backup plan show cmdb")
	requireOK(t, show)
	require.Contains(t, show.all(), "未关闭故障: 无", "the re-run closed it")
	require.Contains(t, show.all(), "每日上报截止: 10:00")
	require.Contains(t, show.all(), "全量备份: 每月 1 日全量备份")
	require.Contains(t, show.all(), "下次检查: 2026-11-25 10:00")
	require.Contains(t, show.all(), "下次恢复测试截止: 2026-11-25 18:00")
	require.Contains(t, show.all(), "- 2026-11-25 增量 成功（周杰，2026-11-25 09:30）\n- 2026-11-25 增量 失败")

	clock.Set(at("2026-11-25 18:01"))
	eventually(t, "missed restore test escalated", func() bool { return countText(a, "admin", "恢复测试已过期限") == 1 })
	r = a.say("sunli", "/backup verify cmdb ok --note 恢复到测试库并核对 10 张表")
	requireOK(t, r)
	require.Contains(t, r.Text, "cmdb 2026-11 恢复测试已登记：成功")

	// A failure reported after the deadline, and its re-run, both answer
	// that day: the next day's backup is still expected on its own.
	clock.Set(at("2026-11-26 10:30"))
	eventually(t, "reminded on the 26th", func() bool { return countText(a, "sunli", "应在 2026-11-26 10:00 前上报") == 1 })
	r = a.say("sunli", "/backup report cmdb fail --note 存储离线")
	requireOK(t, r)
	require.Contains(t, r.all(), "2026-11-26")
	r = a.say("sunli", "/backup report cmdb ok --note 重跑成功")
	requireOK(t, r)
	require.Contains(t, r.all(), "备份结果已登记（2026-11-26）")
	require.Contains(t, r.all(), "故障报告 #2 已关闭")
	// The log keeps the failed attempt next to its re-run (W 8.4.4).
	log = a.say("sunli", "/backup log cmdb").Text
	require.Contains(t, log, "- 2026-11-26 ✅ 成功\n"+
		"    · 2026-11-26 10:30 增量 失败（孙丽）：存储离线\n"+
		"    · 2026-11-26 10:30 增量 成功（孙丽）：重跑成功 · 重跑\n")
	require.Contains(t, log, "- 2026-11-25 ✅ 成功\n"+
		"    · 2026-11-25 09:30 增量 失败（系统）：磁盘空间不足\n"+
		"    · 2026-11-25 09:30 增量 成功（周杰）：清理后重跑成功 · 重跑\n")

	clock.Set(at("2026-12-01 09:00"))
	var card wmsg
	eventually(t, "audit card on the 1st", func() bool {
		c, ok := a.refCard("admin", "backup-audit:2026-11")
		card = c
		return ok
	})
	require.Contains(t, card.all(), "cmdb: 应报 7，已报 3，失败 2，缺报 4，全量 0，缺全量 0，恢复测试 已做")
	require.Len(t, card.Buttons, 1)
	r = a.click("admin", card.ID, "backup.signoff", "backup-audit:2026-11")
	requireOK(t, r)
	require.Contains(t, r.Text, "已由 系统管理员 签字确认")
	requireRefused(t, a.say("sunli", "/backup audit 2026-10"), "没有备份审计记录")
	require.Contains(t, a.say("sunli", "/backup audit 2026-11").Text, "已由 系统管理员 签字确认")

	clock.Set(at("2026-12-02 09:00"))
	never(t, "one audit a month", func() bool {
		n := 0
		for _, m := range a.inbox("admin") {
			if m.Ref == "backup-audit:2026-11" && m.To["user"] == "admin" && m.Status == "notice" {
				n++
			}
		}
		return n > 1
	})

	// On the full-backup day (the 1st) an incremental report is accepted
	// but flagged at once, to the reporter and the operators, and December
	// counts a missing full backup (W 8.4.4).
	// The 1st's check has come due (its timer fired after the clock moved):
	// only then is a report the next morning a late report of the 1st.
	eventually(t, "the 1st's report missed", func() bool {
		return countText(a, "admin", "cmdb 的备份结果（截止 2026-12-01 10:00）超时仍未上报") == 1
	})
	r = a.say("sunli", "/backup report cmdb ok --kind incremental")
	requireOK(t, r)
	require.Contains(t, r.all(), "备份结果已登记（2026-12-01）", "a late report answers the 1st")
	require.Contains(t, r.all(), "今日应为全量备份")
	eventually(t, "the operators are told at once", func() bool {
		return countText(a, "sunli", "2026-12-01 为全量备份日") == 1 && countText(a, "zhoujie", "2026-12-01 为全量备份日") == 1
	})
	clock.Set(at("2027-01-01 09:30"))
	code, out = a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "ok", "kind": "incremental"})
	require.Equal(t, 200, code, out)
	require.Equal(t, "2027-01-01", out["day"])
	require.Equal(t, true, out["not_full"])
	eventually(t, "the operators are told of the script's report too", func() bool {
		return countText(a, "sunli", "2027-01-01 为全量备份日") == 1 && countText(a, "zhoujie", "2027-01-01 为全量备份日") == 1
	})
	r = a.say("sunli", "/backup report cmdb ok --kind incremental --note 第二次")
	requireOK(t, r)
	require.Contains(t, r.all(), "今日应为全量备份", "the reply says so too")
	require.Contains(t, a.say("sunli", "/backup log cmdb").Text, "- 2027-01-01 ✅ 成功（全量备份日）\n"+
		"    · 2027-01-01 09:30 增量 成功（系统） · 今日应为全量备份\n")
	eventually(t, "December's audit", func() bool { _, ok := a.refCard("admin", "backup-audit:2026-12"); return ok })
	card, _ = a.refCard("admin", "backup-audit:2026-12")
	require.Contains(t, card.all(), "全量 0，缺全量 1", "the 1st of December had no full backup either")
}

// TestDigestNumbersChartAndOnePerManager: /digest shows, per manager
// scope, numbers that match the data made here, with the chart; at 09:00
// the next working day each manager gets one digest, with a second
// scheduler and a duplicate task running, and none after unsubscribing.
func TestDigestNumbersChartAndOnePerManager(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")} // a Tuesday
	a := startAppWith(t, clock)

	requireOK(t, a.say("zhengmin", "/incident declare 教务系统无法登录 --level 2 --unit dc-edu"))
	requireOK(t, a.say("huangyu", "/incident declare 抽查系统响应缓慢 --level 3 --unit xc-market"))
	clock.Set(at("2026-11-24 08:04"))
	requireOK(t, a.say("sunli", "/incident ack 1"))
	requireOK(t, a.say("zhengmin", "/ticket open tech 登录后页面空白")) // due 2026-11-26 08:30
	requireOK(t, a.say("sunli", "/op request 重启核心数据库 --reason 内核升级"))
	requireOK(t, a.say("sunli", "/backup plan add cmdb --daily 10:00"))
	requireOK(t, a.say("sunli", "/backup report cmdb ok"))
	clock.Set(at("2026-11-24 09:04"))
	requireOK(t, a.say("sunli", "/incident resolve 1 重启认证服务后恢复"))

	clock.Set(at("2026-11-24 17:00"))
	requireRefused(t, a.say("zhengmin", "/digest"), "管理范围")
	r := a.say("admin", "/digest")
	requireOK(t, r)
	all := r.all()
	for _, want := range []string{
		"运维简报 · 2026-11-24 · 全市",
		"事件: 新增 2，解决 1",
		"未结事件: 一级 0，二级 0，三级 1，四级 0",
		"响应/恢复: 平均响应 4分钟，平均恢复 1小时4分钟",
		"工单: 今日到期 0，已超期 0",
		"待审批: 超过一天未处理 0 件",
		"备份: 成功 1，失败 0，未上报 0",
		"今日值班: ops-oncall: ",
	} {
		require.Contains(t, all, want)
	}
	require.True(t, bytes.HasPrefix(r.Image, []byte("\x89PNG\r\n\x1a\n")), "the chart is a PNG")
	district := a.say("wangfang", "/digest today").all()
	require.Contains(t, district, "区县 西城区")
	require.Contains(t, district, "事件: 新增 1，解决 0")
	require.Contains(t, district, "三级 1")
	unit := a.say("zhangwei", "/简报 今天").all()
	require.Contains(t, unit, "事件: 新增 1，解决 1")
	require.Contains(t, unit, "三级 0")
	requireRefused(t, a.say("admin", "/digest 2026-13-01"), "YYYY-MM-DD")
	requireOK(t, a.say("chenjing", "/digest unsubscribe"))

	// A second scheduler, and a duplicate task with another id (as after
	// a Redis flush), change nothing: one digest per manager.
	queueName := ""
	for _, e := range a.environ {
		if v, ok := strings.CutPrefix(e, "OPSBOT_WORKER_QUEUE="); ok {
			queueName = v
		}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := tasks.NewQueue(redistest.Client(t, 1), queueName, logger)
	defer q.Close()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	second := tasks.NewScheduler(q, []tasks.Periodic{{Type: digest.TaskDaily, At: "09:00", Loc: sh, Now: clock.Now}}, clock.Now, logger)

	clock.Set(at("2026-11-25 09:00"))
	second.Tick(context.Background(), map[string]int64{})
	payload, _ := json.Marshal(map[string]int64{"slot": at("2026-11-25 09:00").Unix()})
	require.NoError(t, q.Enqueue(context.Background(), asynq.NewTask(digest.TaskDaily, payload)))
	managers := []string{"admin", "liqiang", "wangfang", "zhangwei", "liuyang"}
	digests := func(user string) []wmsg {
		var out []wmsg
		for _, m := range a.inbox(user) {
			if m.To["user"] == user && m.Status == "notice" && strings.HasPrefix(m.Ref, "digest:") {
				out = append(out, m)
			}
		}
		return out
	}
	eventually(t, "every manager gets the digest", func() bool {
		for _, u := range managers {
			if len(digests(u)) == 0 {
				return false
			}
		}
		return true
	})
	never(t, "only one each, none after unsubscribing, none to members", func() bool {
		for _, u := range managers {
			if len(digests(u)) != 1 {
				return true
			}
		}
		return len(digests("chenjing")) > 0 || len(digests("zhengmin")) > 0
	})
	d := digests("admin")[0]
	require.Contains(t, d.all(), "运维简报 · 2026-11-24 · 全市")
	require.Contains(t, d.all(), "事件: 新增 2，解决 1")
	require.NotEmpty(t, d.Image)
}
