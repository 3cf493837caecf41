package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"opsbot/chart"
	"opsbot/core/digest"
)

func (b *Bot) registerDigest() {
	b.router.Handle(&Command{Path: "digest", Usage: "[today|yesterday|YYYY-MM-DD|subscribe|unsubscribe]", MaxArgs: 1, Topic: "general", Run: b.digestCmd})
}

func (b *Bot) digestCmd(ctx context.Context, r *Request) ([]Message, error) {
	arg := "today"
	if len(r.Args) > 0 {
		arg = canonicalWord(r.Args[0])
	}
	var day string
	switch arg {
	case "subscribe", "unsubscribe":
		on := arg == "subscribe"
		if err := b.digests.Subscribe(ctx, r.Actor, on); err != nil {
			return nil, err
		}
		return reply(Message{Text: b.t("digest." + arg + "d")})
	case "today":
		day = b.digests.Today()
	case "yesterday":
		day = b.digests.Yesterday()
	default:
		day = r.Args[0]
	}
	d, err := b.digests.Build(ctx, r.Actor.UserID, day, day)
	if err != nil {
		return nil, err
	}
	m, err := b.digestMessage("digest:"+d.Day+":"+r.Actor.UserID, digest.Data(d))
	if err != nil {
		return nil, err
	}
	m.Status = StatusOK
	return []Message{m}, nil
}

// digestMessage renders a digest with its 14-day chart.
func (b *Bot) digestMessage(ref string, d map[string]string) (Message, error) {
	scope := b.t("digest.scope."+d["scope"]) + " " + d["scope_names"]
	dash := func(v string) string {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d <= 0:
			return "—"
		case d >= time.Hour:
			return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
		}
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	m := Message{Ref: ref, Status: StatusNotice, Title: b.t("digest.title", "day", d["day"], "scope", scope), Fields: []Field{
		{Name: b.t("digest.f.incidents"), Value: b.t("digest.v.incidents", "opened", d["opened"], "closed", d["closed"], "escalations", d["escalations"])},
		{Name: b.t("digest.f.open"), Value: b.t("digest.v.open", "l1", d["open_l1"], "l2", d["open_l2"], "l3", d["open_l3"], "l4", d["open_l4"])},
		{Name: b.t("digest.f.mtt"), Value: b.t("digest.v.mtt", "mtta", dash(d["mtta"]), "mttr", dash(d["mttr"]))},
		{Name: b.t("digest.f.tickets"), Value: b.t("digest.v.tickets", "due", d["tickets_due"], "overdue", d["tickets_overdue"])},
		{Name: b.t("digest.f.approvals"), Value: b.t("digest.v.approvals", "n", d["approvals_waiting"])},
		{Name: b.t("digest.f.inspections"), Value: b.t("digest.v.inspections", "done", d["inspections_done"], "missed", d["inspections_missed"], "open", d["inspections_open"])},
		{Name: b.t("digest.f.backups"), Value: b.t("digest.v.backups", "ok", d["backups_ok"], "failed", d["backups_failed"], "missing", d["backups_missing"])},
		{Name: b.t("digest.f.duty"), Value: strings.ReplaceAll(orNone(b, d["on_duty"]), "\n", "；")},
	}, Text: b.t("digest.chart")}
	var pts []chart.Point
	for _, p := range digest.ParseSeries(d["series"]) {
		pts = append(pts, chart.Point{Label: p.Day[5:], Bars: p.Incidents, Line: p.SLA})
	}
	img, err := chart.Render(pts)
	if err != nil {
		return Message{}, err
	}
	m.Image = img
	return m, nil
}

// renderDigest renders the daily digest notice.
func (b *Bot) renderDigest(n notice) (Message, bool, error) {
	if n.Kind != digest.NoticeDigest {
		return Message{}, false, nil
	}
	m, err := b.digestMessage(n.Ref, n.Data)
	return m, true, err
}
