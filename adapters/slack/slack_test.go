package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// call is one request the stand-in Slack received.
type call struct {
	Form url.Values      // chat.postMessage, chat.update
	JSON json.RawMessage // views.open, response_url
}

// fakeSlack stands in for the Slack Web API: slacktest's server with
// chat.postMessage, chat.update, views.open and a response_url added
// through its Binder hook.
type fakeSlack struct {
	srv *slacktest.Server

	mu        sync.Mutex
	seq       int
	posts     []call
	updates   []call
	views     []call
	responses []call
	uploads   [][]byte
	shared    []call
	// next postMessage answers, consumed in order: "" is success,
	// "429:<seconds>" a rate limit, anything else a Slack error code.
	script []string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/files.getUploadURLExternal", func(w http.ResponseWriter, r *http.Request) {
			writeOK(w, map[string]any{"upload_url": f.srv.GetAPIURL() + "upload", "file_id": "F1"})
		})
		c.Handle("/upload", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.uploads = append(f.uploads, body)
			f.mu.Unlock()
			w.WriteHeader(http.StatusOK)
		})
		c.Handle("/files.completeUploadExternal", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			f.mu.Lock()
			f.shared = append(f.shared, call{Form: r.PostForm})
			f.mu.Unlock()
			writeOK(w, map[string]any{"files": []map[string]any{{"id": "F1", "title": "chart"}}})
		})
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/chat.update", f.update)
		c.Handle("/views.open", f.viewsOpen)
		c.Handle("/respond", f.respond)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) responseURL() string { return f.srv.GetAPIURL() + "respond" }

func writeOK(w http.ResponseWriter, v map[string]any) {
	v["ok"] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) > 0 {
		next := f.script[0]
		f.script = f.script[1:]
		if secs, ok := strings.CutPrefix(next, "429:"); ok {
			w.Header().Set("Retry-After", secs)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if next != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"ok":false,"error":%q}`, next)
			return
		}
	}
	f.seq++
	f.posts = append(f.posts, call{Form: r.PostForm})
	channel := r.PostForm.Get("channel")
	if strings.HasPrefix(channel, "U") {
		channel = "D" + channel[1:] // a direct message lands in the app's DM channel
	}
	writeOK(w, map[string]any{"channel": channel, "ts": fmt.Sprintf("1700000000.%06d", f.seq)})
}

func (f *fakeSlack) update(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.updates = append(f.updates, call{Form: r.PostForm})
	f.mu.Unlock()
	writeOK(w, map[string]any{"channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts")})
}

func (f *fakeSlack) viewsOpen(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.views = append(f.views, call{JSON: body})
	f.mu.Unlock()
	writeOK(w, map[string]any{"view": map[string]any{"id": "V1"}})
}

func (f *fakeSlack) respond(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.responses = append(f.responses, call{JSON: body})
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *fakeSlack) calls() (posts, updates, views, responses []call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.posts...), append([]call(nil), f.updates...),
		append([]call(nil), f.views...), append([]call(nil), f.responses...)
}

// fakeBot stands in for the bot: it records events and answers with
// reply(ev), or echoes the text.
type fakeBot struct {
	mu     sync.Mutex
	events []bot.Event
	reply  func(ev bot.Event) []bot.Message
}

func (b *fakeBot) Handle(_ context.Context, ev bot.Event) []bot.Message {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	if b.reply != nil {
		return b.reply(ev)
	}
	return []bot.Message{{Status: bot.StatusOK, Title: "echo", Text: ev.Text}}
}

func (b *fakeBot) seen() []bot.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]bot.Event(nil), b.events...)
}

// bundle is what a test works with.
type bundle struct {
	a     *Adapter
	slack *fakeSlack
	bot   *fakeBot
	http  *httptest.Server
}

func setup(t *testing.T, mutate ...func(*Config)) *bundle {
	t.Helper()
	fs := newFakeSlack(t)
	fb := &fakeBot{}
	cfg := Config{
		BotToken: "xoxb-test", SigningSecret: secret, APIURL: fs.srv.GetAPIURL(),
		Channels:        map[string]string{"ops": "C1OPS"},
		Language:        langEN,
		KeyPrefix:       redistest.Name("slack") + ":",
		ChannelInterval: 10 * time.Millisecond,
		HandleTimeout:   10 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := New(cfg, fb, pgtest.New(t).PlatformMessages(), redis.NewShared(redistest.Client(t, 9)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	a.Routes(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &bundle{a: a, slack: fs, bot: fb, http: hs}
}

// signed posts body to path as Slack would, signed at ts (zero: now; no
// signature when sec is "").
func (b *bundle) signed(t *testing.T, path, contentType, body, sec string, ts time.Time, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.http.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if sec != "" {
		if ts.IsZero() {
			ts = time.Now()
		}
		stamp := strconv.FormatInt(ts.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(sec))
		_, _ = io.WriteString(mac, "v0:"+stamp+":"+body)
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	// Background work started by this request is done before we look.
	b.a.Wait()
	return resp.StatusCode, string(out)
}

func (b *bundle) command(t *testing.T, text, trigger string) (int, string) {
	t.Helper()
	form := url.Values{"command": {"/opsbot"}, "text": {text}, "user_id": {"U1"}, "channel_id": {"C1OPS"},
		"response_url": {b.slack.responseURL()}, "trigger_id": {trigger}, "team_id": {"T1"}}
	return b.signed(t, "/slack/commands", "application/x-www-form-urlencoded", form.Encode(), secret, time.Time{})
}

func (b *bundle) interact(t *testing.T, payload any) (int, string) {
	t.Helper()
	raw, err := json.Marshal(payload)
	require.NoError(t, err)
	form := url.Values{"payload": {string(raw)}}
	return b.signed(t, "/slack/interactions", "application/x-www-form-urlencoded", form.Encode(), secret, time.Time{})
}

// blocksOf decodes the blocks of a postMessage/update form or a response_url body.
func blocksOf(t *testing.T, c call) []map[string]any {
	t.Helper()
	var blocks []map[string]any
	if c.Form != nil {
		require.NoError(t, json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks))
		return blocks
	}
	var body struct {
		Blocks []map[string]any `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(c.JSON, &body))
	return body.Blocks
}

func hasActions(blocks []map[string]any) bool {
	for _, b := range blocks {
		if b["type"] == "actions" {
			return true
		}
	}
	return false
}

func TestSignedSlashCommandRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.command(t, "request approve 12", "trig-1")
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, body, "acknowledged with an empty 200")

	evs := b.bot.seen()
	require.Len(t, evs, 1)
	require.Equal(t, bot.Event{Platform: core.PlatformSlack, UserRef: "U1", Channel: "ops", Text: "/request approve 12"}, evs[0])

	_, _, _, responses := b.slack.calls()
	require.Len(t, responses, 1)
	var resp slackapi.WebhookMessage
	require.NoError(t, json.Unmarshal(responses[0].JSON, &resp))
	require.Equal(t, "ephemeral", resp.ResponseType)
	require.False(t, resp.ReplaceOriginal)
	require.Contains(t, string(responses[0].JSON), "/request approve 12")

	// An empty command asks for help.
	code, _ = b.command(t, "", "trig-2")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "/help", b.bot.seen()[1].Text)
}

func TestUnsignedOrStaleRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := url.Values{"command": {"/opsbot"}, "text": {"whoami"}, "user_id": {"U1"}, "response_url": {b.slack.responseURL()}}.Encode()
	for _, tc := range []struct {
		name   string
		secret string
		ts     time.Time
	}{
		{name: "unsigned"},
		{name: "wrong secret", secret: "not-the-secret"},
		{name: "stale timestamp", secret: secret, ts: time.Now().Add(-10 * time.Minute)},
		{name: "future timestamp", secret: secret, ts: time.Now().Add(10 * time.Minute)},
	} {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			code, _ := b.signed(t, path, "application/x-www-form-urlencoded", form, tc.secret, tc.ts)
			require.Equal(t, http.StatusUnauthorized, code, "%s %s", tc.name, path)
		}
	}
	require.Empty(t, b.bot.seen(), "nothing reached the bot")
	posts, _, _, responses := b.slack.calls()
	require.Empty(t, posts)
	require.Empty(t, responses)
}

// card is an approval step card as the bot renders it.
func card(ref string) bot.Message {
	return bot.Message{Ref: ref, Status: bot.StatusNotice, Title: "Approve release #42", Text: "app **portal** 2.1",
		Fields: []bot.Field{{Name: "Requested by", Value: "Li Lei"}},
		Buttons: []bot.Button{
			{Action: "approval.approve", Value: ref, Label: "Approve", Style: "primary"},
			{Action: "approval.reject", Value: ref, Label: "Reject", Style: "danger"},
		}}
}

func blockActions(b *bundle, action, value, trigger string) map[string]any {
	return map[string]any{
		"type": "block_actions", "trigger_id": trigger, "response_url": b.slack.responseURL(),
		"user":      map[string]any{"id": "U2"},
		"channel":   map[string]any{"id": "C1OPS"},
		"container": map[string]any{"type": "message", "channel_id": "C1OPS", "message_ts": "1700000000.000001"},
		"actions": []map[string]any{{"type": "button", "block_id": actionsBlock, "action_id": action,
			"value": value, "text": map[string]any{"type": "plain_text", "text": "Reject"}}},
	}
}

func TestButtonClickDecidesAndCardsAreUpdated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const ref = "request:42#1"
	decided := bot.Message{Ref: "request:42", Status: bot.StatusOK, Title: "Approved #42", Text: "release portal 2.1",
		Fields: []bot.Field{{Name: "Status", Value: "approved"}}}
	b.bot.reply = func(bot.Event) []bot.Message { return []bot.Message{decided} }

	// The step's card went to the channel and to two approvers.
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, card(ref)))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "U2"}, card(ref)))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "U3"}, card(ref)))
	posts, _, _, _ := b.slack.calls()
	require.Len(t, posts, 3)
	blocks := blocksOf(t, posts[0])
	require.True(t, hasActions(blocks))

	// The channel card's Approve button is clicked.
	code, body := b.interact(t, blockActions(b, actionID("approval.approve", 0), ref, "trig-click"))
	require.Equal(t, http.StatusOK, code, body)
	evs := b.bot.seen()
	require.Len(t, evs, 1)
	require.Equal(t, bot.Event{Platform: core.PlatformSlack, UserRef: "U2", Channel: "ops", Action: "approval.approve",
		Value: ref, MessageID: "C1OPS:1700000000.000001"}, evs[0])
	_, _, _, responses := b.slack.calls()
	require.Len(t, responses, 1, "the clicker hears the outcome")
	require.Contains(t, string(responses[0].JSON), "Approved #42")

	// The decision's update notice replaces every card of the step.
	outcome := bot.Message{Ref: ref, Title: "Release #42 approved", Text: "by Han Meimei (U2)"}
	require.NoError(t, b.a.Update(ctx, ref, outcome))
	_, updates, _, _ := b.slack.calls()
	require.Len(t, updates, 3)
	got := map[string]string{}
	for _, u := range updates {
		got[u.Form.Get("channel")] = u.Form.Get("ts")
		require.False(t, hasActions(blocksOf(t, u)), "buttons gone")
		require.Contains(t, u.Form.Get("blocks"), "Release #42 approved")
	}
	require.Equal(t, map[string]string{"C1OPS": "1700000000.000001", "D2": "1700000000.000002", "D3": "1700000000.000003"}, got)

	// A repeated click payload (same trigger) is handled once.
	_, _ = b.interact(t, blockActions(b, actionID("approval.approve", 0), ref, "trig-click"))
	require.Len(t, b.bot.seen(), 1)
	// Another ref's update touches nothing.
	require.NoError(t, b.a.Update(ctx, "request:43#1", outcome))
	_, updates, _, _ = b.slack.calls()
	require.Len(t, updates, 3)
}

func TestRejectAsksForReasonInModal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ref = "request:42#1"
	code, _ := b.interact(t, blockActions(b, actionID("approval.reject", 1), ref, "trig-reject"))
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, b.bot.seen(), "no decision before the reason")

	_, _, views, _ := b.slack.calls()
	require.Len(t, views, 1)
	var open struct {
		TriggerID string                    `json:"trigger_id"`
		View      slackapi.ModalViewRequest `json:"view"`
	}
	require.NoError(t, json.Unmarshal(views[0].JSON, &open))
	require.Equal(t, "trig-reject", open.TriggerID)
	require.Equal(t, reasonCallback, open.View.CallbackID)
	require.Contains(t, string(views[0].JSON), `"plain_text_input"`)

	submit := func(reason string) (int, string) {
		return b.interact(t, map[string]any{
			"type": "view_submission", "trigger_id": "trig-view", "user": map[string]any{"id": "U2"},
			"view": map[string]any{"id": "V1", "callback_id": open.View.CallbackID, "private_metadata": open.View.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{reasonBlock: map[string]any{reasonInput: map[string]any{
					"type": "plain_text_input", "value": reason}}}}},
		})
	}
	// An empty reason keeps the modal open with an error.
	code, body := submit("   ")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"response_action":"errors","errors":{"reason":"A reason is required"}}`, body)
	require.Empty(t, b.bot.seen())

	code, body = submit("window clashes with the audit")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, body, "an empty ack closes the modal")
	evs := b.bot.seen()
	require.Len(t, evs, 1)
	require.Equal(t, bot.Event{Platform: core.PlatformSlack, UserRef: "U2", Channel: "ops", Action: "approval.reject",
		Value: ref, Text: "window clashes with the audit", MessageID: "C1OPS:1700000000.000001"}, evs[0])
	_, _, _, responses := b.slack.calls()
	require.Len(t, responses, 1, "the reply goes to the clicked card's response_url")
}

func eventBody(eventID string, inner map[string]any) string {
	raw, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
		"event_id": eventID, "event_time": 1700000000, "event": inner})
	return string(raw)
}

func TestEventsRetriedOnceAndFiltered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// URL verification answers the challenge.
	code, body := b.signed(t, "/slack/events", "application/json",
		`{"type":"url_verification","token":"x","challenge":"c-123"}`, secret, time.Time{})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "c-123", body)

	mention := eventBody("Ev1", map[string]any{"type": "app_mention", "user": "U1", "channel": "C1OPS",
		"text": "<@UBOT> incident show 7 &amp; more", "ts": "1700000000.000100", "event_ts": "1700000000.000100"})
	code, _ = b.signed(t, "/slack/events", "application/json", mention, secret, time.Time{})
	require.Equal(t, http.StatusOK, code)
	// Slack retries the same event: acknowledged, not handled again.
	code, _ = b.signed(t, "/slack/events", "application/json", mention, secret, time.Time{},
		"X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")
	require.Equal(t, http.StatusOK, code)

	evs := b.bot.seen()
	require.Len(t, evs, 1)
	require.Equal(t, "/incident show 7 & more", evs[0].Text)
	require.Equal(t, "ops", evs[0].Channel)
	posts, _, _, _ := b.slack.calls()
	require.Len(t, posts, 1)
	require.Equal(t, "C1OPS", posts[0].Form.Get("channel"))
	require.Equal(t, "1700000000.000100", posts[0].Form.Get("thread_ts"), "answered in the mention's thread")

	// Bot messages (our own replies included), edits and channel chatter are ignored.
	for i, inner := range []map[string]any{
		{"type": "message", "channel_type": "im", "channel": "D1", "user": "UBOT", "bot_id": "B1", "text": "hi", "ts": "1.1"},
		{"type": "message", "channel_type": "im", "channel": "D1", "user": "U1", "subtype": "message_changed", "text": "x", "ts": "1.2"},
		{"type": "message", "channel_type": "channel", "channel": "C1OPS", "user": "U1", "text": "whoami", "ts": "1.3"},
		{"type": "app_mention", "channel": "C1OPS", "bot_id": "B2", "text": "<@UBOT> help", "ts": "1.4"},
	} {
		code, _ := b.signed(t, "/slack/events", "application/json", eventBody(fmt.Sprintf("Ign%d", i), inner), secret, time.Time{})
		require.Equal(t, http.StatusOK, code)
	}
	require.Len(t, b.bot.seen(), 1)

	// A direct message is a command, answered in the DM.
	dm := eventBody("Ev2", map[string]any{"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
		"text": "whoami", "ts": "1700000000.000200"})
	code, _ = b.signed(t, "/slack/events", "application/json", dm, secret, time.Time{})
	require.Equal(t, http.StatusOK, code)
	evs = b.bot.seen()
	require.Len(t, evs, 2)
	require.Equal(t, bot.Event{Platform: core.PlatformSlack, UserRef: "U1", Text: "/whoami", MessageID: "D1:1700000000.000200"}, evs[1])
	posts, _, _, _ = b.slack.calls()
	require.Len(t, posts, 2)
	require.Equal(t, "D1", posts[1].Form.Get("channel"))
	require.Empty(t, posts[1].Form.Get("thread_ts"))
}

func TestSendRateLimitedBySlack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.slack.script = []string{"429:7"}
	err := b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, card("request:9#1"))
	var ra *bot.RetryAfterError
	require.ErrorAs(t, err, &ra)
	require.Equal(t, 7*time.Second, ra.After)
	posts, _, _, _ := b.slack.calls()
	require.Empty(t, posts)

	// The outbox's later retry goes through.
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, card("request:9#1")))
	posts, _, _, _ = b.slack.calls()
	require.Len(t, posts, 1)
}

// TestSendUploadsImage: a message with an image (the digest chart) is
// posted, then the PNG is uploaded into its thread.
func TestSendUploadsImage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := card("digest:2026-11-24:admin")
	m.Buttons = nil
	m.Image = []byte("\x89PNG\r\n\x1a\nchart")
	require.NoError(t, b.a.Send(context.Background(), core.Recipient{User: "U1ADMIN"}, m))
	posts, _, _, _ := b.slack.calls()
	require.Len(t, posts, 1)
	b.slack.mu.Lock()
	defer b.slack.mu.Unlock()
	require.Len(t, b.slack.uploads, 1)
	require.Contains(t, string(b.slack.uploads[0]), "chart")
	require.Len(t, b.slack.shared, 1)
	require.Equal(t, "D1ADMIN", b.slack.shared[0].Form.Get("channel_id"))
	require.Equal(t, "1700000000.000001", b.slack.shared[0].Form.Get("thread_ts"))
}

func TestSendErrorsClassified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		code      string
		permanent bool
	}{
		{"channel_not_found", true},
		{"not_in_channel", true},
		{"is_archived", true},
		{"user_not_found", true},
		{"invalid_auth", false},
		{"internal_error", false},
	} {
		b.slack.mu.Lock()
		b.slack.script = []string{tc.code}
		b.slack.mu.Unlock()
		err := b.a.Send(ctx, core.Recipient{Channel: "C" + tc.code}, bot.Message{Text: "x"})
		require.Error(t, err, tc.code)
		require.Contains(t, err.Error(), tc.code)
		var perm *bot.PermanentError
		require.Equal(t, tc.permanent, errors.As(err, &perm), tc.code)
	}
	require.Error(t, b.a.Send(ctx, core.Recipient{}, bot.Message{Text: "x"}))
}

func TestSendKeepsChannelRate(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.ChannelInterval = 10 * time.Second; c.MaxWait = 50 * time.Millisecond })
	ctx := context.Background()
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, bot.Message{Text: "one"}))
	err := b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, bot.Message{Text: "two"})
	var ra *bot.RetryAfterError
	require.ErrorAs(t, err, &ra, "over the channel's rate: retried later from the outbox")
	require.Greater(t, ra.After, 9*time.Second)
	require.LessOrEqual(t, ra.After, 10*time.Second)
	// Another channel has its own slot.
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "C2"}, bot.Message{Text: "three"}))
	posts, _, _, _ := b.slack.calls()
	require.Len(t, posts, 2)

	// A slot a moment away is waited for rather than refused.
	w := setup(t, func(c *Config) { c.ChannelInterval = 100 * time.Millisecond })
	start := time.Now()
	require.NoError(t, w.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, bot.Message{Text: "one"}))
	require.NoError(t, w.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, bot.Message{Text: "two"}))
	require.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond)
}

type linker struct {
	mu     sync.Mutex
	linked map[string]string
}

func (l *linker) Linked(_ context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.linked[id]
	return ok, nil
}

func (l *linker) LinkByEmail(_ context.Context, id, email string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if email != "spengler@ghostbusters.example.com" {
		return false, nil
	}
	l.linked[id] = email
	return true, nil
}

func TestLinkByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l := &linker{linked: map[string]string{}}
	b.a.SetLinker(l)
	code, _ := b.command(t, "whoami", "trig-link")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]string{"U1": "spengler@ghostbusters.example.com"}, l.linked)
	require.Len(t, b.bot.seen(), 1)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no token", Config{SigningSecret: "s"}, "bot_token"},
		{"no secret", Config{BotToken: "x"}, "signing_secret"},
		{"socket without app token", Config{BotToken: "x", SocketMode: true}, "app_token"},
		{"empty channel", Config{BotToken: "x", SigningSecret: "s", Channels: map[string]string{"ops": ""}}, "ops"},
	} {
		err := tc.cfg.Validate()
		require.Error(t, err, tc.name)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
	require.NoError(t, Config{BotToken: "x", AppToken: "xapp", SocketMode: true}.Validate())
}

// TestUpdateLeavesNewerCardsAlone: an update written before a card was
// posted (a later notice that went out first) does not overwrite that
// newer card with its older state; cards of earlier notices and direct
// replies are updated.
func TestUpdateLeavesNewerCardsAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const ref = "incident:9"
	require.NoError(t, b.a.Send(bot.WithOutbox(ctx, 10), core.Recipient{User: "U2"}, card(ref)))
	require.NoError(t, b.a.Send(bot.WithOutbox(ctx, 30), core.Recipient{User: "U3"}, card(ref)))
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "C1OPS"}, card(ref)))
	require.NoError(t, b.a.Update(bot.WithOutbox(ctx, 20), ref, bot.Message{Ref: ref, Title: "Incident #9 acknowledged"}))
	_, updates, _, _ := b.slack.calls()
	var got []string
	for _, u := range updates {
		got = append(got, u.Form.Get("channel"))
	}
	require.ElementsMatch(t, []string{"D2", "C1OPS"}, got, "U3's card came from a later notice")
}
