package chart_test

import (
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/chart"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./chart -update to create it")
	require.Equal(t, string(want), got)
}

// wellFormed parses s as XML.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
	}
}

func TestStackedBarsOfIncidentLevels(t *testing.T) {
	t.Parallel()
	c := chart.SVG{ID: "incidents", Title: "每日事件（按级别）", Desc: "近 14 天每日新增事件，按 I–IV 级堆叠。", Kind: chart.StackedBars,
		Labels: []string{"11-20", "11-21", "11-22", "11-23"},
		Series: []chart.Series{
			{Name: "I 级", Color: chart.LevelColors[0], Values: []float64{1, 0, 0, 2}},
			{Name: "II 级", Color: chart.LevelColors[1], Values: []float64{0, 3, 0, 1}},
			{Name: "III 级", Color: chart.LevelColors[2], Values: []float64{2, 2, 0, 4}},
			{Name: "IV 级", Color: chart.LevelColors[3], Values: []float64{5, 1, 0, 0}},
		}}
	got := c.Render()
	wellFormed(t, got)
	require.Contains(t, got, `<title id="incidents-title">每日事件（按级别）</title>`)
	require.Contains(t, got, `data-series="I 级" fill="#d93025"`)
	require.Contains(t, got, `<title>11-23 III 级：4</title>`)
	require.Equal(t, 9, strings.Count(got, "<rect x=")-4, "one rect per non-zero value, besides the 4 legend keys")
	golden(t, "stacked.svg", got)
}

func TestLinesWithGapsAndAFixedAxis(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	c := chart.SVG{ID: "sla", Title: "工单按时答复率", Desc: "各类工单按时答复的比例。", Kind: chart.Lines, Unit: "%", YMax: 100,
		Labels: []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05"},
		Series: []chart.Series{
			{Name: "技术", Values: []float64{100, 92.5, nan, 80, 85}},
			{Name: "业务 & 公开", Values: []float64{nan, 50, 75, nan, nan}},
		}}
	got := c.Render()
	wellFormed(t, got)
	require.Contains(t, got, `>100%</text>`, "the axis stops at 100 %")
	require.NotContains(t, got, `>120%</text>`)
	require.Contains(t, got, "业务 &amp; 公开", "names are escaped")
	require.Equal(t, 3, strings.Count(got, "<polyline"), "a gap splits the first line; the second has one segment of two points")
	require.Contains(t, got, `<title>2026-02 技术：92.5%</title>`)
	golden(t, "lines.svg", got)
}

func TestEmptyChartSaysSo(t *testing.T) {
	t.Parallel()
	c := chart.SVG{ID: "none", Title: "升级次数", Kind: chart.StackedBars, Labels: []string{"a", "b"}, Empty: "暂无数据",
		Series: []chart.Series{{Name: "升级", Values: []float64{0, 0}}}}
	got := c.Render()
	wellFormed(t, got)
	require.Contains(t, got, "暂无数据")
	require.Contains(t, got, `>1</text>`, "an empty axis still has ticks")
}

func TestNiceTicksReachTheTop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		top  float64
		want string
	}{{7, ">8</text>"}, {23, ">25</text>"}, {140, ">150</text>"}, {0.4, ">0.4</text>"}} {
		got := chart.SVG{ID: "x", Kind: chart.Lines, Labels: []string{"a"}, Series: []chart.Series{{Name: "s", Values: []float64{tc.top}}}}.Render()
		require.Contains(t, got, tc.want, "top %v", tc.top)
	}
}
