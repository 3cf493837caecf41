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
	a := startAppWith(t, clock)
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
	district := reports("wangfang")[0].all()
	require.Contains(t, district, "共 1：一级 0，二级 0，三级 1", "the district admin's report counts only their district")
}
