// Package chart draws charts in pure Go: the digest's 14-day chart as a
// PNG (incidents per day as bars on the left axis, ticket SLA compliance as
// a line on the right, 0-100 %; ASCII labels, so no font file is needed),
// and the console's trend charts as SVG (svg.go: line and stacked bar
// charts whose Chinese labels are drawn by the browser's own fonts).
package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Point is one day.
type Point struct {
	Label string // e.g. "11-24"
	Bars  int    // incidents opened
	Line  int    // SLA %, -1 for no value
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
	left, right, top, bottom = 48, 56, 36, 40
)

// Render draws points as a PNG.
func Render(points []Point) ([]byte, error) {
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
		label(img, left-6-7*len(strconv.Itoa(v)), y+4, strconv.Itoa(v), text)
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
			label(img, cx-len(s)*7/2, top+plotH-h-4, s, text)
		}
		if i%2 == (len(points)-1)%2 { // every other date, always the last
			label(img, cx-len(p.Label)*7/2, Height-bottom+16, p.Label, text)
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
	// Legend.
	draw.Draw(img, image.Rect(left, 12, left+12, 24), &image.Uniform{bar}, image.Point{}, draw.Src)
	label(img, left+18, 22, "incidents / day", text)
	segment(img, image.Point{left + 150, 18}, image.Point{left + 166, 18}, line)
	label(img, left+172, 22, "ticket SLA % (answered in time)", text)

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

func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
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
