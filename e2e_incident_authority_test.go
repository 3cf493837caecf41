package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIncidentAuthorityMustShow (W 8.5 a), through the webchat API: a
// member cannot resolve or downgrade a level-I incident, nor acknowledge
// it from its card's button; another unit's admin cannot either; anyone
// may add an update; the unit's admin assigns it to a member, who as its
// owner may then regrade and resolve it.
func TestIncidentAuthorityMustShow(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("huangyu", "/incident declare 双随机抽查系统数据丢失 --level 1 --unit xc-market"))
	eventually(t, "card to the primary", func() bool { return len(a.cards("sunli", 1)) == 1 })

	requireRefused(t, a.say("maxin", "/incident resolve 1 已恢复"), "无权处置事件 #1")
	requireRefused(t, a.say("maxin", "/incident level 1 4"), "处理人（孙丽）")
	requireRefused(t, a.say("huangyu", "/incident resolve 1 已恢复"), "管辖单位（xc-market）的管理员")
	requireRefused(t, a.say("zhangwei", "/incident level 1 4"), "无权处置事件 #1")
	requireRefused(t, a.click("maxin", "", "incident.ack", "incident:1"), "无权处置事件 #1")
	requireOK(t, a.say("maxin", "/incident update 1 我这边也打不开"))
	require.Contains(t, a.say("sunli", "/incident show 1").all(), "Ⅰ级")

	requireOK(t, a.say("chenjing", "/incident assign 1 huangyu"))
	requireOK(t, a.say("huangyu", "/incident level 1 2"))
	requireOK(t, a.say("huangyu", "/incident resolve 1 已从备份恢复"))
	require.Contains(t, a.say("huangyu", "/incident show 1").all(), "已解决")
}

// TestAlertWithoutRouteUnitEscalatesToAppOwner, through the real
// Alertmanager: an sjsj alert, routed without a unit (dev.yaml), takes
// sjsj's owner unit xc-market, so its unit-admin step pages chenjing
// only, not zhangwei or liuyang.
func TestAlertWithoutRouteUnitEscalatesToAppOwner(t *testing.T) {
	clock := &testClock{now: time.Now()}
	amPort := freePort(t)
	a := startAppWith(t, clock, fmt.Sprintf("OPSBOT_ALERTS_ALERTMANAGER_URL=http://127.0.0.1:%d", amPort))
	am := startAlertmanager(t, amPort, a.base+"/alerts/alertmanager")
	fire(t, am, map[string]string{"alertname": "SjsjDown", "app": "sjsj", "level": "1"}, "双随机抽查系统无法访问", time.Now().Add(time.Hour))
	card := a.channelCard("ops", 1)
	require.Contains(t, card.all(), "xc-market")
	clock.Add(5 * time.Minute)
	eventually(t, "step 1: the secondary", func() bool { return len(a.cards("zhoujie", 1)) == 1 })
	clock.Add(5 * time.Minute)
	eventually(t, "step 2: xc-market's admin", func() bool { return len(a.cards("chenjing", 1)) == 1 })
	never(t, "no other unit's admin", func() bool { return len(a.cards("zhangwei", 1))+len(a.cards("liuyang", 1)) > 0 })
}

// TestReportIncidentsScoped (M 6.1), through the webchat API: a district
// admin's /report incidents counts their district's incidents, not
// another district's seeded here; the sys admin's counts the city.
func TestReportIncidentsScoped(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("zhengmin", "/incident declare 教务系统无法登录 --level 3 --unit dc-edu"))
	requireOK(t, a.say("huangyu", "/incident declare 抽查系统缓慢 --level 3 --unit xc-market"))
	month := shanghaiNow(t).Format("2006-01") // reports count months in CST, not the machine's zone
	r := a.say("liqiang", "/report incidents --month "+month)
	requireOK(t, r)
	require.Contains(t, r.all(), "dc-edu 1")
	require.NotContains(t, r.all(), "xc-market")
	require.Contains(t, r.all(), "dongcheng")
	r = a.say("wangfang", "/report incidents --month "+month)
	require.Contains(t, r.all(), "xc-market 1")
	require.NotContains(t, r.all(), "dc-edu")
	r = a.say("admin", "/report incidents --month "+month)
	require.Contains(t, r.all(), "全市")
	require.Contains(t, r.all(), "dc-edu 1")
	require.Contains(t, r.all(), "xc-market 1")
}
