package aliyun_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/aliyun"
	"opsbot/adapters/paging/pagingtest"
	"opsbot/core/paging"
)

func setup(t *testing.T, secret string) (*aliyun.Provider, *pagingtest.Aliyun, *pagingtest.Aliyun) {
	t.Helper()
	sms := pagingtest.NewAliyunSMS(t, "LTAItest", "right-secret")
	voice := pagingtest.NewAliyunVoice(t, "LTAItest", "right-secret")
	p, err := aliyun.New(aliyun.Config{
		AccessKeyID: "LTAItest", AccessKeySecret: secret, SMSEndpoint: sms.URL + "/", VoiceEndpoint: voice.URL + "/",
		SignName: "运维值班", SMSIncidentTemplate: "SMS_100001", SMSVerifyTemplate: "SMS_100002",
		TTSIncidentTemplate: "TTS_200001", TTSVerifyTemplate: "TTS_200002", CalledShowNumber: "057100000000",
	})
	require.NoError(t, err)
	return p, sms, voice
}

func incident(method paging.Method) paging.Page {
	return paging.Page{Key: "inc-42-step-2-sunli", Kind: paging.KindIncident, Method: method, Address: "+86 138 0013 8000",
		IncidentID: 42, Level: 2, Title: "政务云数据库主库不可用", AckReply: "1"}
}

func TestSMS(t *testing.T) {
	p, sms, _ := setup(t, "right-secret")
	require.Equal(t, []paging.Method{paging.MethodSMS, paging.MethodVoice}, p.Methods())
	rc, err := p.Send(context.Background(), incident(paging.MethodSMS))
	require.NoError(t, err)
	require.Equal(t, "aliyun", rc.Provider)
	require.Equal(t, "900600000001^0", rc.MessageID)
	got := sms.Accepted()
	require.Len(t, got, 1)
	q := got[0]
	require.Equal(t, "SendSms", q.Get("Action"))
	require.Equal(t, "13800138000", q.Get("PhoneNumbers"))
	require.Equal(t, "运维值班", q.Get("SignName"))
	require.Equal(t, "SMS_100001", q.Get("TemplateCode"))
	require.Equal(t, "inc-42-step-2-sunli", q.Get("OutId"))
	var params map[string]string
	require.NoError(t, json.Unmarshal([]byte(q.Get("TemplateParam")), &params))
	require.Equal(t, map[string]string{"id": "42", "title": "政务云数据库主库不可用", "level": "2", "reply": "1"}, params)

	verify := paging.Page{Key: "verify-7", Kind: paging.KindVerify, Method: paging.MethodSMS, Address: "13800138000", Code: "482913"}
	_, err = p.Send(context.Background(), verify)
	require.NoError(t, err)
	q = sms.Accepted()[1]
	require.Equal(t, "SMS_100002", q.Get("TemplateCode"))
	require.JSONEq(t, `{"code":"482913"}`, q.Get("TemplateParam"))
}

func TestVoice(t *testing.T) {
	p, sms, voice := setup(t, "right-secret")
	rc, err := p.Send(context.Background(), incident(paging.MethodVoice))
	require.NoError(t, err)
	require.Equal(t, "116000000001^1028000001", rc.MessageID)
	require.Empty(t, sms.Accepted())
	q := voice.Accepted()[0]
	require.Equal(t, "SingleCallByTts", q.Get("Action"))
	require.Equal(t, "13800138000", q.Get("CalledNumber"))
	require.Equal(t, "057100000000", q.Get("CalledShowNumber"))
	require.Equal(t, "TTS_200001", q.Get("TtsCode"))
	require.Len(t, q.Get("OutId"), 15, "Dyvmsapi's OutId holds 15 bytes")
	require.Contains(t, q.Get("TtsParam"), `"id":"42"`)
	_, err = p.Send(context.Background(), incident(paging.MethodVoice))
	require.NoError(t, err)
	require.Equal(t, q.Get("OutId"), voice.Accepted()[1].Get("OutId"), "a retry has the same OutId")
}

func TestVoiceIVR(t *testing.T) {
	voice := pagingtest.NewAliyunVoice(t, "LTAItest", "right-secret")
	p, err := aliyun.New(aliyun.Config{AccessKeyID: "LTAItest", AccessKeySecret: "right-secret", VoiceEndpoint: voice.URL,
		TTSIncidentTemplate: "TTS_200001", CalledShowNumber: "057100000000", IVRAckTemplate: "TTS_200009"})
	require.NoError(t, err)
	require.Equal(t, []paging.Method{paging.MethodVoice}, p.Methods())
	pg := incident(paging.MethodVoice)
	pg.Key = "inc42s3"
	_, err = p.Send(context.Background(), pg)
	require.NoError(t, err)
	q := voice.Accepted()[0]
	require.Equal(t, "IvrCall", q.Get("Action"))
	require.Equal(t, "TTS_200001", q.Get("StartCode"))
	require.Contains(t, q.Get("StartTtsParams"), `"title":"政务云数据库主库不可用"`)
	require.Equal(t, "1", q.Get("MenuKeyMap.1.Key"))
	require.Equal(t, "TTS_200009", q.Get("MenuKeyMap.1.Code"))
	require.Equal(t, "inc42s3", q.Get("OutId"))
}

func TestWrongSecretRefused(t *testing.T) {
	p, sms, _ := setup(t, "wrong-secret")
	_, err := p.Send(context.Background(), incident(paging.MethodSMS))
	require.Error(t, err)
	require.Contains(t, err.Error(), "SignatureDoesNotMatch")
	require.True(t, paging.IsPermanent(err), "a wrong secret is not fixed by retrying")
	require.Empty(t, sms.Accepted())
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		f         pagingtest.Failure
		permanent bool
	}{
		{"illegal number", pagingtest.Failure{Status: 200, Code: "isv.MOBILE_NUMBER_ILLEGAL"}, true},
		{"template not approved", pagingtest.Failure{Status: 200, Code: "isv.SMS_TEMPLATE_ILLEGAL"}, true},
		{"no balance", pagingtest.Failure{Status: 200, Code: "isv.AMOUNT_NOT_ENOUGH"}, true},
		{"flow control", pagingtest.Failure{Status: 200, Code: "isv.BUSINESS_LIMIT_CONTROL"}, false},
		{"throttling", pagingtest.Failure{Status: 400, Code: "Throttling.User"}, false},
		{"too many requests", pagingtest.Failure{Status: 429, Code: "Throttling"}, false},
		{"server error", pagingtest.Failure{Status: 503, Code: "ServiceUnavailable"}, false},
		{"system error", pagingtest.Failure{Status: 200, Code: "isp.SYSTEM_ERROR"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, sms, _ := setup(t, "right-secret")
			sms.FailNext(tc.f)
			_, err := p.Send(context.Background(), incident(paging.MethodSMS))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.f.Code)
			require.Equal(t, tc.permanent, paging.IsPermanent(err))
			_, err = p.Send(context.Background(), incident(paging.MethodSMS))
			require.NoError(t, err, "the retry (same key, new nonce) goes through")
			require.Len(t, sms.Accepted(), 1)
		})
	}
}

func TestBadInput(t *testing.T) {
	p, _, _ := setup(t, "right-secret")
	pg := incident(paging.MethodSMS)
	pg.Address = "sunli@example.gov.cn"
	_, err := p.Send(context.Background(), pg)
	require.True(t, paging.IsPermanent(err))
	_, err = p.Send(context.Background(), incident(paging.MethodEmail))
	require.True(t, paging.IsPermanent(err))
	_, err = aliyun.New(aliyun.Config{AccessKeyID: "x"})
	require.ErrorContains(t, err, "AccessKey")
}
