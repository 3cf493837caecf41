package chart_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/chart"
)

// zhLabels are the zh labels of bot/catalog_digest.go (keep them alike: the
// font is cut to the catalog's runes; bot.TestDigestChartLabelsInFont checks it).
var zhLabels = chart.Labels{Bars: "每日新增事件（起）", Line: "工单按时答复率（%）", Days: "日期"}

// TestFontCoversASCIIAndDigits: the embedded subset draws every printable
// ASCII character (dates, ticks, English labels) and reports a rune it lacks.
func TestFontCoversASCIIAndDigits(t *testing.T) {
	t.Parallel()
	for r := rune(0x20); r < 0x7f; r++ {
		require.Empty(t, chart.Missing(string(r)), "ASCII %q", r)
	}
	require.Equal(t, []rune{'鬱'}, chart.Missing("事件鬱a"), "a rune outside the subset is reported")
}

// TestRenderZhLabels: a chart with Chinese labels is a PNG of the chart's
// size whose legend and x axis title are drawn in text pixels, and differ from
// the same chart with English labels.
func TestRenderZhLabels(t *testing.T) {
	t.Parallel()
	for _, s := range []string{zhLabels.Bars, zhLabels.Line, zhLabels.Days} {
		require.Empty(t, chart.Missing(s), "the font lacks runes of %q: run `make chart-font`", s)
	}
	pts := []chart.Point{{Label: "11-28", Bars: 1, Line: -1}, {Label: "11-29", Bars: 3, Line: 80}}
	zh, err := chart.Render(pts, zhLabels)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(zh))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, chart.Width, chart.Height), img.Bounds())
	if dir := os.Getenv("CHART_PNG_DIR"); dir != "" { // to look at it
		require.NoError(t, os.WriteFile(filepath.Join(dir, "zh.png"), zh, 0o644))
	}

	lb, ll, ld := chart.LegendBoxes(zhLabels)
	for name, r := range map[string]image.Rectangle{"bars legend": lb, "line legend": ll, "x axis title": ld} {
		require.Greater(t, inked(img, r), r.Dx()*2, "%s drawn in %v", name, r)
	}
	require.Greater(t, lb.Dx(), 8*12, "nine wide runes at 13px are wider than 96px")

	en, err := chart.Render(pts, chart.Labels{Bars: "incidents / day", Line: "ticket SLA % (answered in time)", Days: "date"})
	require.NoError(t, err)
	require.NotEqual(t, zh, en)
}

// inked counts the text-coloured (dark, not background, bar or line) pixels in r.
func inked(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 < 160 && cg>>8 < 160 && cb>>8 < 170 {
				n++
			}
		}
	}
	return n
}
