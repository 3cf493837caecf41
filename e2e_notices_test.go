package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// direct returns the messages sent to user directly (not through a
// channel) whose title contains title.
func (a *app) direct(user, title string) []wmsg {
	a.t.Helper()
	var out []wmsg
	for _, m := range a.inbox(user) {
		if m.To["user"] == user && strings.Contains(m.Title, title) {
			out = append(out, m)
		}
	}
	return out
}

// grantApp files and approves a grant of sjsj to whom (the district
// admin liqiang approves what the unit admin by asks).
func (a *app) grantApp(by, to string) {
	a.t.Helper()
	id := a.submit(by, "/app grant sjsj --to "+to+" --kind visible")
	requireOK(a.t, a.press("liqiang", a.card("liqiang", id, 1), "approval.approve"))
}

// TestReleaseNoticeReachesAppUsers (M 7.2.2): a release notice goes to
// the app's users on their own platform — a user granted access, and the
// users of a unit granted access (its department included) — once each.
func TestReleaseNoticeReachesAppUsers(t *testing.T) {
	a := startApp(t)
	a.grantApp("liuyang", "maxin")
	a.grantApp("zhangwei", "dc-edu")
	id := a.submit("wuhao", `/app release sjsj v2.1 --notes "新增抽查结果公示"`)
	requireOK(t, a.press("admin", a.card("admin", id, 1), "approval.approve"))
	requireOK(t, a.press("wuhao", a.card("wuhao", id, 2), "approval.uat_request"))
	requireOK(t, a.press("sunli", a.card("sunli", id, 3), "approval.pass"))
	require.Empty(t, a.direct("maxin", "【更新公告】"), "nothing before the notice is published")
	requireOK(t, a.press("zhoujie", a.card("zhoujie", id, 4), "approval.publish"))
	for _, user := range []string{"maxin", "zhangwei", "zhengmin"} {
		m := a.waitNotice(user, "【更新公告】双随机抽查系统 v2.1")
		require.Equal(t, user, m.To["user"], "delivered to %s directly", user)
		require.Contains(t, m.Text, "新增抽查结果公示")
	}
	// huangyu (xc-market) has no grant: no direct notice.
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, a.direct("huangyu", "【更新公告】"))
	require.Len(t, a.direct("zhangwei", "【更新公告】"), 1, "one notice per user")
}

// TestAppNoticeReachesAppUsers (M 7.3.3 b): the access party asks for a
// public notice about its app; the owner unit's admin approves it and it
// reaches the app's users; a user of another unit may not ask.
func TestAppNoticeReachesAppUsers(t *testing.T) {
	a := startApp(t)
	a.grantApp("liuyang", "maxin")
	requireRefused(t, a.say("maxin", "/app notice sjsj 今晚维护"), "接入方")
	id := a.submit("wuhao", "/app 公告 sjsj 今晚 22:00 起系统维护一小时")
	card := a.card("chenjing", id, 1)
	require.Contains(t, card.all(), "今晚 22:00 起系统维护一小时")
	require.Empty(t, a.direct("maxin", "【应用公告】"))
	requireOK(t, a.press("chenjing", card, "approval.approve"))
	m := a.waitNotice("maxin", "【应用公告】双随机抽查系统")
	require.Contains(t, m.Text, "今晚 22:00 起系统维护一小时")
	require.Contains(t, m.Text, fmt.Sprintf("#%d", id))
}
