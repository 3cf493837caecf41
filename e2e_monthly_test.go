package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"opsbot/core/monthly"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks"
)

// TestMonthlyReportPushedOncePerManager: on the first working day of
// December each manager gets one report of November for their scope,
// with the app's scheduler, a second scheduler and a duplicate task all
// running the job.
func TestMonthlyReportPushedOncePerManager(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-10 10:00")}
	a := startAppWith(t, clock, "OPSBOT_CONSOLE_PUBLIC_URL=https://ops.example.gov.cn")
	requireOK(t, a.say("zhengmin", "/incident declare 教务系统无法登录 --level 2 --unit dc-edu"))
	requireOK(t, a.say("huangyu", "/incident declare 抽查系统响应缓慢 --level 3 --unit xc-market"))

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
	second := tasks.NewScheduler(q, []tasks.Periodic{{Type: monthly.TaskPush, At: "09:00", Loc: sh, Now: clock.Now}}, clock.Now, logger)

	clock.Set(at("2026-12-01 09:00")) // a Tuesday, the first working day
	second.Tick(context.Background(), map[string]int64{})
	payload, _ := json.Marshal(map[string]int64{"slot": at("2026-12-01 09:00").Unix()})
	require.NoError(t, q.Enqueue(context.Background(), asynq.NewTask(monthly.TaskPush, payload)))

	reports := func(user string) []wmsg {
		var out []wmsg
		for _, m := range a.inbox(user) {
			if m.To["user"] == user && m.Status == "notice" && m.Ref == "report:monthly:2026-11" {
				out = append(out, m)
			}
		}
		return out
	}
	managers := []string{"admin", "wangfang", "zhangwei"}
	eventually(t, "every manager gets the monthly report", func() bool {
		for _, u := range managers {
			if len(reports(u)) == 0 {
				return false
			}
		}
		return true
	})
	never(t, "one each, none to members", func() bool {
		for _, u := range managers {
			if len(reports(u)) != 1 {
				return true
			}
		}
		return len(reports("zhengmin")) > 0
	})
	city := reports("admin")[0].all()
	require.Contains(t, city, "2026-11 月度运维报告 · 全市")
	require.Contains(t, city, "共 2：一级 0，二级 1，三级 1")
	require.Contains(t, city, "https://ops.example.gov.cn/console/reports?month=2026-11", "the deep link to the console's report")
	district := reports("wangfang")[0].all()
	require.Contains(t, district, "2026-11 月度运维报告 · 西城区")
	require.Contains(t, district, "共 1：一级 0，二级 0，三级 1", "the district admin's report counts only their district")
}

// TestQuarterlyCheckActionsRemindedAndClosed: the third quarter's missed
// inspection run is a finding of the check sent on 2026-10-08 (the
// first working day after National Day); its corrective action is
// reminded on its due date and closed by its owner.
func TestQuarterlyCheckActionsRemindedAndClosed(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-09-28 10:00")}
	a := startAppWith(t, clock)
	requireOK(t, a.say("sunli", "/inspect plan add wd --workdays 09:00 --assignee sunli --items 主机CPU"))
	runsOf := func() string { return a.say("sunli", "/inspect log wd").Text }
	clock.Set(at("2026-09-29 09:00"))
	eventually(t, "the 09-29 run", func() bool { return strings.Contains(runsOf(), "2026-09-29 09:00") })
	clock.Set(at("2026-09-30 09:00"))
	eventually(t, "the 09-30 run", func() bool { return strings.Contains(runsOf(), "2026-09-30 09:00") })
	clock.Set(at("2026-09-30 12:00"))
	eventually(t, "a missed run", func() bool { return strings.Contains(runsOf(), "超时已上报管理员") })

	notices := func(user, ref string) []wmsg {
		var out []wmsg
		for _, m := range a.inbox(user) {
			if m.To["user"] == user && m.Status == "notice" && m.Ref == ref {
				out = append(out, m)
			}
		}
		return out
	}
	clock.Set(at("2026-10-08 09:00"))
	eventually(t, "the check reaches the sys admin and the operator", func() bool {
		return len(notices("admin", "check:2026-Q3")) == 1 && len(notices("sunli", "check:2026-Q3")) == 1
	})
	check := notices("admin", "check:2026-Q3")[0].all()
	require.Contains(t, check, "2026-Q3 季度内部检查（W 6）")
	require.Contains(t, check, "#1 wd 漏检 ")
	require.Contains(t, check, "期限 2026-10-21")
	require.Contains(t, a.say("admin", "/check actions 2026-Q3").all(), "待整改")
	requireRefused(t, a.say("zhengmin", "/check actions 2026-Q3"), "系统总管理员和运营方")

	clock.Set(at("2026-10-21 09:00"))
	eventually(t, "the owner is reminded on the due date", func() bool {
		return len(notices("sunli", "check-action:2026-Q3#1")) == 1
	})
	require.Contains(t, notices("sunli", "check-action:2026-Q3#1")[0].all(), "整改今日到期")
	requireRefused(t, a.say("zhengmin", "/check action done 2026-Q3 1"), "责任人")
	requireOK(t, a.say("sunli", "/检查 整改 完成 2026-Q3 1"))
	requireRefused(t, a.say("sunli", "/check action done 2026-Q3 1"), "已由 孙丽 完成")
	clock.Set(at("2026-10-21 18:00"))
	never(t, "no overdue notice once done", func() bool { return len(notices("admin", "check-action:2026-Q3#1")) > 0 })
}
