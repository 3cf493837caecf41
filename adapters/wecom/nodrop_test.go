package wecom

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

// buttons returns n buttons; pairs (OK / Issue of one item) share a value.
func buttons(n int, pairs bool) []bot.Button {
	out := make([]bot.Button, n)
	for i := range out {
		v := fmt.Sprint("topic-", i)
		if pairs {
			v = fmt.Sprint("inspect:1:", i/2+1)
		}
		out[i] = bot.Button{Action: fmt.Sprint("act", i), Value: v, Label: fmt.Sprint("按钮", i)}
	}
	return out
}

// TestCardButtonsSplit: a card with more buttons than WeCom's 6 is sent as
// several cards of at most 6 buttons, every button on one of them, in
// order, each card remembered under the message's ref so a decision
// updates all of them.
func TestCardButtonsSplit(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		pairs bool
		cards []int // buttons per card sent
	}{
		{name: "6 buttons, one card", n: 6, cards: []int{6}},
		{name: "7 buttons (/help)", n: 7, cards: []int{6, 1}},
		{name: "12 buttons", n: 12, cards: []int{6, 6}},
		{name: "5-item checklist keeps each item's pair together", n: 10, pairs: true, cards: []int{6, 4}},
		{name: "7 pairs never split a pair", n: 14, pairs: true, cards: []int{6, 6, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			m := bot.Message{Ref: "run:1", Title: "巡检 #1", Text: "请逐项确认", Fields: []bot.Field{{Name: "计划", Value: "日检"}}, Buttons: buttons(tt.n, tt.pairs)}
			require.NoError(t, b.a.Send(ctx, core.Recipient{User: "zhangsan"}, m))

			sends := b.api.callsTo("message/send")
			require.Len(t, sends, len(tt.cards))
			var keys []string
			for i, s := range sends {
				require.Equal(t, "template_card", s.str("msgtype"))
				list, _ := s.Body["template_card"].(map[string]any)["button_list"].([]any)
				require.Len(t, list, tt.cards[i], "card %d", i)
				for _, btn := range list {
					keys = append(keys, btn.(map[string]any)["key"].(string))
				}
				require.Equal(t, "巡检 #1", s.str("template_card", "main_title", "title"))
				if len(tt.cards) > 1 {
					require.Equal(t, fmt.Sprintf("%d/%d", i+1, len(tt.cards)), s.str("template_card", "main_title", "desc"))
				}
			}
			var want []string
			for _, btn := range m.Buttons {
				key, err := ButtonKey(btn)
				require.NoError(t, err)
				want = append(want, key)
			}
			require.Equal(t, want, keys, "every button on one card, in order")
			require.Contains(t, sends[0].str("template_card", "sub_title_text"), "请逐项确认", "the first card carries the text")

			stored, err := b.refs.ByRef(ctx, core.PlatformWeCom, "run:1", 0)
			require.NoError(t, err)
			require.Len(t, stored, len(tt.cards), "each card is remembered for updates")

			require.NoError(t, b.a.Update(ctx, "run:1", bot.Message{Ref: "run:1", Title: "巡检 #1 已完成", Text: "全部正常"}))
			updates := b.api.callsTo("message/update_template_card")
			require.Len(t, updates, len(tt.cards), "a decision updates every card sent")
			for _, u := range updates {
				require.Equal(t, "巡检 #1 已完成", u.str("template_card", "main_title", "title"))
			}
		})
	}
}

// TestSplitCardUpdateKeepsRemainingButtons: an update that still has
// buttons (a checklist with items left) spreads them over the cards sent.
func TestSplitCardUpdateKeepsRemainingButtons(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	m := bot.Message{Ref: "run:2", Title: "巡检 #2", Buttons: buttons(10, true)}
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "zhangsan"}, m))
	left := bot.Message{Ref: "run:2", Title: "巡检 #2", Buttons: m.Buttons[2:]} // item 1 done: 8 buttons
	require.NoError(t, b.a.Update(ctx, "run:2", left))
	updates := b.api.callsTo("message/update_template_card")
	require.Len(t, updates, 2)
	var n int
	for _, u := range updates {
		n += len(u.Body["template_card"].(map[string]any)["button_list"].([]any))
	}
	require.Equal(t, 8, n)
}

// TestReplyDeferredOnTemporaryFailure: a direct reply that meets a
// temporary failure is handed to the Deferrer (the outbox) instead of
// being lost; replies that went out are not handed over; a hopeless one
// (unknown user) is not retried.
func TestReplyDeferredOnTemporaryFailure(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(f *fakeWeCom)
		deferred bool
	}{
		{name: "api freq limit 45009", fail: func(f *fakeWeCom) { f.fail("message/send", 0, 45009) }, deferred: true},
		{name: "system busy -1", fail: func(f *fakeWeCom) { f.fail("message/send", 0, -1) }, deferred: true},
		{name: "HTTP 502", fail: func(f *fakeWeCom) { f.failHTTP("message/send", 0, http.StatusBadGateway) }, deferred: true},
		{name: "unknown user", fail: func(f *fakeWeCom) { f.fail("message/send", 0, 60111) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.bot.reply = func(ev bot.Event) []bot.Message {
				return []bot.Message{
					{Status: bot.StatusOK, Text: "第一条"},
					{Status: bot.StatusOK, Ref: "help", Title: "帮助", Buttons: buttons(7, false)},
				}
			}
			tt.fail(b.api)
			rec := b.post(t, callbackRequest(t, textXML("ZhangSan", "/帮助", "7101")))
			require.Equal(t, http.StatusOK, rec.Code)
			got := b.deferred.seen()
			if !tt.deferred {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "only the reply that failed is retried")
			require.Equal(t, core.PlatformWeCom, got[0].Platform)
			require.Equal(t, "ZhangSan", got[0].User)
			require.Equal(t, "帮助", got[0].Message.Title)
			require.Len(t, got[0].Message.Buttons, 7)
		})
	}
}

// TestPartlySentCardHoldsTheRest: when the second card of a split message
// meets a temporary failure, the first is not sent again; the rest is
// held and goes out with the next Flush.
func TestPartlySentCardHoldsTheRest(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.api.fail("message/send", 0, -1)
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "zhangsan"}, bot.Message{Ref: "help", Title: "帮助", Buttons: buttons(7, false)}))
	require.Len(t, b.api.callsTo("message/send"), 2)
	require.Equal(t, 1, b.heldCount(t))
	require.NoError(t, b.a.Flush(ctx))
	sends := b.api.callsTo("message/send")
	require.Len(t, sends, 3)
	list := sends[2].Body["template_card"].(map[string]any)["button_list"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "act6|topic-6", list[0].(map[string]any)["key"])
	require.Equal(t, 0, b.heldCount(t))
}

// TestStaleCallbackRefused: a callback whose timestamp is outside the
// window (default 5 min) either way is refused with 403 and nothing runs,
// so a captured request cannot be replayed once its dedupe key expired.
func TestStaleCallbackRefused(t *testing.T) {
	tests := []struct {
		name   string
		age    time.Duration
		status int
	}{
		{name: "10 minutes old", age: 10 * time.Minute, status: http.StatusForbidden},
		{name: "10 minutes ahead", age: -10 * time.Minute, status: http.StatusForbidden},
		{name: "4 minutes old", age: 4 * time.Minute, status: http.StatusOK},
		{name: "1 minute ahead (clock skew)", age: -time.Minute, status: http.StatusOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.bot.reply = func(ev bot.Event) []bot.Message { return []bot.Message{{Text: "ok"}} }
			ts := b.clock.Now().Add(-tt.age).Unix()
			rec := b.post(t, callbackRequestAt(t, textXML("ZhangSan", "/whoami", fmt.Sprint(7200+i)), ts))
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status != http.StatusOK {
				require.Empty(t, b.bot.seen(), "nothing is executed")
				require.Empty(t, b.api.callsTo("message/send"))
				return
			}
			require.Len(t, b.bot.seen(), 1)
		})
	}

	t.Run("window configurable", func(t *testing.T) {
		b := setup(t, func(c *Config) { c.CallbackWindow = 15 * time.Minute })
		rec := b.post(t, callbackRequestAt(t, textXML("ZhangSan", "/whoami", "7300"), b.clock.Now().Add(-10*time.Minute).Unix()))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Len(t, b.bot.seen(), 1)
	})
}

// firstMessage renders m for member "u" and returns the first request.
func firstMessage(a *Adapter, m bot.Message) (*sendRequest, error) {
	reqs, err := a.userMessages("u", m)
	if err != nil {
		return nil, err
	}
	return reqs[0], nil
}
