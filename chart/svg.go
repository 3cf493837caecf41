package chart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Kind is how an SVG chart draws its series.
type Kind int

// The kinds of SVG chart.
const (
	Lines       Kind = iota // one line per series; NaN values leave a gap
	StackedBars             // one bar per label, the series stacked bottom up
)

// Colours of the incident levels (I 红, II 橙, III 黄, IV 蓝) and of other series.
var (
	LevelColors  = [4]string{"#d93025", "#f28c28", "#e6b800", "#1a73e8"}
	SeriesColors = []string{"#1a73e8", "#e8711a", "#188038", "#9334e6", "#d93025"}
)

// Series is one named row of values, one per label; NaN means no value.
type Series struct {
	Name   string
	Color  string // CSS colour; "" takes SeriesColors in order
	Values []float64
}

// SVG is a chart drawn as an inline SVG element.
type SVG struct {
	ID     string // unique on the page; prefixes the element ids
	Title  string // the accessible name (<title>) and the heading drawn on top
	Desc   string // the accessible description (<desc>)
	Kind   Kind
	Labels []string // x axis, one per value
	Series []Series
	Unit   string  // appended to y ticks and values, e.g. "%" or " 分钟"
	YMax   float64 // the top of the y axis; 0 picks a nice one above the data
	Empty  string  // said in the plot when there is no value at all
}

// The SVG's drawing size (viewBox); it scales to its container's width.
const (
	svgW, svgH                           = 560, 280
	svgLeft, svgRight, svgTop, svgBottom = 52, 12, 52, 34
)

// Render returns the chart as an <svg> element.
func (c SVG) Render() string {
	var b strings.Builder
	id := html.EscapeString(c.ID)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="chart" role="img" aria-labelledby="%s-title %s-desc" data-chart="%s">`+"\n",
		svgW, svgH, id, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`+"\n", id, esc(c.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`+"\n", id, esc(c.Desc))
	fmt.Fprintf(&b, `<text x="4" y="16" class="chart-title" font-size="14" font-weight="600" fill="#202124">%s</text>`+"\n", esc(c.Title))
	c.legend(&b)

	plotW, plotH := float64(svgW-svgLeft-svgRight), float64(svgH-svgTop-svgBottom)
	top, has := c.top()
	minStep := 0.0
	if c.Kind == StackedBars {
		minStep = 1 // bars count things
	}
	ticks := niceTicks(top, minStep)
	if c.YMax > 0 {
		ticks = niceTicks(c.YMax, minStep)
		if ticks[len(ticks)-1] > c.YMax {
			ticks = fixedTicks(c.YMax)
		}
	}
	yMax := ticks[len(ticks)-1]
	y := func(v float64) float64 { return svgTop + plotH - v/yMax*plotH }

	b.WriteString(`<g class="axis" font-size="11" fill="#5f6368">` + "\n")
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#e0e3e7"/>`+"\n", svgLeft, svgW-svgRight, num(y(t)), num(y(t)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", svgLeft-6, num(y(t)+4), esc(fmtValue(t)+c.Unit))
	}
	n := len(c.Labels)
	slot := plotW / float64(max(n, 1))
	every := (n + 7) / 8 // at most about 8 x labels
	for i, l := range c.Labels {
		if every > 1 && (n-1-i)%every != 0 {
			continue // the newest label is always drawn
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", num(svgLeft+slot*(float64(i)+0.5)), svgH-svgBottom+16, esc(l))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#80868b"/>`+"\n", svgLeft, svgW-svgRight, num(y(0)), num(y(0)))
	b.WriteString("</g>\n")

	if !has && c.Empty != "" {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" font-size="13" fill="#80868b" class="chart-empty">%s</text>`+"\n",
			num(svgLeft+plotW/2), num(svgTop+plotH/2), esc(c.Empty))
	}
	switch c.Kind {
	case StackedBars:
		c.bars(&b, slot, y)
	default:
		c.lines(&b, slot, y)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (c SVG) color(i int) string {
	if c.Series[i].Color != "" {
		return c.Series[i].Color
	}
	return SeriesColors[i%len(SeriesColors)]
}

func (c SVG) legend(b *strings.Builder) {
	b.WriteString(`<g class="legend" font-size="12" fill="#3c4043">` + "\n")
	x := 4.0
	for i, s := range c.Series {
		fmt.Fprintf(b, `<rect x="%s" y="26" width="10" height="10" rx="2" fill="%s"/>`, num(x), esc(c.color(i)))
		fmt.Fprintf(b, `<text x="%s" y="35">%s</text>`+"\n", num(x+14), esc(s.Name))
		x += 14 + textWidth(s.Name) + 14
	}
	b.WriteString("</g>\n")
}

// textWidth estimates a label's width at 12 px: CJK characters are square.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r > 0x2e80 {
			w += 12
		} else {
			w += 7
		}
	}
	return w
}

// top is the largest value to fit (stacked: the tallest stack) and
// whether there is anything to draw (a value; for bars, one above zero).
func (c SVG) top() (float64, bool) {
	top, has := 0.0, false
	for i := range c.Labels {
		stack := 0.0
		for _, s := range c.Series {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
				continue
			}
			if c.Kind == StackedBars {
				has = has || s.Values[i] != 0
				stack += s.Values[i]
			} else {
				has = true
				top = math.Max(top, s.Values[i])
			}
		}
		top = math.Max(top, stack)
	}
	return top, has
}

func (c SVG) bars(b *strings.Builder, slot float64, y func(float64) float64) {
	barW := math.Max(slot*0.6, 2)
	base := make([]float64, len(c.Labels))
	for si, s := range c.Series {
		fmt.Fprintf(b, `<g class="series" data-series="%s" fill="%s">`+"\n", esc(s.Name), esc(c.color(si)))
		for i := range c.Labels {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) || s.Values[i] <= 0 {
				continue
			}
			v := s.Values[i]
			y0, y1 := y(base[i]), y(base[i]+v)
			base[i] += v
			x := svgLeft + slot*float64(i) + (slot-barW)/2
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s %s：%s</title></rect>`+"\n",
				num(x), num(y1), num(barW), num(y0-y1), esc(c.Labels[i]), esc(s.Name), esc(fmtValue(v)+c.Unit))
		}
		b.WriteString("</g>\n")
	}
}

func (c SVG) lines(b *strings.Builder, slot float64, y func(float64) float64) {
	for si, s := range c.Series {
		col := esc(c.color(si))
		fmt.Fprintf(b, `<g class="series" data-series="%s">`+"\n", esc(s.Name))
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(seg, " "))
			}
			seg = seg[:0]
		}
		for i := range c.Labels {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
				flush()
				continue
			}
			seg = append(seg, num(svgLeft+slot*(float64(i)+0.5))+","+num(y(s.Values[i])))
		}
		flush()
		for i := range c.Labels {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
				continue
			}
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s %s：%s</title></circle>`+"\n",
				num(svgLeft+slot*(float64(i)+0.5)), num(y(s.Values[i])), col, esc(c.Labels[i]), esc(s.Name), esc(fmtValue(s.Values[i])+c.Unit))
		}
		b.WriteString("</g>\n")
	}
}

// niceTicks are 0 and about five steps of 1, 2 or 5 × 10^k (at least
// minStep) reaching at least top.
func niceTicks(top, minStep float64) []float64 {
	if top <= 0 {
		top = 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	step = math.Max(step, minStep)
	var out []float64
	for v := 0.0; ; v += step {
		v = math.Round(v/step) * step
		out = append(out, v)
		if v >= top {
			return out
		}
	}
}

// fixedTicks are 0, a quarter, … and top itself (a fixed axis like 100 %).
func fixedTicks(top float64) []float64 {
	return []float64{0, top / 4, top / 2, top * 3 / 4, top}
}

// fmtValue prints at most one decimal.
func fmtValue(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// num prints a coordinate with at most one decimal.
func num(v float64) string { return fmtValue(v) }

func esc(s string) string { return html.EscapeString(s) }
