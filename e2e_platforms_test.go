package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/wecom/wecomtest"
	"opsbot/core"
	"opsbot/storage/redis/redistest"
)

// apiCall is one request a stand-in platform API received.
type apiCall struct {
	Path  string
	Query url.Values
	Form  url.Values
	Body  map[string]any
}

// fakeAPI records calls and answers with answer(path, call).
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []apiCall
	answer func(c apiCall, n int) map[string]any
}

func newFakeAPI(t *testing.T, answer func(c apiCall, n int) map[string]any) *fakeAPI {
	f := &fakeAPI{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		c := apiCall{Path: r.URL.Path, Query: r.URL.Query()}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			c.Form, _ = url.ParseQuery(string(raw))
		} else {
			_ = json.Unmarshal(raw, &c.Body)
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		n := len(f.calls)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.answer(c, n))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) to(path string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

const (
	wecomCorp  = "wwopsbottest"
	wecomToken = "cbtoken"
	wecomKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // 43 characters
)

// wecomPost sends a callback as WeCom does: encrypted and signed, now.
func (a *app) wecomPost(t *testing.T, xml string) int {
	return a.wecomPostAt(t, xml, time.Now())
}

// wecomPostAt sends a callback signed with timestamp at.
func (a *app) wecomPostAt(t *testing.T, xml string, at time.Time) int {
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(xml), wecomCorp, wecomKey)
	require.NoError(t, err)
	ts, nonce := strconv.FormatInt(at.Unix(), 10), "nonce1"
	parts := []string{wecomToken, ts, nonce, string(enc)}
	sort.Strings(parts)
	q := url.Values{"msg_signature": {util.Signature(parts...)}, "timestamp": {ts}, "nonce": {nonce}}
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[%s]]></Encrypt></xml>", wecomCorp, enc)
	resp, err := http.Post(a.base+"/wecom/callback?"+q.Encode(), "text/xml", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// wecomText is a decrypted text message callback from user.
func wecomText(user, text string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId><AgentID>1000002</AgentID></xml>`,
		wecomCorp, user, time.Now().Unix(), text, time.Now().UnixNano())
}

// wecomAPI stands in for qyapi.weixin.qq.com: it checks every request as
// WeCom documents it (wecomtest.CheckRequest: agentid an integer, required
// fields, at most 6 buttons a card) and refuses the others with 40058,
// which fails the test; inject, when set, may answer a call with an
// errcode of its choice first.
type wecomAPI struct {
	*fakeAPI
	mu       sync.Mutex
	refused  []string
	accepted []apiCall
	inject   func(c apiCall) int64
}

func newWeComAPI(t *testing.T, extra func(c apiCall, out map[string]any)) *wecomAPI {
	w := &wecomAPI{}
	w.fakeAPI = newFakeAPI(t, func(c apiCall, n int) map[string]any {
		out := map[string]any{"errcode": 0, "errmsg": "ok"}
		path := strings.TrimPrefix(c.Path, "/cgi-bin/")
		if err := wecomtest.CheckRequest(path, c.Body); err != nil {
			w.mu.Lock()
			w.refused = append(w.refused, path+": "+err.Error())
			w.mu.Unlock()
			return map[string]any{"errcode": wecomtest.CodeInvalidParameter, "errmsg": err.Error()}
		}
		w.mu.Lock()
		inject := w.inject
		w.mu.Unlock()
		if inject != nil {
			if code := inject(c); code != 0 {
				return map[string]any{"errcode": code, "errmsg": "injected"}
			}
		}
		switch path {
		case "gettoken":
			out["access_token"], out["expires_in"] = "tok", 7200
		case "media/upload": // the digest's chart, when a test runs past the digest's hour
			out["type"], out["media_id"] = "image", fmt.Sprintf("media-%d", n)
		case "message/send":
			if c.Body["msgtype"] == "template_card" {
				out["response_code"] = fmt.Sprintf("rc-send-%d", n)
			}
		}
		if extra != nil {
			extra(c, out)
		}
		w.mu.Lock()
		w.accepted = append(w.accepted, c)
		w.mu.Unlock()
		return out
	})
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		assert.Empty(t, w.refused, "the WeCom stand-in refused requests as WeCom would")
	})
	return w
}

// cardButtons lists the button keys of the cards WeCom accepted for user
// whose keys start with prefix, and how many cards carried them.
func (w *wecomAPI) cardButtons(user, prefix string) (keys []string, cards int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.accepted {
		tc, _ := c.Body["template_card"].(map[string]any)
		if c.Path != "/cgi-bin/message/send" || c.Body["touser"] != user || tc == nil {
			continue
		}
		found := false
		buttons, _ := tc["button_list"].([]any)
		for _, b := range buttons {
			if k, _ := b.(map[string]any)["key"].(string); strings.HasPrefix(k, prefix) {
				keys, found = append(keys, k), true
			}
		}
		if found {
			cards++
		}
	}
	return keys, cards
}

// startWeComApp starts opsbot with WeCom first in delivery, on api.
func startWeComApp(t *testing.T, api *wecomAPI, clock core.Clock) *app {
	return startAppWith(t, clock, "OPSBOT_WECOM_ENABLED=true", "OPSBOT_WECOM_CORP_ID="+wecomCorp, "OPSBOT_WECOM_AGENT_ID=1000002",
		"OPSBOT_WECOM_SECRET=s3cret", "OPSBOT_WECOM_TOKEN="+wecomToken, "OPSBOT_WECOM_ENCODING_AES_KEY="+wecomKey,
		"OPSBOT_WECOM_API_BASE="+api.srv.URL, "OPSBOT_DELIVERY_PLATFORMS=wecom,webchat")
}

// TestWeComNeverDropsAMessage: /帮助 (7 topic buttons, more than a WeCom
// card holds) reaches a WeCom user; a reply that meets 45009 once is
// delivered on retry, once; a callback captured 10 minutes ago is refused
// with 403 and nothing runs.
func TestWeComNeverDropsAMessage(t *testing.T) {
	api := newWeComAPI(t, nil)
	a := startWeComApp(t, api, nil)
	requireOK(t, a.say("admin", "/org user link liqiang --platform wecom --id LiQiang"))
	topics := len(a.say("liqiang", "/help").Buttons)
	require.Greater(t, topics, 6, "the help card has more buttons than a WeCom card holds")

	require.Equal(t, 200, a.wecomPost(t, wecomText("LiQiang", "/帮助")))
	eventually(t, "the help card with every topic reaches LiQiang", func() bool {
		keys, _ := api.cardButtons("LiQiang", "help.topic|")
		return len(keys) == topics
	})
	_, cards := api.cardButtons("LiQiang", "help.topic|")
	require.Equal(t, 2, cards, "sent as two cards of at most 6 buttons")

	// WeCom throttles the next send once: the reply goes out on retry, once.
	var throttled atomic.Bool
	api.mu.Lock()
	api.inject = func(c apiCall) int64 {
		if c.Path == "/cgi-bin/message/send" && c.Body["touser"] == "LiQiang" && throttled.CompareAndSwap(false, true) {
			return 45009
		}
		return 0
	}
	api.mu.Unlock()
	require.Equal(t, 200, a.wecomPost(t, wecomText("LiQiang", "/帮助")))
	eventually(t, "the throttled reply is delivered on retry", func() bool {
		keys, _ := api.cardButtons("LiQiang", "help.topic|")
		return len(keys) == 2*topics
	})
	require.True(t, throttled.Load())
	never(t, "the reply is not sent twice", func() bool {
		keys, _ := api.cardButtons("LiQiang", "help.topic|")
		return len(keys) > 2*topics
	})

	// A captured callback replayed 10 minutes later is refused; nothing runs.
	before := len(api.to("/cgi-bin/message/send"))
	require.Equal(t, http.StatusForbidden, a.wecomPostAt(t, wecomText("LiQiang", "/incident declare 重放的事件 --level 3"), time.Now().Add(-10*time.Minute)))
	never(t, "a stale callback runs nothing", func() bool { return len(api.to("/cgi-bin/message/send")) > before })
	require.NotContains(t, a.say("admin", "/incident list").all(), "重放的事件")
}

// TestWeComChecklistOfFiveItems: a 5-item inspection checklist (10
// buttons) reaches an operator linked to WeCom as cards of at most 6
// buttons, each item's OK and Issue together.
func TestWeComChecklistOfFiveItems(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")} // a Tuesday
	api := newWeComAPI(t, nil)
	a := startWeComApp(t, api, clock)
	requireOK(t, a.say("admin", "/org user link sunli --platform wecom --id SunLi"))
	requireOK(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee sunli --items cpu,disk,backup,network,certs`))
	clock.Set(at("2026-11-24 09:00"))
	eventually(t, "the 5-item checklist reaches SunLi on WeCom", func() bool {
		keys, _ := api.cardButtons("SunLi", "inspect.")
		return len(keys) == 10
	})
	keys, cards := api.cardButtons("SunLi", "inspect.")
	require.Equal(t, 2, cards)
	require.Equal(t, "inspect.ok|inspect:1:4", keys[6], "the second card starts with item 4, its pair whole")
}

// TestWeComApprovalCardRoundTrip: with WeCom first in delivery, an
// approver linked to WeCom gets the request as a template card; a command
// typed in WeCom is answered there; tapping Approve decides the request,
// the card is updated with the click's response_code and the outcome is
// sent as a new message.
func TestWeComApprovalCardRoundTrip(t *testing.T) {
	api := newWeComAPI(t, func(c apiCall, out map[string]any) {
		switch c.Path {
		case "/cgi-bin/department/list":
			out["department"] = []map[string]any{{"id": 1, "name": "示范市", "parentid": 0}, {"id": 7, "name": "大数据中心", "parentid": 1}}
		case "/cgi-bin/user/list":
			out["userlist"] = []map[string]any{}
			if c.Query.Get("department_id") == "7" {
				out["userlist"] = []map[string]any{{"userid": "wangxin", "name": "王鑫", "department": []int{7}, "main_department": 7, "status": 1}}
			}
		}
	})
	a := startWeComApp(t, api, nil)
	requireOK(t, a.say("admin", "/org user link liqiang --platform wecom --id LiQiang"))

	// URL verification.
	ts, nonce := "1772442000", "n1"
	echo, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte("echo-42"), wecomCorp, wecomKey)
	require.NoError(t, err)
	parts := []string{wecomToken, ts, nonce, string(echo)}
	sort.Strings(parts)
	q := url.Values{"msg_signature": {util.Signature(parts...)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {string(echo)}}
	code, body := a.call("GET", "/wecom/callback?"+q.Encode(), nil)
	require.Equal(t, 200, code)
	require.Equal(t, "echo-42", string(body))

	// A command typed in WeCom is answered there.
	require.Equal(t, 200, a.wecomPost(t, `<xml><ToUserName><![CDATA[`+wecomCorp+`]]></ToUserName><FromUserName><![CDATA[LiQiang]]></FromUserName><CreateTime>1772442000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[/我是谁]]></Content><MsgId>`+strconv.FormatInt(time.Now().UnixNano(), 10)+`</MsgId><AgentID>1000002</AgentID></xml>`))
	eventually(t, "whoami answered in WeCom", func() bool {
		for _, c := range api.to("/cgi-bin/message/send") {
			if c.Body["touser"] == "LiQiang" && strings.Contains(fmt.Sprint(c.Body), "liqiang") {
				return true
			}
		}
		return false
	})

	id := a.submit("zhangwei", "/app grant sjsj --to dc-edu --kind visible")
	var key, task string
	eventually(t, "the request card reaches the approver on WeCom", func() bool {
		for _, c := range api.to("/cgi-bin/message/send") {
			tc, _ := c.Body["template_card"].(map[string]any)
			if c.Body["touser"] != "LiQiang" || tc == nil {
				continue
			}
			task, _ = tc["task_id"].(string)
			buttons, _ := tc["button_list"].([]any)
			for _, b := range buttons {
				if k, _ := b.(map[string]any)["key"].(string); strings.HasPrefix(k, "approval.approve|") {
					key = k
				}
			}
			return key != ""
		}
		return false
	})
	require.Equal(t, fmt.Sprintf("approval.approve|request:%d#1", id), key)

	click := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[LiQiang]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[%s]]></EventKey><TaskId><![CDATA[%s]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[rc-click]]></ResponseCode><AgentID>1000002</AgentID></xml>`, wecomCorp, time.Now().UnixNano(), key, task)
	require.Equal(t, 200, a.wecomPost(t, click))
	require.Equal(t, 200, a.wecomPost(t, click), "a retried click is answered and ignored")
	eventually(t, "the clicked card is updated with the click's response_code", func() bool {
		for _, c := range api.to("/cgi-bin/message/update_template_card") {
			if c.Body["response_code"] == "rc-click" {
				return true
			}
		}
		return false
	})
	require.Contains(t, a.say("zhangwei", "/app access sjsj").Text, "unit:dc-edu · visible", "the approval took effect")
	eventually(t, "the outcome is also sent as a new message", func() bool {
		for _, c := range api.to("/cgi-bin/message/send") {
			if c.Body["touser"] == "LiQiang" && c.Body["msgtype"] != "template_card" && strings.Contains(fmt.Sprint(c.Body), fmt.Sprintf("#%d", id)) {
				return true
			}
		}
		return false
	})
	r := a.say("zhangwei", fmt.Sprintf("/request show %d", id))
	require.Equal(t, 1, strings.Count(r.Text, "李强"), "decided once: %s", r.Text)

	// /org sync wecom: a preview, applied on the confirm button.
	requireRefused(t, a.say("liqiang", "/org sync wecom"), "系统总管理员")
	requireRefused(t, a.say("admin", "/org sync dingtalk"), "wecom")
	preview := a.say("admin", "/org sync wecom")
	requireOK(t, preview)
	require.Contains(t, preview.all(), "新增单位 wecom-7「大数据中心」")
	require.Contains(t, preview.all(), "新增用户 wangxin「王鑫」到 wecom-7")
	require.Contains(t, preview.all(), "关联 wangxin ↔ 企业微信账号 wangxin")
	require.NotContains(t, a.say("admin", "/org tree").Text, "大数据中心", "nothing changes before the confirm")
	done := a.press("admin", preview, "org.sync.apply")
	requireOK(t, done)
	require.Contains(t, done.Text, "已完成 3 项变更")
	require.Contains(t, a.say("admin", "/org tree").Text, "大数据中心")
	require.Contains(t, a.say("admin", "/org user show wangxin").all(), "wecom: wangxin")
	require.Contains(t, a.say("admin", "/org sync wecom").Text, "无需同步")
}

const slackSecret = "e2e-signing-secret"

// slackPost posts a signed request to opsbot's Slack endpoints.
func (a *app) slackPost(t *testing.T, path string, form url.Values) int {
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(slackSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req, err := http.NewRequest("POST", a.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// TestSlackApprovalCardRoundTrip: an approver linked to Slack gets the
// request as a Block Kit card; the click decides it and every card of the
// step is replaced through chat.update.
func TestSlackApprovalCardRoundTrip(t *testing.T) {
	api := newFakeAPI(t, func(c apiCall, n int) map[string]any {
		out := map[string]any{"ok": true}
		switch c.Path {
		case "/chat.postMessage":
			ch := c.Form.Get("channel")
			if strings.HasPrefix(ch, "U") {
				ch = "D" + ch[1:]
			}
			out["channel"], out["ts"] = ch, fmt.Sprintf("1700000000.%06d", n)
		case "/chat.update":
			out["channel"], out["ts"] = c.Form.Get("channel"), c.Form.Get("ts")
		}
		return out
	})
	a := startApp(t, "OPSBOT_SLACK_ENABLED=true", "OPSBOT_SLACK_BOT_TOKEN=xoxb-e2e", "OPSBOT_SLACK_SIGNING_SECRET="+slackSecret,
		"OPSBOT_SLACK_API_URL="+api.srv.URL+"/", "OPSBOT_DELIVERY_PLATFORMS=slack,webchat")
	requireOK(t, a.say("admin", "/org user link liqiang --platform slack --id U0LIQIANG"))

	// Unsigned requests are refused.
	resp, err := http.PostForm(a.base+"/slack/commands", url.Values{"command": {"/opsbot"}, "text": {"whoami"}, "user_id": {"U0LIQIANG"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	id := a.submit("zhangwei", "/app grant sjsj --to dc-edu --kind visible")
	var actionID, value, channel string
	ts := "1700000000.000001"
	eventuallyOr(t, "the request card reaches the approver on Slack", func() bool {
		for _, c := range api.to("/chat.postMessage") {
			if c.Form.Get("channel") != "U0LIQIANG" {
				continue
			}
			var blocks []map[string]any
			_ = json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks)
			for _, b := range blocks {
				els, _ := b["elements"].([]any)
				for _, e := range els {
					el, _ := e.(map[string]any)
					if id, _ := el["action_id"].(string); strings.HasPrefix(id, "approval.approve|") {
						actionID, value = id, el["value"].(string)
					}
				}
			}
			if actionID != "" {
				channel = "D0LIQIANG"
				return true
			}
		}
		return false
	}, func() {
		for _, c := range api.to("/chat.postMessage") {
			t.Logf("post %s", c.Form)
		}
	})
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "trigger_id": redistest.Name("trig"), "user": map[string]any{"id": "U0LIQIANG"},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
		"response_url": api.srv.URL + "/respond",
		"actions":      []map[string]any{{"type": "button", "action_id": actionID, "block_id": "b1", "value": value, "text": map[string]any{"type": "plain_text", "text": "Approve"}}},
	})
	require.Equal(t, 200, a.slackPost(t, "/slack/interactions", url.Values{"payload": {string(payload)}}))
	require.Equal(t, 200, a.slackPost(t, "/slack/interactions", url.Values{"payload": {string(payload)}}), "a retried click is handled once")
	eventually(t, "the card is replaced through chat.update", func() bool {
		for _, c := range api.to("/chat.update") {
			if c.Form.Get("channel") == "D0LIQIANG" && !strings.Contains(c.Form.Get("blocks"), "approval.approve") {
				return true
			}
		}
		return false
	})
	require.Contains(t, a.say("zhangwei", "/app access sjsj").Text, "unit:dc-edu · visible", "the approval took effect")
	r := a.say("zhangwei", fmt.Sprintf("/request show %d", id))
	require.Equal(t, 1, strings.Count(r.Text, "李强"), "decided once: %s", r.Text)

	// Reject asks for the reason in a modal; the submission decides with it.
	id2 := a.submit("zhangwei", "/app grant sjsj --to dc-edu --kind inapp:抽查结果查询")
	var rejectID, rejectValue string
	eventually(t, "the second card", func() bool {
		for _, c := range api.to("/chat.postMessage") {
			blocks := c.Form.Get("blocks")
			if c.Form.Get("channel") == "U0LIQIANG" && strings.Contains(blocks, fmt.Sprintf("request:%d#1", id2)) {
				var bs []map[string]any
				_ = json.Unmarshal([]byte(blocks), &bs)
				for _, b := range bs {
					els, _ := b["elements"].([]any)
					for _, e := range els {
						el, _ := e.(map[string]any)
						if aid, _ := el["action_id"].(string); strings.HasPrefix(aid, "approval.reject|") {
							rejectID, rejectValue = aid, el["value"].(string)
						}
					}
				}
			}
		}
		return rejectID != ""
	})
	click, _ := json.Marshal(map[string]any{
		"type": "block_actions", "trigger_id": redistest.Name("trig"), "user": map[string]any{"id": "U0LIQIANG"},
		"channel": map[string]any{"id": channel}, "response_url": api.srv.URL + "/respond",
		"actions": []map[string]any{{"type": "button", "action_id": rejectID, "block_id": "b1", "value": rejectValue, "text": map[string]any{"type": "plain_text", "text": "驳回"}}},
	})
	require.Equal(t, 200, a.slackPost(t, "/slack/interactions", url.Values{"payload": {string(click)}}))
	var meta string
	eventually(t, "the reason modal opens", func() bool {
		for _, c := range api.to("/views.open") {
			view, _ := c.Body["view"].(map[string]any)
			meta, _ = view["private_metadata"].(string)
		}
		return meta != ""
	})
	submit, _ := json.Marshal(map[string]any{
		"type": "view_submission", "user": map[string]any{"id": "U0LIQIANG"},
		"view": map[string]any{"id": redistest.Name("V"), "callback_id": "opsbot.reason", "private_metadata": meta,
			"state": map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]any{"type": "plain_text_input", "value": "请先走单位内部审批"}}}}},
	})
	require.Equal(t, 200, a.slackPost(t, "/slack/interactions", url.Values{"payload": {string(submit)}}))
	eventually(t, "rejected with the reason", func() bool {
		return strings.Contains(a.say("zhangwei", fmt.Sprintf("/request show %d", id2)).all(), "请先走单位内部审批")
	})

	// A slash command round trip: the answer goes to response_url.
	require.Equal(t, 200, a.slackPost(t, "/slack/commands", url.Values{"command": {"/opsbot"}, "text": {"whoami"},
		"user_id": {"U0LIQIANG"}, "channel_id": {"D0LIQIANG"}, "response_url": {api.srv.URL + "/respond"}, "trigger_id": {redistest.Name("trig")}}))
	eventually(t, "whoami answered through response_url", func() bool {
		for _, c := range api.to("/respond") {
			if strings.Contains(fmt.Sprint(c.Body), "liqiang") {
				return true
			}
		}
		return false
	})
}

// eventuallyOr is eventually, calling explain when it fails.
func eventuallyOr(t *testing.T, what string, cond func() bool, explain func()) {
	t.Helper()
	if !assert.Eventuallyf(t, cond, 15*time.Second, 100*time.Millisecond, what) {
		explain()
		t.FailNow()
	}
}

// authed calls the webchat API with a bearer token.
func (a *app) authed(t *testing.T, method, path, token string, body any) (int, string) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}
