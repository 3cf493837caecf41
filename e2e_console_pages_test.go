package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consoleField is the console link a chat card carries.
func consoleField(t *testing.T, m wmsg) string {
	t.Helper()
	for _, f := range m.Fields {
		if f.Name == "控制台" {
			return f.Value
		}
	}
	t.Fatalf("card %s carries no console link: %s", m.Ref, m.all())
	return ""
}

// TestConsoleRequestAndTicketPages: a unit contact asks in chat to
// onboard an app; the unit admin follows the console link of the card in
// their web chat inbox to the request's page (at 390 px), sees who it
// waits on and for how long in working time, and approves there; the
// request moves to its next step as `/request show` tells, the decision
// recorded with its platform. A member opening the page is refused with
// the chat's words and 403. A ticket's page shows the remaining working
// time `/ticket show` gives, and the overview and SLA board link to it.
func TestConsoleRequestAndTicketPages(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	clock := &testClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, sh)} // a Tuesday
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))                  // known before start: console.public_url names it
	a := startAppWith(t, clock, "OPSBOT_SERVER_LISTEN="+addr, "OPSBOT_CONSOLE_PUBLIC_URL=http://"+addr)

	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	requireOK(t, a.say("zhangwei", "/org role grant zhengmin unit_contact"))
	id := a.submit("zhengmin", "/app online kaoqin --note 高频应用优先")
	clock.Set(time.Date(2026, 11, 24, 11, 30, 0, 0, sh)) // 2 h 30 m of working time later
	card := a.card("zhangwei", id, 1)
	link := consoleField(t, card)
	require.Equal(t, fmt.Sprintf("http://%s/console/requests/%d", addr, id), link, "the card's deep link is the request's page")

	ctx := consoleBrowser(t, a, "zhangwei", true)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("title"))))
	page := evalJS[string](t, ctx, `document.querySelector("main").innerText`)
	for _, want := range []string{"考勤系统", "应用上线", "郑敏", "高频应用优先", "处理中", "第 1/4 步：审批", "单位管理员",
		"等待 张伟 处理，已等待 2小时30分钟（工作时间）"} {
		assert.Contains(t, page, want)
	}
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390, "no sideways scroll at 390 px")
	shot(t, ctx, "request-before-390")

	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("note-approve"), "同意上线"), chromedp.Click(chromedp.ID("do-approve"))))
	waitJS(t, ctx, `!!document.querySelector("#outcome")`, "the page did not come back with the outcome")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#outcome").textContent`), "已记录您的处理：同意")
	assert.Equal(t, "2", evalJS[string](t, ctx, `document.querySelector("#request").dataset.step`), "the request moved to its next step")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#route").innerText`), "张伟（网页聊天）同意：同意上线")
	assert.Zero(t, evalJS[int](t, ctx, `document.querySelectorAll("form.decide").length`), "no forms once the step is decided")
	shot(t, ctx, "request-after-390")

	show := a.say("zhengmin", fmt.Sprintf("/request show %d", id))
	requireOK(t, show)
	assert.Contains(t, show.all(), "第 2/4 步：申请系统测试", "the chat sees the request at its next step")
	assert.Contains(t, show.Text, "张伟（网页聊天）同意 · 第 1/4 步：审批：同意上线")
	a.card("zhengmin", id, 2)

	// A member may not see it: the chat's words, 403.
	chat := a.say("maxin", fmt.Sprintf("/request show %d", id))
	require.Equal(t, "error", chat.Status)
	r := a.consoleGet(t, "maxin", fmt.Sprintf("/console/requests/%d", id))
	assert.Equal(t, http.StatusForbidden, r.Status)
	consoleSignIn(t, ctx, a, "maxin")
	consolePage(t, ctx, a, fmt.Sprintf("/console/requests/%d", id))
	assert.Equal(t, strings.TrimSpace(chat.Text), strings.TrimSpace(evalJS[string](t, ctx, `document.querySelector("#error").textContent`)))
	shot(t, ctx, "request-member-403")

	// The requester's queue lists it as waiting for them (its system test request, W 5.6 a).
	consoleSignIn(t, ctx, a, "zhengmin")
	consolePage(t, ctx, a, "/console/requests")
	assert.True(t, evalJS[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('#waiting tr[data-id="%d"] a')`, id)))
	shot(t, ctx, "requests-requester-390")

	// A ticket: its page gives /ticket show's remaining working time.
	tk := a.openTicket(t, "zhengmin", "东城 VPN 无法登录", "dc-edu")
	clock.Set(time.Date(2026, 11, 26, 10, 0, 0, 0, sh)) // due 17:30 today: 2 h + 3.5 h left
	var remaining string
	for _, f := range a.say("liqiang", fmt.Sprintf("/ticket show %d", tk)).Fields {
		if f.Name == "剩余时间（工作时间）" {
			remaining = f.Value
		}
	}
	require.Equal(t, "5小时30分钟", remaining, "/ticket show gives the remaining working time")
	consoleSignIn(t, ctx, a, "liqiang")
	consolePage(t, ctx, a, "/console/sla")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#board tr[data-id="%d"] a`, tk)))))
	waitJS(t, ctx, fmt.Sprintf(`location.pathname === "/console/tickets/%d" && !!document.querySelector("#remaining")`, tk), "the SLA board's row did not lead to the ticket's page")
	assert.Equal(t, remaining, evalJS[string](t, ctx, `document.querySelector("#remaining").textContent`))
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#holders").textContent`), "孙丽")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#history").innerText`), "郑敏")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390)
	shot(t, ctx, "ticket-390")
	consolePage(t, ctx, a, "/console/")
	assert.True(t, evalJS[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('#tickets li[data-id="%d"] a[href^="/console/tickets/%d"]')`, tk, tk)),
		"the overview's due ticket links to its page")
	r = a.consoleGet(t, "huangyu", fmt.Sprintf("/console/tickets/%d", tk))
	assert.Equal(t, http.StatusForbidden, r.Status, "another district's member may not follow it")
}
