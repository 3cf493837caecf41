package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/storage/redis/redistest"
)

// cards returns the incident cards (by card ref) sent directly to user.
func (a *app) cards(user string, id int) []wmsg {
	a.t.Helper()
	var out []wmsg
	for _, m := range a.inbox(user) {
		if m.Ref == fmt.Sprintf("incident:%d#card", id) && m.To["user"] == user {
			out = append(out, m)
		}
	}
	return out
}

// notices returns user's direct notices about incident id whose text has want.
func (a *app) notices(user string, id int, want string) int {
	a.t.Helper()
	n := 0
	for _, m := range a.inbox(user) {
		if strings.HasPrefix(m.Ref, fmt.Sprintf("incident:%d", id)) && m.To["user"] == user && strings.Contains(m.all(), want) {
			n++
		}
	}
	return n
}

// fieldOf is the value of the card field named name ("" when none).
func fieldOf(m wmsg, name string) string {
	for _, f := range m.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventuallyf(t, cond, 15*time.Second, 100*time.Millisecond, what)
}

// never checks cond stays false for a few sweeps.
func never(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		require.Falsef(t, cond(), what)
		time.Sleep(200 * time.Millisecond)
	}
}

// TestIncidentEscalationOnTheClock walks an unacknowledged level-2
// incident through its escalation steps on a controlled clock, with a
// Redis flush and a restart of the worker in the middle.
func TestIncidentEscalationOnTheClock(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	r := a.say("zhengmin", "/incident declare 教务系统无法登录 --level 2 --unit dc-edu")
	requireOK(t, r)
	id := 1
	// The primary on duty (demo rotation ops-oncall, first shift: sunli) gets the card.
	eventually(t, "card to the primary", func() bool { return len(a.cards("sunli", id)) == 1 })
	card := a.cards("sunli", id)[0]
	require.Contains(t, card.Title, "Ⅱ级（重大）")
	require.Contains(t, card.all(), "24小时值守")
	require.Contains(t, card.all(), "当班 孙丽、周杰，下一班 周杰")
	// The secondary is told of 24-hour duty at once, but escalated to only after 5 minutes.
	eventually(t, "24-hour duty notice", func() bool { return a.notices("zhoujie", id, "24 小时值守") == 1 })
	clock.Add(4 * time.Minute)
	never(t, "no escalation before 5 minutes", func() bool { return len(a.cards("zhoujie", id)) > 0 })
	clock.Add(time.Minute)
	eventually(t, "step 1: the secondary", func() bool { return len(a.cards("zhoujie", id)) == 1 })

	// Redis loses everything and the worker restarts: the remaining steps still fire, once each.
	require.NoError(t, redistest.Client(t, 1).FlushDB(context.Background()).Err())
	a.restart()
	clock.Add(9 * time.Minute) // 14 minutes
	never(t, "no unit admin before 15 minutes", func() bool { return len(a.cards("zhangwei", id)) > 0 })
	clock.Add(time.Minute) // 15
	eventually(t, "step 2: the unit admin", func() bool { return len(a.cards("zhangwei", id)) == 1 })
	clock.Add(15 * time.Minute) // 30
	eventually(t, "step 3: district and sys admins", func() bool {
		return len(a.cards("liqiang", id)) == 1 && len(a.cards("admin", id)) == 1
	})
	clock.Add(30 * time.Minute)
	never(t, "no step twice", func() bool {
		return len(a.cards("zhoujie", id)) > 1 || len(a.cards("zhangwei", id)) > 1 || len(a.cards("liqiang", id)) > 1
	})
	r = a.say("admin", fmt.Sprintf("/incident show %d", id))
	require.Equal(t, 3, strings.Count(r.Text, "升级至"), r.Text)
}

func TestIncidentAckStopsEscalationAndReminders(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	requireOK(t, a.say("zhengmin", "/incident declare 网站首页打不开 --level 2"))
	eventually(t, "card to the primary", func() bool { return len(a.cards("sunli", 1)) == 1 })
	card := a.cards("sunli", 1)[0]
	r := a.press("sunli", card, "incident.ack")
	requireOK(t, r)
	require.Contains(t, r.Title, "处理中")
	// A second acknowledgement says who was first.
	requireRefused(t, a.say("zhoujie", "/incident ack 1"), "已由 孙丽 于")
	// The card loses its acknowledge button everywhere.
	eventually(t, "card updated", func() bool {
		for _, b := range a.cards("sunli", 1)[0].Buttons {
			if b.Action == "incident.ack" {
				return false
			}
		}
		return true
	})
	clock.Add(40 * time.Minute)
	never(t, "acknowledged: no escalation", func() bool { return len(a.cards("zhoujie", 1)) > 0 })

	// Progress reports: due an hour after the last one; a missed one is escalated.
	requireOK(t, a.say("sunli", "/incident update 1 已定位到负载均衡故障，正在切换"))
	eventually(t, "update broadcast to the declarer", func() bool { return a.notices("zhengmin", 1, "负载均衡") == 1 })
	clock.Add(61 * time.Minute)
	eventually(t, "owner reminded", func() bool { return a.notices("sunli", 1, "请报告事件 #1 的进展") == 1 })
	clock.Add(31 * time.Minute)
	eventually(t, "missed report escalated", func() bool { return a.notices("admin", 1, "进展报告逾期") == 1 })
	requireOK(t, a.say("sunli", "/incident resolve 1 已切换至备用节点，服务恢复"))
	clock.Add(5 * time.Hour)
	never(t, "resolved: no more reminders", func() bool { return a.notices("sunli", 1, "请报告事件 #1 的进展") > 1 })
}

// TestIncidentLifecycle: declare → card to on-call → ack → update → resolve → review → close.
func TestIncidentLifecycle(t *testing.T) {
	a := startApp(t)
	requireRefused(t, a.say("zhengmin", "/incident declare 故障 --level 5"), "事件等级")
	requireRefused(t, a.say("zhengmin", "/incident declare 故障 --level 3 --system nope"), "应用 nope 不存在")
	r := a.say("huangyu", "/incident declare 双随机抽查系统响应缓慢 --level 3 --system sjsj --unit xc-market")
	requireOK(t, r)
	require.Contains(t, r.all(), "ops-oncall")
	eventually(t, "card to on-call", func() bool { return len(a.cards("sunli", 1)) == 1 })
	eventually(t, "card in the incidents channel", func() bool {
		for _, m := range a.inbox("admin") {
			if m.To["channel"] == "incidents" && m.Ref == "incident:1#card" {
				return true
			}
		}
		return false
	})
	requireOK(t, a.press("sunli", a.cards("sunli", 1)[0], "incident.ack"))
	requireOK(t, a.say("sunli", "/incident assign 1 zhoujie"))
	eventually(t, "card to the assignee", func() bool { return len(a.cards("zhoujie", 1)) == 1 })
	// People appear by name on cards, not by user id.
	require.Equal(t, "周杰", fieldOf(a.cards("zhoujie", 1)[0], "处理人"))
	require.Equal(t, "黄宇", fieldOf(a.cards("zhoujie", 1)[0], "申报人"))
	require.NotContains(t, a.cards("zhoujie", 1)[0].all(), "huangyu")
	requireOK(t, a.say("zhoujie", "/incident update 1 数据库慢查询，正在加索引"))
	eventually(t, "stakeholders hear the update", func() bool {
		return a.notices("huangyu", 1, "加索引") == 1 && a.notices("sunli", 1, "加索引") == 1
	})
	requireRefused(t, a.say("zhoujie", "/incident review 1 --cause 缺索引 --actions 补索引@zhoujie@2026-12-01"), "解决后才能复盘")
	prompt := a.press("zhoujie", a.cards("zhoujie", 1)[0], "incident.resolve")
	require.Contains(t, prompt.Text, "/incident resolve 1")
	requireOK(t, a.say("zhoujie", "/incident resolve 1 已添加索引，响应恢复正常"))
	r = a.say("zhoujie", "/incident list --open")
	require.NotContains(t, r.Text, "#1 ")
	requireRefused(t, a.say("zhoujie", "/incident review 1 --cause 缺索引 --actions 补索引"), "内容@负责人@YYYY-MM-DD")
	requireOK(t, a.say("zhoujie", "/incident review 1 --cause 抽查名单表缺少索引 --actions 补充索引@zhoujie@2026-12-01；加入慢查询巡检@sunli@2026-12-15"))
	requireRefused(t, a.say("zhoujie", "/incident update 1 再说一句"), "已关闭")
	r = a.say("huangyu", "/incident show 1")
	require.Contains(t, r.all(), "已关闭")
	for _, want := range []string{"申报", "认领", "指派给：周杰", "进展：数据库慢查询", "解决：已添加索引", "复盘：抽查名单表缺少索引"} {
		require.Contains(t, r.Text, want)
	}
	require.Contains(t, r.all(), "加入慢查询巡检 · 孙丽 · 2026-12-15")
	r = a.say("admin", "/audit incident:1")
	require.Contains(t, r.Text, "复盘事件 #1")
}

func TestDutyCommands(t *testing.T) {
	a := startApp(t)
	r := a.say("zhengmin", "/duty now")
	requireOK(t, r)
	require.Contains(t, r.Text, "ops-oncall")
	require.Contains(t, r.Text, "值班 孙丽，备班 周杰")
	requireRefused(t, a.say("zhengmin", "/duty rotation add edu-duty --members zhangwei,zhengmin --every day --handover 09:00 --unit dc-edu"), "无权操作")
	requireOK(t, a.say("zhangwei", "/duty rotation add edu-duty --members zhangwei,zhengmin --every day --handover 09:00 --unit dc-edu --skip-holidays"))
	requireRefused(t, a.say("zhangwei", "/duty rotation add x --members nobody --every day --handover 09:00 --unit dc-edu"), "用户 nobody 不存在")
	requireRefused(t, a.say("zhangwei", "/duty rotation add x --members zhangwei --every month --handover 09:00 --unit dc-edu"), "值班轮换设置有误")
	// An incident in dc-edu pages the unit's own rotation.
	r = a.say("zhengmin", "/incident declare 校园网中断 --level 4 --unit dc-edu-office")
	require.Contains(t, r.all(), "edu-duty")
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	if today.Hour() < 9 {
		today = today.AddDate(0, 0, -1)
	}
	requireOK(t, a.say("sunli", "/duty swap ops-oncall "+today.Format("2006-01-02")+" zhangwei"))
	requireRefused(t, a.say("maxin", "/duty swap ops-oncall "+today.Format("2006-01-02")+" maxin"), "成员或管理员")
	r = a.say("zhengmin", "/duty now ops-oncall")
	require.Contains(t, r.Text, "值班 张伟")
}

// handoverCard finds the handover card sent to user.
func (a *app) handoverCard(user string) (wmsg, bool) {
	for _, m := range a.inbox(user) {
		if strings.HasPrefix(m.Ref, "handover:") && strings.HasSuffix(m.Ref, "#card") && m.To["user"] == user {
			return m, true
		}
	}
	return wmsg{}, false
}

// TestHandover: at the handover time both people get the card, the
// outgoing adds notes, a missed acceptance is reminded and then escalated,
// the incoming accepts, and the signed handover is in the log.
func TestHandover(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Now().In(cst)
	next := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, cst)
	for !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	requireOK(t, a.say("zhengmin", "/incident declare 邮件系统退信 --level 4"))
	// A day later than the next 09:00, so the rotation has turned at least once.
	clock.Set(next.AddDate(0, 0, 1).Add(time.Minute))
	r := a.say("admin", "/duty now ops-oncall")
	out := "sunli"
	in := "zhoujie"
	if strings.Contains(r.Text, "值班 孙丽") {
		out, in = "zhoujie", "sunli"
	}
	eventually(t, "handover cards", func() bool {
		_, o := a.handoverCard(out)
		_, i := a.handoverCard(in)
		return o && i
	})
	card, _ := a.handoverCard(in)
	require.Contains(t, card.all(), "邮件系统退信", "open incidents are listed")
	requireOK(t, a.say(out, "/duty handover 数据库备份任务需关注"))
	requireRefused(t, a.say("admin", "/duty handover 说明"), "没有待交接的班次")
	// Not accepted within 30 minutes: the incoming is reminded; after an hour the admins are told.
	clock.Add(31 * time.Minute)
	eventually(t, "reminder to the incoming", func() bool { return countText(a, in, "尚未确认接班") == 1 })
	clock.Add(30 * time.Minute)
	eventually(t, "admins told", func() bool { return countText(a, "admin", "超过一小时仍未接班") == 1 })
	// Only the incoming may accept, once.
	requireRefused(t, a.click(out, "", "duty.accept", card.Buttons[0].Value), "只有接班人")
	requireOK(t, a.press(in, card, "duty.accept"))
	name := map[string]string{"sunli": "孙丽", "zhoujie": "周杰"} // the demo's on-call, shown by name
	requireRefused(t, a.press(in, card, "duty.accept"), "已由 "+name[in]+" 于")
	r = a.say("admin", "/duty log ops-oncall")
	require.Contains(t, r.Text, name[out]+" → "+name[in])
	require.Contains(t, r.Text, "签收")
	require.Contains(t, r.Text, "数据库备份任务需关注")
	require.Contains(t, r.Text, "邮件系统退信")
	// The cards now show it signed.
	eventually(t, "card updated", func() bool {
		c, ok := a.handoverCard(out)
		return ok && len(c.Buttons) == 0 && strings.Contains(c.Text, "已签收")
	})
}

func countText(a *app, user, text string) int {
	n := 0
	for _, m := range a.inbox(user) {
		if m.To["user"] == user && strings.Contains(m.all(), text) {
			n++
		}
	}
	return n
}

// TestProblemsReportAndActions: the third incident with the same system and
// cause proposes a problem; the monthly report counts it; a review
// action's owner is reminded on its due date.
func TestProblemsReportAndActions(t *testing.T) {
	// The monthly report below counts the incidents declared over the
	// test's half hour: keep it inside one month in CST, also when the
	// test runs in a month's last hour.
	start, cst := time.Now(), time.FixedZone("CST", 8*3600)
	if start.In(cst).Add(2*time.Hour).Month() != start.In(cst).Month() {
		start = start.Add(-3 * time.Hour)
	}
	clock := &testClock{now: start}
	a := startAppWith(t, clock)
	due := clock.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 2).Format("2006-01-02")
	for n := 1; n <= 3; n++ {
		requireOK(t, a.say("huangyu", fmt.Sprintf("/incident declare 抽查系统超时%d --level 3 --system sjsj", n)))
		requireOK(t, a.say("sunli", fmt.Sprintf("/incident ack %d", n)))
		clock.Add(10 * time.Minute)
		requireOK(t, a.say("sunli", fmt.Sprintf("/incident resolve %d 重启服务", n)))
		r := a.say("sunli", fmt.Sprintf("/incident review %d --cause 连接池耗尽 --actions 调大连接池@sunli@%s", n, due))
		requireOK(t, r)
	}
	eventually(t, "problem proposed to the sys admin", func() bool { return countText(a, "admin", "已提出问题 #1") == 1 })
	r := a.say("admin", "/problem list")
	require.Contains(t, r.Text, "#1 sjsj：连接池耗尽 · 待分析 · 3 个事件 · 由重复事件自动提出")
	r = a.say("admin", "/problem show 1")
	require.Equal(t, 3, strings.Count(r.Text, "抽查系统超时"))
	requireOK(t, a.say("huangyu", "/incident declare 其他故障 --level 4"))
	requireOK(t, a.say("admin", "/problem link 4 1"))
	requireRefused(t, a.say("admin", "/problem link 4 99"), "问题 #99 不存在")
	month := clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	r = a.say("admin", "/report incidents --month "+month)
	requireOK(t, r)
	require.Contains(t, r.all(), "4（未解决 1）")
	require.Contains(t, r.all(), "Ⅲ级（较大） 3")
	require.Contains(t, r.all(), "sjsj 3")
	require.Contains(t, r.all(), "MTTR: 10分钟")
	require.Contains(t, r.Text, "连接池耗尽")
	requireRefused(t, a.say("admin", "/report incidents --month 2026/11"), "YYYY-MM")
	// Review actions are reminded on their due date.
	never(t, "not before the due date", func() bool { return countText(a, "sunli", "改进措施“调大连接池”") > 0 })
	clock.Add(72 * time.Hour)
	eventually(t, "action due reminders", func() bool { return countText(a, "sunli", "改进措施“调大连接池”") == 3 })
	r = a.say("zhengmin", "/duty policy")
	require.Contains(t, r.all(), "Ⅱ级（重大）: 立即 值班 → +5分钟 备班 → +15分钟 单位管理员 → +30分钟 分级管理员、系统总管理员；每 1小时 需报告进展")
}

// TestCalendar: the PRC calendar is loaded, a year without data says so,
// and a sys admin's override takes effect and is audited.
func TestCalendar(t *testing.T) {
	a := startApp(t)
	r := a.say("zhengmin", "/calendar show 2026")
	requireOK(t, r)
	require.Contains(t, r.Text, "2026-02-14 调休上班")
	require.Contains(t, r.Text, "2026-10-01 放假（法定节假日）")
	require.Contains(t, a.say("zhengmin", "/日历 show 2027").Text, "2027 年没有节假日数据")
	requireRefused(t, a.say("zhangwei", "/calendar set 2027-01-01 holiday 元旦"), "系统总管理员")
	requireRefused(t, a.say("admin", "/calendar set 2027-13-01 holiday"), "日期")
	requireOK(t, a.say("admin", "/calendar set 2027-01-01 holiday 元旦"))
	require.Contains(t, a.say("zhengmin", "/calendar show 2027").Text, "2027-01-01 放假（元旦）")
	require.Contains(t, a.say("admin", "/audit calendar:2027-01-01").Text, "设置日历 2027-01-01")
}
