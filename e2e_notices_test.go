package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// postAlerts posts an Alertmanager v4 notification whose alerts all carry labels.
func (a *app) postAlerts(groupKey, status string, labels map[string]string, starts time.Time) {
	a.t.Helper()
	alert := map[string]any{"status": status, "fingerprint": groupKey + "-1", "startsAt": starts.UTC().Format(time.RFC3339),
		"labels": labels, "annotations": map[string]string{}}
	b, _ := json.Marshal(map[string]any{"version": "4", "groupKey": groupKey, "status": status, "receiver": "dev",
		"groupLabels": map[string]string{"alertname": labels["alertname"], "app": labels["app"]}, "commonLabels": labels,
		"commonAnnotations": map[string]string{"summary": "双随机抽查系统 响应时间超过 3 秒"}, "externalURL": "http://am",
		"alerts": []any{alert}})
	req, _ := http.NewRequest("POST", a.base+"/alerts/alertmanager", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer dev-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(a.t, 200, resp.StatusCode, string(out))
}

// TestSlowResponsePagesAccessParty (M 7.3.3 c): a slow-response alert from
// Alertmanager pages the app's access party and the operators (joint
// troubleshooting) like a non-200 alert, without a public-notice draft.
func TestSlowResponsePagesAccessParty(t *testing.T) {
	a := startApp(t)
	labels := map[string]string{"alertname": "AppSlowResponse", "app": "sjsj", "kind": "slow_response", "severity": "warning"}
	a.postAlerts("slow1", "firing", labels, time.Now().Add(-10*time.Minute))
	eventually(t, "access party paged", func() bool { return len(a.cards("wuhao", 1)) == 1 })
	eventually(t, "operators paged", func() bool { return len(a.cards("zhoujie", 1)) >= 1 })
	r := a.say("admin", "/incident show 1")
	require.Contains(t, r.Text, "转为联合排查，已通知：吴昊")
	require.Equal(t, 0, countText(a, "admin", "待审批公告"), "a slow app is not an outage")
	a.postAlerts("slow1", "resolved", labels, time.Now().Add(-10*time.Minute))
	eventually(t, "auto-resolved", func() bool { return strings.Contains(a.say("admin", "/incident show 1").all(), "已解决") })
	require.Equal(t, 0, countText(a, "admin", "待审批公告"))
}
