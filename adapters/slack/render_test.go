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
