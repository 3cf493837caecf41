package slack

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestRenderGolden(t *testing.T) {
	a := &Adapter{cfg: Config{Language: langEN}}
	for _, tc := range []struct {
		name string
		msg  bot.Message
	}{
		{"card", bot.Message{Ref: "request:42#1", Status: bot.StatusNotice, Title: "Approve release #42 · portal 2.1",
			Text:   "Requested by **Li Lei** <ops>\n- window tonight\n- risk low",
			Fields: []bot.Field{{Name: "Version", Value: "2.1"}, {Name: "Unit", Value: "city & district"}},
			Buttons: []bot.Button{
				{Action: "approval.approve", Value: "request:42#1", Label: "Approve", Style: "primary"},
				{Action: "approval.reject", Value: "request:42#1", Label: "Reject", Style: "danger"},
				{Action: "approval.publish", Value: "request:42#1", Label: "Publish", Style: "primary", Confirm: "Publish to production now?"},
			}}},
		{"error", bot.Message{Status: bot.StatusError, Title: "Error", Text: "Unknown command /foo"}},
		{"error_untitled", bot.Message{Status: bot.StatusError, Text: "You are not linked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, blocks := a.render(tc.msg)
			got, err := json.MarshalIndent(map[string]any{"text": text, "blocks": blocks}, "", "  ")
			require.NoError(t, err)
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./adapters/slack -run TestRenderGolden -update")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

func TestCommandText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"request approve 12", "/request approve 12"},
		{"  /request show 3 ", "/request show 3"},
		{"／值班 now", "/值班 now"},
		{"", "/help"},
		{"   ", "/help"},
	} {
		require.Equal(t, tc.want, commandText(tc.in), tc.in)
	}
	require.Equal(t, "/incident show 7 <x>", chatText("<@U0BOT|opsbot> incident show 7 &lt;x&gt;"))
	require.Equal(t, "/help", chatText("<@U0BOT>"))
}

func TestActionID(t *testing.T) {
	t.Parallel()
	act, ok := parseActionID(actionID("approval.approve", 3))
	require.True(t, ok)
	require.Equal(t, "approval.approve", act)
	for _, bad := range []string{"", "approval.approve", "|1", "x|y", "reason"} {
		_, ok := parseActionID(bad)
		require.False(t, ok, bad)
	}
}

// TestLayoutSeverity: a card about an incident of each level I–IV goes out
// as one attachment coloured the level's colour, holding the card's blocks
// (its title leading with the level's emoji); a card about no level keeps
// its blocks at the top level.
func TestLayoutSeverity(t *testing.T) {
	t.Parallel()
	a := &Adapter{cfg: Config{Language: langZH}}
	for level, color := range map[int]string{1: "#d93025", 2: "#f28c28", 3: "#e6b800", 4: "#1a73e8"} {
		m := bot.Message{Ref: "incident:7#card", Status: bot.StatusNotice, Title: "【Ⅰ级】门户 5xx（事件 #7）", Text: "未确认",
			Buttons: []bot.Button{{Action: "incident.ack", Value: "incident:7", Label: "确认", Style: "primary"}}}.Leveled(level)
		text, blocks, attachments := a.layout(m)
		require.Empty(t, blocks, "level %d", level)
		require.Len(t, attachments, 1)
		require.Equal(t, color, attachments[0].Color)
		raw, err := json.Marshal(attachments[0])
		require.NoError(t, err)
		s, _ := bot.SeverityOf(level)
		require.Contains(t, string(raw), `"type":"header"`)
		require.Contains(t, string(raw), s.Emoji+" 【Ⅰ级】门户 5xx")
		require.Contains(t, string(raw), `"action_id":"incident.ack|0"`)
		require.Contains(t, text, s.Emoji)
	}
	_, blocks, attachments := a.layout(bot.Message{Title: "帮助", Text: "x"})
	require.NotEmpty(t, blocks)
	require.Empty(t, attachments)
}
