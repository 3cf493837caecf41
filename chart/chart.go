// Package chart draws charts in pure Go: the digest's 14-day chart as a
// PNG (incidents per day as bars on the left axis, ticket SLA compliance as
// a line on the right, 0-100 %), its text drawn with an embedded subset of
// Noto Sans CJK SC (font.go) so that Chinese legends render anywhere, and
// the console's trend charts as SVG (svg.go: line and stacked bar charts
// whose Chinese labels are drawn by the browser's own fonts).
package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// Point is one day.
type Point struct {
	Label string // e.g. "11-24"
	Bars  int    // incidents opened
	Line  int    // SLA %, -1 for no value
}

// Labels are the chart's texts in the reader's language; every rune must be
// in the embedded font (Missing; `make chart-font` regenerates it).
type Labels struct {
	Bars string // legend of the bars, e.g. "每日新增事件（起）"
	Line string // legend of the line, e.g. "工单按时答复率"
	Days string // title of the x axis, e.g. "日期"
}

// Size of the image.
const (
	Width  = 760
	Height = 320
)

var (
	white = color.RGBA{255, 255, 255, 255}
	grid  = color.RGBA{228, 231, 236, 255}
	axis  = color.RGBA{120, 126, 136, 255}
	text  = color.RGBA{50, 55, 65, 255}
	bar   = color.RGBA{64, 128, 224, 255}
	line  = color.RGBA{232, 120, 32, 255}
)

const (
	left, right, top, bottom = 48, 56, 36, 52
)

// Render draws points as a PNG with the labels.
func Render(points []Point, labels Labels) ([]byte, error) {
	face, err := newFace()
	if err != nil {
		return nil, err
	}
	defer face.Close()
	label := func(img *image.RGBA, x, y int, s string, c color.Color) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	width := func(s string) int { return font.MeasureString(face, s).Ceil() }
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	plotW, plotH := Width-left-right, Height-top-bottom
	maxBars := 1
	for _, p := range points {
		maxBars = max(maxBars, p.Bars)
	}
	step := niceStep(maxBars + 1)
	maxBars = ((maxBars + step) / step) * step // headroom above the tallest bar for its label

	// Grid and left axis ticks.
	for v := 0; v <= maxBars; v += step {
		y := top + plotH - v*plotH/maxBars
		hline(img, left, left+plotW, y, grid)
		label(img, left-6-width(strconv.Itoa(v)), y+4, strconv.Itoa(v), text)
	}
	// Right axis: 0, 50, 100 %.
	for _, pct := range []int{0, 50, 100} {
		y := top + plotH - pct*plotH/100
		label(img, left+plotW+6, y+4, strconv.Itoa(pct)+"%", line)
	}
	vline(img, left, top, top+plotH, axis)
	vline(img, left+plotW, top, top+plotH, axis)
	hline(img, left, left+plotW, top+plotH, axis)

	n := max(len(points), 1)
	slot := plotW / n
	barW := max(slot*3/5, 2)
	var prev *image.Point
	for i, p := range points {
		cx := left + i*slot + slot/2
		if p.Bars > 0 {
			h := p.Bars * plotH / maxBars
			draw.Draw(img, image.Rect(cx-barW/2, top+plotH-h, cx+barW/2, top+plotH), &image.Uniform{bar}, image.Point{}, draw.Src)
			s := strconv.Itoa(p.Bars)
			label(img, cx-width(s)/2, top+plotH-h-4, s, text)
		}
		if i%2 == (len(points)-1)%2 { // every other date, always the last
			label(img, cx-width(p.Label)/2, top+plotH+16, p.Label, text)
		}
		if p.Line >= 0 {
			pt := image.Point{cx, top + plotH - min(p.Line, 100)*plotH/100}
			dot(img, pt, line)
			if prev != nil {
				segment(img, *prev, pt, line)
			}
			prev = &pt
		} else {
			prev = nil
		}
	}
	// Legend and x axis title.
	lb, ll, ld := legendBoxes(labels, width)
	draw.Draw(img, image.Rect(left, 12, left+12, 24), &image.Uniform{bar}, image.Point{}, draw.Src)
	label(img, lb.Min.X, lb.Max.Y-4, labels.Bars, text)
	segment(img, image.Point{ll.Min.X - 22, 18}, image.Point{ll.Min.X - 6, 18}, line)
	label(img, ll.Min.X, ll.Max.Y-4, labels.Line, text)
	label(img, ld.Min.X, ld.Max.Y-4, labels.Days, axis)

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// niceStep picks a tick step giving at most about 5 ticks.
func niceStep(maxV int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		if maxV/s <= 5 {
			return s
		}
	}
	return maxV / 5
}

// legendBoxes places the labels' texts, given their width: the bars' and
// the line's legend on top, the x axis title centred at the bottom. Each box
// runs from the text's top to 4 pixels under its baseline.
func legendBoxes(l Labels, width func(string) int) (bars, line, days image.Rectangle) {
	bars = image.Rect(left+18, 8, left+18+width(l.Bars), 26)
	line = image.Rect(bars.Max.X+46, 8, bars.Max.X+46+width(l.Line), 26)
	w := width(l.Days)
	days = image.Rect(left+(Width-left-right-w)/2, Height-20, left+(Width-left-right+w)/2, Height-2)
	return bars, line, days
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

func dot(img *image.RGBA, p image.Point, c color.RGBA) {
	draw.Draw(img, image.Rect(p.X-3, p.Y-3, p.X+4, p.Y+4), &image.Uniform{c}, image.Point{}, draw.Src)
}

// segment draws a 2-pixel line from a to b (Bresenham).
func segment(img *image.RGBA, a, b image.Point, c color.RGBA) {
	dx, dy := abs(b.X-a.X), -abs(b.Y-a.Y)
	sx, sy := sign(b.X-a.X), sign(b.Y-a.Y)
	e := dx + dy
	x, y := a.X, a.Y
	for {
		img.SetRGBA(x, y, c)
		img.SetRGBA(x, y+1, c)
		if x == b.X && y == b.Y {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x += sx
		}
		if e2 <= dx {
			e += dx
			y += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
