package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAlertmanager runs the real Alertmanager on port, routing every
// alert to webhook with opsbot's dev bearer token.
func startAlertmanager(t *testing.T, port int, webhook string) string {
	t.Helper()
	bin := os.Getenv("ALERTMANAGER_PATH")
	if bin == "" {
		bin = "/usr/bin/prometheus-alertmanager"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("OPSBOT_REQUIRE_BROWSER") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("no Alertmanager at %s (make test installs prometheus-alertmanager): %v", bin, err)
		}
		t.Skipf("no Alertmanager at %s", bin)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: opsbot
  group_by: [alertname, app]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: opsbot
    webhook_configs:
      - url: %s
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: dev-token
`, webhook)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600))
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+dir,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--cluster.listen-address=")
	logf, err := os.Create(filepath.Join(dir, "am.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "am.log"))
			t.Logf("alertmanager log:\n%s", b)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 20*time.Second, 100*time.Millisecond, "alertmanager did not become ready")
	return base
}

// fire posts an alert to Alertmanager; ends in the past resolves it.
func fire(t *testing.T, am string, labels map[string]string, summary string, ends time.Time) {
	t.Helper()
	b, _ := json.Marshal([]map[string]any{{"labels": labels, "annotations": map[string]string{"summary": summary},
		"startsAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "endsAt": ends.UTC().Format(time.RFC3339),
		"generatorURL": "http://prometheus.local/graph"}})
	resp, err := http.Post(am+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(out))
}

// channelCard waits for the incident card of id in a webchat channel.
func (a *app) channelCard(channel string, id int) wmsg {
	a.t.Helper()
	var found wmsg
	eventually(a.t, "card in #"+channel, func() bool {
		code, body := a.call("GET", "/webchat/api/channel?name="+channel+"&after=0", nil)
		if code != 200 {
			return false
		}
		var out struct{ Messages []wmsg }
		_ = json.Unmarshal(body, &out)
		for _, m := range out.Messages {
			if m.Ref == fmt.Sprintf("incident:%d#card", id) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// TestAlertmanagerEndToEnd: the real Alertmanager fires an alert → an
// incident card in #ops → tapping Silence creates a silence in
// Alertmanager → a resolved alert auto-resolves its incident.
func TestAlertmanagerEndToEnd(t *testing.T) {
	amPort := freePort(t)
	a := startApp(t, fmt.Sprintf("OPSBOT_ALERTS_ALERTMANAGER_URL=http://127.0.0.1:%d", amPort))
	am := startAlertmanager(t, amPort, a.base+"/alerts/alertmanager")

	fire(t, am, map[string]string{"alertname": "SjsjDown", "app": "sjsj", "severity": "critical"}, "双随机抽查系统无法访问", time.Now().Add(time.Hour))
	card := a.channelCard("ops", 1)
	require.Contains(t, card.Title, "Ⅱ级（重大）")
	require.Contains(t, card.Title, "双随机抽查系统无法访问")
	require.Contains(t, card.all(), "触发 1，已恢复 0")
	require.Equal(t, "Alertmanager", fieldOf(card, "申报人"), "an alert incident is declared by Alertmanager, not the system user")
	var labels []string
	for _, b := range card.Buttons {
		labels = append(labels, b.Label)
	}
	require.Subset(t, labels, []string{"认领", "升级", "静默 1 小时", "静默 4 小时", "静默至明早 9 点", "解决"})

	r := a.press("sunli", card, "alert.silence")
	requireOK(t, r)
	require.Contains(t, r.Text, "已在 Alertmanager 创建静默")
	resp, err := http.Get(am + "/api/v2/silences")
	require.NoError(t, err)
	var silences []struct {
		ID        string `json:"id"`
		CreatedBy string `json:"createdBy"`
		Status    struct{ State string }
		Matchers  []struct{ Name, Value string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&silences))
	resp.Body.Close()
	require.Len(t, silences, 1)
	require.Equal(t, "active", silences[0].Status.State)
	require.Contains(t, silences[0].CreatedBy, "sunli")
	require.ElementsMatch(t, []struct{ Name, Value string }{{"alertname", "SjsjDown"}, {"app", "sjsj"}}, silences[0].Matchers)
	r = a.say("sunli", "/incident show 1")
	require.Contains(t, r.Text, "孙丽 静默："+silences[0].ID)

	// Another group fires, then resolves: its incident resolves by itself.
	slow := map[string]string{"alertname": "SjsjSlow", "app": "sjsj", "severity": "warning"}
	fire(t, am, slow, "双随机抽查系统响应慢", time.Now().Add(time.Hour))
	card2 := a.channelCard("ops", 2)
	require.Contains(t, card2.Title, "Ⅲ级（较大）")
	fire(t, am, slow, "双随机抽查系统响应慢", time.Now().Add(-time.Second))
	eventually(t, "auto-resolved", func() bool {
		return strings.Contains(a.say("sunli", "/incident show 2").all(), "已解决")
	})
	r = a.say("sunli", "/incident show 2")
	require.Contains(t, r.Text, "告警全部恢复，自动解决")
}

// webhook posts an Alertmanager v4 notification to opsbot.
func (a *app) webhook(groupKey, status string, alerts ...map[string]any) {
	a.t.Helper()
	b, _ := json.Marshal(map[string]any{"version": "4", "groupKey": groupKey, "status": status, "receiver": "dev",
		"groupLabels":       map[string]string{"alertname": "SiteNon200", "app": "sjsj"},
		"commonLabels":      map[string]string{"alertname": "SiteNon200", "app": "sjsj", "kind": "http_status", "severity": "critical"},
		"commonAnnotations": map[string]string{"summary": "双随机抽查系统 HTTP 非 200"}, "externalURL": "http://am", "alerts": alerts})
	req, _ := http.NewRequest("POST", a.base+"/alerts/alertmanager", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer dev-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(a.t, 200, resp.StatusCode, string(out))
}

func alertOf(fp, status string, starts time.Time) map[string]any {
	return map[string]any{"status": status, "fingerprint": fp, "startsAt": starts.UTC().Format(time.RFC3339),
		"labels": map[string]string{"alertname": "SiteNon200", "app": "sjsj", "kind": "http_status", "instance": fp}, "annotations": map[string]string{}}
}

// TestNon200Rule: 9 minutes of an HTTP-availability alert → nothing extra;
// past 10 → the access party and operators are paged and a public-notice
// draft goes to the sys admin; on recovery a recovery draft follows.
func TestNon200Rule(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	start := clock.Now()
	a.webhook("g1", "firing", alertOf("a1", "firing", start))
	a.channelCard("ops", 1)
	clock.Add(9 * time.Minute)
	never(t, "no joint troubleshooting at 9 minutes", func() bool {
		return len(a.cards("wuhao", 1)) > 0 || countText(a, "admin", "待审批公告") > 0
	})
	clock.Add(90 * time.Second)
	eventually(t, "access party paged", func() bool { return len(a.cards("wuhao", 1)) == 1 })
	eventually(t, "operators paged", func() bool { return len(a.cards("zhoujie", 1)) >= 1 })
	eventually(t, "notice draft to the sys admin", func() bool { return countText(a, "admin", "【待审批公告】事件 #1 系统访问异常") == 1 })
	var draft wmsg
	for _, m := range a.inbox("admin") {
		if strings.Contains(m.Title, "【待审批公告】事件 #1") && len(m.Buttons) > 0 {
			draft = m
		}
	}
	require.Contains(t, draft.Text, "双随机抽查系统 自")
	requireRefused(t, a.click("sunli", "", "alert.notice", draft.Buttons[0].Value), "系统总管理员")
	requireOK(t, a.press("admin", draft, "alert.notice"))
	requireRefused(t, a.press("admin", draft, "alert.notice"), "已由 系统管理员 于")
	eventually(t, "public notice in #ops", func() bool {
		return countText(a, "sunli", "【公告】系统访问异常") == 0 && channelHas(a, "ops", "【公告】系统访问异常")
	})
	r := a.say("admin", "/incident show 1")
	require.Contains(t, r.Text, "转为联合排查，已通知：吴昊")
	require.Contains(t, r.all(), "联合排查")
	// Recovery: resolved → auto-resolved, and a recovery notice drafted.
	a.webhook("g1", "resolved", alertOf("a1", "resolved", start))
	eventually(t, "recovery draft", func() bool { return countText(a, "admin", "【待审批公告】事件 #1 系统恢复") == 1 })
	require.Contains(t, a.say("admin", "/incident show 1").all(), "已解决")
}

func channelHas(a *app, channel, text string) bool {
	code, body := a.call("GET", "/webchat/api/channel?name="+channel+"&after=0", nil)
	return code == 200 && strings.Contains(string(body), text)
}

// TestAlertStormCoalesced: many posts for one group within 30 s make one
// incident and at most one card update per 30 s; nothing is lost.
func TestAlertStormCoalesced(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	start := clock.Now()
	var alerts []map[string]any
	for n := 0; n < 20; n++ {
		alerts = append(alerts, alertOf(fmt.Sprintf("x%02d", n), "firing", start))
		a.webhook("storm", "firing", alerts...) // each post carries the group's current alerts
	}
	card := a.channelCard("ops", 1)
	require.Contains(t, card.all(), "触发 1，已恢复 0", "the first card")
	never(t, "no update within 30 s", func() bool { return a.channelCard("ops", 1).Revision > 1 })
	clock.Add(31 * time.Second)
	eventually(t, "one coalesced update", func() bool {
		c := a.channelCard("ops", 1)
		return c.Revision == 2 && strings.Contains(c.all(), "触发 20，已恢复 0")
	})
	r := a.say("admin", "/incident list")
	require.Equal(t, 1, strings.Count(r.Text, "#"), "one incident for the group: "+r.Text)
	// A repeated post (Alertmanager retries) changes nothing visible.
	a.webhook("storm", "firing", alerts...)
	clock.Add(31 * time.Second)
	eventually(t, "counts unchanged", func() bool { return strings.Contains(a.channelCard("ops", 1).all(), "触发 20，已恢复 0") })
}

// TestAlertReopen: firing again within the reopen window reopens the same
// incident; after the window it opens a new one.
func TestAlertReopen(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	start := clock.Now()
	a.webhook("flap", "firing", alertOf("f1", "firing", start))
	a.channelCard("ops", 1)
	a.webhook("flap", "resolved", alertOf("f1", "resolved", start))
	require.Contains(t, a.say("admin", "/incident show 1").all(), "已解决")
	clock.Add(10 * time.Minute)
	a.webhook("flap", "firing", alertOf("f1", "firing", clock.Now()))
	r := a.say("admin", "/incident show 1")
	require.Contains(t, r.Text, "再次触发，重新打开")
	require.Contains(t, r.all(), "待认领")
	a.webhook("flap", "resolved", alertOf("f1", "resolved", start))
	clock.Add(31 * time.Minute)
	a.webhook("flap", "firing", alertOf("f1", "firing", clock.Now()))
	a.channelCard("ops", 2)
	require.Contains(t, a.say("admin", "/incident show 1").all(), "已解决")
}

// TestAlertCardShowsDescriptionAndLinks: an Alertmanager notification's
// alerts reach the incident card in #ops: each one's description and
// start (in the bot's zone), its generator link and runbook, at most
// three with how many more; acknowledging keeps them on the card.
func TestAlertCardShowsDescriptionAndLinks(t *testing.T) {
	a := startApp(t)
	starts := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var alerts []map[string]any
	for k, fp := range []string{"web1", "web2", "web3", "web4"} {
		al := alertOf(fp, "firing", starts.Add(time.Duration(k)*time.Minute))
		al["annotations"] = map[string]string{"description": "政务服务网 " + fp + " 返回 502", "runbook_url": "https://wiki.example.gov.cn/runbook/" + fp}
		al["generatorURL"] = "http://prometheus.local/graph?g0.expr=probe_http_status_code%7Binstance%3D%22" + fp + "%22%7D"
		alerts = append(alerts, al)
	}
	a.webhook(`{}:{alertname="SiteNon200"}`, "firing", alerts...)
	card := a.channelCard("ops", 1)
	zone, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	check := func(card wmsg) {
		t.Helper()
		require.Equal(t, "SiteNon200 · 政务服务网 web1 返回 502 · "+starts.In(zone).Format("2006-01-02 15:04")+" 开始", fieldOf(card, "告警 1"))
		require.Equal(t, alerts[0]["generatorURL"], fieldOf(card, "告警来源 1"))
		require.Equal(t, "https://wiki.example.gov.cn/runbook/web1", fieldOf(card, "处置手册 1"))
		require.Equal(t, "https://wiki.example.gov.cn/runbook/web3", fieldOf(card, "处置手册 3"))
		require.Empty(t, fieldOf(card, "告警 4"), "at most three alerts on a card")
		require.Equal(t, "另有 1 条", fieldOf(card, "其余告警"))
	}
	check(card)

	requireOK(t, a.press("sunli", card, "incident.ack"))
	eventually(t, "card updated after ack", func() bool {
		c := a.channelCard("ops", 1)
		for _, b := range c.Buttons {
			if b.Action == "incident.ack" {
				return false
			}
		}
		card = c
		return true
	})
	check(card)
}
