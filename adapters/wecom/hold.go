package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/chat"
)

// heldBody is a held message as stored in platform_held.
type heldBody struct {
	Message bot.Message `json:"message"`
}

// hold keeps messages for an address until its window frees.
func (a *Adapter) hold(ctx context.Context, d address, msgs ...bot.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	for _, m := range msgs {
		body, err := json.Marshal(heldBody{Message: m.Redacted()}) // a secret is never kept
		if err != nil {
			return bot.Permanent(fmt.Errorf("wecom: hold: %w", err))
		}
		if err := a.refs.Hold(ctx, core.PlatformWeCom, d.String(), body); err != nil {
			return fmt.Errorf("wecom: hold for %s: %w", d.redacted(), err)
		}
	}
	a.log.Info("messages held by the rate limit", "address", d.redacted(), "count", len(msgs))
	return nil
}

// heldFor reports whether messages are still held for d after releasing
// what its window allows (a worker releasing them at the same time keeps
// them locked, and they count as held): a message sent meanwhile is held
// behind them, so a member gets notices in the order they came.
func (a *Adapter) heldFor(ctx context.Context, d address) (bool, error) {
	held, err := a.refs.Holds(ctx, core.PlatformWeCom, d.String())
	if err == nil && held {
		if err := a.release(ctx, d.String()); err != nil {
			return false, err
		}
		held, err = a.refs.Holds(ctx, core.PlatformWeCom, d.String())
	}
	if err != nil {
		return false, fmt.Errorf("wecom: held messages for %s: %w", d.redacted(), err)
	}
	return held, nil
}

// errWindowFull rolls back a release that found no free slot.
var errWindowFull = errors.New("wecom: window full")

// Flush sends the held messages of every address whose window has freed,
// merging notices to one address into one message. Call it periodically
// (the timers:sweep task). Messages that still do not fit stay held.
func (a *Adapter) Flush(ctx context.Context) error {
	addrs, err := a.refs.HeldAddresses(ctx, core.PlatformWeCom)
	if err != nil {
		return fmt.Errorf("wecom: held addresses: %w", err)
	}
	var errs []error
	for _, s := range addrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.release(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// release sends what is held for one address, as far as its window allows.
func (a *Adapter) release(ctx context.Context, s string) error {
	d, err := parseAddress(s)
	if err != nil {
		a.log.Error("held messages for a bad address", "err", err)
		return nil
	}
	err = a.refs.Release(ctx, core.PlatformWeCom, s, func(held []chat.HeldMessage) error {
		return a.sendHeld(ctx, d, held)
	})
	if errors.Is(err, errWindowFull) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wecom: release held messages for %s: %w", d.redacted(), err)
	}
	return nil
}

// sendHeld sends as many batches as there are free slots and holds the
// rest again. Returning nil deletes the released rows.
func (a *Adapter) sendHeld(ctx context.Context, d address, held []chat.HeldMessage) error {
	var msgs []bot.Message
	for _, h := range held {
		var b heldBody
		if err := json.Unmarshal(h.Body, &b); err != nil {
			a.log.Error("unreadable held message dropped", "id", h.ID, "err", err)
			continue
		}
		msgs = append(msgs, b.Message)
	}
	limitBytes := maxTextBytes
	if d.kind == kindRobot {
		limitBytes = maxRobotBytes
	}
	batches := merge(msgs, limitBytes)
	free := len(batches)
	if q, limited := a.quota(d); limited {
		// A card message split into several cards costs one slot each.
		want := 0
		for _, b := range batches {
			want += a.batchCost(d, b)
		}
		n, err := a.limit.take(ctx, d.String(), q, want)
		if err != nil {
			return fmt.Errorf("wecom: rate limit for %s: %w", d.redacted(), err)
		}
		free = 0
		for _, b := range batches {
			if n -= a.batchCost(d, b); n < 0 {
				break
			}
			free++
		}
	}
	if free == 0 && len(batches) > 0 {
		return errWindowFull
	}
	for i, b := range batches[:free] {
		err := a.post(ctx, d, b.message, b.merged)
		var perm *bot.PermanentError
		switch {
		case errors.As(err, &perm):
			a.log.Error("held message undeliverable, dropped", "address", d.redacted(), "count", len(b.sources), "err", err)
		case err != nil:
			a.log.Warn("held message not sent; holding it again", "address", d.redacted(), "err", err)
			return a.hold(ctx, d, sources(batches[i:])...)
		}
	}
	return a.hold(ctx, d, sources(batches[free:])...)
}

// batch is one message to send: a message as is, or several notices
// merged into one markdown text.
type batch struct {
	message bot.Message
	merged  string
	sources []bot.Message
}

// mergeSep separates merged notices.
const mergeSep = "\n\n"

// merge groups consecutive messages without buttons into markdown texts
// of at most limit bytes; cards (buttons) stay alone so they keep their
// buttons. Order is kept.
func merge(msgs []bot.Message, limit int) []batch {
	var out []batch
	var cur []bot.Message
	var text string
	flush := func() {
		switch len(cur) {
		case 0:
		case 1:
			out = append(out, batch{message: cur[0], sources: cur})
		default:
			out = append(out, batch{merged: text, sources: cur})
		}
		cur, text = nil, ""
	}
	for _, m := range msgs {
		if len(m.Buttons) > 0 {
			flush()
			out = append(out, batch{message: m, sources: []bot.Message{m}})
			continue
		}
		md := cutBytes(markdown(m, ""), limit)
		if len(cur) > 0 && len(text)+len(mergeSep)+len(md) > limit {
			flush()
		}
		if len(cur) > 0 {
			text += mergeSep
		}
		text += md
		cur = append(cur, m)
	}
	flush()
	return out
}

// batchCost is how many WeCom messages a batch takes to d.
func (a *Adapter) batchCost(d address, b batch) int {
	if b.merged != "" {
		return 1
	}
	return a.cost(d, b.message)
}

// sources lists the messages behind batches.
func sources(bs []batch) []bot.Message {
	var out []bot.Message
	for _, b := range bs {
		out = append(out, b.sources...)
	}
	return out
}
