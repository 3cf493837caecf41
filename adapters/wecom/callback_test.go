package wecom

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

func TestURLVerification(t *testing.T) {
	b := setup(t)
	echo := encrypt(t, "8424516513570392745", testCorpID)
	ts, nonce := "1772442000", "abc"

	tests := []struct {
		name      string
		signature string
		echostr   string
		status    int
		body      string
	}{
		{name: "valid", signature: sign(testToken, ts, nonce, echo), echostr: echo, status: http.StatusOK, body: "8424516513570392745"},
		{name: "bad signature", signature: sign("other-token", ts, nonce, echo), echostr: echo, status: http.StatusForbidden},
		{name: "no echostr", signature: sign(testToken, ts, nonce, ""), status: http.StatusForbidden},
		{name: "sealed for another corp", signature: "", echostr: encrypt(t, "1", "wwOTHER"), status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.signature
			if sig == "" {
				sig = sign(testToken, ts, nonce, tt.echostr)
			}
			q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {tt.echostr}}
			rec := httptest.NewRecorder()
			b.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/wecom/callback?"+q.Encode(), nil))
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.body != "" {
				require.Equal(t, tt.body, rec.Body.String())
			}
		})
	}
}

func TestCommandRoundTrip(t *testing.T) {
	b := setup(t)
	b.bot.reply = func(ev bot.Event) []bot.Message {
		return []bot.Message{
			{Status: bot.StatusOK, Text: "你是 张三（zhangsan）"},
			{Status: bot.StatusOK, Title: "角色", Fields: []bot.Field{{Name: "单位", Value: "市大数据中心"}}},
		}
	}

	rec := b.post(t, callbackRequest(t, textXML("ZhangSan", " /whoami ", "7001")))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String(), "WeCom gets an empty 200; replies go through the API")

	require.Equal(t, []bot.Event{{Platform: core.PlatformWeCom, UserRef: "ZhangSan", Text: "/whoami", MessageID: "7001"}}, b.bot.seen())
	sends := b.api.callsTo("message/send")
	require.Len(t, sends, 2)
	require.Equal(t, "ZhangSan", sends[0].str("touser"))
	require.Equal(t, "text", sends[0].str("msgtype"))
	require.Equal(t, "你是 张三（zhangsan）", sends[0].str("text", "content"))
	require.Equal(t, float64(testAgentID), sends[0].Body["agentid"], "agentid is an integer")
	require.Equal(t, "markdown", sends[1].str("msgtype"))
	require.Contains(t, sends[1].str("markdown", "content"), "**角色**")
	require.Contains(t, sends[1].str("markdown", "content"), "单位")
}

func TestCardClickDecides(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	request := bot.Message{
		Ref: "request:42", Title: "上线申请 #42", Text: "社保查询系统 v2.3 上线",
		Fields: []bot.Field{{Name: "申请人", Value: "王五"}},
		Buttons: []bot.Button{
			{Action: "approval.approve", Value: "request:42", Label: "批准", Style: "primary"},
			{Action: "approval.reject", Value: "request:42", Label: "驳回", Style: "danger"},
		},
	}
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, request))
	sent := b.api.callsTo("message/send")
	require.Len(t, sent, 1)
	require.Equal(t, "template_card", sent[0].str("msgtype"))
	require.Equal(t, "button_interaction", sent[0].str("template_card", "card_type"))
	taskID := sent[0].str("template_card", "task_id")
	require.Regexp(t, `^[A-Za-z0-9_@-]{1,128}$`, taskID)
	buttons := sent[0].Body["template_card"].(map[string]any)["button_list"].([]any)
	require.Len(t, buttons, 2)
	require.Equal(t, "approval.approve|request:42", buttons[0].(map[string]any)["key"])

	b.bot.reply = func(ev bot.Event) []bot.Message {
		return []bot.Message{{Ref: "request:42", Status: bot.StatusOK, Title: "上线申请 #42 已批准", Text: "李四 批准了申请"}}
	}
	rec := b.post(t, callbackRequest(t, clickXML("lisi", "approval.approve|request:42", taskID, "click-code-1")))
	require.Equal(t, http.StatusOK, rec.Code)

	require.Equal(t, []bot.Event{{Platform: core.PlatformWeCom, UserRef: "lisi", Action: "approval.approve", Value: "request:42", MessageID: taskID}}, b.bot.seen())
	updates := b.api.callsTo("message/update_template_card")
	require.Len(t, updates, 1)
	require.Equal(t, "click-code-1", updates[0].str("response_code"))
	require.Equal(t, []any{"lisi"}, updates[0].Body["userids"])
	require.Equal(t, "上线申请 #42 已批准", updates[0].str("template_card", "main_title", "title"))
	require.Equal(t, "已处理", updates[0].str("template_card", "replace_text"))

	sent = b.api.callsTo("message/send")
	require.Len(t, sent, 2, "the outcome is also sent as a new message")
	require.Equal(t, "lisi", sent[1].str("touser"))
	require.Contains(t, sent[1].str("markdown", "content"), "上线申请 #42 已批准")
}

func TestClickRefusedLeavesCard(t *testing.T) {
	b := setup(t)
	b.bot.reply = func(ev bot.Event) []bot.Message {
		return []bot.Message{{Status: bot.StatusError, Text: "不能审批自己的申请"}}
	}
	b.post(t, callbackRequest(t, clickXML("wangwu", "approval.approve|request:42", "opsbot-1", "click-code")))
	require.Len(t, b.bot.seen(), 1)
	require.Empty(t, b.api.callsTo("message/update_template_card"), "an error reply leaves the card's buttons")
	require.Len(t, b.api.callsTo("message/send"), 1)
}

func TestRetriedCallbackHandledOnce(t *testing.T) {
	b := setup(t)
	b.bot.reply = func(bot.Event) []bot.Message { return []bot.Message{{Text: "ok"}} }
	tests := []struct {
		name string
		xml  string
	}{
		{name: "text by MsgId", xml: textXML("zhangsan", "/duty now", "9001")},
		{name: "click by sender and time", xml: clickXML("lisi", "incident.ack|incident:7", "opsbot-7", "rc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.bot.seen())
			for range 3 { // WeCom retries up to three times
				rec := b.post(t, callbackRequest(t, tt.xml))
				require.Equal(t, http.StatusOK, rec.Code)
			}
			require.Len(t, b.bot.seen(), before+1)
		})
	}
	require.Len(t, b.api.callsTo("message/send"), 2)
}

func TestBadCallbacksRefused(t *testing.T) {
	b := setup(t)
	good := callbackRequest(t, textXML("zhangsan", "/help", "1"))
	q := good.URL.Query()
	goodBody := bodyOf(t, good)

	tamperedSig := url.Values{"msg_signature": {sign(testToken, "1", "2", "3")}, "timestamp": {q.Get("timestamp")}, "nonce": {q.Get("nonce")}}
	wrongCorp := encrypt(t, textXML("zhangsan", "/help", "2"), "wwOTHER")
	wrongCorpQ := url.Values{"msg_signature": {sign(testToken, "1", "n", wrongCorp)}, "timestamp": {"1"}, "nonce": {"n"}}

	tests := []struct {
		name   string
		query  string
		body   string
		status int
	}{
		{name: "bad signature", query: tamperedSig.Encode(), body: goodBody, status: http.StatusForbidden},
		{name: "no signature", query: "", body: goodBody, status: http.StatusForbidden},
		{name: "not xml", query: q.Encode(), body: "{}", status: http.StatusBadRequest},
		{name: "no Encrypt", query: q.Encode(), body: "<xml><ToUserName>x</ToUserName></xml>", status: http.StatusBadRequest},
		{name: "sealed for another corp", query: wrongCorpQ.Encode(), body: "<xml><Encrypt><![CDATA[" + wrongCorp + "]]></Encrypt></xml>", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/wecom/callback?"+tt.query, strings.NewReader(tt.body))
			rec := b.post(t, req)
			require.Equal(t, tt.status, rec.Code)
		})
	}
	require.Empty(t, b.bot.seen(), "nothing refused reaches the bot")
	require.Empty(t, b.api.callsTo("message/send"))
}

func bodyOf(t *testing.T, r *http.Request) string {
	t.Helper()
	raw, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(raw)
}

func TestOtherAgentAndEventsIgnored(t *testing.T) {
	b := setup(t)
	other := strings.Replace(textXML("zhangsan", "/help", "5"), "<AgentID>1000002</AgentID>", "<AgentID>1000099</AgentID>", 1)
	enter := `<xml><ToUserName><![CDATA[` + testCorpID + `]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>1000002</AgentID></xml>`
	for _, x := range []string{other, enter, textXML("zhangsan", "   ", "6")} {
		rec := b.post(t, callbackRequest(t, x))
		require.Equal(t, http.StatusOK, rec.Code)
	}
	require.Empty(t, b.bot.seen())
}

func FuzzDecodeCallback(f *testing.F) {
	c := crypt{token: testToken, key: testAESKey, corpID: testCorpID}
	enc := encrypt(f, textXML("zhangsan", "/help", "1"), testCorpID)
	f.Add(sign(testToken, "1", "n", enc), "1", "n", []byte("<xml><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>"))
	f.Add("", "", "", []byte("<xml></xml>"))
	f.Add("x", "1", "n", []byte("<xml><Encrypt>AAAA</Encrypt></xml>"))
	short := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	f.Add(sign(testToken, "1", "n", short), "1", "n", []byte("<xml><Encrypt>"+short+"</Encrypt></xml>"))
	f.Fuzz(func(t *testing.T, sig, ts, nonce string, body []byte) {
		in, err := decodeCallback(c, sig, ts, nonce, body)
		if err == nil {
			_ = in.dedupeKey()
		}
		// Signed fuzz input: exercise the decryption path too.
		var env envelope
		if xmlErr := xml.Unmarshal(body, &env); xmlErr == nil && env.Encrypt != "" {
			_, _ = decodeCallback(c, sign(testToken, ts, nonce, env.Encrypt), ts, nonce, body)
		}
	})
}
