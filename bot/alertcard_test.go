package bot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
)

// TestAlertCardShowsItsAlerts: an alert incident's card shows, for each
// alert it carries, the alertname and description with its start in the
// bot's zone, the rule's link and the runbook link, and how many alerts
// it leaves out; a payload stored before the alerts were added still
// renders, without them.
func TestAlertCardShowsItsAlerts(t *testing.T) {
	t.Parallel()
	b := New(Config{Language: LangZH, Location: time.FixedZone("CST", 8*3600),
		Clock: fixedClock{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)), Hooks{}, testPlugs()...)
	state := &incident.AlertState{Firing: 5, Labels: map[string]string{"alertname": "PortalDown"}, More: 3,
		Alerts: []incident.AlertItem{
			{Name: "PortalDown", Description: "门户网站 5 分钟内无法访问", StartsAt: time.Date(2026, 11, 23, 1, 5, 0, 0, time.UTC),
				GeneratorURL: "http://prom.example.gov.cn/graph?g0.expr=up", Runbook: "https://wiki.example.gov.cn/runbook/portal"},
			{Name: "PortalSlow", StartsAt: time.Date(2026, 11, 23, 1, 7, 0, 0, time.UTC)},
		}}
	render := func(body core.Payload) Message {
		m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "incident:7#card", To: core.Recipient{Channel: "ops"}, Body: body})
		require.NoError(t, err)
		return m
	}
	m := render(incident.Card{CardData: incident.CardData{Brief: incident.Brief{ID: 7, Title: "门户网站无法访问", Level: 2,
		State: incident.StateDeclared}, Alert: state}})
	fields := map[string]string{}
	for _, f := range m.Fields {
		fields[f.Name] = f.Value
	}
	require.Equal(t, "PortalDown · 门户网站 5 分钟内无法访问 · 2026-11-23 09:05 开始", fields["告警 1"])
	require.Equal(t, "http://prom.example.gov.cn/graph?g0.expr=up", fields["告警来源 1"])
	require.Equal(t, "https://wiki.example.gov.cn/runbook/portal", fields["处置手册 1"])
	require.Equal(t, "PortalSlow · 2026-11-23 09:07 开始", fields["告警 2"])
	require.NotContains(t, fields, "告警来源 2", "no link, no row")
	require.NotContains(t, fields, "处置手册 2")
	require.Equal(t, "另有 3 条", fields["其余告警"])

	// A card stored before alerts were on it decodes and renders without them.
	var old incident.CardData
	require.NoError(t, json.Unmarshal([]byte(`{"id":7,"title":"门户网站无法访问","level":2,"state":"declared","alert":{"firing":1,"resolved":0}}`), &old))
	m = render(incident.CardUpdate{CardData: old})
	for _, f := range m.Fields {
		require.NotContains(t, []string{"告警 1", "其余告警"}, f.Name)
	}
	require.Contains(t, m.Fields, Field{Name: "告警", Value: "触发 1，已恢复 0"})
}
