// Package paging builds the paging providers from configuration (New) and
// serves the callbacks through which acknowledgements come back from them
// (Callbacks): an SMS reply, a key pressed in a voice call, a gateway's
// reply. The providers themselves live in the sub-packages.
package paging

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"opsbot/adapters/paging/phone"
	"opsbot/adapters/paging/webhook"
	"opsbot/core"
	cpaging "opsbot/core/paging"
)

// CallbackConfig configures the callback handlers. Aliyun and Tencent
// Cloud do not sign their pushes, so their callback URLs carry Token as
// the last path segment (give the provider the URL with it); the webhook
// gateway signs its replies with WebhookSecret like the pages it gets.
type CallbackConfig struct {
	Token         string
	WebhookSecret string
	Now           func() time.Time
	Logger        *slog.Logger
}

// Callback paths, under which Callbacks serves.
const (
	PathAliyunSMS   = "/paging/callback/aliyun/sms/"   // + token: SmsUp (上行短信) HTTP batch push
	PathAliyunVoice = "/paging/callback/aliyun/voice/" // + token: VoiceReport / VoiceCallReport push
	PathTencentSMS  = "/paging/callback/tencent/sms/"  // + token: 回复短信回调
	PathWebhook     = "/paging/callback/webhook"       // the gateway's signed replies
)

// Callbacks returns the handler for the callback paths; each reply goes to
// a.AckReply.
func Callbacks(a cpaging.Acker, cfg CallbackConfig) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &callbacks{acker: a, cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathAliyunSMS+"{token}", h.token(h.aliyunSMS))
	mux.HandleFunc("POST "+PathAliyunVoice+"{token}", h.token(h.aliyunVoice))
	mux.HandleFunc("POST "+PathTencentSMS+"{token}", h.token(h.tencentSMS))
	mux.HandleFunc("POST "+PathWebhook, h.webhook)
	return mux
}

type callbacks struct {
	acker cpaging.Acker
	cfg   CallbackConfig
}

// token admits a request whose path token is the configured one.
func (h *callbacks) token(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Token == "" || subtle.ConstantTimeCompare([]byte(r.PathValue("token")), []byte(h.cfg.Token)) != 1 {
			http.NotFound(w, r)
			return
		}
		next(w, r)
	}
}

// ack passes each reply to the Acker. It reports false when one failed in
// a way a re-push may fix (the provider is then answered 500 and pushes
// again); a reply that acknowledges nothing, or an incident already
// acknowledged, is done with.
func (h *callbacks) ack(r *http.Request, replies []cpaging.Reply) bool {
	ok := true
	for _, rp := range replies {
		err := h.acker.AckReply(r.Context(), rp)
		switch {
		case err == nil:
		case errors.Is(err, core.ErrAlreadyDecided), errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrInvalid),
			errors.Is(err, core.ErrForbidden), errors.Is(err, core.ErrConflict):
			h.cfg.Logger.Info("paging: reply not taken", slog.String("provider", rp.Provider), slog.String("from", rp.From), slog.Any("err", err))
		default:
			h.cfg.Logger.Error("paging: reply failed", slog.String("provider", rp.Provider), slog.String("from", rp.From), slog.Any("err", err))
			ok = false
		}
	}
	return ok
}

// mobile returns a number in E.164 form when it is one, else as given.
func mobile(s string) string {
	if n, err := phone.E164(s); err == nil {
		return n
	}
	return s
}

// cst is China Standard Time, in which Aliyun gives its times.
var cst = time.FixedZone("CST", 8*3600)

// aliyunAnswer is Aliyun's documented answer to a push: code 0 accepted.
func aliyunAnswer(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"code":1,"msg":"处理失败，请重推"}`))
		return
	}
	_, _ = w.Write([]byte(`{"code":0,"msg":"成功"}`))
}

// readJSON decodes at most 1 MiB of r's body into v.
func readJSON(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v)
}

// aliyunSMS takes SmsUp pushes: a JSON array of up-messages.
func (h *callbacks) aliyunSMS(w http.ResponseWriter, r *http.Request) {
	var msgs []struct {
		PhoneNumber string `json:"phone_number"`
		SendTime    string `json:"send_time"`
		Content     string `json:"content"`
		SignName    string `json:"sign_name"`
		DestCode    string `json:"dest_code"`
		SequenceID  int64  `json:"sequence_id"`
	}
	if err := readJSON(r, &msgs); err != nil {
		http.Error(w, `{"code":1,"msg":"JSON 格式错误"}`, http.StatusBadRequest)
		return
	}
	replies := make([]cpaging.Reply, 0, len(msgs))
	for _, m := range msgs {
		at, err := time.ParseInLocation("2006-01-02 15:04:05", m.SendTime, cst)
		if err != nil {
			at = h.cfg.Now()
		}
		replies = append(replies, cpaging.Reply{Provider: "aliyun", Method: cpaging.MethodSMS, From: mobile(m.PhoneNumber),
			Text: strings.TrimSpace(m.Content), At: at})
	}
	aliyunAnswer(w, h.ack(r, replies))
}

// aliyunVoice takes VoiceReport (呼叫记录) and VoiceCallReport (呼叫中间状态)
// pushes; an entry with a dtmf is a key pressed in the call.
func (h *callbacks) aliyunVoice(w http.ResponseWriter, r *http.Request) {
	var reports []struct {
		CallID     string `json:"call_id"`
		Callee     string `json:"callee"`
		StatusCode string `json:"status_code"`
		StatusTime string `json:"status_time"`
		EndTime    string `json:"end_time"`
		OutID      string `json:"out_id"`
		DTMF       string `json:"dtmf"`
	}
	if err := readJSON(r, &reports); err != nil {
		http.Error(w, `{"code":1,"msg":"JSON 格式错误"}`, http.StatusBadRequest)
		return
	}
	var replies []cpaging.Reply
	for _, rp := range reports {
		if rp.DTMF == "" {
			continue
		}
		when := rp.StatusTime
		if when == "" {
			when = rp.EndTime
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05", when, cst)
		if err != nil {
			at = h.cfg.Now()
		}
		replies = append(replies, cpaging.Reply{Provider: "aliyun", Method: cpaging.MethodVoice, From: mobile(rp.Callee),
			Text: rp.DTMF, MessageID: rp.CallID, At: at})
	}
	aliyunAnswer(w, h.ack(r, replies))
}

// tencentSMS takes Tencent Cloud's reply callback (one JSON object) and
// answers its documented {"result":0,"errmsg":"OK"}.
func (h *callbacks) tencentSMS(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Extend     string `json:"extend"`
		Mobile     string `json:"mobile"`
		NationCode string `json:"nationcode"`
		Sign       string `json:"sign"`
		Text       string `json:"text"`
		Time       int64  `json:"time"`
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if err := readJSON(r, &m); err != nil || m.Mobile == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"result":1,"errmsg":"JSON 格式错误"}`))
		return
	}
	from := m.Mobile
	if m.NationCode != "" {
		from = "+" + m.NationCode + m.Mobile
	}
	at := h.cfg.Now()
	if m.Time > 0 {
		at = time.Unix(m.Time, 0)
	}
	if !h.ack(r, []cpaging.Reply{{Provider: "tencent", Method: cpaging.MethodSMS, From: mobile(from), Text: strings.TrimSpace(m.Text), At: at}}) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"result":1,"errmsg":"处理失败"}`))
		return
	}
	_, _ = w.Write([]byte(`{"result":0,"errmsg":"OK"}`))
}

// webhookReply is what the gateway posts for a reply.
type webhookReply struct {
	Method    string `json:"method"` // sms (default) or voice
	From      string `json:"from"`
	Text      string `json:"text"`
	MessageID string `json:"message_id"`
	At        int64  `json:"at"` // Unix seconds; default now
}

// webhook takes the gateway's signed replies.
func (h *callbacks) webhook(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || h.cfg.WebhookSecret == "" || webhook.Verify(h.cfg.WebhookSecret, r.Header, body, h.cfg.Now()) != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"ok":false,"error":"签名无效或已过期 (bad or expired signature)"}`))
		return
	}
	var m webhookReply
	if err := json.Unmarshal(body, &m); err != nil || m.From == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"ok":false,"error":"需要 JSON 的 from 和 text (want JSON with from and text)"}`))
		return
	}
	method := cpaging.MethodSMS
	if m.Method == string(cpaging.MethodVoice) {
		method = cpaging.MethodVoice
	}
	at := h.cfg.Now()
	if m.At > 0 {
		at = time.Unix(m.At, 0)
	}
	if !h.ack(r, []cpaging.Reply{{Provider: "webhook", Method: method, From: mobile(m.From), Text: strings.TrimSpace(m.Text),
		MessageID: m.MessageID, At: at}}) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"ok":false,"error":"处理失败，请重试 (failed, retry)"}`))
		return
	}
	_, _ = w.Write([]byte(`{"ok":true}`))
}
