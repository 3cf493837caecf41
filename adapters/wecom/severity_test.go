package wecom

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
)

// alertCard is an open alert incident's card as the bot renders it: ack,
// escalate and resolve, then the three silence buttons (six in all).
func alertCard(level int) bot.Message {
	v := "incident:7"
	return bot.Message{Ref: v + "#card", Status: bot.StatusNotice, Title: "【级】门户 5xx（事件 #7）", Text: "未确认",
		Fields: []bot.Field{{Name: "处理人", Value: "zhangsan"}},
		Buttons: []bot.Button{
			{Action: "incident.ack", Value: v, Label: "确认", Style: "primary"},
			{Action: "incident.escalate", Value: v, Label: "升级", Style: "danger"},
			{Action: "incident.resolve", Value: v, Label: "解决"},
			{Action: "alert.silence", Value: v + "|1h", Label: "静默 1 小时"},
			{Action: "alert.silence", Value: v + "|4h", Label: "静默 4 小时"},
			{Action: "alert.silence", Value: v + "|tomorrow", Label: "静默到明天"},
		}}.Leveled(level)
}

// TestCardSeverity: an incident card of each level I–IV reaches WeCom
// with the level's emoji leading its title and a source line naming the
// level, red for I and II, black for III and IV; a group chat's markdown
// shows I and II in WeCom's warning colour.
func TestCardSeverity(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	want := map[int]struct {
		desc  string
		color float64
	}{1: {"🔴 Ⅰ", 2}, 2: {"🟠 Ⅱ", 2}, 3: {"🟡 Ⅲ", 1}, 4: {"🔵 Ⅳ", 1}}
	for level := 1; level <= 4; level++ {
		require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, alertCard(level)))
		sends := b.api.callsTo("message/send")
		last := sends[len(sends)-1]
		require.Equal(t, "template_card", last.str("msgtype"))
		s, _ := bot.SeverityOf(level)
		require.True(t, strings.HasPrefix(last.str("template_card", "main_title", "title"), s.Emoji+" "), last.str("template_card", "main_title", "title"))
		require.Equal(t, want[level].desc, last.str("template_card", "source", "desc"))
		src := last.Body["template_card"].(map[string]any)["source"].(map[string]any)
		require.Equal(t, want[level].color, src["desc_color"], "level %d", level)
		require.Len(t, last.Body["template_card"].(map[string]any)["button_list"], 6, "six buttons fit one card")

		md := markdown(alertCard(level), "")
		require.Equal(t, level <= 2, strings.HasPrefix(md, `**<font color="warning">`+s.Emoji), md)
	}
	require.NoError(t, b.a.Send(ctx, core.Recipient{User: "lisi"}, bot.Message{Title: "帮助", Buttons: []bot.Button{{Action: "a", Value: "v", Label: "x"}}}))
	sends := b.api.callsTo("message/send")
	_, has := sends[len(sends)-1].Body["template_card"].(map[string]any)["source"]
	require.False(t, has, "a card about no incident has no source line")
}

// TestCardButtonLimit: at WeCom's limit of six buttons a card goes out
// whole; past it, no card carries more than six, the buttons keep their
// order, and the ones of one item stay together on one card.
func TestCardButtonLimit(t *testing.T) {
	a := &Adapter{cfg: Config{AgentID: 1}.withDefaults()}
	m := alertCard(2)
	reqs, err := a.userMessages("u", m)
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0].TemplateCard.ButtonList, maxCardButtons)

	m.Buttons = append(m.Buttons, bot.Button{Action: "incident.extra", Value: "incident:7|x", Label: "更多"})
	reqs, err = a.userMessages("u", m)
	require.NoError(t, err)
	require.Len(t, reqs, 2)
	var keys []string
	for _, r := range reqs {
		require.LessOrEqual(t, len(r.TemplateCard.ButtonList), maxCardButtons)
		require.Equal(t, "🟠 Ⅱ", r.TemplateCard.Source.Desc, "every part shows the level")
		for _, btn := range r.TemplateCard.ButtonList {
			keys = append(keys, btn.Key)
		}
	}
	require.Len(t, keys, 7)
	require.Equal(t, "incident.ack|incident:7", keys[0])
	require.Equal(t, "incident.extra|incident:7|x", keys[6])
}
