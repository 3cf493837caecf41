package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"

	"opsbot/bot"
	"opsbot/core"
)

// permanentCodes are Slack API errors no retry of the same message to the
// same address can mend. Token and scope errors (invalid_auth,
// token_revoked, missing_scope …) are not among them: they hit every
// message and are fixed by configuration, after which the queued messages
// should still go out, so they stay retryable (and are logged loudly).
var permanentCodes = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"user_not_found": true, "user_disabled": true, "cannot_dm_bot": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"invalid_arguments": true, "invalid_attachments": true, "too_many_attachments": true,
	"restricted_action": true, "restricted_action_read_only_channel": true,
	"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"team_access_not_granted": true, "duplicate_channel_not_found": true,
}

// configCodes are errors an administrator must fix (token, scopes).
var configCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "missing_scope": true, "not_allowed_token_type": true, "no_permission": true,
}

// defaultRetryAfter is used for a 429 without a usable Retry-After.
const defaultRetryAfter = 5 * time.Second

// classify wraps a Slack API error and says whether to retry: a rate
// limit becomes a bot.RetryAfterError, a permanent error bot.Permanent,
// anything else stays retryable.
func (a *Adapter) classify(op, address string, err error) error {
	wrapped := fmt.Errorf("slack: %s %s: %w", op, address, err)
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RetryAfterError{After: rl.RetryAfter, Err: wrapped}
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return &bot.RetryAfterError{After: defaultRetryAfter, Err: wrapped}
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case se.Err == "ratelimited":
			return &bot.RetryAfterError{After: defaultRetryAfter, Err: wrapped}
		case permanentCodes[se.Err]:
			return bot.Permanent(wrapped)
		case configCodes[se.Err]:
			a.log.Error("Slack refuses the bot token; fix slack.bot_token or the app's scopes", "op", op, "code", se.Err,
				"needed", se.Needed)
		}
	}
	return wrapped
}

// cardData is what is remembered of a posted card, in platform_messages.data.
type cardData struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// Send posts a message to a Slack channel (to.Channel: an id such as
// C0123ABCD, or #name for a public channel) or to a user's direct
// conversation with the app (to.User: a Slack user id). It keeps to about
// one message a second per channel across all workers: when the channel's
// next slot is more than MaxWait away it returns a bot.RetryAfterError, as
// it does for Slack's own 429, so the outbox retries later.
func (a *Adapter) Send(ctx context.Context, to core.Recipient, m bot.Message) error {
	address := to.Channel
	if address == "" {
		address = to.User
	}
	if address == "" {
		return bot.Permanent(errors.New("slack: send: no channel or user address"))
	}
	if m.Status == "" {
		m.Status = bot.StatusNotice
	}
	return a.post(ctx, address, "", m, a.cfg.MaxWait)
}

// post sends m to address once its rate slot is free (waiting at most
// maxWait) and remembers where a card about a ref went.
func (a *Adapter) post(ctx context.Context, address, thread string, m bot.Message, maxWait time.Duration) error {
	if err := a.slot(ctx, address, maxWait); err != nil {
		return err
	}
	opts := a.msgOptions(m)
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	channel, ts, err := a.api.PostMessageContext(ctx, address, opts...)
	if err != nil {
		return a.classify("chat.postMessage", address, err)
	}
	if m.Ref != "" {
		a.remember(ctx, m.Ref, address, channel, ts)
	}
	if len(m.Image) > 0 {
		a.upload(ctx, channel, ts, m)
	}
	return nil
}

// upload shares a message's image (the digest chart) in the message's
// thread. The message is out, so a failure is logged, not returned: a
// retry would post the message twice.
func (a *Adapter) upload(ctx context.Context, channel, ts string, m bot.Message) {
	_, err := a.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
		Reader: bytes.NewReader(m.Image), FileSize: len(m.Image), Filename: "chart.png", Title: m.Title,
		AltTxt: m.Title, Channel: channel, ThreadTimestamp: ts,
	})
	if err != nil {
		a.log.Error("message sent but its image was not uploaded", "channel", channel, "ts", ts, "err", err)
	}
}

// remember stores a posted card. The message is out, so a failure here is
// logged, not returned: a retry would post it twice.
func (a *Adapter) remember(ctx context.Context, ref, address, channel, ts string) {
	data, _ := json.Marshal(cardData{Channel: channel, TS: ts})
	if _, err := a.refs.Save(ctx, core.PlatformSlack, ref, address, bot.OutboxOf(ctx), data); err != nil {
		a.log.Error("card sent but not remembered; it will not be updated", "ref", ref, "channel", channel, "ts", ts, "err", err)
	}
}

// slot reserves the channel's next posting slot, waiting for it when it is
// at most maxWait away.
func (a *Adapter) slot(ctx context.Context, address string, maxWait time.Duration) error {
	wait, ok, err := a.limit.reserve(ctx, address, maxWait)
	if err != nil {
		a.log.Warn("rate limiter unavailable; sending anyway", "channel", address, "err", err)
		return nil
	}
	if !ok {
		return &bot.RetryAfterError{After: wait,
			Err: fmt.Errorf("slack: channel %s is at its rate limit (one message per %s)", address, a.cfg.ChannelInterval)}
	}
	return sleep(ctx, wait)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Update replaces every card sent about ref with m (buttons gone, outcome
// shown) through chat.update. A card Slack can no longer update (deleted,
// archived channel) is skipped; any other failure is returned so the
// outbox retries, and the retry updates every card again (idempotent).
func (a *Adapter) Update(ctx context.Context, ref string, m bot.Message) error {
	cards, err := a.refs.ByRef(ctx, core.PlatformSlack, ref, bot.OutboxOf(ctx))
	if err != nil {
		return fmt.Errorf("slack: cards about %s: %w", ref, err)
	}
	if m.Status == "" {
		m.Status = bot.StatusNotice
	}
	opts := a.msgOptions(m)
	for _, c := range cards {
		var d cardData
		if err := json.Unmarshal(c.Data, &d); err != nil || d.Channel == "" || d.TS == "" {
			a.log.Warn("card without channel and ts skipped", "ref", ref, "card_id", c.ID, "err", err)
			continue
		}
		_, _, _, err := a.api.UpdateMessageContext(ctx, d.Channel, d.TS, opts...)
		if err == nil {
			continue
		}
		err = a.classify("chat.update", d.Channel, err)
		var perm *bot.PermanentError
		if errors.As(err, &perm) {
			a.log.Warn("card cannot be updated; skipped", "ref", ref, "card_id", c.ID, "err", err)
			continue
		}
		return err
	}
	return nil
}

// reply delivers one answer to a request: through its response_url
// (ephemeral, where the user acted) when there is one, else with
// chat.postMessage, falling back to a direct message. A rate-limited
// reply is retried a few times within the request's time budget.
func (a *Adapter) reply(ctx context.Context, to replyTo, m bot.Message) error {
	if to.responseURL != "" {
		err := a.respond(ctx, to.responseURL, m)
		if err == nil {
			return nil
		}
		a.log.Warn("response_url failed; sending a direct message instead", "err", err)
	}
	channel, thread := to.channel, to.thread
	if channel == "" {
		channel, thread = to.user, ""
	}
	for attempt := 1; ; attempt++ {
		err := a.post(ctx, channel, thread, m, a.cfg.HandleTimeout)
		var ra *bot.RetryAfterError
		if !errors.As(err, &ra) || attempt == 3 {
			return err
		}
		if err := sleep(ctx, max(ra.After, a.cfg.ChannelInterval)); err != nil {
			return fmt.Errorf("slack: reply to %s: %w", channel, err)
		}
	}
}

// respond posts an ephemeral answer to a response_url.
func (a *Adapter) respond(ctx context.Context, url string, m bot.Message) error {
	text, blocks, attachments := a.layout(m)
	msg := &slackapi.WebhookMessage{Text: text, Blocks: &slackapi.Blocks{BlockSet: blocks}, Attachments: attachments, ResponseType: slackapi.ResponseTypeEphemeral}
	if err := slackapi.PostWebhookCustomHTTPContext(ctx, url, a.cfg.HTTPClient, msg); err != nil {
		return fmt.Errorf("slack: response_url: %w", err)
	}
	return nil
}
