package paging

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"opsbot/adapters/paging/aliyun"
	"opsbot/adapters/paging/smtp"
	"opsbot/adapters/paging/tencent"
	"opsbot/adapters/paging/webhook"
	cpaging "opsbot/core/paging"
)

// Kinds lists the provider kinds New builds.
var Kinds = []string{"aliyun", "tencent", "smtp", "webhook"}

// settingKeys are the settings each kind takes; those marked secret may be
// given as <key>_file instead (a path whose content, trimmed, is the value).
var settingKeys = map[string]map[string]bool{ // key → secret
	"aliyun": {"access_key_id": false, "access_key_secret": true, "sign_name": false, "sms_template_incident": false,
		"sms_template_verify": false, "tts_template_incident": false, "tts_template_verify": false,
		"called_show_number": false, "ivr_ack_template": false, "play_times": false, "sms_endpoint": false, "voice_endpoint": false},
	"tencent": {"secret_id": false, "secret_key": true, "sdk_app_id": false, "sign_name": false, "template_incident": false,
		"template_verify": false, "region": false, "endpoint": false},
	"smtp": {"host": false, "port": false, "from": false, "username": false, "password": true, "auth": false,
		"starttls": false, "ca_file": false},
	"webhook": {"url": false, "secret": true, "methods": false},
}

// New builds the provider of kind (aliyun, tencent, smtp or webhook) from
// its settings (config paging.providers). Unknown settings and missing
// required ones are errors, in Chinese and English.
func New(kind string, settings map[string]string) (cpaging.Provider, error) {
	s, err := Settings(kind, settings)
	if err != nil {
		return nil, err
	}
	var p cpaging.Provider
	switch kind {
	case "aliyun":
		pt, err := intSetting(kind, s, "play_times")
		if err != nil {
			return nil, err
		}
		if err := requireSettings(kind, s, "access_key_id", "access_key_secret"); err != nil {
			return nil, err
		}
		p, err = aliyun.New(aliyun.Config{AccessKeyID: s["access_key_id"], AccessKeySecret: s["access_key_secret"],
			SignName: s["sign_name"], SMSIncidentTemplate: s["sms_template_incident"], SMSVerifyTemplate: s["sms_template_verify"],
			TTSIncidentTemplate: s["tts_template_incident"], TTSVerifyTemplate: s["tts_template_verify"],
			CalledShowNumber: s["called_show_number"], IVRAckTemplate: s["ivr_ack_template"], PlayTimes: pt, SMSEndpoint: s["sms_endpoint"], VoiceEndpoint: s["voice_endpoint"]})
		if err != nil {
			return nil, err
		}
	case "tencent":
		if err := requireSettings(kind, s, "secret_id", "secret_key", "sdk_app_id", "sign_name", "template_incident"); err != nil {
			return nil, err
		}
		p, err = tencent.New(tencent.Config{SecretID: s["secret_id"], SecretKey: s["secret_key"], SdkAppID: s["sdk_app_id"],
			SignName: s["sign_name"], IncidentTemplate: s["template_incident"], VerifyTemplate: s["template_verify"],
			Region: s["region"], Endpoint: s["endpoint"]})
		if err != nil {
			return nil, err
		}
	case "smtp":
		if err := requireSettings(kind, s, "host", "from"); err != nil {
			return nil, err
		}
		port, err := intSetting(kind, s, "port")
		if err != nil {
			return nil, err
		}
		var tc *tls.Config
		if f := s["ca_file"]; f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("paging: smtp: 读取 ca_file 失败 (cannot read ca_file): %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("paging: smtp: ca_file %s 中没有 PEM 证书 (no PEM certificate)", f)
			}
			tc = &tls.Config{RootCAs: pool, ServerName: s["host"], MinVersion: tls.VersionTLS12}
		}
		p, err = smtp.New(smtp.Config{Host: s["host"], Port: port, From: s["from"], Username: s["username"],
			Password: s["password"], Auth: s["auth"], STARTTLS: s["starttls"], TLSConfig: tc})
		if err != nil {
			return nil, err
		}
	case "webhook":
		if err := requireSettings(kind, s, "url", "secret"); err != nil {
			return nil, err
		}
		var methods []cpaging.Method
		for _, m := range strings.FieldsFunc(s["methods"], func(r rune) bool { return r == ',' || r == ' ' || r == '，' }) {
			switch cpaging.Method(m) {
			case cpaging.MethodSMS, cpaging.MethodVoice, cpaging.MethodEmail, cpaging.MethodWebhook:
				methods = append(methods, cpaging.Method(m))
			default:
				return nil, fmt.Errorf("paging: webhook: methods 中的 %q 无效，可选 sms、voice、email、webhook (unknown method)", m)
			}
		}
		p, err = webhook.New(webhook.Config{URL: s["url"], Secret: s["secret"], Methods: methods})
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// resolve checks the settings' keys and reads <key>_file secrets.
// Settings are the settings of a provider of kind as New reads them:
// checked against the kind's keys, and a secret given as <key>_file read
// from its file (also for the callbacks, which check the webhook
// gateway's replies with its secret).
func Settings(kind string, settings map[string]string) (map[string]string, error) {
	keys, ok := settingKeys[kind]
	if !ok {
		return nil, fmt.Errorf("paging: 未知的通知渠道类型 %q，可选 %s (unknown provider kind)", kind, strings.Join(Kinds, "、"))
	}
	return resolve(kind, keys, settings)
}

func resolve(kind string, keys map[string]bool, settings map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var unknown []string
	for k, v := range settings {
		base, isFile := strings.CutSuffix(k, "_file")
		if secret, ok := keys[base]; isFile && ok && secret {
			b, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("paging: %s: 读取 %s 失败 (cannot read %s): %w", kind, k, k, err)
			}
			out[base] = strings.TrimSpace(string(b))
			continue
		}
		if _, ok := keys[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		valid := make([]string, 0, len(keys))
		for k := range keys {
			valid = append(valid, k)
		}
		sort.Strings(valid)
		return nil, fmt.Errorf("paging: %s: 未知的设置项 %s，可用 %s (unknown settings)", kind, strings.Join(unknown, "、"), strings.Join(valid, "、"))
	}
	return out, nil
}

// requireSettings reports the missing ones of keys.
func requireSettings(kind string, s map[string]string, keys ...string) error {
	var missing []string
	for _, k := range keys {
		if s[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("paging: %s: 缺少设置项 %s (missing settings %s)", kind, strings.Join(missing, "、"), strings.Join(missing, ", "))
	}
	return nil
}

// intSetting parses an optional integer setting.
func intSetting(kind string, s map[string]string, key string) (int, error) {
	if s[key] == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s[key])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("paging: %s: %s 须为非负整数，而不是 %q (must be a number)", kind, key, s[key])
	}
	return n, nil
}
