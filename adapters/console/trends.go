package console

import (
	"context"
	"html/template"
	"math"
	"time"

	"opsbot/chart"
	"opsbot/core/trend"
)

// Trends is the trend service (trend.Service).
type Trends interface {
	Read(ctx context.Context, units trend.Units, r trend.Range) (trend.Trends, error)
}

// trendPages is the trends page: six charts drawn on the server as SVG.
func (c *Console) trendPages() []Page {
	if c.svc.Trends == nil {
		return nil
	}
	return []Page{{Path: "/console/trends", Nav: NavTrends, Title: "console.trends.title", Template: "trends.html", Handle: c.trends}}
}

// trendRange is one choice of the range switch.
type trendRange struct {
	Value, Label, Href string
	Selected           bool
}

// trendData is the trends page's data.
type trendData struct {
	Ranges []trendRange
	Charts []template.HTML
	// Platform says inspections and backups are platform-wide.
	Platform bool
}

// trends reads the six series of the chosen range (?range=14d|3m|12m,
// default 14d) inside the view and draws them.
func (c *Console) trends(r *Request) (any, error) {
	rng := trend.Range(r.URL.Query().Get("range"))
	if rng == "" {
		rng = trend.Days14
	}
	t, err := c.svc.Trends.Read(r.Context(), trend.UnitsOf(r.View), rng)
	if err != nil {
		return nil, err
	}
	d := trendData{Platform: r.View.Own == ""}
	for _, x := range trend.Ranges {
		d.Ranges = append(d.Ranges, trendRange{Value: string(x), Label: r.T("console.trends.range." + string(x)),
			Href: r.Link("/console/trends", "range", string(x)), Selected: x == rng})
	}
	for _, ch := range trendCharts(r, t) {
		d.Charts = append(d.Charts, template.HTML(ch.Render())) // #nosec: chart escapes every text it draws
	}
	return d, nil
}

// trendCharts are the six charts of t, labelled in r's language.
func trendCharts(r *Request, t trend.Trends) []chart.SVG {
	labels := make([]string, len(t.Starts))
	for i, s := range t.Starts {
		labels[i] = bucketLabel(t.Window.Bucket, s)
	}
	per := r.T("console.trends.per." + string(t.Window.Bucket))
	empty := r.T("console.trends.empty")
	nan := math.NaN()

	var levels []chart.Series
	for i, l := range trend.Levels {
		levels = append(levels, chart.Series{Name: r.T("console.trends.level", "n", roman[l-1]), Color: chart.LevelColors[i], Values: floats(t.Incidents[i])})
	}
	mean := func(as []trend.Avg) []float64 {
		out := make([]float64, len(as))
		for i, a := range as {
			out[i] = nan
			if m, ok := a.Mean(); ok {
				out[i] = math.Round(m.Minutes()*10) / 10
			}
		}
		return out
	}
	pct := func(ps []trend.Pct) []float64 {
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = nan
			if v, ok := p.Percent(); ok {
				out[i] = math.Round(v*10) / 10
			}
		}
		return out
	}
	var sla []chart.Series
	for _, k := range trend.TicketKinds {
		sla = append(sla, chart.Series{Name: r.T("tkind." + k), Values: pct(t.SLA[k])})
	}
	minutes := r.T("console.trends.minutes")
	return []chart.SVG{
		{ID: "chart-incidents", Kind: chart.StackedBars, Title: r.T("console.trends.incidents", "per", per),
			Desc: r.T("console.trends.incidents.desc"), Labels: labels, Series: levels, Empty: empty},
		{ID: "chart-mtt", Kind: chart.Lines, Title: r.T("console.trends.mtt"), Desc: r.T("console.trends.mtt.desc"), Labels: labels, Unit: minutes,
			Series: []chart.Series{{Name: "MTTA", Values: mean(t.MTTA)}, {Name: "MTTR", Values: mean(t.MTTR)}}, Empty: empty},
		{ID: "chart-sla", Kind: chart.Lines, Title: r.T("console.trends.sla"), Desc: r.T("console.trends.sla.desc"), Labels: labels,
			Unit: "%", YMax: 100, Series: sla, Empty: empty},
		{ID: "chart-inspections", Kind: chart.Lines, Title: r.T("console.trends.inspections"), Desc: r.T("console.trends.inspections.desc"),
			Labels: labels, Unit: "%", YMax: 100, Series: []chart.Series{{Name: r.T("console.trends.done"), Values: pct(t.Inspections), Color: "#188038"}}, Empty: empty},
		{ID: "chart-backups", Kind: chart.Lines, Title: r.T("console.trends.backups"), Desc: r.T("console.trends.backups.desc"),
			Labels: labels, Unit: "%", YMax: 100, Series: []chart.Series{{Name: r.T("console.trends.ok"), Values: pct(t.Backups), Color: "#1a73e8"}}, Empty: empty},
		{ID: "chart-escalations", Kind: chart.StackedBars, Title: r.T("console.trends.escalations", "per", per), Desc: r.T("console.trends.escalations.desc"),
			Labels: labels, Series: []chart.Series{{Name: r.T("console.trends.escalated"), Values: floats(t.Escalations), Color: "#9334e6"}}, Empty: empty},
	}
}

var roman = []string{"I", "II", "III", "IV"}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// bucketLabel names a bucket by its first day: "11-24" for a day or a
// week (its Monday), "2026-11" for a month.
func bucketLabel(b trend.Bucket, start time.Time) string {
	if b == trend.Month {
		return start.Format("2006-01")
	}
	return start.Format("01-02")
}
