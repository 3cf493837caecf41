package slack

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"opsbot/bot"
	"opsbot/core"
)

// inbound is one verified request from Slack, whichever way it came (HTTP
// or Socket Mode). Exactly one of Command, Interaction and Event is set.
type inbound struct {
	Command     *slackapi.SlashCommand
	Interaction *slackapi.InteractionCallback
	Event       *slackevents.EventsAPIEvent
	Retry       int // X-Slack-Retry-Num or the envelope's retry_attempt
}

// dispatch handles one verified request: it drops repeats, starts the
// slow work in the background and returns at once with the
// acknowledgement payload (nil for an empty one). HTTP and Socket Mode
// both call it.
func (a *Adapter) dispatch(ctx context.Context, in inbound) any {
	switch {
	case in.Command != nil:
		a.onCommand(ctx, *in.Command)
	case in.Interaction != nil:
		return a.onInteraction(ctx, *in.Interaction)
	case in.Event != nil:
		a.onEvent(ctx, *in.Event, in.Retry)
	}
	return nil
}

// replyTo says where the bot's answers to one request go.
type replyTo struct {
	responseURL string // ephemeral answer where the user acted (slash commands, clicks)
	channel     string // chat.postMessage target (mentions, direct messages)
	thread      string // thread ts for channel, "" for none
	user        string // last resort: a direct message to the user
}

// handle runs the bot on ev and delivers its replies.
func (a *Adapter) handle(ctx context.Context, ev bot.Event, to replyTo) {
	a.autoLink(ctx, ev.UserRef)
	started := time.Now()
	msgs := a.bot.Handle(ctx, ev)
	a.log.Debug("event handled", "user", ev.UserRef, "action", ev.Action, "replies", len(msgs), "took", time.Since(started).String())
	for _, m := range msgs {
		if err := a.reply(ctx, to, m); err != nil {
			a.log.Error("reply not delivered", "user", ev.UserRef, "ref", m.Ref, "err", err)
		}
	}
}

// key is a dedupe key, "" (no dedupe) when id is empty.
func key(kind, id string) string {
	if id == "" {
		return ""
	}
	return kind + ":" + id
}

// commandText turns "/opsbot <rest>" (rest only) or a chat line into the
// command the bot's router expects: "/<rest>", or "/help" when empty.
func commandText(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "／")
	s = strings.TrimSpace(strings.TrimPrefix(s, "/"))
	if s == "" {
		return "/help"
	}
	return "/" + s
}

var mentionRe = regexp.MustCompile(`<@[A-Z0-9]+(\|[^>]*)?>`)

// chatText is the command in a chat message: mentions removed and Slack's
// &amp; &lt; &gt; escapes undone.
func chatText(s string) string {
	return commandText(html.UnescapeString(mentionRe.ReplaceAllString(s, " ")))
}

func (a *Adapter) onCommand(ctx context.Context, cmd slackapi.SlashCommand) {
	if cmd.UserID == "" {
		return
	}
	if !a.first(ctx, key("cmd", cmd.TriggerID)) {
		a.log.Info("repeated slash command ignored", "trigger_id", cmd.TriggerID)
		return
	}
	ev := bot.Event{Platform: core.PlatformSlack, UserRef: cmd.UserID, Channel: a.channelName(cmd.ChannelID), Text: commandText(cmd.Text)}
	to := replyTo{responseURL: cmd.ResponseURL, user: cmd.UserID}
	a.spawn("slash command", func(ctx context.Context) { a.handle(ctx, ev, to) })
}

func (a *Adapter) onInteraction(ctx context.Context, cb slackapi.InteractionCallback) any {
	switch cb.Type {
	case slackapi.InteractionTypeBlockActions:
		a.onBlockActions(ctx, cb)
	case slackapi.InteractionTypeViewSubmission:
		return a.onViewSubmission(ctx, cb)
	}
	return nil
}

// interactionChannel is the channel of the clicked message.
func interactionChannel(cb slackapi.InteractionCallback) string {
	if cb.Channel.ID != "" {
		return cb.Channel.ID
	}
	return cb.Container.ChannelID
}

func (a *Adapter) onBlockActions(ctx context.Context, cb slackapi.InteractionCallback) {
	if cb.User.ID == "" || !a.first(ctx, key("click", cb.TriggerID)) {
		return
	}
	channel := interactionChannel(cb)
	msgID := ""
	if ts := cb.Container.MessageTs; ts != "" {
		msgID = channel + ":" + ts
	}
	for _, act := range cb.ActionCallback.BlockActions {
		if act == nil {
			continue
		}
		action, ok := parseActionID(act.ActionID)
		if !ok {
			continue // not one of our buttons
		}
		ev := bot.Event{Platform: core.PlatformSlack, UserRef: cb.User.ID, Channel: a.channelName(channel),
			Action: action, Value: act.Value, MessageID: msgID}
		to := replyTo{responseURL: cb.ResponseURL, user: cb.User.ID}
		if a.reasons[action] {
			meta := reasonMeta{Action: action, Value: act.Value, Channel: channel, MessageID: msgID, ResponseURL: cb.ResponseURL}
			label := act.Text.Text
			trigger := cb.TriggerID
			a.spawn("reason modal", func(ctx context.Context) { a.askReason(ctx, trigger, label, meta, ev, to) })
			continue
		}
		a.spawn("button", func(ctx context.Context) { a.handle(ctx, ev, to) })
	}
}

// reasonMeta travels in the modal's private_metadata from the click to
// the submission.
type reasonMeta struct {
	Action      string `json:"a"`
	Value       string `json:"v"`
	Channel     string `json:"c,omitempty"`
	MessageID   string `json:"m,omitempty"`
	ResponseURL string `json:"u,omitempty"`
}

const (
	reasonCallback = "opsbot.reason"
	reasonBlock    = "reason"
	reasonInput    = "reason"
	reasonMaxLen   = 2000
)

// askReason opens the reason modal. When Slack refuses (an expired
// trigger), the click goes to the bot without a reason, which answers
// with the command that carries one.
func (a *Adapter) askReason(ctx context.Context, trigger, label string, meta reasonMeta, ev bot.Event, to replyTo) {
	view, err := a.reasonView(label, meta)
	if err == nil {
		_, err = a.api.OpenViewContext(ctx, trigger, view)
	}
	if err == nil {
		return
	}
	a.log.Warn("reason modal not opened; passing the click on", "action", meta.Action, "err", err)
	a.handle(ctx, ev, to)
}

// reasonView is the modal asking for a reason.
func (a *Adapter) reasonView(label string, meta reasonMeta) (slackapi.ModalViewRequest, error) {
	raw, err := json.Marshal(meta)
	if err != nil {
		return slackapi.ModalViewRequest{}, err
	}
	input := slackapi.NewPlainTextInputBlockElement(nil, reasonInput).WithMultiline(true).WithMaxLength(reasonMaxLen)
	blocks := []slackapi.Block{}
	if label != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwnText("*"+escape(label)+"* · "+escape(meta.Value)), nil, nil))
	}
	blocks = append(blocks, slackapi.NewInputBlock(reasonBlock, plainText(a.label("reason.label")), nil, input))
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           plainText(truncate(a.label("reason.title"), 24)),
		Submit:          plainText(a.label("reason.submit")),
		Close:           plainText(a.label("cancel")),
		Blocks:          slackapi.Blocks{BlockSet: blocks},
		PrivateMetadata: string(raw),
		CallbackID:      reasonCallback,
	}, nil
}

// viewErrors is the view_submission answer that keeps the modal open with
// a message under the input.
type viewErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

func (a *Adapter) onViewSubmission(ctx context.Context, cb slackapi.InteractionCallback) any {
	if cb.View.CallbackID != reasonCallback || cb.User.ID == "" {
		return nil
	}
	reason := ""
	if cb.View.State != nil {
		reason = strings.TrimSpace(cb.View.State.Values[reasonBlock][reasonInput].Value)
	}
	if reason == "" {
		return viewErrors{ResponseAction: "errors", Errors: map[string]string{reasonBlock: a.label("reason.empty")}}
	}
	var meta reasonMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.Action == "" {
		a.log.Warn("reason modal with bad metadata ignored", "view_id", cb.View.ID, "err", err)
		return nil
	}
	if !a.first(ctx, key("view", cb.View.ID)) {
		return nil
	}
	ev := bot.Event{Platform: core.PlatformSlack, UserRef: cb.User.ID, Channel: a.channelName(meta.Channel),
		Action: meta.Action, Value: meta.Value, Text: reason, MessageID: meta.MessageID}
	to := replyTo{responseURL: meta.ResponseURL, user: cb.User.ID}
	a.spawn("reason", func(ctx context.Context) { a.handle(ctx, ev, to) })
	return nil
}

func (a *Adapter) onEvent(ctx context.Context, ev slackevents.EventsAPIEvent, retry int) {
	if ev.Type == slackevents.AppRateLimited {
		a.log.Warn("Slack is dropping events: the app is rate limited")
		return
	}
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	id := ""
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		id = cb.EventID
	}
	if !a.first(ctx, key("event", id)) {
		a.log.Info("repeated event ignored", "event_id", id, "retry", retry)
		return
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" {
			return
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		bev := bot.Event{Platform: core.PlatformSlack, UserRef: e.User, Channel: a.channelName(e.Channel),
			Text: chatText(e.Text), MessageID: e.Channel + ":" + e.TimeStamp}
		to := replyTo{channel: e.Channel, thread: thread, user: e.User}
		a.spawn("mention", func(ctx context.Context) { a.handle(ctx, bev, to) })
	case *slackevents.MessageEvent:
		// Only people's new messages in the app's direct conversation:
		// not bots (ourselves included), edits, joins or other subtypes.
		if !e.IsIM() || e.BotID != "" || e.SubType != "" || e.User == "" {
			return
		}
		bev := bot.Event{Platform: core.PlatformSlack, UserRef: e.User, Text: chatText(e.Text), MessageID: e.Channel + ":" + e.TimeStamp}
		to := replyTo{channel: e.Channel, thread: e.ThreadTimeStamp, user: e.User}
		a.spawn("direct message", func(ctx context.Context) { a.handle(ctx, bev, to) })
	}
}

// autoLink links an unlinked user by the e-mail of their Slack profile
// when a Linker is set. Outcomes are cached in Redis (a day when linked,
// ten minutes when no org user matched) so most events cost one GET.
func (a *Adapter) autoLink(ctx context.Context, userID string) {
	if a.linker == nil || userID == "" {
		return
	}
	k := a.cfg.KeyPrefix + "linked:" + userID
	if cached, err := a.shared.Exists(ctx, k); err == nil && cached {
		return
	}
	linked, err := a.linker.Linked(ctx, userID)
	if err != nil {
		a.log.Warn("link check failed", "user", userID, "err", err)
		return
	}
	if !linked {
		u, err := a.api.GetUserInfoContext(ctx, userID)
		if err != nil {
			a.log.Warn("users.info failed; not linking by e-mail", "user", userID, "err", err)
			return
		}
		if !u.IsBot && !u.Deleted && u.Profile.Email != "" {
			if linked, err = a.linker.LinkByEmail(ctx, userID, u.Profile.Email); err != nil {
				a.log.Warn("link by e-mail failed", "user", userID, "err", err)
				return
			}
			if linked {
				a.log.Info("Slack user linked by e-mail", "user", userID)
			}
		}
	}
	ttl := 10 * time.Minute
	if linked {
		ttl = 24 * time.Hour
	}
	if err := a.shared.Set(ctx, k, strconv.FormatBool(linked), ttl); err != nil {
		a.log.Debug("link cache not written", "user", userID, "err", err)
	}
}
