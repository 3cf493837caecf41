package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
)

// TestIncidentCardSeverity: a card about an incident of each level I–IV
// carries the level, and its title leads with the level's emoji, in both
// languages; the severities are distinct and match the charts' colours.
func TestIncidentCardSeverity(t *testing.T) {
	t.Parallel()
	want := map[int][2]string{1: {"🔴", "#d93025"}, 2: {"🟠", "#f28c28"}, 3: {"🟡", "#e6b800"}, 4: {"🔵", "#1a73e8"}}
	for _, lang := range []string{LangZH, LangEN} {
		b := testBot(lang)
		for level := 1; level <= 4; level++ {
			s, ok := SeverityOf(level)
			require.True(t, ok)
			require.Equal(t, want[level], [2]string{s.Emoji, s.Color})
			for _, kind := range []string{"incident.card", "update.incident"} {
				body, err := json.Marshal(incident.CardData{Brief: incident.Brief{ID: 7, Title: "门户 5xx", Level: level, State: incident.StateDeclared}})
				require.NoError(t, err)
				m, err := b.Render(context.Background(), core.StoredNotice{Type: kind, Version: 1, Ref: "incident:7#card", Payload: body})
				require.NoError(t, err)
				require.Equal(t, level, m.Level, kind)
				require.True(t, strings.HasPrefix(m.Title, s.Emoji+" "), "%s %s title %q", lang, kind, m.Title)
				require.Contains(t, m.Title, b.t("level.n"+string(rune('0'+level))))
				require.Equal(t, level, LevelOfTitle(m.Title))
			}
		}
	}
	for _, bad := range []int{0, 5, -1} {
		_, ok := SeverityOf(bad)
		require.False(t, ok, bad)
		m := Message{Title: "x"}.Leveled(bad)
		require.Equal(t, Message{Title: "x"}, m)
	}
	require.Equal(t, 0, LevelOfTitle("plain title"))
}
