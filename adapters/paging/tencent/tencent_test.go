package tencent_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/pagingtest"
	"opsbot/adapters/paging/tencent"
	"opsbot/core/paging"
)

func setup(t *testing.T, key string) (*tencent.Provider, *pagingtest.TencentSMS) {
	t.Helper()
	s := pagingtest.NewTencentSMS(t, "AKIDtest", "right-key")
	p, err := tencent.New(tencent.Config{SecretID: "AKIDtest", SecretKey: key, Endpoint: s.URL + "/",
		SdkAppID: "1400000001", SignName: "运维值班", IncidentTemplate: "100001", VerifyTemplate: "100002"})
	require.NoError(t, err)
	return p, s
}

func page() paging.Page {
	return paging.Page{Key: "inc-42-step-2-sunli", Kind: paging.KindIncident, Method: paging.MethodSMS, Address: "13800138000",
		IncidentID: 42, Level: 2, Title: "政务云数据库主库不可用", AckReply: "1"}
}

func TestSendSms(t *testing.T) {
	p, s := setup(t, "right-key")
	rc, err := p.Send(context.Background(), page())
	require.NoError(t, err)
	require.Equal(t, paging.Receipt{Provider: "tencent", MessageID: "5000:0000000000000000001", Status: "Ok"}, rc)
	var req map[string]any
	require.NoError(t, json.Unmarshal(s.Accepted()[0], &req))
	require.Equal(t, []any{"+8613800138000"}, req["PhoneNumberSet"])
	require.Equal(t, "1400000001", req["SmsSdkAppId"])
	require.Equal(t, "运维值班", req["SignName"])
	require.Equal(t, "100001", req["TemplateId"])
	require.Equal(t, []any{"42", "政务云数据库主库不可用", "2", "1"}, req["TemplateParamSet"])
	require.Equal(t, "inc-42-step-2-sunli", req["SessionContext"])

	v := paging.Page{Key: "verify-7", Kind: paging.KindVerify, Method: paging.MethodSMS, Address: "+86 13800138000", Code: "482913"}
	_, err = p.Send(context.Background(), v)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(s.Accepted()[1], &req))
	require.Equal(t, "100002", req["TemplateId"])
	require.Equal(t, []any{"482913"}, req["TemplateParamSet"])
}

func TestWrongKeyRefused(t *testing.T) {
	p, s := setup(t, "wrong-key")
	_, err := p.Send(context.Background(), page())
	require.ErrorContains(t, err, "AuthFailure.SignatureFailure")
	require.True(t, paging.IsPermanent(err))
	require.Empty(t, s.Accepted())
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		f         pagingtest.Failure
		permanent bool
	}{
		{"illegal number", pagingtest.Failure{Status: 200, Code: "InvalidParameterValue.IncorrectPhoneNumber"}, true},
		{"blacklisted", pagingtest.Failure{Status: 200, Code: "FailedOperation.PhoneNumberInBlacklist"}, true},
		{"daily limit", pagingtest.Failure{Status: 200, Code: "LimitExceeded.PhoneNumberDailyLimit"}, true},
		{"30 s limit", pagingtest.Failure{Status: 200, Code: "LimitExceeded.PhoneNumberThirtySecondLimit"}, false},
		{"internal error", pagingtest.Failure{Status: 200, Code: "InternalError.Timeout"}, false},
		{"rate limit", pagingtest.Failure{Status: 200, Code: "RequestLimitExceeded"}, false},
		{"gateway 502", pagingtest.Failure{Status: 502, Code: "InternalError"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, s := setup(t, "right-key")
			s.FailNext(tc.f)
			_, err := p.Send(context.Background(), page())
			require.Error(t, err)
			require.Equal(t, tc.permanent, paging.IsPermanent(err), err.Error())
			_, err = p.Send(context.Background(), page())
			require.NoError(t, err)
			require.Len(t, s.Accepted(), 1)
		})
	}
}

func TestConfig(t *testing.T) {
	_, err := tencent.New(tencent.Config{SecretID: "x"})
	require.ErrorContains(t, err, "缺少配置项 secret_key")
	p, _ := setup(t, "right-key")
	_, err = p.Send(context.Background(), paging.Page{Method: paging.MethodVoice, Address: "13800138000"})
	require.True(t, paging.IsPermanent(err))
	pg := page()
	pg.Address = "not a number"
	_, err = p.Send(context.Background(), pg)
	require.True(t, paging.IsPermanent(err))
}
