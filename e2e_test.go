package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/api"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/paging"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis/redistest"
)

// app is a running opsbot (HTTP + worker + scheduler) on a fresh schema.
type app struct {
	t       *testing.T
	base    string
	store   *postgres.Store
	environ []string
	clock   core.Clock            // nil: the system clock
	tweak   func(*configs.Config) // changes what env cannot set (lists), nil: none
	acker   paging.Acker          // the paging service, as the providers' callbacks reach it
	stop    func()
	api     *api.API // the REST API and the mux patterns its routes went through
	apiMux  *api.Mux
}

// testClock is a clock the test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// wmsg is a webchat message on the wire.
type wmsg struct {
	ID       string            `json:"id"`
	Revision int               `json:"revision"`
	To       map[string]string `json:"to"`
	Status   string            `json:"status"`
	Ref      string            `json:"ref"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Fields   []struct{ Name, Value string }
	Buttons  []struct{ Action, Value, Label, Style, Confirm string }
	Image    []byte
}

func (m wmsg) all() string {
	s := m.Title + "\n" + m.Text
	for _, f := range m.Fields {
		s += "\n" + f.Name + ": " + f.Value
	}
	return s
}

// startApp starts opsbot with the dev config and extra OPSBOT_* settings.
func startApp(t *testing.T, extra ...string) *app {
	return startAppWith(t, nil, extra...)
}

// startAppWith starts opsbot on clock (nil: the system clock).
func startAppWith(t *testing.T, clock core.Clock, extra ...string) *app {
	t.Helper()
	return startAppTweaked(t, clock, nil, extra...)
}

// startAppTweaked starts opsbot on clock with its loaded config changed by tweak.
func startAppTweaked(t *testing.T, clock core.Clock, tweak func(*configs.Config), extra ...string) *app {
	t.Helper()
	schema := pgtest.Schema(t)
	dbURL := pgtest.URL()
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	a := &app{t: t, clock: clock, tweak: tweak, environ: append([]string{
		"OPSBOT_DATABASE_URL=" + dbURL + sep + "search_path=" + schema,
		"OPSBOT_REDIS_URL=" + redistest.URL(1),
		"OPSBOT_SERVER_LISTEN=127.0.0.1:0",
		"OPSBOT_WORKER_QUEUE=" + redistest.Name("e2e"),
		"OPSBOT_SCHEDULER_SWEEP_INTERVAL=1s",
		"OPSBOT_LOG_LEVEL=warn",
	}, append(auditFiles(t), extra...)...)}
	t.Cleanup(func() {
		if a.stop != nil {
			a.stop()
		}
	})
	a.boot()
	return a
}

// auditFiles gives a test app its own audit key and checkpoint file, so
// tests never touch the developer's .data/ (whose checkpoints vouch for
// the dev database's chain).
func auditFiles(t *testing.T) []string {
	dir := t.TempDir()
	return []string{"OPSBOT_AUDIT_KEY_FILE=" + dir + "/audit.key", "OPSBOT_AUDIT_CHECKPOINT_FILE=" + dir + "/checkpoints.jsonl"}
}

// boot runs the app until stop is called.
func (a *app) boot() {
	t := a.t
	t.Helper()
	cfg, err := configs.Load("configs/dev.yaml", a.environ)
	require.NoError(t, err)
	if a.tweak != nil {
		a.tweak(cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		done <- run(ctx, cfg, logger, modes["all"], &hooks{clock: a.clock, ready: func(addr string) { ready <- addr },
			store: func(s *postgres.Store) { a.store = s }, api: func(v1 *api.API, mux *api.Mux) { a.api, a.apiMux = v1, mux },
			acker: func(p paging.Acker) { a.acker = p }})
	}()
	select {
	case addr := <-ready:
		a.base = "http://" + addr
		a.stop = func() {
			cancel()
			require.NoError(t, <-done)
			a.stop = nil
		}
	case err := <-done:
		cancel()
		t.Fatalf("opsbot did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("opsbot did not start within 30s")
	}
}

// restart stops the app (HTTP, worker, scheduler) and starts it again on
// the same database and Redis.
func (a *app) restart() {
	a.t.Helper()
	a.stop()
	a.boot()
}

func (a *app) call(method, path string, body any) (int, []byte) {
	a.t.Helper()
	return a.callAs("", method, path, body)
}

// say sends a command as user and returns the one reply.
func (a *app) say(user, text string) wmsg {
	a.t.Helper()
	code, body := a.call("POST", "/webchat/api/messages", map[string]string{"user": user, "channel": "", "text": text})
	require.Equal(a.t, 200, code, string(body))
	var out struct{ Replies []wmsg }
	require.NoError(a.t, json.Unmarshal(body, &out))
	require.Len(a.t, out.Replies, 1, string(body))
	return out.Replies[0]
}

func (a *app) click(user, messageID, action, value string) wmsg {
	a.t.Helper()
	code, body := a.call("POST", "/webchat/api/actions", map[string]string{"user": user, "message_id": messageID, "action": action, "value": value})
	require.Equal(a.t, 200, code, string(body))
	var out struct{ Replies []wmsg }
	require.NoError(a.t, json.Unmarshal(body, &out))
	require.Len(a.t, out.Replies, 1, string(body))
	return out.Replies[0]
}

func (a *app) inbox(user string) []wmsg {
	a.t.Helper()
	code, body := a.call("GET", "/webchat/api/inbox?user="+url.QueryEscape(user)+"&after=0", nil)
	require.Equal(a.t, 200, code, string(body))
	var out struct{ Messages []wmsg }
	require.NoError(a.t, json.Unmarshal(body, &out))
	return out.Messages
}

// waitNotice waits until user's inbox holds a notice containing text.
func (a *app) waitNotice(user, text string) wmsg {
	a.t.Helper()
	var found wmsg
	require.Eventuallyf(a.t, func() bool {
		for _, m := range a.inbox(user) {
			if m.Status == "notice" && strings.Contains(m.all(), text) {
				found = m
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "no notice for %s containing %q", user, text)
	return found
}

// auditVerify runs `opsbot audit verify` as a user would.
func (a *app) auditVerify() (int, string) {
	var out, errOut bytes.Buffer
	code := cli([]string{"audit", "verify", "--config", "configs/dev.yaml"}, a.environ, &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestFoundationMustShow walks the foundation issue's list over the webchat API.
func TestFoundationMustShow(t *testing.T) {
	a := startApp(t)

	// A unit admin adds a user to their unit…
	r := a.say("zhangwei", "/org user add lisi 李四 --unit dc-edu")
	require.Equal(t, "ok", r.Status, r.all())
	require.Contains(t, r.Text, "李四")
	// …and is refused, with the reason, for another unit.
	r = a.say("zhangwei", "/org user add wangwu 王五 --unit dc-health")
	require.Equal(t, "error", r.Status)
	require.Contains(t, r.Text, "无权操作")
	require.Contains(t, r.Text, "dc-health")
	// The same in Chinese command words.
	r = a.say("zhangwei", "/组织 用户 添加 zhaoliu 赵六 --单位 dc-edu-office")
	require.Equal(t, "ok", r.Status, r.all())

	// A district admin moves a user between two units of the district.
	r = a.say("liqiang", "/org user move maxin --unit dc-edu")
	require.Equal(t, "ok", r.Status, r.all())
	// A unit admin may not.
	r = a.say("liuyang", "/org user move lisi --unit dc-health")
	require.Equal(t, "error", r.Status)
	require.Contains(t, r.Text, "分级管理员")

	// /org tree shows the result.
	r = a.say("liqiang", "/org tree dongcheng")
	require.Equal(t, "ok", r.Status)
	require.Contains(t, r.Text, "东城区教育局（dc-edu，单位）· 3 人")
	require.Contains(t, r.Text, "东城区卫生健康委员会（dc-health，单位）· 1 人")
	require.Contains(t, r.Text, "办公室（dc-edu-office，部门）· 2 人")

	// The moved user hears about it through the outbox and the worker.
	a.waitNotice("maxin", "调至 东城区教育局")
	a.waitNotice("lisi", "你已被 张伟 添加到 东城区教育局")

	// The audit trail is there for those allowed…
	r = a.say("liqiang", "/audit user:maxin")
	require.Equal(t, "ok", r.Status)
	require.Contains(t, r.Text, "李强 调动用户 maxin")
	// …and refused to others.
	r = a.say("zhengmin", "/audit user:maxin")
	require.Equal(t, "error", r.Status)

	// The chain verifies…
	code, out := a.auditVerify()
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "audit chain ok")

	// …and after a row is altered by SQL, verify names that row.
	var seq int64
	require.NoError(t, a.store.Pool().QueryRow(context.Background(),
		`SELECT seq FROM audit_log WHERE entity = 'user:maxin' AND action = 'org.user.move'`).Scan(&seq))
	pgtest.Exec(t, a.store, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`)
	pgtest.Exec(t, a.store, `UPDATE audit_log SET actor = 'zhangwei' WHERE seq = $1`, seq)
	code, out = a.auditVerify()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, fmt.Sprintf("audit entry %d: modified", seq))
}

func TestAuditVerifyNamesDeletedRows(t *testing.T) {
	a := startApp(t)
	require.Equal(t, "ok", a.say("zhangwei", "/org user add lisi 李四 --unit dc-edu").Status)
	var last int64
	require.NoError(t, a.store.Pool().QueryRow(context.Background(), `SELECT max(seq) FROM audit_log`).Scan(&last))
	pgtest.Exec(t, a.store, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`)
	pgtest.Exec(t, a.store, `DELETE FROM audit_log WHERE seq = $1`, last-3)
	code, out := a.auditVerify()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, fmt.Sprintf("audit entry %d: missing", last-3))

	// The log refuses plain edits while its trigger is on.
	pgtest.Exec(t, a.store, `ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`)
	_, err := a.store.Pool().Exec(context.Background(), `UPDATE audit_log SET actor = 'x' WHERE seq = 1`)
	require.ErrorContains(t, err, "append-only")
}

func TestBadInputGetsClearErrors(t *testing.T) {
	a := startApp(t)
	tests := []struct {
		name, user, text, want string
	}{
		{"unknown command", "admin", "/frobnicate", "未知命令"},
		{"not a command", "admin", "hello", "请以 / 开头"},
		{"sync without wecom", "admin", "/org sync wecom", "企业微信 未接入"},
		{"sync from elsewhere", "admin", "/org sync dingtalk", "不支持从“dingtalk”同步"},
		{"digest of a member", "zhengmin", "/digest", "管理范围"},
		{"inspection bad cron", "sunli", `/inspect plan add p --cron "x" --assignee operator --items a`, "周期“x”无效"},
		{"backup bad time", "sunli", "/backup plan add cmdb --daily 9am", "HH:MM"},
		{"incomplete", "admin", "/org unit", "/org unit add"},
		{"unknown flag", "admin", "/org tree --colour red", "不认识的参数 --colour"},
		{"missing flag shows usage", "admin", "/org user add x 某人", "用法：/org user add <userid> <name> --unit <code>"},
		{"unclosed quote", "admin", `/org unit rename dc-edu "教育`, "引号没有闭合"},
		{"unknown user", "nobody", "/whoami", "还不是系统用户"},
		{"bad code", "admin", "/org user add Bad!Id 某人 --unit city", "编码"},
		{"self grant", "admin", "/org role grant admin operator", "不能给自己授予角色"},
		{"unknown help topic", "admin", "/help nothing", "没有 nothing 这类命令"},
	}
	for _, tt := range tests {
		r := a.say(tt.user, tt.text)
		require.Equalf(t, "error", r.Status, "%s: %s", tt.name, r.all())
		require.Containsf(t, r.Text, tt.want, tt.name)
	}
	// Malformed requests are refused by the API with a reason.
	code, body := a.call("POST", "/webchat/api/messages", nil)
	require.Equal(t, 400, code)
	require.Contains(t, string(body), "malformed JSON")
	code, body = a.call("POST", "/webchat/api/messages", map[string]string{"user": "admin", "text": "/whoami", "extra": "x"})
	require.Equal(t, 400, code, string(body))
	code, _ = a.call("GET", "/webchat/api/inbox?user=admin&after=abc", nil)
	require.Equal(t, 400, code)
	code, body = a.call("POST", "/webchat/api/actions", map[string]string{"user": "admin", "message_id": "999999", "action": "help.topic", "value": "org"})
	require.Equal(t, 400, code, string(body))
}

func TestHelpButtonsAndChannels(t *testing.T) {
	a := startApp(t)
	r := a.say("zhengmin", "/帮助")
	require.Equal(t, "ok", r.Status)
	require.NotEmpty(t, r.Buttons)
	var orgButton bool
	for _, b := range r.Buttons {
		if b.Action == "help.topic" && b.Value == "org" {
			orgButton = true
		}
	}
	require.True(t, orgButton)
	got := a.click("zhengmin", r.ID, "help.topic", "org")
	require.Equal(t, "ok", got.Status)
	require.Contains(t, got.Text, "/org user move <userid> --unit <code>")
	// Someone else cannot click a card sent to zhengmin.
	code, _ := a.call("POST", "/webchat/api/actions", map[string]string{"user": "maxin", "message_id": r.ID, "action": "help.topic", "value": "org"})
	require.Equal(t, 403, code)

	// Configured channel members see the channel; the channel list says so.
	code, body := a.call("GET", "/webchat/api/channels?user=sunli", nil)
	require.Equal(t, 200, code)
	require.Contains(t, string(body), `"ops"`)
	code, body = a.call("GET", "/webchat/api/users", nil)
	require.Equal(t, 200, code)
	require.Contains(t, string(body), `"liqiang"`)
	require.Contains(t, string(body), `district_admin@dongcheng`)
}

func TestEnglishReplies(t *testing.T) {
	a := startApp(t, "OPSBOT_BOT_LANGUAGE=en")
	r := a.say("zhangwei", "/org user add wangwu 王五 --unit dc-health")
	require.Equal(t, "error", r.Status)
	require.Contains(t, r.Text, "Not allowed")
	r = a.say("zhangwei", "/whoami")
	require.Equal(t, "ok", r.Status)
	require.Contains(t, r.all(), "unit admin(unit_admin) @ dc-edu")
}

func TestOperations(t *testing.T) {
	a := startApp(t)
	code, _ := a.call("GET", "/healthz", nil)
	require.Equal(t, 200, code)
	code, body := a.call("GET", "/readyz", nil)
	require.Equal(t, 200, code, string(body))
	require.Contains(t, string(body), "postgres: ok")
	require.Contains(t, string(body), "redis: ok")
	a.say("admin", "/whoami")
	a.say("admin", "/nope")
	code, body = a.call("GET", "/metrics", nil)
	require.Equal(t, 200, code)
	m := string(body)
	require.Regexp(t, regexp.MustCompile(`http_requests_total\{code="200",method="POST",route="POST /webchat/api/messages"\} \d+`), m)
	require.Contains(t, m, `http_request_duration_seconds_bucket{method="POST",route="POST /webchat/api/messages"`)
	require.Contains(t, m, `opsbot_commands_total{command="whoami",outcome="ok"} 1`)
	require.Contains(t, m, `opsbot_commands_total{command="unknown",outcome="refused"} 1`)
	require.Eventually(t, func() bool {
		_, body := a.call("GET", "/metrics", nil)
		return strings.Contains(string(body), `opsbot_tasks_total{outcome="ok",type="notify:deliver"}`)
	}, 15*time.Second, 200*time.Millisecond)
}

// TestBuildFromEmptyDatabase: without the demo org, the bootstrap admin
// builds the org up through chat alone.
func TestBuildFromEmptyDatabase(t *testing.T) {
	a := startApp(t, "OPSBOT_DEMO_ENABLED=false")
	steps := []string{
		"/org unit add nanshan 南山区 --parent city --level district",
		"/org unit add ns-tax 南山区税务局 --parent nanshan --level unit",
		"/org user add chen 陈主任 --unit nanshan",
		"/org role grant chen district_admin --scope nanshan",
	}
	for _, s := range steps {
		r := a.say("admin", s)
		require.Equalf(t, "ok", r.Status, "%s: %s", s, r.all())
	}
	r := a.say("chen", "/org user add liu 刘科长 --unit ns-tax")
	require.Equal(t, "ok", r.Status, r.all())
	r = a.say("chen", "/org role grant liu unit_admin")
	require.Equal(t, "ok", r.Status, r.all())
	r = a.say("liu", "/org unit add ns-tax-it 信息科 --parent ns-tax --level department")
	require.Equal(t, "ok", r.Status, r.all())
	r = a.say("liu", "/org tree")
	require.Contains(t, r.Text, "信息科（ns-tax-it，部门）· 0 人")
}

// TestWebchatPageInBrowser loads the page in headless Chromium, types
// /whoami and sees the answer.
func TestWebchatPageInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	a := startApp(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(a.base+"/webchat/?user=admin"),
		chromedp.WaitVisible(chromedp.ID("input")),
	))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#user option").length >= 13 && document.querySelector("#user").value === "admin"`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/whoami\n")))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll(".msg.ok .title")].some(e => e.textContent.includes("系统管理员（admin）"))`))
	require.NoError(t, err, "the /whoami answer did not show")
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#messages").innerText`))
	require.NoError(t, err)
	require.Contains(t, text, "系统总管理员(sys_admin) @ city")
}
