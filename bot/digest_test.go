package bot

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/chart"
	"opsbot/core"
	"opsbot/core/digest"
)

// TestDigestLegacyAndTyped: a digest queued by the previous release as a
// string map renders with the same title, fields and chart as before, and
// the typed digest with the same numbers renders the same message.
func TestDigestLegacyAndTyped(t *testing.T) {
	t.Parallel()
	b := testBot(LangEN)
	legacy := core.StoredNotice{Type: digest.NoticeDigest, Version: 0, Ref: "digest:2026-11-29:mgr", To: core.Recipient{User: "mgr"},
		Payload: []byte(`{"day":"2026-11-27 ~ 2026-11-29","scope":"district","scope_names":"东区、西区","opened":"3","closed":"2",` +
			`"open_l1":"0","open_l2":"1","open_l3":"0","open_l4":"4","mtta":"12m0s","mttr":"1h30m0s","acked":"3","resolved":"2","escalations":"1",` +
			`"tickets_due":"1","tickets_overdue":"0","approvals_waiting":"2","inspections_done":"4","inspections_missed":"0","inspections_open":"1",` +
			`"backups_ok":"9","backups_failed":"1","backups_missing":"0","on_duty":"ops: a / b\nnet: c",` +
			`"series":"2026-11-28:1:-1,2026-11-29:2:50"}`)}
	old, err := b.Render(context.Background(), legacy)
	require.NoError(t, err)
	require.Equal(t, "Operations digest · 2026-11-27 ~ 2026-11-29 · district 东区、西区", old.Title)
	var values []string
	for _, f := range old.Fields {
		values = append(values, f.Value)
	}
	require.Equal(t, []string{"3 opened, 2 resolved, 1 escalations", "L1 0, L2 1, L3 0, L4 4", "MTTA 12m, MTTR 1h 30m",
		"1 due today, 0 overdue", "2 pending for more than a day", "4 done, 0 missed, 1 open", "9 ok, 1 failed, 0 not reported",
		"ops: a / b；net: c", "https://ops.example.gov.cn/console/trends"}, values, "the console link last")
	png, err := chart.Render([]chart.Point{{Label: "11-28", Bars: 1, Line: -1}, {Label: "11-29", Bars: 2, Line: 50}},
		chart.Labels{Bars: "incidents / day", Line: "ticket SLA % (answered in time)", Days: "date"})
	require.NoError(t, err)
	require.Equal(t, png, old.Image, "the chart of the old series")

	cst := time.FixedZone("CST", 8*3600)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, cst) }
	typed := digest.Digest{First: day(27), Last: day(29), Scope: digest.Scope{Kind: "district", Units: []string{"east", "west"}},
		ScopeNames: []string{"东区", "西区"}, Opened: 3, Closed: 2, OpenByLevel: [5]int{0, 0, 1, 0, 4}, MTTA: 12*time.Minute + 10*time.Second,
		MTTR: 90 * time.Minute, Acked: 3, Resolved: 2, Escalations: 1, TicketsDueToday: 1, ApprovalsWaiting: 2, InspectionsDone: 4,
		InspectionsOpen: 1, BackupsOK: 9, BackupsFailed: 1, OnDuty: []string{"ops: a / b", "net: c"},
		Series: []digest.Point{{Day: day(28), Incidents: 1, SLA: -1}, {Day: day(29), Incidents: 2, SLA: 50}}}
	m, err := b.RenderNotice(context.Background(), core.Notice{Ref: legacy.Ref, To: legacy.To, Body: typed})
	require.NoError(t, err)
	require.Equal(t, old, m)

	empty, err := b.RenderNotice(context.Background(), core.Notice{Ref: "digest:x", Body: digest.Digest{First: day(29), Last: day(29), Scope: digest.Scope{Kind: "city"}}})
	require.NoError(t, err)
	require.Equal(t, "MTTA —, MTTR —", empty.Fields[2].Value)
	require.Equal(t, b.t("none"), empty.Fields[7].Value)
	require.Equal(t, "Operations digest · 2026-11-29 · city ", empty.Title)
}

// TestDigestChartLabelsInFont: the digest chart's legend and axis title come
// from the catalog in the recipient's language, and the chart's embedded
// font has a glyph for every rune of them (a label changed without
// regenerating the font fails here).
func TestDigestChartLabelsInFont(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{LangZH, LangEN} {
		l := digestBot{Bot: testBot(lang)}.chartLabels()
		for _, s := range []string{l.Bars, l.Line, l.Days} {
			require.NotEmpty(t, s)
			require.Empty(t, chart.Missing(s), "%s label %q has runes the chart font lacks: run `make chart-font` and commit chart/font", lang, s)
		}
	}
	zh := digestBot{Bot: testBot(LangZH)}.chartLabels()
	require.Equal(t, "日期", zh.Days)

	cst := time.FixedZone("CST", 8*3600)
	d := digest.Digest{First: time.Date(2026, 11, 29, 0, 0, 0, 0, cst), Last: time.Date(2026, 11, 29, 0, 0, 0, 0, cst), Scope: digest.Scope{Kind: "city"},
		Series: []digest.Point{{Day: time.Date(2026, 11, 29, 0, 0, 0, 0, cst), Incidents: 2, SLA: 50}}}
	b := testBot(LangZH)
	m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "digest:zh", Body: d})
	require.NoError(t, err)
	want, err := chart.Render([]chart.Point{{Label: "11-29", Bars: 2, Line: 50}}, zh)
	require.NoError(t, err)
	require.Equal(t, want, m.Image, "the zh digest's chart has the zh labels")
}
