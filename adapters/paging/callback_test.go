package paging

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/webhook"
	"opsbot/core"
	cpaging "opsbot/core/paging"
)

// recorder is an Acker that records replies and answers err.
type recorder struct {
	mu      sync.Mutex
	replies []cpaging.Reply
	err     error
}

func (r *recorder) AckReply(_ context.Context, rp cpaging.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, rp)
	return r.err
}

func (r *recorder) AckLink(context.Context, string) error { return errors.New("not used") }

var now = time.Date(2026, 3, 5, 3, 2, 0, 0, time.FixedZone("CST", 8*3600))

func serve(t *testing.T, rec *recorder) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Callbacks(rec, CallbackConfig{Token: "tok-123", WebhookSecret: "gw-secret", Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, body string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAliyunSMSUp(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	// Aliyun's documented SmsUp push: a JSON array.
	body := `[{"phone_number":"13800138000","send_time":"2026-03-05 03:02:11","content":" 1 ","sign_name":"【运维值班】","dest_code":"1231231","sequence_id":1234567}]`
	code, resp := post(t, srv.URL+PathAliyunSMS+"tok-123", body, nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"code":0,"msg":"成功"}`, resp)
	require.Equal(t, []cpaging.Reply{{Provider: "aliyun", Method: cpaging.MethodSMS, From: "+8613800138000", Text: "1",
		At: time.Date(2026, 3, 5, 3, 2, 11, 0, cst)}}, rec.replies)

	code, _ = post(t, srv.URL+PathAliyunSMS+"wrong", body, nil)
	require.Equal(t, 404, code, "a wrong token is refused")
	code, _ = post(t, srv.URL+PathAliyunSMS+"tok-123", `{not json`, nil)
	require.Equal(t, 400, code)
	require.Len(t, rec.replies, 1)
}

func TestAliyunVoiceKeypress(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	// VoiceReport push (documented fields); the second entry pressed nothing.
	body := `[{"status_code":"200000","callee":"13800138000","duration":"21","voice_type":"voice","originate_time":"2026-03-05 03:05:01",
	  "end_time":"2026-03-05 03:05:30","call_id":"116012354148^102813780001","caller":"057100000000","status_msg":"用户接听",
	  "out_id":"inc-42-step-3-sunli","dtmf":"1","toll_type":"LOCAL"},
	 {"status_code":"200005","callee":"13900139000","call_id":"2^2","out_id":"x","dtmf":""}]`
	code, resp := post(t, srv.URL+PathAliyunVoice+"tok-123", body, nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"code":0,"msg":"成功"}`, resp)
	require.Equal(t, []cpaging.Reply{{Provider: "aliyun", Method: cpaging.MethodVoice, From: "+8613800138000", Text: "1",
		MessageID: "116012354148^102813780001", At: time.Date(2026, 3, 5, 3, 5, 30, 0, cst)}}, rec.replies)
}

func TestTencentReply(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	body := `{"extend":"","mobile":"13800138000","nationcode":"86","sign":"运维值班","text":"1","time":1772650931}`
	code, resp := post(t, srv.URL+PathTencentSMS+"tok-123", body, nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"result":0,"errmsg":"OK"}`, resp)
	require.Equal(t, []cpaging.Reply{{Provider: "tencent", Method: cpaging.MethodSMS, From: "+8613800138000", Text: "1",
		At: time.Unix(1772650931, 0)}}, rec.replies)
	code, _ = post(t, srv.URL+PathTencentSMS+"nope", body, nil)
	require.Equal(t, 404, code)
}

func TestWebhookReply(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	body := `{"from":"13800138000","text":"1","message_id":"gw-1"}`
	signed := func(secret string, ts int64) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, []byte(body)))
		return h
	}
	code, resp := post(t, srv.URL+PathWebhook, body, signed("gw-secret", now.Unix()))
	require.Equal(t, 200, code, resp)
	require.Equal(t, []cpaging.Reply{{Provider: "webhook", Method: cpaging.MethodSMS, From: "+8613800138000", Text: "1",
		MessageID: "gw-1", At: now}}, rec.replies)

	code, _ = post(t, srv.URL+PathWebhook, body, signed("other", now.Unix()))
	require.Equal(t, 401, code)
	code, _ = post(t, srv.URL+PathWebhook, body, signed("gw-secret", now.Add(-time.Hour).Unix()))
	require.Equal(t, 401, code, "an old signature is a replay")
	code, _ = post(t, srv.URL+PathWebhook, body, nil)
	require.Equal(t, 401, code)
	require.Len(t, rec.replies, 1)
}

func TestAckerErrors(t *testing.T) {
	body := `[{"phone_number":"13800138000","send_time":"2026-03-05 03:02:11","content":"1"}]`
	// Already acknowledged (or a reply that matches nothing): done, no re-push.
	rec := &recorder{err: core.AlreadyDecided("incident_already_acked")}
	code, _ := post(t, serve(t, rec).URL+PathAliyunSMS+"tok-123", body, nil)
	require.Equal(t, 200, code)
	rec = &recorder{err: core.NotFound("page_not_found")}
	code, _ = post(t, serve(t, rec).URL+PathAliyunSMS+"tok-123", body, nil)
	require.Equal(t, 200, code)
	// Anything else: 500, so Aliyun pushes again.
	rec = &recorder{err: errors.New("database is down")}
	code, resp := post(t, serve(t, rec).URL+PathAliyunSMS+"tok-123", body, nil)
	require.Equal(t, 500, code)
	require.Contains(t, resp, `"code":1`)
}

func TestNoTokenConfiguredRefusesAll(t *testing.T) {
	srv := httptest.NewServer(Callbacks(&recorder{}, CallbackConfig{}))
	defer srv.Close()
	code, _ := post(t, srv.URL+PathAliyunSMS+"x", `[]`, nil)
	require.Equal(t, 404, code)
	code, _ = post(t, srv.URL+PathWebhook, `{}`, nil)
	require.Equal(t, 401, code)
}
