package webchat_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/webchat"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/storage/postgres/pgtest"
)

// TestCardSeverity: a card about an incident of each level I–IV comes out
// of the inbox with its severity (level, colour, emoji) for the page to
// colour, also after an update replaced it; a card about no level has none.
func TestCardSeverity(t *testing.T) {
	a := webchat.New(webchat.Config{DevMode: true}, pgtest.New(t).Webchat(), echo{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	ctx := context.Background()
	to := core.Recipient{User: "alice"}
	for level := 1; level <= 4; level++ {
		m := bot.Message{Ref: "incident:" + string(rune('0'+level)) + "#card", Status: bot.StatusNotice, Title: "门户 5xx",
			Buttons: []bot.Button{{Action: "incident.ack", Value: "incident:1", Label: "确认"}}}.Leveled(level)
		require.NoError(t, a.Send(ctx, to, m))
	}
	require.NoError(t, a.Send(ctx, to, bot.Message{Title: "帮助", Text: "x"}))
	upd := bot.Message{Ref: "incident:2#card", Status: bot.StatusNotice, Title: "门户 5xx（已确认）"}.Leveled(2)
	require.NoError(t, a.Update(ctx, upd.Ref, upd))

	code, body := get(t, ts.URL+"/webchat/api/inbox?user=alice&after=0", "")
	require.Equal(t, 200, code, body)
	var page struct {
		Messages []struct {
			Ref      string        `json:"ref"`
			Title    string        `json:"title"`
			Severity *bot.Severity `json:"severity"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	seen := map[string]*bot.Severity{}
	for _, m := range page.Messages {
		seen[m.Ref+"|"+m.Title] = m.Severity
	}
	colors := map[int]string{1: "#d93025", 2: "#f28c28", 3: "#e6b800", 4: "#1a73e8"}
	emoji := map[int]string{1: "🔴", 2: "🟠", 3: "🟡", 4: "🔵"}
	for _, level := range []int{1, 3, 4} {
		s := seen["incident:"+string(rune('0'+level))+"#card|"+emoji[level]+" 门户 5xx"]
		require.NotNil(t, s, "level %d in %s", level, body)
		require.Equal(t, bot.Severity{Level: level, Color: colors[level], Emoji: emoji[level], Roman: []string{"", "Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"}[level]}, *s)
	}
	s := seen["incident:2#card|🟠 门户 5xx（已确认）"]
	require.NotNil(t, s, "the updated card keeps its severity: %s", body)
	require.Equal(t, 2, s.Level)
	require.Nil(t, seen["|帮助"])
}
