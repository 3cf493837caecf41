package paging

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
