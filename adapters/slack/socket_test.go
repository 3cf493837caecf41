package slack

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

// recordAcks is a Socket Mode acker that remembers what was acknowledged.
type recordAcks struct {
	mu   sync.Mutex
	acks map[string]any
}

func (r *recordAcks) Ack(req socketmode.Request, payload ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.acks == nil {
		r.acks = map[string]any{}
	}
	var p any
	if len(payload) > 0 {
		p = payload[0]
	}
	r.acks[req.EnvelopeID] = p
	return nil
}

// TestSocketModeSharesDispatch drives the Socket Mode request handling with
// the events socketmode.Client emits, without a websocket.
func TestSocketModeSharesDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.SocketMode = true; c.AppToken = "xapp-test" })
	ctx := context.Background()
	acks := &recordAcks{}

	// A slash command.
	cmd := slackapi.SlashCommand{Command: "/opsbot", Text: "duty now", UserID: "U1", ChannelID: "C9",
		ResponseURL: b.slack.responseURL(), TriggerID: "sm-trig-1"}
	b.a.onSocketEvent(ctx, socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: cmd,
		Request: &socketmode.Request{Type: socketmode.RequestTypeSlashCommands, EnvelopeID: "env-1"}}, acks)

	// A reason modal submitted empty: the ack carries the errors.
	meta, _ := json.Marshal(reasonMeta{Action: "approval.reject", Value: "request:5#1", Channel: "C1OPS"})
	var cb slackapi.InteractionCallback
	require.NoError(t, json.Unmarshal([]byte(`{"type":"view_submission","user":{"id":"U2"},"view":{"id":"V9","callback_id":"`+
		reasonCallback+`","private_metadata":`+strconvQuote(string(meta))+`,"state":{"values":{}}}}`), &cb))
	b.a.onSocketEvent(ctx, socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb,
		Request: &socketmode.Request{Type: socketmode.RequestTypeInteractive, EnvelopeID: "env-2"}}, acks)

	// An app mention through the Events API, then its retry.
	raw := eventBody("SmEv1", map[string]any{"type": "app_mention", "user": "U3", "channel": "C1OPS",
		"text": "<@UBOT> whoami", "ts": "1700000001.000001"})
	ev, err := slackevents.ParseEvent(json.RawMessage(raw), slackevents.OptionNoVerifyToken())
	require.NoError(t, err)
	for i, env := range []string{"env-3", "env-4"} {
		b.a.onSocketEvent(ctx, socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: ev,
			Request: &socketmode.Request{Type: socketmode.RequestTypeEventsAPI, EnvelopeID: env, RetryAttempt: i}}, acks)
	}
	// Connection chatter is only logged.
	b.a.onSocketEvent(ctx, socketmode.Event{Type: socketmode.EventTypeConnecting}, acks)
	b.a.Wait()

	// Requests are handled concurrently after their ack: any order.
	require.ElementsMatch(t, []bot.Event{
		{Platform: core.PlatformSlack, UserRef: "U1", Text: "/duty now"},
		{Platform: core.PlatformSlack, UserRef: "U3", Channel: "ops", Text: "/whoami", MessageID: "C1OPS:1700000001.000001"},
	}, b.bot.seen())
	require.Len(t, acks.acks, 4, "every request acknowledged, the retry included")
	require.Nil(t, acks.acks["env-1"])
	require.Equal(t, viewErrors{ResponseAction: "errors", Errors: map[string]string{reasonBlock: "A reason is required"}}, acks.acks["env-2"])
	posts, _, _, responses := b.slack.calls()
	require.Len(t, responses, 1)
	require.Len(t, posts, 1)

	// Run in HTTP mode returns at once.
	h := setup(t)
	require.NoError(t, h.a.Run(ctx))
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
