// Package tencent pages by Tencent Cloud SMS (SendSms, API 2021-01-11),
// signing each request with TC3-HMAC-SHA256 (sign.go).
package tencent

import (
	"bytes"
	"context"
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

// DefaultEndpoint is Tencent Cloud SMS's API endpoint.
const DefaultEndpoint = "https://sms.tencentcloudapi.com/"

const (
	service     = "sms"
	apiVersion  = "2021-01-11"
	contentType = "application/json; charset=utf-8"
)

// Config configures the provider.
type Config struct {
	SecretID         string
	SecretKey        string
	Endpoint         string // default DefaultEndpoint
	Region           string // default ap-guangzhou
	SdkAppID         string // SmsSdkAppId, 1400…
	SignName         string // 短信签名内容, as approved
	IncidentTemplate string // TemplateId; parameters {1} incident id, {2} title, {3} level, {4} what to reply
	VerifyTemplate   string // TemplateId; parameter {1} the code

	HTTPClient *http.Client
	Now        func() time.Time // default time.Now
}

// Provider sends SMS pages through Tencent Cloud.
type Provider struct {
	cfg  Config
	host string
}

// New checks cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	var missing []string
	for _, f := range []struct{ v, name string }{{cfg.SecretID, "secret_id"}, {cfg.SecretKey, "secret_key"},
		{cfg.SdkAppID, "sdk_app_id"}, {cfg.SignName, "sign_name"}, {cfg.IncidentTemplate, "template_incident"}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tencent: missing %s (缺少配置项 %s)", strings.Join(missing, ", "), strings.Join(missing, "、"))
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tencent: endpoint %q is not a URL (endpoint 不是有效网址)", cfg.Endpoint)
	}
	if cfg.Region == "" {
		cfg.Region = "ap-guangzhou"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg, host: u.Host}, nil
}

// Name is "tencent".
func (p *Provider) Name() string { return "tencent" }

// Methods is sms.
func (p *Provider) Methods() []paging.Method { return []paging.Method{paging.MethodSMS} }

// sendSmsRequest is SendSms's request body.
type sendSmsRequest struct {
	PhoneNumberSet   []string
	SmsSdkAppId      string //nolint:revive // the API's spelling
	SignName         string
	TemplateId       string //nolint:revive // the API's spelling
	TemplateParamSet []string
	SessionContext   string `json:",omitempty"`
}

// sendSmsResponse is SendSms's answer.
type sendSmsResponse struct {
	Response struct {
		Error *struct {
			Code    string
			Message string
		}
		SendStatusSet []struct {
			SerialNo       string
			PhoneNumber    string
			Code           string
			Message        string
			SessionContext string
		}
		RequestId string //nolint:revive // the API's spelling
	}
}

// Send sends pg by SMS.
func (p *Provider) Send(ctx context.Context, pg paging.Page) (paging.Receipt, error) {
	if pg.Method != paging.MethodSMS {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("tencent: method %s not supported", pg.Method))
	}
	num, err := phone.E164(pg.Address)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("tencent: %q: %w", pg.Address, err))
	}
	req := sendSmsRequest{PhoneNumberSet: []string{num}, SmsSdkAppId: p.cfg.SdkAppID, SignName: p.cfg.SignName, SessionContext: pg.Key}
	switch pg.Kind {
	case paging.KindVerify:
		if p.cfg.VerifyTemplate == "" || pg.Code == "" {
			return paging.Receipt{}, paging.Permanent(errors.New("tencent: no verify template or code"))
		}
		req.TemplateId, req.TemplateParamSet = p.cfg.VerifyTemplate, []string{pg.Code}
	default:
		req.TemplateId = p.cfg.IncidentTemplate
		req.TemplateParamSet = []string{strconv.FormatInt(pg.IncidentID, 10), text.Cut(pg.Title, 20), strconv.Itoa(pg.Level), pg.AckReply}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(err)
	}
	ts := p.cfg.Now().Unix()
	headers := []Header{{"content-type", contentType}, {"host", p.host}, {"x-tc-action", "sendsms"}}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("tencent: %w", err))
	}
	hr.Header.Set("Authorization", Authorization(p.cfg.SecretID, p.cfg.SecretKey, service, ts, headers, CanonicalRequest(http.MethodPost, "", headers, body)))
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("X-TC-Action", "SendSms")
	hr.Header.Set("X-TC-Version", apiVersion)
	hr.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	hr.Header.Set("X-TC-Region", p.cfg.Region)
	resp, err := p.cfg.HTTPClient.Do(hr)
	if err != nil {
		return paging.Receipt{}, fmt.Errorf("tencent: SendSms: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r sendSmsResponse
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("tencent: SendSms: HTTP %d: %.200s", resp.StatusCode, raw)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429 {
			return paging.Receipt{}, paging.Permanent(err)
		}
		return paging.Receipt{}, err
	}
	if e := r.Response.Error; e != nil {
		return paging.Receipt{}, classify(fmt.Errorf("tencent: SendSms: %s: %s (RequestId %s)", e.Code, e.Message, r.Response.RequestId), e.Code)
	}
	if len(r.Response.SendStatusSet) != 1 {
		return paging.Receipt{}, fmt.Errorf("tencent: SendSms: %d statuses for one number (RequestId %s)", len(r.Response.SendStatusSet), r.Response.RequestId)
	}
	st := r.Response.SendStatusSet[0]
	if st.Code != "Ok" {
		return paging.Receipt{}, classify(fmt.Errorf("tencent: SendSms: %s: %s: %s", st.PhoneNumber, st.Code, st.Message), st.Code)
	}
	return paging.Receipt{Provider: "tencent", MessageID: st.SerialNo, Status: st.Code}, nil
}

// classify wraps err as permanent unless code is one a retry can fix:
// internal errors, request rate limits and the per-number 30-second and
// 1-hour frequency limits.
func classify(err error, code string) error {
	for _, p := range []string{"InternalError", "RequestLimitExceeded", "ResourceUnavailable.ServiceUnavailable",
		"LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit", "FailedOperation.ServiceUnavailable"} {
		if strings.HasPrefix(code, p) {
			return err
		}
	}
	return paging.Permanent(err)
}
