package bot

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
)

func TestConsolePathOfEachCard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ref, want string }{
		{"incident:7", "/console/incidents/7"},
		{"ticket:12", "/console/tickets/12"},
		{"request:42", "/console/requests/42"},
		{"request:42#2", "/console/requests/42"}, // a step's card
		{"report:incidents:2026-11", "/console/reports?month=2026-11"},
		{"backup-audit:2026-10", "/console/reports?month=2026-10"},
		{"digest:2026-11-24:admin", "/console/trends"},
		{"user:u1", ""},
		{"incident:", ""},
		{"", ""},
	} {
		got, ok := ConsolePath(tc.ref)
		require.Equal(t, tc.want != "", ok, tc.ref)
		require.Equal(t, tc.want, got, tc.ref)
	}
	require.Equal(t, "https://ops.example.gov.cn/console/incidents/7", ConsoleLink("https://ops.example.gov.cn/", "incident:7"))
	require.Equal(t, "", ConsoleLink("", "incident:7"), "no public URL, no link")
}

// TestIncidentCardLinksToTheConsoleWhenConfigured: the same incident card
// notice carries the console link with console.public_url set and none
// without it.
func TestIncidentCardLinksToTheConsoleWhenConfigured(t *testing.T) {
	t.Parallel()
	card := func(consoleURL string) Message {
		b := New(Config{Language: LangZH, Location: time.FixedZone("CST", 8*3600), ConsoleURL: consoleURL,
			Clock: fixedClock{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}, nil,
			slog.New(slog.NewTextHandler(io.Discard, nil)), Hooks{}, testPlugs()...)
		m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "incident:7", To: core.Recipient{Channel: "ops"},
			Body: incident.Card{CardData: incident.CardData{Brief: incident.Brief{ID: 7, Title: "门户网站无法访问", Level: 2, State: incident.StateDeclared}}}})
		require.NoError(t, err)
		return m
	}
	with := card("https://ops.example.gov.cn")
	require.Equal(t, Field{Name: "控制台", Value: "https://ops.example.gov.cn/console/incidents/7"}, with.Fields[len(with.Fields)-1])
	without := card("")
	for _, f := range without.Fields {
		require.NotContains(t, f.Value, "/console/", "no console link without a public URL")
	}
	require.Len(t, with.Fields, len(without.Fields)+1, "the link is the only difference")
}
