package paging

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/pagingtest"
	cpaging "opsbot/core/paging"
)

func TestNew(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte("from-file\n"), 0o600))
	for _, tc := range []struct {
		kind     string
		settings map[string]string
		methods  []cpaging.Method
	}{
		{"aliyun", map[string]string{"access_key_id": "LTAI", "access_key_secret_file": secret, "sign_name": "运维值班",
			"sms_template_incident": "SMS_1", "tts_template_incident": "TTS_1", "play_times": "2"},
			[]cpaging.Method{cpaging.MethodSMS, cpaging.MethodVoice}},
		{"aliyun", map[string]string{"access_key_id": "LTAI", "access_key_secret": "x", "tts_template_incident": "TTS_1"},
			[]cpaging.Method{cpaging.MethodVoice}},
		{"tencent", map[string]string{"secret_id": "AKID", "secret_key": "k", "sdk_app_id": "1400000001", "sign_name": "运维值班",
			"template_incident": "100001"}, []cpaging.Method{cpaging.MethodSMS}},
		{"smtp", map[string]string{"host": "smtp.example.gov.cn", "port": "587", "from": "oncall@example.gov.cn",
			"username": "oncall@example.gov.cn", "password_file": secret}, []cpaging.Method{cpaging.MethodEmail}},
		{"webhook", map[string]string{"url": "https://sms-gw.example.gov.cn/send", "secret": "s", "methods": "sms, voice"},
			[]cpaging.Method{cpaging.MethodSMS, cpaging.MethodVoice}},
	} {
		p, err := New(tc.kind, tc.settings)
		require.NoError(t, err, tc.kind)
		require.Equal(t, tc.kind, p.Name())
		require.Equal(t, tc.methods, p.Methods())
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		kind     string
		settings map[string]string
		want     string
	}{
		{"pager", nil, "未知的通知渠道类型"},
		{"aliyun", map[string]string{"access_key_id": "x"}, "缺少设置项 access_key_secret"},
		{"aliyun", map[string]string{"access_key_id": "x", "access_key_secret": "y"}, "模板至少配置一个"},
		{"aliyun", map[string]string{"access_key_id": "x", "access_key_secret": "y", "play_times": "twice"}, "须为非负整数"},
		{"tencent", map[string]string{"secret_id": "x", "secret_key": "y"}, "缺少设置项 sdk_app_id、sign_name、template_incident"},
		{"smtp", map[string]string{"host": "h", "from": "a@b.cn", "hostname": "typo"}, "未知的设置项 hostname"},
		{"smtp", map[string]string{"host": "h", "from": "a@b.cn", "starttls": "never"}, "starttls"},
		{"smtp", map[string]string{"host": "h", "from": "a@b.cn", "ca_file": "/nonexistent"}, "ca_file"},
		{"webhook", map[string]string{"url": "https://x", "secret": "s", "methods": "fax"}, "methods"},
		{"webhook", map[string]string{"url": "https://x", "secret_file": "/nonexistent"}, "secret_file"},
		{"webhook", map[string]string{"url": "https://x"}, "缺少设置项 secret"},
	} {
		_, err := New(tc.kind, tc.settings)
		require.ErrorContains(t, err, tc.want, tc.kind)
	}
}

// TestNewAgainstStandIns builds each provider from settings only, as the
// service's config does, and pages through the stand-ins.
func TestNewAgainstStandIns(t *testing.T) {
	ctx := context.Background()
	sms := pagingtest.NewAliyunSMS(t, "LTAI", "ak-secret")
	voice := pagingtest.NewAliyunVoice(t, "LTAI", "ak-secret")
	tc := pagingtest.NewTencentSMS(t, "AKID", "tc-secret")
	mail := pagingtest.NewSMTP(t, "oncall@example.gov.cn", "app-password")
	pg := cpaging.Page{Key: "inc-1-step-2-sunli", Kind: cpaging.KindIncident, Address: "13800138000", IncidentID: 1, Level: 1,
		Title: "全网中断", AckReply: "1", AckURL: "https://ops.example.gov.cn/ack/t"}

	al, err := New("aliyun", map[string]string{"access_key_id": "LTAI", "access_key_secret": "ak-secret", "sign_name": "运维值班",
		"sms_template_incident": "SMS_1", "tts_template_incident": "TTS_1", "sms_endpoint": sms.URL, "voice_endpoint": voice.URL})
	require.NoError(t, err)
	pg.Method = cpaging.MethodSMS
	_, err = al.Send(ctx, pg)
	require.NoError(t, err)
	pg.Method = cpaging.MethodVoice
	_, err = al.Send(ctx, pg)
	require.NoError(t, err)
	require.Len(t, sms.Accepted(), 1)
	require.Len(t, voice.Accepted(), 1)

	tp, err := New("tencent", map[string]string{"secret_id": "AKID", "secret_key": "tc-secret", "sdk_app_id": "1400000001",
		"sign_name": "运维值班", "template_incident": "100001", "endpoint": tc.URL})
	require.NoError(t, err)
	pg.Method = cpaging.MethodSMS
	_, err = tp.Send(ctx, pg)
	require.NoError(t, err)
	require.Len(t, tc.Accepted(), 1)

	sp, err := New("smtp", map[string]string{"host": mail.Host, "port": strconv.Itoa(mail.Port), "from": "oncall@example.gov.cn",
		"username": mail.User, "password": mail.Password, "ca_file": mail.CAFile})
	require.NoError(t, err)
	pg.Method, pg.Address = cpaging.MethodEmail, "sunli@example.gov.cn"
	_, err = sp.Send(ctx, pg)
	require.NoError(t, err)
	require.Len(t, mail.Messages(), 1)
}
