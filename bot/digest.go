package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"opsbot/chart"
	"opsbot/core/digest"
)

// digestBot is the daily digest's part of the bot.
type digestBot struct {
	*Bot
	svc *digest.Service
}

// Digests plugs the managers' digest: /digest, its notice with the 14-day
// chart, and the daily job sending it at at (HH:MM) on working days.
func Digests(svc *digest.Service, at string) Plug {
	return func(b *Bot) Module {
		c := digestBot{Bot: b, svc: svc}
		return Module{
			Name: "digest",
			Commands: []*Command{
				{Path: "digest", Usage: "[today|yesterday|YYYY-MM-DD|subscribe|unsubscribe]", MaxArgs: 1, Topic: "general", Run: c.show},
			},
			Notices: []NoticeRenderer{Renders(c.render)},
			Jobs: []Job{{Type: digest.TaskDaily, At: at, Run: func(ctx context.Context, slot time.Time) error {
				n, err := svc.SendDaily(ctx, slot)
				if n > 0 {
					b.log.Info("daily digests sent", "count", n)
				}
				return err
			}}},
		}
	}
}

func (c digestBot) show(ctx context.Context, r *Request) ([]Message, error) {
	arg := "today"
	if len(r.Args) > 0 {
		arg = canonicalWord(r.Args[0])
	}
	var day string
	switch arg {
	case "subscribe", "unsubscribe":
		on := arg == "subscribe"
		if err := c.svc.Subscribe(ctx, r.Actor, on); err != nil {
			return nil, err
		}
		return reply(Message{Text: c.t("digest." + arg + "d")})
	case "today":
		day = c.svc.Today()
	case "yesterday":
		day = c.svc.Yesterday()
	default:
		day = r.Args[0]
	}
	d, err := c.svc.Build(ctx, r.Actor.UserID, day, day)
	if err != nil {
		return nil, err
	}
	m, err := c.message("digest:"+d.First.Format(time.DateOnly)+":"+r.Actor.UserID, d)
	if err != nil {
		return nil, err
	}
	m.Status = StatusOK
	return []Message{m}, nil
}

func (c digestBot) render(ref string, d digest.Digest) (Message, error) { return c.message(ref, d) }

// chartLabels are the digest chart's legend and axis title in the bot's
// language; scripts/chart-font.sh reads them from the catalog for the font.
func (c digestBot) chartLabels() chart.Labels {
	return chart.Labels{Bars: c.t("digest.chart.bars"), Line: c.t("digest.chart.line"), Days: c.t("digest.chart.days")}
}

// message renders a digest with its 14-day chart.
func (c digestBot) message(ref string, d digest.Digest) (Message, error) {
	day := d.First.Format(time.DateOnly)
	if !d.Last.Equal(d.First) {
		day += " ~ " + d.Last.Format(time.DateOnly)
	}
	scope := c.t("digest.scope."+d.Scope.Kind) + " " + strings.Join(d.ScopeNames, "、")
	lines := make([]string, len(d.OnDuty))
	for i, l := range d.OnDuty {
		lines[i] = c.dutyLine(l)
	}
	onDuty := strings.Join(lines, "；")
	if onDuty == "" {
		onDuty = c.t("none")
	}
	n := func(v int) string { return fmt.Sprint(v) }
	m := Message{Ref: ref, Status: StatusNotice, Title: c.t("digest.title", "day", day, "scope", scope), Fields: []Field{
		{Name: c.t("digest.f.incidents"), Value: c.t("digest.v.incidents", "opened", n(d.Opened), "closed", n(d.Closed), "escalations", n(d.Escalations))},
		{Name: c.t("digest.f.open"), Value: c.t("digest.v.open", "l1", n(d.OpenByLevel[1]), "l2", n(d.OpenByLevel[2]), "l3", n(d.OpenByLevel[3]), "l4", n(d.OpenByLevel[4]))},
		{Name: c.t("digest.f.mtt"), Value: c.t("digest.v.mtt", "mtta", FormatDurationOrNone(c.cfg.Language, d.MTTA), "mttr", FormatDurationOrNone(c.cfg.Language, d.MTTR))},
		{Name: c.t("digest.f.tickets"), Value: c.t("digest.v.tickets", "due", n(d.TicketsDueToday), "overdue", n(d.TicketsOverdue))},
		{Name: c.t("digest.f.approvals"), Value: c.t("digest.v.approvals", "n", n(d.ApprovalsWaiting))},
		{Name: c.t("digest.f.inspections"), Value: c.t("digest.v.inspections", "done", n(d.InspectionsDone), "missed", n(d.InspectionsMissed), "open", n(d.InspectionsOpen))},
		{Name: c.t("digest.f.backups"), Value: c.t("digest.v.backups", "ok", n(d.BackupsOK), "failed", n(d.BackupsFailed), "missing", n(d.BackupsMissing))},
		{Name: c.t("digest.f.duty"), Value: onDuty},
	}, Text: c.t("digest.chart")}
	var pts []chart.Point
	for _, p := range d.Series {
		pts = append(pts, chart.Point{Label: p.Day.Format("01-02"), Bars: p.Incidents, Line: p.SLA})
	}
	img, err := chart.Render(pts, c.chartLabels())
	if err != nil {
		return Message{}, err
	}
	m.Image = img
	return m, nil
}

// dutyLine shows a digest's "rotation: primary / secondary" line with the
// people's names.
func (c digestBot) dutyLine(l string) string {
	rot, who, ok := strings.Cut(l, ": ")
	if !ok {
		return l
	}
	ids := strings.Split(who, " / ")
	for i, id := range ids {
		ids[i] = c.person(id)
	}
	return rot + ": " + strings.Join(ids, " / ")
}
