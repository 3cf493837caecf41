package chart_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/chart"
)

func TestRenderIsAPNGWithBarsAndLine(t *testing.T) {
	t.Parallel()
	pts := make([]chart.Point, 14)
	for i := range pts {
		pts[i] = chart.Point{Label: "11-" + string(rune('1'+i%9)), Bars: i % 4, Line: -1}
	}
	pts[13] = chart.Point{Label: "11-24", Bars: 7, Line: 50}
	pts[12].Line = 100
	b, err := chart.Render(pts, chart.Labels{Bars: "incidents / day", Line: "ticket SLA % (answered in time)", Days: "date"})
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, chart.Width, img.Bounds().Dx())
	require.Equal(t, chart.Height, img.Bounds().Dy())
	// The tallest bar (7 of 10 ticks) reaches well up the plot in bar blue.
	colors := map[[3]uint32]int{}
	for y := 0; y < chart.Height; y++ {
		for x := 0; x < chart.Width; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	require.Greater(t, colors[[3]uint32{64, 128, 224}], 2000, "bars drawn")
	require.Greater(t, colors[[3]uint32{232, 120, 32}], 50, "SLA line drawn")
	empty, err := chart.Render(nil, chart.Labels{})
	require.NoError(t, err)
	require.NotEmpty(t, empty)
}
