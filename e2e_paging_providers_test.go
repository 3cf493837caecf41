package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/pagingtest"
	"opsbot/configs"
)

// Template codes the test apps' providers are configured with.
const (
	aliSMSIncident = "SMS_300001"
	aliSMSVerify   = "SMS_300002"
	aliTTSIncident = "TTS_300003"
	aliTTSVerify   = "TTS_300004"
	tcIncident     = "1800001"
	tcVerify       = "1800002"
	pagingToken    = "cb-7f3a9c2e5d1b"
)

// standIns are the providers' API stand-ins a test app pages through.
type standIns struct {
	sms, voice *pagingtest.Aliyun
	tencent    *pagingtest.TencentSMS
	mail       *pagingtest.SMTP
}

// startProviders starts an app at clock whose paging providers are the
// real kinds (aliyun, tencent, smtp) pointed at their stand-ins: SMS by
// smsKind (aliyun or tencent), voice by Aliyun, e-mail by SMTP with
// STARTTLS and AUTH; rules (level → chain) on top of the defaults.
func startProviders(t *testing.T, clock *testClock, smsKind string, rules map[int]string) (*app, *standIns) {
	s := &standIns{
		sms:     pagingtest.NewAliyunSMS(t, "LTAI5tStandIn", "ali-secret"),
		voice:   pagingtest.NewAliyunVoice(t, "LTAI5tStandIn", "ali-secret"),
		tencent: pagingtest.NewTencentSMS(t, "AKIDStandIn", "tc-secret"),
		mail:    pagingtest.NewSMTP(t, "oncall@example.gov.cn", "app-password"),
	}
	aliyunSMS := configs.PagingProvider{Name: "aliyun-sms", Type: "aliyun", Methods: []string{"sms"}, Settings: map[string]string{
		"access_key_id": "LTAI5tStandIn", "access_key_secret": "ali-secret", "sign_name": "政务运维",
		"sms_template_incident": aliSMSIncident, "sms_template_verify": aliSMSVerify, "sms_endpoint": s.sms.URL + "/"}}
	tencentSMS := configs.PagingProvider{Name: "tencent-sms", Type: "tencent", Methods: []string{"sms"}, Settings: map[string]string{
		"secret_id": "AKIDStandIn", "secret_key": "tc-secret", "sdk_app_id": "1400000001", "sign_name": "政务运维",
		"template_incident": tcIncident, "template_verify": tcVerify, "region": "ap-guangzhou", "endpoint": s.tencent.URL + "/"}}
	voice := configs.PagingProvider{Name: "aliyun-voice", Type: "aliyun", Methods: []string{"voice"}, Settings: map[string]string{
		"access_key_id": "LTAI5tStandIn", "access_key_secret": "ali-secret",
		"tts_template_incident": aliTTSIncident, "tts_template_verify": aliTTSVerify, "voice_endpoint": s.voice.URL + "/"}}
	mail := configs.PagingProvider{Name: "mail", Type: "smtp", Methods: []string{"email"}, Settings: map[string]string{
		"host": s.mail.Host, "port": strconv.Itoa(s.mail.Port), "from": "值班机器人 <opsbot@example.gov.cn>",
		"username": s.mail.User, "password": s.mail.Password, "starttls": "mandatory", "ca_file": s.mail.CAFile}}
	sms := aliyunSMS
	if smsKind == "tencent" {
		sms = tencentSMS
	}
	a := startAppTweaked(t, clock, func(cfg *configs.Config) {
		cfg.Paging.Providers = []configs.PagingProvider{sms, voice, mail}
		cfg.Paging.CallbackToken = pagingToken
		for level, chain := range rules {
			*[]*string{&cfg.Paging.Rules.Level1, &cfg.Paging.Rules.Level2, &cfg.Paging.Rules.Level3, &cfg.Paging.Rules.Level4}[level-1] = chain
		}
	})
	return a, s
}

// aliyunOf returns the accepted Aliyun requests whose key (TemplateCode,
// TtsCode) is code, with their template parameters decoded from param.
func aliyunOf(st *pagingtest.Aliyun, key, code, param string) []map[string]string {
	var out []map[string]string
	for _, q := range st.Accepted() {
		if q.Get(key) != code {
			continue
		}
		v := map[string]string{}
		if err := json.Unmarshal([]byte(q.Get(param)), &v); err != nil {
			v["error"] = err.Error()
		}
		for _, k := range []string{"PhoneNumbers", "CalledNumber", "SignName"} {
			if q.Get(k) != "" {
				v[k] = q.Get(k)
			}
		}
		out = append(out, v)
	}
	return out
}

// tencentReq is the part of an accepted Tencent SendSms body the tests read.
type tencentReq struct {
	PhoneNumberSet   []string
	TemplateId       string //nolint:revive // the API's spelling
	TemplateParamSet []string
}

func tencentOf(st *pagingtest.TencentSMS, template string) []tencentReq {
	var out []tencentReq
	for _, b := range st.Accepted() {
		var r tencentReq
		if json.Unmarshal(b, &r) == nil && r.TemplateId == template {
			out = append(out, r)
		}
	}
	return out
}

// mailsTo returns the text parts of the mails to addr.
func mailsTo(t *testing.T, st *pagingtest.SMTP, addr string) []string {
	var out []string
	for _, m := range st.Messages() {
		if m.To != addr {
			continue
		}
		require.True(t, m.TLS, "mail came after STARTTLS")
		_, text, _, err := m.Parts()
		require.NoError(t, err)
		out = append(out, text)
	}
	return out
}

var mailCode = regexp.MustCompile(`验证码是 ?([0-9A-Za-z]+)`)

// verifyByProviders gives sunli and zhoujie a verified mobile (the code
// read from the SMS the stand-in accepted) and, with the mail, a verified
// e-mail (the code read from the message the SMTP server accepted).
func verifyByProviders(t *testing.T, a *app, s *standIns, smsKind string, mail bool) map[string]string {
	mobiles := map[string]string{"sunli": "13800000001", "zhoujie": "13800000002"}
	for user, mobile := range mobiles {
		r := a.say(user, "/联系方式 添加 短信 "+mobile)
		require.Contains(t, r.Text, "验证码已发送", r.all())
		var code string
		eventually(t, "the verification SMS at the "+smsKind+" stand-in", func() bool {
			if smsKind == "tencent" {
				for _, req := range tencentOf(s.tencent, tcVerify) {
					if req.PhoneNumberSet[0] == "+86"+mobile || req.PhoneNumberSet[0] == mobile {
						code = req.TemplateParamSet[0]
					}
				}
				return code != ""
			}
			for _, v := range aliyunOf(s.sms, "TemplateCode", aliSMSVerify, "TemplateParam") {
				if v["PhoneNumbers"] == mobile {
					code = v["code"]
				}
			}
			return code != ""
		})
		require.Contains(t, a.say(user, "/联系方式 验证 "+code).Text, "已验证")
		if !mail {
			continue
		}
		addr := user + "@example.gov.cn"
		a.say(user, "/contact add email "+addr)
		code = ""
		eventually(t, "the verification mail at the SMTP server", func() bool {
			for _, text := range mailsTo(t, s.mail, addr) {
				if m := mailCode.FindStringSubmatch(text); m != nil {
					code = m[1]
				}
			}
			return code != ""
		})
		require.Contains(t, a.say(user, "/contact verify "+code).Text, "已验证")
	}
	require.Contains(t, a.say("sunli", "/联系方式 列表").all(), "13800000001（已验证）")
	return mobiles
}

// userOf returns who has mobile.
func userOf(mobiles map[string]string, mobile string) string {
	for u, m := range mobiles {
		if m == mobile || "+86"+m == mobile {
			return u
		}
	}
	return ""
}

// postJSON POSTs body to u and returns the status and answer.
func postJSON(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestPagingProvidersAliyunAndMail (issue 19): the chain of
// TestPagingChainAndAcks through the real Aliyun and SMTP providers and
// their stand-ins: a level-Ⅱ incident at 03:00 → a chat card at once, an
// SMS accepted by the Aliyun SMS stand-in at +2 min, a call accepted by
// the voice stand-in at +5 min; an SmsUp "1" pushed to the real callback
// acknowledges a second incident and its call is never placed; the mail
// of a level-Ⅰ incident reaches the SMTP server with a one-time link.
func TestPagingProvidersAliyunAndMail(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 11, 24, 3, 0, 0, 0, cst)}
	a, s := startProviders(t, clock, "aliyun", map[int]string{1: "chat; 1m email"})
	mobiles := verifyByProviders(t, a, s, "aliyun", true)

	incidentSMS := func() []map[string]string {
		return aliyunOf(s.sms, "TemplateCode", aliSMSIncident, "TemplateParam")
	}
	calls := func() []map[string]string { return aliyunOf(s.voice, "TtsCode", aliTTSIncident, "TtsParam") }

	a.say("admin", "/incident declare 政务云数据库不可用 --level 2")
	eventually(t, "the chat card at once", func() bool { return len(a.cards("sunli", 1))+len(a.cards("zhoujie", 1)) > 0 })
	require.Empty(t, incidentSMS(), "chat only at first")
	clock.Add(2 * time.Minute)
	eventually(t, "an SMS accepted by the Aliyun stand-in at +2 min", func() bool { return len(incidentSMS()) == 1 })
	sms := incidentSMS()[0]
	require.Equal(t, "1", sms["id"], sms)
	require.Contains(t, sms["title"], "政务云数据库不可用")
	require.Equal(t, "2", sms["level"])
	require.Equal(t, "1", sms["reply"])
	require.Equal(t, "政务运维", sms["SignName"])
	user := userOf(mobiles, sms["PhoneNumbers"])
	require.NotEmpty(t, user, sms)
	require.Empty(t, calls(), "no call before +5 min")
	clock.Add(3 * time.Minute)
	eventually(t, "a call accepted by the Aliyun voice stand-in at +5 min", func() bool { return len(calls()) == 1 })
	require.Equal(t, "1", calls()[0]["id"])
	require.Equal(t, mobiles[user], calls()[0]["CalledNumber"])
	require.Contains(t, a.say("admin", "/incident show 1").all(), "短信 → "+demoNames[user]+"：已发送（aliyun 回执 ")

	// A second level-Ⅱ incident: the SMS reply "1", pushed by Aliyun to
	// the callback, acknowledges it and cancels its call.
	a.say("admin", "/incident declare 门户网站无法访问 --level 2")
	clock.Add(2 * time.Minute)
	var paged string
	eventually(t, "the second incident's SMS", func() bool {
		for _, m := range incidentSMS() {
			if m["id"] == "2" {
				paged = m["PhoneNumbers"]
			}
		}
		return paged != ""
	})
	eventually(t, "its delivery committed", func() bool { return strings.Contains(a.say("admin", "/incident show 2").all(), "呼叫") })
	up := fmt.Sprintf(`[{"phone_number":%q,"send_time":%q,"content":"1","sign_name":"政务运维","dest_code":"1234","sequence_id":1001}]`,
		paged, clock.Now().In(cst).Format("2006-01-02 15:04:05"))
	code, body := postJSON(t, a.base+"/paging/callback/aliyun/sms/wrong-token", up)
	require.Equal(t, 404, code, "a wrong token is refused")
	require.NotContains(t, a.say("admin", "/incident show 2").all(), " 认领\n")
	code, body = postJSON(t, a.base+"/paging/callback/aliyun/sms/"+pagingToken, up)
	require.Equal(t, 200, code, body)
	require.JSONEq(t, `{"code":0,"msg":"成功"}`, body)
	require.Contains(t, a.say("admin", "/incident show 2").all(), " 认领\n")
	code, body = postJSON(t, a.base+"/paging/callback/aliyun/sms/"+pagingToken, up)
	require.Equal(t, 200, code, "a re-push is answered, not retried: %s", body)
	clock.Add(4 * time.Minute)
	never(t, "the call of incident 2 was cancelled", func() bool {
		for _, c := range calls() {
			if c["id"] == "2" {
				return true
			}
		}
		return false
	})

	// A level-Ⅰ incident pages by e-mail (this test's rule) with a one-time link.
	a.say("admin", "/incident declare 核心交换机宕机 --level 1")
	clock.Add(time.Minute)
	link := regexp.MustCompile(`https?://[^\s"<>]+/page/ack/[A-Za-z0-9_\-]+`)
	var found string
	eventually(t, "the e-mail at the SMTP server", func() bool {
		for _, u := range []string{"sunli", "zhoujie"} {
			for _, text := range mailsTo(t, s.mail, u+"@example.gov.cn") {
				if strings.Contains(text, "核心交换机宕机") {
					found = link.FindString(text)
				}
			}
		}
		return found != ""
	})
	ackOnceByLink(t, a, found, 3)
}

// TestPagingProvidersTencent (issue 19): with Tencent Cloud as the SMS
// provider, the verification and the incident's SMS are accepted by the
// Tencent stand-in (TC3 signature checked) and a reply "1" pushed to the
// Tencent callback acknowledges the incident.
func TestPagingProvidersTencent(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 11, 24, 3, 0, 0, 0, cst)}
	a, s := startProviders(t, clock, "tencent", nil)
	mobiles := verifyByProviders(t, a, s, "tencent", false)
	require.Empty(t, s.sms.Accepted(), "nothing through Aliyun SMS")

	a.say("admin", "/incident declare 政务云数据库不可用 --level 2")
	clock.Add(2 * time.Minute)
	eventually(t, "an SMS accepted by the Tencent stand-in", func() bool { return len(tencentOf(s.tencent, tcIncident)) == 1 })
	req := tencentOf(s.tencent, tcIncident)[0]
	require.Equal(t, "1", req.TemplateParamSet[0], req)
	require.Contains(t, req.TemplateParamSet[1], "政务云数据库")
	user := userOf(mobiles, req.PhoneNumberSet[0])
	require.NotEmpty(t, user, req)
	eventually(t, "its delivery committed", func() bool { return strings.Contains(a.say("admin", "/incident show 1").all(), "呼叫") })

	mobile := strings.TrimPrefix(mobiles[user], "+86")
	code, body := postJSON(t, a.base+"/paging/callback/tencent/sms/"+pagingToken,
		fmt.Sprintf(`{"extend":"","mobile":%q,"nationcode":"86","sign":"政务运维","text":"1","time":%d}`, mobile, clock.Now().Unix()))
	require.Equal(t, 200, code, body)
	require.JSONEq(t, `{"result":0,"errmsg":"OK"}`, body)
	require.Contains(t, a.say("admin", "/incident show 1").all(), " 认领\n")
	clock.Add(4 * time.Minute)
	never(t, "the call was cancelled", func() bool { return len(s.voice.Accepted()) > 0 })
}
