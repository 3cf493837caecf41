package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

func TestUpdateUsesStoredResponseCodes(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	card := bot.Message{Ref: "request:7", Title: "权限申请 #7", Buttons: []bot.Button{
		{Action: "approval.approve", Value: "request:7", Label: "批准"},
		{Action: "approval.reject", Value: "request:7", Label: "驳回"},
	}}
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, card))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "wangwu"}, card))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, bot.Message{Ref: "request:8", Title: "other", Buttons: card.Buttons}))

	stored, err := b.refs.ByRef(ctx, core.PlatformWeCom, "request:7", 0)
	require.NoError(t, err)
	require.Len(t, stored, 2)
	require.Equal(t, "user:lisi", stored[0].Address)

	decided := bot.Message{Ref: "request:7", Status: bot.StatusNotice, Title: "权限申请 #7 已批准", Text: "由 李四 批准"}
	require.NoError(t, b.a.Update(ctx, "request:7", decided))
	updates := b.api.callsTo("message/update_template_card")
	require.Len(t, updates, 2)
	require.Equal(t, "rc-1", updates[0].str("response_code"))
	require.Equal(t, []any{"lisi"}, updates[0].Body["userids"])
	require.Equal(t, "rc-2", updates[1].str("response_code"))
	require.Equal(t, []any{"wangwu"}, updates[1].Body["userids"])
	require.Equal(t, "权限申请 #7 已批准", updates[1].str("template_card", "main_title", "title"))
	require.Equal(t, "button_interaction", updates[1].str("template_card", "card_type"))

	// A response_code is spent once used: updating again sends nothing.
	require.NoError(t, b.a.Update(ctx, "request:7", decided))
	require.Len(t, b.api.callsTo("message/update_template_card"), 2)
}

func TestUpdateRetriesOnlyFailedCards(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	card := bot.Message{Ref: "incident:3", Title: "事件 #3", Buttons: []bot.Button{{Action: "incident.ack", Value: "incident:3", Label: "认领"}}}
	for _, u := range []string{"a1", "a2", "a3"} {
		require.NoError(t, b.a.Send(ctx, core.Recipient{User: u}, card))
	}
	b.api.fail("message/update_template_card", -1, 40099) // busy for a1; a2's code unusable

	err := b.a.Update(ctx, "incident:3", bot.Message{Ref: "incident:3", Title: "事件 #3 已认领"})
	require.Error(t, err, "system busy is retried by the outbox")
	var perm *bot.PermanentError
	require.False(t, errors.As(err, &perm))

	require.NoError(t, b.a.Update(ctx, "incident:3", bot.Message{Ref: "incident:3", Title: "事件 #3 已认领"}))
	var users []string
	for _, c := range b.api.callsTo("message/update_template_card") {
		users = append(users, fmt.Sprint(c.Body["userids"]))
	}
	require.Equal(t, []string{"[a1]", "[a2]", "[a3]", "[a1]"}, users, "the retry only redoes the busy card")
}

func TestPerMemberLimitHoldsAndFlushes(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	to := core.Recipient{User: "zhangsan"}
	for i := range 30 {
		require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: fmt.Sprintf("告警 %d", i)}))
	}
	require.Len(t, b.api.callsTo("message/send"), 30)
	require.Equal(t, 0, b.heldCount(t))

	// The 31st and later in the same minute are held, in Postgres.
	b.clock.Advance(20 * time.Second)
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "告警 30"}))
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Title: "事件 #9 升级", Fields: []bot.Field{{Name: "级别", Value: "2"}}}))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, bot.Message{Text: "not limited"}))
	require.Len(t, b.api.callsTo("message/send"), 31, "only lisi's message went out")
	require.Equal(t, 2, b.heldCount(t))
	addrs, err := b.refs.HeldAddresses(ctx, core.PlatformWeCom)
	require.NoError(t, err)
	require.Equal(t, []string{"user:zhangsan"}, addrs)

	// The window is still full: Flush keeps them.
	require.NoError(t, b.a.Flush(ctx))
	require.Len(t, b.api.callsTo("message/send"), 31)
	require.Equal(t, 2, b.heldCount(t))

	// A minute after the first 30, both go out merged into one message.
	b.clock.Advance(41 * time.Second)
	require.NoError(t, b.a.Flush(ctx))
	sends := b.api.callsTo("message/send")
	require.Len(t, sends, 32)
	last := sends[31]
	require.Equal(t, "zhangsan", last.str("touser"))
	require.Equal(t, "markdown", last.str("msgtype"))
	content := last.str("markdown", "content")
	require.Contains(t, content, "告警 30")
	require.Contains(t, content, "**事件 #9 升级**")
	require.Less(t, strings.Index(content, "告警 30"), strings.Index(content, "事件 #9"), "held order is kept")
	require.Equal(t, 0, b.heldCount(t))

	require.NoError(t, b.a.Flush(ctx))
	require.Len(t, b.api.callsTo("message/send"), 32, "nothing is sent twice")
}

func TestHourLimitAndHeldCardsKeepButtons(t *testing.T) {
	b := setup(t, func(c *Config) { c.PerMemberMinute, c.PerMemberHour = 2, 3 })
	ctx := context.Background()
	to := core.Recipient{User: "zhangsan"}
	card := bot.Message{Ref: "request:5", Title: "申请 #5", Buttons: []bot.Button{{Action: "approval.approve", Value: "request:5", Label: "批准"}}}
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "1"}))
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "2"}))
	require.NoError(t, b.a.Send(ctx, to, card))
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "3"}))
	require.NoError(t, b.a.Send(ctx, to, bot.Message{Text: "4"}))
	require.Len(t, b.api.callsTo("message/send"), 2)
	require.Equal(t, 3, b.heldCount(t))

	// One slot left in the hour: the card goes first, alone, with buttons.
	b.clock.Advance(time.Minute)
	require.NoError(t, b.a.Flush(ctx))
	sends := b.api.callsTo("message/send")
	require.Len(t, sends, 3)
	require.Equal(t, "template_card", sends[2].str("msgtype"))
	require.Equal(t, 2, b.heldCount(t), "the rest wait for the hour")
	stored, err := b.refs.ByRef(ctx, core.PlatformWeCom, "request:5", 0)
	require.NoError(t, err)
	require.Len(t, stored, 1, "a released card can be updated later")

	b.clock.Advance(59 * time.Minute)
	require.NoError(t, b.a.Flush(ctx))
	sends = b.api.callsTo("message/send")
	require.Len(t, sends, 4)
	require.Equal(t, "3\n\n4", sends[3].str("markdown", "content"))
	require.Equal(t, 0, b.heldCount(t))
}

func TestChannels(t *testing.T) {
	b := setup(t, func(c *Config) { c.RobotPerMinute = 1 })
	ctx := context.Background()
	card := bot.Message{Title: "事件 #1", Text: "数据库主库宕机", Buttons: []bot.Button{{Action: "incident.ack", Value: "incident:1", Label: "认领"}}}

	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "appchat:ops-room"}, card))
	chats := b.api.callsTo("appchat/send")
	require.Len(t, chats, 1)
	require.Equal(t, "ops-room", chats[0].str("chatid"))
	require.Equal(t, "markdown", chats[0].str("msgtype"))
	require.Contains(t, chats[0].str("markdown", "content"), "请在企业微信应用消息中操作：认领")

	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "robot:key-1"}, card))
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "robot:key-1"}, bot.Message{Text: "second"}))
	robots := b.api.callsTo("webhook/send")
	require.Len(t, robots, 1, "the robot's minute is used up")
	require.Equal(t, "key-1", robots[0].Query.Get("key"))
	require.Equal(t, 1, b.heldCount(t))
	b.clock.Advance(time.Minute)
	require.NoError(t, b.a.Flush(ctx))
	require.Len(t, b.api.callsTo("webhook/send"), 2)

	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "user:zhaoliu"}, bot.Message{Text: "hi"}))
	require.Equal(t, "zhaoliu", b.api.callsTo("message/send")[0].str("touser"))

	err := b.a.Send(ctx, core.Recipient{Channel: "ops-room"}, card)
	var perm *bot.PermanentError
	require.ErrorAs(t, err, &perm, "an address without a kind is a configuration error")
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		codes     []int64
		permanent bool
		retryIn   time.Duration
		ok        bool
		tokens    int
	}{
		{name: "unknown userid", codes: []int64{60111}, permanent: true, tokens: 1},
		{name: "all recipients invalid", codes: []int64{81013}, permanent: true, tokens: 1},
		{name: "system busy", codes: []int64{-1}, tokens: 1},
		{name: "api freq limit", codes: []int64{45009}, retryIn: time.Minute, tokens: 1},
		{name: "expired token refetched once", codes: []int64{42001}, ok: true, tokens: 2},
		{name: "invalid token twice", codes: []int64{40014, 40014}, tokens: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.api.fail("message/send", tt.codes...)
			err := b.a.Send(context.Background(), core.Recipient{User: "ghost"}, bot.Message{Text: "x"})
			require.Equal(t, tt.tokens, b.api.tokenFetches())
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var perm *bot.PermanentError
			require.Equal(t, tt.permanent, errors.As(err, &perm), err.Error())
			var ra *bot.RetryAfterError
			if tt.retryIn > 0 {
				require.ErrorAs(t, err, &ra)
				require.Equal(t, tt.retryIn, ra.After)
			}
			require.NotContains(t, err.Error(), "tok-", "tokens stay out of errors")
		})
	}
}

func TestTokenSharedThroughRedis(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, b.a.Send(ctx, core.Recipient{User: fmt.Sprint("u", time.Now().UnixNano())}, bot.Message{Text: "x"}))
	}
	require.Equal(t, 1, b.api.tokenFetches())
	for _, c := range b.api.callsTo("message/send") {
		require.Equal(t, "tok-1", c.Query.Get("access_token"))
	}
}

func TestRender(t *testing.T) {
	long := strings.Repeat("长", 3000)
	a := &Adapter{cfg: Config{AgentID: 1}.withDefaults()}

	req, err := firstMessage(a, bot.Message{Text: long})
	require.NoError(t, err)
	require.LessOrEqual(t, len(req.Text.Content), maxTextBytes)

	_, err = firstMessage(a, bot.Message{Title: "t", Buttons: []bot.Button{{Action: "a|b", Value: "v", Label: "x"}}})
	require.Error(t, err, "the key separator cannot be part of an action")
	_, err = firstMessage(a, bot.Message{Title: "t", Buttons: []bot.Button{{Action: "a", Value: strings.Repeat("v", 1100), Label: "x"}}})
	require.Error(t, err, "keys longer than WeCom's 1024 bytes are refused")

	fields := make([]bot.Field, 8)
	for i := range fields {
		fields[i] = bot.Field{Name: fmt.Sprint("f", i), Value: "v"}
	}
	req, err = firstMessage(a, bot.Message{Title: "t", Fields: fields, Buttons: []bot.Button{{Action: "a", Value: "v", Label: "非常非常非常非常长的按钮文字"}}})
	require.NoError(t, err)
	require.Len(t, req.TemplateCard.HorizontalContentList, 6)
	require.Contains(t, req.TemplateCard.SubTitleText, "f7：v")
	require.Equal(t, 10, len([]rune(req.TemplateCard.ButtonList[0].Text)))

	action, value, ok := ParseButtonKey("approval.approve|request:1|x")
	require.True(t, ok)
	require.Equal(t, "approval.approve", action)
	require.Equal(t, "request:1|x", value)

	raw, err := json.Marshal(req)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"touser":"u"`)
}

// TestImageFollowsItsMessage: a message with an image (the digest chart)
// is followed by the image: uploaded media for a member and a group chat,
// inline base64 for a group robot.
func TestImageFollowsItsMessage(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	m := bot.Message{Ref: "digest:2026-11-24:admin", Title: "运维简报", Text: "新增 2", Image: []byte("\x89PNG\r\n\x1a\nchart")}
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, m))
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "appchat:ops-chat"}, m))
	require.NoError(t, b.a.Send(ctx, core.Recipient{Channel: "robot:key-1"}, m))
	require.Len(t, b.api.callsTo("media/upload"), 2)
	var images []string
	for _, c := range b.api.callsTo("message/send") {
		if c.str("msgtype") == "image" {
			images = append(images, c.str("touser"))
			require.Equal(t, map[string]any{"media_id": "media-1"}, c.Body["image"])
		}
	}
	require.Equal(t, []string{"lisi"}, images)
	chats := b.api.callsTo("appchat/send")
	require.Len(t, chats, 2)
	require.Equal(t, "image", chats[1].str("msgtype"))
	robots := b.api.callsTo("webhook/send")
	require.Len(t, robots, 2)
	require.Equal(t, "image", robots[1].str("msgtype"))
	require.NotEmpty(t, robots[1].Body["image"].(map[string]any)["md5"])
}

// TestUpdateLeavesNewerCardsAlone: an update written before a card was
// posted (a later notice that went out first) does not overwrite that
// newer card with its older state; a card of an earlier notice, or a
// direct reply, is updated.
func TestUpdateLeavesNewerCardsAlone(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	card := bot.Message{Ref: "incident:9", Title: "事件 #9", Buttons: []bot.Button{{Action: "incident.ack", Value: "9", Label: "认领"}}}
	require.NoError(t, b.a.Send(bot.WithOutbox(ctx, 10), core.Recipient{User: "lisi"}, card))
	require.NoError(t, b.a.Send(bot.WithOutbox(ctx, 30), core.Recipient{User: "wangwu"}, card))
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "zhaoliu"}, card)) // a direct reply

	stale := bot.Message{Ref: "incident:9", Status: bot.StatusNotice, Title: "事件 #9 已认领"}
	require.NoError(t, b.a.Update(bot.WithOutbox(ctx, 20), "incident:9", stale))
	var to []any
	for _, u := range b.api.callsTo("message/update_template_card") {
		to = append(to, u.Body["userids"].([]any)...)
	}
	require.ElementsMatch(t, []any{"lisi", "zhaoliu"}, to, "wangwu's card came from a later notice")
}
