package bot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/paging"
)

// TestLegacyIncidentCardsRender: version-0 rows of the kinds that
// tasks/upgrade_test.go cannot check by text (card titles and fields, and
// the update.* kinds, which replace cards) render as the previous
// release rendered them (29bd5a3: bot/incident.go, handover.go, alert.go).
func TestLegacyIncidentCardsRender(t *testing.T) {
	t.Parallel()
	b := testBot(LangEN)
	for _, c := range []struct {
		kind, data  string
		title, text string
		fields      []Field
		buttons     []string
	}{
		{"update.incident", `{"id":"13","title":"HTTP 5xx portal","level":"2","state":"declared","system":"portal","unit":"","owner":"zhangsan","declared_by":"system","rotation":"ops","escalation":"1","created_at":"2026-11-23 10:00","summary":"","on_duty":"zhangsan、wangwu","next_duty":"zhaoliu","escalated":"1","source":"alertmanager","firing":"2","resolved":"1","group_labels":"alertname=HTTP5xx, app=portal","joint":"1","external_url":"http://am:9093"}`,
			"🟠 Escalated [Level II (major)] HTTP 5xx portal (incident #13)", "unacknowledged",
			[]Field{{Name: "Owner", Value: "张三"}, {Name: "Declared by", Value: "Alertmanager"}, {Name: "System", Value: "portal"},
				{Name: "24-hour duty", Value: b.t("incident.duty24") + "：" + b.t("incident.duty24.who", "on_duty", "张三, 王五", "next", "zhaoliu")},
				{Name: "Alerts", Value: "2 firing, 1 resolved"}, {Name: "Group", Value: "alertname=HTTP5xx, app=portal"},
				{Name: "Joint troubleshooting", Value: b.t("alert.joint")}},
			[]string{"incident.ack", "incident.escalate", "incident.resolve"}},
		{"update.duty.handover", `{"id":"4","rotation":"ops","outgoing":"zhangsan","incoming":"wangwu","state":"accepted","notes":"watch vpn","open_items":"","shift_start":"2026-11-23 09:00","accepted_at":"2026-11-23 09:12"}`,
			"[Handover] ops · 2026-11-23 09:00", "张三 → 王五, signed at 2026-11-23 09:12.",
			[]Field{{Name: "Outgoing", Value: "张三"}, {Name: "Incoming", Value: "王五"}, {Name: "Open items", Value: b.t("none")},
				{Name: "Notes", Value: "watch vpn"}}, nil},
		{"update.incident.notice", `{"id":"13","title":"HTTP 5xx portal","level":"3","state":"declared","notice":"outage","app":"portal","app_name":"门户网站","by":"admin","by_name":"管理员","since":"2026-11-23 10:00","published":"1"}`,
			b.t("notice_draft.published", "id", "13", "by", "管理员"),
			"门户网站 has been partly unavailable since 2026-11-23 10:00; operations and the app's team are working on it. We will announce the recovery.",
			nil, nil},
		{"incident.notice_draft", `{"id":"13","title":"HTTP 5xx portal","level":"3","state":"declared","notice":"outage","app":"portal","app_name":"门户网站","since":"2026-11-23 10:00"}`,
			b.t("notice_draft.title.outage", "id", "13"),
			"门户网站 has been partly unavailable since 2026-11-23 10:00; operations and the app's team are working on it. We will announce the recovery.",
			nil, []string{"alert.notice"}},
	} {
		m, err := b.Render(context.Background(), core.StoredNotice{Type: c.kind, Version: 0, Ref: "r", Payload: []byte(c.data)})
		require.NoError(t, err, c.kind)
		require.Equal(t, c.title, m.Title, c.kind)
		require.Equal(t, c.text, m.Text, c.kind)
		require.Equal(t, c.fields, m.Fields, c.kind)
		var actions []string
		for _, bt := range m.Buttons {
			actions = append(actions, bt.Action)
		}
		require.Equal(t, c.buttons, actions, c.kind)
	}
}

// TestPageEventsInWords: a page's status on an incident's timeline reads
// in the reader's language, the person by name; a body of another form
// shows as it is.
func TestPageEventsInWords(t *testing.T) {
	sent := `{"method":"sms","user":"lisi","status":"sent","provider":"aliyun","message_id":"m7"}`
	failed := `{"method":"voice","user":"lisi","status":"failed","error":"paging: permanent: number refused"}`
	zh, en := testBot(LangZH), testBot(LangEN)
	require.Equal(t, "短信 → 李四：已发送（aliyun 回执 m7）", zh.eventBody("page", sent))
	require.Equal(t, "SMS → 李四: sent (aliyun receipt m7)", en.eventBody("page", sent))
	require.Equal(t, "电话 → 李四：发送失败，改用下一种方式，原因：paging: permanent: number refused", zh.eventBody("page", failed))
	require.Equal(t, "电话 → 李四：没有已验证的联系方式，未发送",
		zh.eventBody("page", `{"method":"voice","user":"lisi","status":"no_contact"}`))
	require.Equal(t, "sms lisi: sent", zh.eventBody("page", "sms lisi: sent"))
}

// TestRefusalCauseIsLogged: a refusal that carries its cause (a provider
// refused the verification SMS) shows the user the refusal only, and logs
// the cause for the operators.
func TestRefusalCauseIsLogged(t *testing.T) {
	var log bytes.Buffer
	b := New(Config{Language: LangZH, Location: time.FixedZone("CST", 8*3600)}, nil,
		slog.New(slog.NewTextHandler(&log, nil)), Hooks{}, testPlugs()...)
	err := core.Conflict("verify_send", "value", "13800138000").Because(errors.New("aliyun: isv.BUSINESS_LIMIT_CONTROL"))
	m := b.ErrorReply(err, nil)
	require.Contains(t, m.Text, "验证码发送到 13800138000 失败")
	require.NotContains(t, m.Text, "aliyun")
	require.Contains(t, log.String(), "isv.BUSINESS_LIMIT_CONTROL")
	require.Contains(t, err.Error(), "isv.BUSINESS_LIMIT_CONTROL")
}

// TestCronInWords: an inspection plan's cron spec reads in words when it
// runs once a day at a fixed time; anything else shows the spec.
func TestCronInWords(t *testing.T) {
	zh, en := testBot(LangZH), testBot(LangEN)
	for spec, want := range map[string]string{
		"0 9 * * 1-5":   "每周一至五 09:00",
		"30 2 * * *":    "每天 02:30",
		"0 10 * * 1":    "每周一 10:00",
		"0 8 * * 1,3,5": "每周一、三、五 08:00",
		"0 8 * * 0":     "每周日 08:00",
		"0 9 1 * *":     "每月 1 日 09:00",
		"*/15 * * * *":  "按定时表达式 */15 * * * *",
		"0 9 1 1 *":     "按定时表达式 0 9 1 1 *",
		"0 9 * * 5-1":   "按定时表达式 0 9 * * 5-1",
		"0 25 * * *":    "按定时表达式 0 25 * * *",
		"0 9 * * 1-5 x": "按定时表达式 0 9 * * 1-5 x",
	} {
		require.Equal(t, want, zh.cronWords(spec), spec)
	}
	require.Equal(t, "every Mon–Fri at 09:00", en.cronWords("0 9 * * 1-5"))
	require.Equal(t, "every Mon, Wed, Fri at 08:00", en.cronWords("0 8 * * 1,3,5"))
}

// chainsOf is a paging chain with a provider for some methods only.
type chainsOf struct{ sends []paging.Method }

func (c chainsOf) Rules(level int) []paging.Rule { return paging.DefaultRules()[level] }
func (c chainsOf) Sends(m paging.Method) bool    { return slices.Contains(c.sends, m) }

// TestPolicyMarksStepsNobodySends: /duty policy marks a chain's step by a
// method no provider sends, so an admin sees the SMS step will not go out.
func TestPolicyMarksStepsNobodySends(t *testing.T) {
	b := testBot(LangZH)
	b.chains = chainsOf{sends: []paging.Method{paging.MethodVoice}}
	require.Equal(t, "聊天 立即 → 短信 2分钟未确认（未配置通道，不会发送） → 电话 5分钟未确认", b.pagingChain(2))
	require.Equal(t, "聊天 立即", b.pagingChain(3))
}
