package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// reportPath sends warnings and level I/II reports to liqiang (a district
// admin standing in for the superiors) and the ops channel.
var reportPath = []string{"OPSBOT_EMERGENCY_REPORT_PATH_USERS=liqiang", "OPSBOT_EMERGENCY_REPORT_PATH_CHANNELS=ops"}

// countNotices counts user's notices (direct or to their channels) containing text.
func (a *app) countNotices(user, text string) int {
	n := 0
	for _, m := range a.inbox(user) {
		if m.Status == "notice" && strings.Contains(m.all(), text) {
			n++
		}
	}
	return n
}

// TestWarningIssuedAndLiftedReachTheReportPath: W 9.3 a — a warning is
// issued and lifted along the same report path, both audited.
func TestWarningIssuedAndLiftedReachTheReportPath(t *testing.T) {
	a := startApp(t, reportPath...)
	requireRefused(t, a.say("zhengmin", "/warning issue 2 台风预警"), "只有运营方或系统总管理员")
	r := a.say("sunli", "/预警 发布 2 台风预警：今晚机房可能断电")
	requireOK(t, r)
	require.Contains(t, r.Text, "预警 #1")
	// liqiang hears it directly and through #ops (he is a member): two notices.
	eventually(t, "warning to the report path", func() bool { return a.countNotices("liqiang", "预警 #1（Ⅱ级") == 2 })
	require.Contains(t, a.waitNotice("liqiang", "预警 #1（").all(), "今晚机房可能断电")
	requireOK(t, a.say("sunli", "/warning lift 1 台风已过境"))
	eventually(t, "lift to the report path", func() bool { return a.countNotices("liqiang", "预警 #1 已解除") == 2 })
	requireRefused(t, a.say("sunli", "/warning lift 1"), "已由 孙丽 解除")
	audit := a.say("admin", "/audit warning:1")
	require.Contains(t, audit.all(), "发布预警 #1")
	require.Contains(t, audit.all(), "解除预警 #1")
}

// TestLevelTwoIncidentReportedContinuously: W 9.3 f — a level-II
// incident's declaration, acknowledgement and resolution each reach the
// report path; a level-IV incident does not.
func TestLevelTwoIncidentReportedContinuously(t *testing.T) {
	a := startApp(t, reportPath...)
	requireOK(t, a.say("zhengmin", "/incident declare 网站首页打不开 --level 2"))
	eventually(t, "declaration reported", func() bool { return a.countNotices("liqiang", "事件 #1 报告") >= 1 })
	requireOK(t, a.say("sunli", "/incident ack 1"))
	eventually(t, "acknowledgement reported", func() bool {
		return a.countNotices("liqiang", "事项: 认领") == 2 // direct and #ops
	})
	requireOK(t, a.say("sunli", "/incident resolve 1 重启了负载均衡"))
	eventually(t, "resolution reported", func() bool { return a.countNotices("liqiang", "事项: 解决") == 2 })
	require.Equal(t, 2, a.countNotices("liqiang", "事项: 申报"))
	m := a.waitNotice("liqiang", "事项: 解决")
	require.Contains(t, m.all(), "重启了负载均衡")
	require.Contains(t, m.all(), "Ⅱ级（重大）")

	requireOK(t, a.say("zhengmin", "/incident declare 某页面错别字 --level 4"))
	never(t, "a level-IV incident is not reported", func() bool { return a.countNotices("liqiang", "事件 #2 报告") > 0 })
}

// TestEmergencyPlanReviewEscalatesWhenMissed: W 9.1 k on a controlled
// clock — a plan not reviewed within a year is escalated to the sys
// admins; a drill's finding becomes an action for its owner.
func TestEmergencyPlanReviewEscalatesWhenMissed(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	r := a.say("sunli", "/plan add portal 门户网站应急预案 --level 2 --file https://docs.example.gov.cn/portal-plan.pdf")
	requireOK(t, r)
	require.Contains(t, r.Title, "应急预案 #1 已登记")
	requireRefused(t, a.say("zhengmin", "/plan review 1"), "只有运营方或系统总管理员")
	day := clock.Now().AddDate(0, 0, 7).Format("2006-01-02")
	requireOK(t, a.say("sunli", "/drill schedule 1 "+day+" --participants sunli,zhoujie"))
	requireOK(t, a.say("sunli", `/drill record 1 --participants sunli,zhoujie --findings "切换脚本超时@zhoujie@`+day+`"`))
	a.waitNotice("zhoujie", "演练 #1 整改事项 1 已指派给你")
	require.Contains(t, a.say("admin", "/plan show 1").all(), "切换脚本超时")

	clock.Add(340 * 24 * time.Hour)
	a.waitNotice("sunli", "应急预案 #1 年度评估即将到期")
	clock.Add(26 * 24 * time.Hour)
	a.waitNotice("admin", "应急预案 #1 年度评估已逾期")
	require.Contains(t, a.say("admin", "/plan list").Text, "已逾期")
	r = a.say("sunli", "/plan review 1 --note 已按演练情况修订")
	requireOK(t, r)
	require.Contains(t, a.say("admin", "/audit emergency-plan:1").all(), "逾期未评审")
}

// TestRecurringDutiesSeededAndDone: the standards' recurring duties are
// seeded once; a duty is added, listed and done.
func TestRecurringDutiesSeededAndDone(t *testing.T) {
	a := startApp(t)
	list := a.say("admin", "/duty-task list").Text
	for _, c := range []string{"W 5.5 d", "W 8.1 e", "W 8.2 d", "W 9.1 k"} {
		require.Equal(t, 1, strings.Count(list, c), list)
	}
	a.restart()
	require.Equal(t, list, a.say("admin", "/duty-task list").Text, "seeding again adds nothing")
	requireRefused(t, a.say("sunli", "/duty-task add 月报 --every week --owner operator --due \"day 5\""), "周期“week”无效")
	r := a.say("sunli", "/duty-task add 机房巡检月报 --every month --owner operator --due first-working-day")
	requireOK(t, r)
	require.Contains(t, r.Title, "#5")
	r = a.say("zhoujie", "/duty-task done 5 --note 已提交")
	requireOK(t, r)
	require.Contains(t, r.Text, "本期已完成")
}
