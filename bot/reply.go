package bot

import (
	"context"
	"fmt"

	"opsbot/core"
	"opsbot/core/chat"
)

// ReplyQueue writes one notice into the outbox, committed on its own;
// main passes one backed by the store.
type ReplyQueue func(ctx context.Context, n core.Notice) error

// DeferredReplies queues the direct replies a platform could not send at
// once (a temporary failure after the platform's acknowledgement) as
// chat.reply notices, so the outbox delivers them with its retries.
// Adapters receive it as their port for such replies (wecom.Deferrer).
type DeferredReplies struct {
	b     *Bot
	queue ReplyQueue
}

// DeferredReplies returns the deferred-reply port writing through queue.
func (b *Bot) DeferredReplies(queue ReplyQueue) *DeferredReplies {
	return &DeferredReplies{b: b, queue: queue}
}

// Defer queues m for the org user behind userRef on platform. The notice
// is about m's ref (so an update of that card waits for it) or, for a
// plain answer, about the user.
func (d *DeferredReplies) Defer(ctx context.Context, platform, userRef string, m Message) error {
	actor, err := d.b.org.Resolve(ctx, platform, userRef)
	if err != nil {
		return fmt.Errorf("bot: defer a reply to %s user %q: %w", platform, userRef, err)
	}
	ref := m.Ref
	if ref == "" {
		ref = "user:" + actor.UserID
	}
	n := core.Notice{Ref: ref, To: core.Recipient{User: actor.UserID}, Body: replyPayload(platform, m)}
	if err := d.queue(ctx, n); err != nil {
		return fmt.Errorf("bot: defer a reply to %s: %w", actor.UserID, err)
	}
	return nil
}

// replyPayload carries a rendered message in a chat.reply notice. The
// outbox is a stored copy: a secret the reply carried is redacted (the
// user asks again for a new sign-in link).
func replyPayload(platform string, m Message) chat.Reply {
	m = m.Redacted()
	p := chat.Reply{Platform: platform, Ref: m.Ref, Status: m.Status, Title: m.Title, Text: m.Text, Image: m.Image}
	for _, f := range m.Fields {
		p.Fields = append(p.Fields, chat.ReplyField{Name: f.Name, Value: f.Value})
	}
	for _, btn := range m.Buttons {
		p.Buttons = append(p.Buttons, chat.ReplyButton{Action: btn.Action, Value: btn.Value, Label: btn.Label, Style: btn.Style, Confirm: btn.Confirm})
	}
	return p
}

// renderReply shows a deferred reply as it was rendered when it was first
// tried; a card keeps its ref, so a later decision updates it.
func renderReply(_ string, p chat.Reply) (Message, error) {
	m := Message{Ref: p.Ref, Status: p.Status, Title: p.Title, Text: p.Text, Image: p.Image}
	for _, f := range p.Fields {
		m.Fields = append(m.Fields, Field{Name: f.Name, Value: f.Value})
	}
	for _, btn := range p.Buttons {
		m.Buttons = append(m.Buttons, Button{Action: btn.Action, Value: btn.Value, Label: btn.Label, Style: btn.Style, Confirm: btn.Confirm})
	}
	return m, nil
}
