package wecom

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"opsbot/bot"
	"opsbot/core"
)

// Callback decoding errors.
var (
	errBadSignature = errors.New("wecom: msg_signature does not match")
	errMalformed    = errors.New("wecom: malformed callback")
)

// crypt verifies and decrypts callbacks (WeCom's scheme: msg_signature =
// sha1 of the sorted token, timestamp, nonce and ciphertext; AES-256-CBC
// with the EncodingAESKey, IV = first 16 key bytes, PKCS#7 to 32 bytes;
// plaintext = random(16) + length(4, big endian) + message + CorpID).
type crypt struct {
	token  string
	key    string // EncodingAESKey as configured
	corpID string
}

// verify checks msg_signature over the other parameters.
func (c crypt) verify(signature, timestamp, nonce, data string) bool {
	want := util.Signature(c.token, timestamp, nonce, data)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) == 1
}

// decrypt opens a ciphertext and checks it was sealed for our corp.
func (c crypt) decrypt(data string) ([]byte, error) {
	_, plain, err := util.DecryptMsg(c.corpID, data, c.key)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt: %v", errMalformed, err)
	}
	return plain, nil
}

// envelope is the outer XML of a callback POST.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

// inbound is a decrypted callback: a message or an event.
type inbound struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   string   `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	MsgID        string   `xml:"MsgId"`
	AgentID      string   `xml:"AgentID"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	TaskID       string   `xml:"TaskId"`
	CardType     string   `xml:"CardType"`
	ResponseCode string   `xml:"ResponseCode"`
}

// dedupeKey identifies a callback across WeCom's retries: MsgId for
// messages, sender + CreateTime (+ task and key) for events.
func (in inbound) dedupeKey() string {
	if in.MsgType != "event" && in.MsgID != "" {
		return "msg:" + in.MsgID
	}
	return "ev:" + in.FromUserName + ":" + in.CreateTime + ":" + in.Event + ":" + in.TaskID + ":" + in.EventKey
}

// decodeCallback verifies and decrypts a callback POST body. It never
// panics, whatever the input.
func decodeCallback(c crypt, signature, timestamp, nonce string, body []byte) (inbound, error) {
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return inbound{}, fmt.Errorf("%w: envelope: %v", errMalformed, err)
	}
	if env.Encrypt == "" {
		return inbound{}, fmt.Errorf("%w: no Encrypt element", errMalformed)
	}
	if !c.verify(signature, timestamp, nonce, env.Encrypt) {
		return inbound{}, errBadSignature
	}
	plain, err := c.decrypt(env.Encrypt)
	if err != nil {
		return inbound{}, err
	}
	var in inbound
	if err := xml.Unmarshal(plain, &in); err != nil {
		return inbound{}, fmt.Errorf("%w: message: %v", errMalformed, err)
	}
	if in.CreateTime != "" {
		if _, err := strconv.ParseInt(in.CreateTime, 10, 64); err != nil {
			return inbound{}, fmt.Errorf("%w: CreateTime %q", errMalformed, in.CreateTime)
		}
	}
	return in, nil
}

// verifyURL answers WeCom's URL check: the decrypted echostr, in plain text.
func (a *Adapter) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// base64 has no spaces: a "+" sent unescaped arrives as one.
	echo := strings.ReplaceAll(q.Get("echostr"), " ", "+")
	if echo == "" || !a.crypt.verify(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), echo) {
		a.log.Warn("callback URL check refused: bad signature", "remote", r.RemoteAddr)
		http.Error(w, "wecom: bad signature", http.StatusForbidden)
		return
	}
	plain, err := a.crypt.decrypt(echo)
	if err != nil {
		a.log.Warn("callback URL check refused: undecryptable echostr", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "wecom: bad echostr", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(plain)
}

// callback verifies and decodes a message or event, answers 200 with an
// empty body at once (WeCom waits 5 s, then retries) and handles it in
// the background.
func (a *Adapter) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		a.log.Warn("callback refused: body unreadable or too large", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "wecom: body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	q := r.URL.Query()
	in, err := decodeCallback(a.crypt, q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
	switch {
	case errors.Is(err, errBadSignature):
		a.log.Warn("callback refused: bad signature", "remote", r.RemoteAddr)
		http.Error(w, "wecom: bad signature", http.StatusForbidden)
		return
	case err != nil:
		a.log.Warn("callback refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "wecom: malformed callback", http.StatusBadRequest)
		return
	}
	if !a.fresh(q.Get("timestamp")) {
		a.log.Warn("callback refused: timestamp outside the window", "remote", r.RemoteAddr, "timestamp", q.Get("timestamp"), "window", a.cfg.CallbackWindow.String())
		http.Error(w, "wecom: stale callback", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusOK)
	a.background(func(ctx context.Context) { a.process(ctx, in) })
}

// fresh reports whether a callback's signed timestamp (unix seconds) is
// within CallbackWindow of now, either way. A captured callback replayed
// later is refused, even after its dedupe key expired.
func (a *Adapter) fresh(timestamp string) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	d := a.cfg.Now().Sub(time.Unix(ts, 0))
	return d <= a.cfg.CallbackWindow && d >= -a.cfg.CallbackWindow
}

// background runs fn detached from the request, bounded in time and in
// how many run at once; Wait waits for all of them.
func (a *Adapter) background(fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.sem <- struct{}{}
		defer func() { <-a.sem }()
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("callback handling panicked", "panic", fmt.Sprint(p))
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.HandleTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// Wait blocks until every callback being handled in the background is
// done (call it at shutdown, after the HTTP server stopped).
func (a *Adapter) Wait() { a.wg.Wait() }

// process handles one decoded callback once.
func (a *Adapter) process(ctx context.Context, in inbound) {
	if in.AgentID != "" && in.AgentID != itoa(a.cfg.AgentID) {
		a.log.Warn("callback for another agent ignored", "agent_id", in.AgentID)
		return
	}
	if in.FromUserName == "" {
		return
	}
	first, err := a.shared.First(ctx, a.cfg.KeyPrefix+"dedupe:"+in.dedupeKey(), a.cfg.DedupeTTL)
	if err != nil {
		// Without Redis a retry may be handled twice; core's guarded
		// transitions make a second click a clear "already decided".
		a.log.Warn("callback dedupe unavailable; handling anyway", "err", err)
		first = true
	}
	if !first {
		a.log.Debug("callback retry ignored", "key", in.dedupeKey())
		return
	}
	switch {
	case in.MsgType == "text":
		a.onText(ctx, in)
	case in.MsgType == "event" && in.Event == "template_card_event":
		a.onClick(ctx, in)
	default:
		a.log.Debug("callback ignored", "msg_type", in.MsgType, "event", in.Event)
	}
}

// onText passes a text message (a command) to the bot and sends the replies.
func (a *Adapter) onText(ctx context.Context, in inbound) {
	text := strings.TrimSpace(in.Content)
	if text == "" {
		return
	}
	replies := a.bot.Handle(ctx, bot.Event{
		Platform: core.PlatformWeCom, UserRef: in.FromUserName, Text: text, MessageID: in.MsgID,
	})
	a.reply(ctx, in.FromUserName, replies)
}

// onClick passes a card button click to the bot. When the bot answers
// with a decision (a message without buttons that is not an error), the
// clicked card is updated with the click's response_code; every reply is
// also sent as a new message.
func (a *Adapter) onClick(ctx context.Context, in inbound) {
	action, value, ok := ParseButtonKey(in.EventKey)
	if !ok {
		a.log.Warn("card click with an unknown key ignored", "key", in.EventKey, "user", in.FromUserName)
		return
	}
	if action == "opsbot" {
		return // the grey "done" label of a decided card
	}
	replies := a.bot.Handle(ctx, bot.Event{
		Platform: core.PlatformWeCom, UserRef: in.FromUserName, Action: action, Value: value, MessageID: in.TaskID,
	})
	if d, ok := decision(replies); ok && in.ResponseCode != "" {
		if err := a.updateCard(ctx, in.FromUserName, in.ResponseCode, d, 0); err != nil {
			a.log.Error("update of the clicked card failed", "user", in.FromUserName, "task_id", in.TaskID, "ref", d.Ref, "err", err)
		}
	}
	a.reply(ctx, in.FromUserName, replies)
}

// decision picks the reply that settles a clicked card: the first one
// that is not an error and offers no further buttons.
func decision(replies []bot.Message) (bot.Message, bool) {
	for _, m := range replies {
		if m.Status != bot.StatusError && len(m.Buttons) == 0 {
			return m, true
		}
	}
	return bot.Message{}, false
}

// reply sends the bot's direct answers to a member. They go through the
// rate limiter like everything else (held when over). One that meets a
// temporary failure (WeCom busy or throttling, 5xx, a timeout) is handed
// to the Deferrer, which queues it in the outbox to be retried like a
// notice, and so are the replies after it, to keep their order. Only
// hopeless ones (unknown user, content WeCom refuses) are logged and
// dropped.
func (a *Adapter) reply(ctx context.Context, userID string, replies []bot.Message) {
	deferring := false
	for _, m := range replies {
		if !deferring {
			err := a.deliver(ctx, address{kind: kindUser, id: userID}, m)
			var perm *bot.PermanentError
			switch {
			case err == nil:
				continue
			case errors.As(err, &perm):
				a.log.Error("reply not deliverable", "user", userID, "ref", m.Ref, "title", m.Title, "err", err)
				continue
			}
			a.log.Warn("reply not delivered; retrying it through the outbox", "user", userID, "ref", m.Ref, "title", m.Title, "err", err)
			deferring = true
		}
		// Queue it even when the callback's time is up.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.CallTimeout)
		err := a.deferrer.Defer(dctx, core.PlatformWeCom, userID, m)
		cancel()
		if err != nil {
			a.log.Error("reply lost: not delivered and not queued for retry", "user", userID, "ref", m.Ref, "title", m.Title, "err", err)
		}
	}
}
