// Package aliyun pages by Alibaba Cloud SMS (Dysmsapi SendSms) and voice
// call (Dyvmsapi SingleCallByTts), signing each request itself (sign.go
// says which signature and why).
package aliyun

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"opsbot/adapters/paging/internal/text"
	"opsbot/adapters/paging/phone"
	"opsbot/core/paging"
)

// Default endpoints (the stand-ins in pagingtest replace them in tests).
const (
	DefaultSMSEndpoint   = "https://dysmsapi.aliyuncs.com/"
	DefaultVoiceEndpoint = "https://dyvmsapi.aliyuncs.com/"
	apiVersion           = "2017-05-25" // both Dysmsapi and Dyvmsapi
)

// Config configures the provider. SMS needs SignName and the templates;
// voice needs the TTS templates. A method whose templates are missing is
// not offered.
type Config struct {
	AccessKeyID     string
	AccessKeySecret string
	SMSEndpoint     string // default DefaultSMSEndpoint
	VoiceEndpoint   string // default DefaultVoiceEndpoint

	SignName            string // 短信签名, as approved in the console
	SMSIncidentTemplate string // SMS_… with ${id}, ${title}, ${level} and ${reply}
	SMSVerifyTemplate   string // SMS_… with ${code}

	TTSIncidentTemplate string // TTS_… with ${id}, ${title} and ${level}
	TTSVerifyTemplate   string // TTS_… with ${code}
	CalledShowNumber    string // 被叫显号; empty uses the public number pool
	// IVRAckTemplate, when set (with CalledShowNumber, which IvrCall
	// needs), makes incident calls interactive (IvrCall): the incident
	// template plays, and pressing the page's AckReply key (default 1)
	// plays this template and is pushed back as the call's dtmf. Without
	// it calls are SingleCallByTts, whose keypresses Aliyun reports only
	// where the account has key collection enabled.
	IVRAckTemplate string
	PlayTimes      int // 1–3, default 2

	HTTPClient *http.Client
	Now        func() time.Time // default time.Now
	Nonce      func() string    // default 16 random bytes in hex
}

// Provider sends pages through Alibaba Cloud.
type Provider struct{ cfg Config }

// New checks cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("aliyun: access_key_id and access_key_secret are required (缺少 AccessKey)")
	}
	sms := cfg.SignName != "" && cfg.SMSIncidentTemplate != ""
	voice := cfg.TTSIncidentTemplate != ""
	if !sms && !voice {
		return nil, errors.New("aliyun: configure sign_name and sms_template_incident, or tts_template_incident (短信或语音模板至少配置一个)")
	}
	if cfg.SMSEndpoint == "" {
		cfg.SMSEndpoint = DefaultSMSEndpoint
	}
	if cfg.VoiceEndpoint == "" {
		cfg.VoiceEndpoint = DefaultVoiceEndpoint
	}
	if cfg.PlayTimes <= 0 || cfg.PlayTimes > 3 {
		cfg.PlayTimes = 2
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nonce == nil {
		cfg.Nonce = func() string {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			return hex.EncodeToString(b)
		}
	}
	return &Provider{cfg: cfg}, nil
}

// Name is "aliyun".
func (p *Provider) Name() string { return "aliyun" }

// Methods lists sms and/or voice, as configured.
func (p *Provider) Methods() []paging.Method {
	var ms []paging.Method
	if p.cfg.SignName != "" && p.cfg.SMSIncidentTemplate != "" {
		ms = append(ms, paging.MethodSMS)
	}
	if p.cfg.TTSIncidentTemplate != "" {
		ms = append(ms, paging.MethodVoice)
	}
	return ms
}

// Send sends pg by SMS or voice call.
func (p *Provider) Send(ctx context.Context, pg paging.Page) (paging.Receipt, error) {
	num, err := phone.Domestic(pg.Address)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("aliyun: %q: %w", pg.Address, err))
	}
	params, err := templateParams(pg)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(err)
	}
	q := url.Values{}
	var endpoint string
	switch pg.Method {
	case paging.MethodSMS:
		tpl := p.cfg.SMSIncidentTemplate
		if pg.Kind == paging.KindVerify {
			tpl = p.cfg.SMSVerifyTemplate
		}
		if p.cfg.SignName == "" || tpl == "" {
			return paging.Receipt{}, paging.Permanent(fmt.Errorf("aliyun: no SMS template for %s pages", pg.Kind))
		}
		endpoint = p.cfg.SMSEndpoint
		q.Set("Action", "SendSms")
		q.Set("PhoneNumbers", num)
		q.Set("SignName", p.cfg.SignName)
		q.Set("TemplateCode", tpl)
		q.Set("TemplateParam", params)
	case paging.MethodVoice:
		tpl := p.cfg.TTSIncidentTemplate
		if pg.Kind == paging.KindVerify {
			tpl = p.cfg.TTSVerifyTemplate
		}
		if tpl == "" {
			return paging.Receipt{}, paging.Permanent(fmt.Errorf("aliyun: no TTS template for %s pages", pg.Kind))
		}
		endpoint = p.cfg.VoiceEndpoint
		q.Set("CalledNumber", num)
		if p.cfg.CalledShowNumber != "" {
			q.Set("CalledShowNumber", p.cfg.CalledShowNumber)
		}
		q.Set("PlayTimes", strconv.Itoa(p.cfg.PlayTimes))
		if pg.Kind != paging.KindVerify && p.cfg.IVRAckTemplate != "" && p.cfg.CalledShowNumber != "" {
			key := pg.AckReply
			if key == "" {
				key = "1"
			}
			q.Set("Action", "IvrCall")
			q.Set("StartCode", tpl)
			q.Set("StartTtsParams", params)
			q.Set("MenuKeyMap.1.Key", key)
			q.Set("MenuKeyMap.1.Code", p.cfg.IVRAckTemplate)
			q.Set("Timeout", "10000")
		} else {
			q.Set("Action", "SingleCallByTts")
			q.Set("TtsCode", tpl)
			q.Set("TtsParam", params)
		}
		if pg.Key != "" {
			q.Set("OutId", voiceOutID(pg.Key))
		}
	default:
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("aliyun: method %s not supported", pg.Method))
	}
	if pg.Key != "" && q.Get("OutId") == "" {
		q.Set("OutId", pg.Key)
	}
	return p.call(ctx, endpoint, q)
}

// voiceOutID is the OutId of a call: the page's key when it fits the 15
// bytes Dyvmsapi allows, else the first 15 hex digits of its SHA-256 (the
// same for a retry of the page).
func voiceOutID(key string) string {
	if len(key) <= 15 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:15]
}

// templateParams is the template's variables as JSON: the incident's id,
// title (cut to the 35 characters a variable may hold), level and what to
// reply, or the verification code.
func templateParams(pg paging.Page) (string, error) {
	var v map[string]string
	switch pg.Kind {
	case paging.KindVerify:
		if pg.Code == "" {
			return "", errors.New("aliyun: verify page without a code")
		}
		v = map[string]string{"code": pg.Code}
	default:
		v = map[string]string{"id": strconv.FormatInt(pg.IncidentID, 10), "title": text.Cut(pg.Title, 35),
			"level": strconv.Itoa(pg.Level), "reply": pg.AckReply}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// response is the part of Dysmsapi's and Dyvmsapi's answer we read.
type response struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
	BizID     string `json:"BizId"`
	CallID    string `json:"CallId"`
}

// call signs q with the common parameters and POSTs it as a form.
func (p *Provider) call(ctx context.Context, endpoint string, q url.Values) (paging.Receipt, error) {
	q.Set("Format", "JSON")
	q.Set("Version", apiVersion)
	q.Set("AccessKeyId", p.cfg.AccessKeyID)
	q.Set("SignatureMethod", "HMAC-SHA1")
	q.Set("SignatureVersion", "1.0")
	q.Set("SignatureNonce", p.cfg.Nonce())
	q.Set("Timestamp", p.cfg.Now().UTC().Format("2006-01-02T15:04:05Z"))
	q.Set("Signature", Sign(http.MethodPost, q, p.cfg.AccessKeySecret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(q.Encode()))
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("aliyun: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return paging.Receipt{}, fmt.Errorf("aliyun: %s: %w", q.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r response
	if err := json.Unmarshal(body, &r); err != nil || r.Code == "" {
		err := fmt.Errorf("aliyun: %s: HTTP %d: %.200s", q.Get("Action"), resp.StatusCode, body)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429 {
			return paging.Receipt{}, paging.Permanent(err)
		}
		return paging.Receipt{}, err
	}
	if r.Code == "OK" {
		id := r.BizID
		if id == "" {
			id = r.CallID
		}
		return paging.Receipt{Provider: "aliyun", MessageID: id, Status: r.Code}, nil
	}
	err = fmt.Errorf("aliyun: %s: %s: %s (RequestId %s)", q.Get("Action"), r.Code, r.Message, r.RequestID)
	if retryable(resp.StatusCode, r.Code) {
		return paging.Receipt{}, err
	}
	return paging.Receipt{}, paging.Permanent(err)
}

// retryable tells a passing failure (flow control, throttling, the
// service's own errors) from one a retry cannot fix (a refused number, a
// template or signature not approved, a wrong AccessKey, no balance).
func retryable(status int, code string) bool {
	if status >= 500 || status == 429 || status == 408 {
		return true
	}
	for _, p := range []string{"Throttling", "isv.BUSINESS_LIMIT_CONTROL", "isp.", "ServiceUnavailable", "InternalError", "SignatureNonceUsed"} {
		if strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}
