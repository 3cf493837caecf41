package console

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// testSheet is a report of two sections with every kind of cell.
func testSheet() sheet {
	cst := time.FixedZone("CST", 8*3600)
	return sheet{Name: "工单SLA-2026-11", Sections: []section{
		{ID: "summary", Title: "概要", Columns: []column{{"项目", 24}, {"数值", 28}},
			Rows: [][]cell{{text("受理"), count(3)}, {text("按时率"), percent(1, 4)}, {text("中位数"), duration(43*time.Hour + 5*time.Minute)}}},
		{ID: "tickets", Title: "工单明细：[11/2026]", Columns: []column{{"编号", 8}, {"受理时间", 17}},
			Rows: [][]cell{{text("#1"), at(time.Date(2026, 11, 24, 10, 0, 0, 0, cst))}, {text("#2"), atP(nil)}}},
	}}
}

// TestWriteXLSX: a sheet per section named by its title (Excel's
// forbidden characters replaced), a frozen bold header row, column widths,
// counts as numbers, dates in the console's zone formatted as dates,
// durations as [h]:mm, shares as percentages.
func TestWriteXLSX(t *testing.T) {
	t.Parallel()
	body, err := writeXLSX(testSheet(), time.FixedZone("CST", 8*3600))
	require.NoError(t, err)
	f, err := excelize.OpenReader(bytes.NewReader(body))
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"概要", "工单明细：_11_2026_"}, f.GetSheetList())
	rows, err := f.GetRows("概要")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"项目", "数值"}, {"受理", "3"}, {"按时率", "25.0%"}, {"中位数", "43:05"}}, rows)
	typ, err := f.GetCellType("概要", "B2")
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeSharedString, typ, "a count is a number")
	raw, err := f.GetCellValue("概要", "B4", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(raw, "1.795138"), "43 h 05 m as a fraction of days: %s", raw)
	rows, err = f.GetRows("工单明细：_11_2026_")
	require.NoError(t, err)
	require.Equal(t, []string{"#1", "2026-11-24 10:00"}, rows[1], "the wall clock of the console's zone")
	panes, err := f.GetPanes("概要")
	require.NoError(t, err)
	require.True(t, panes.Freeze)
	require.Equal(t, 1, panes.YSplit)
	w, err := f.GetColWidth("工单明细：_11_2026_", "B")
	require.NoError(t, err)
	require.Equal(t, 17.0, w)
	style, err := f.GetCellStyle("概要", "A1")
	require.NoError(t, err)
	st, err := f.GetStyle(style)
	require.NoError(t, err)
	require.True(t, st.Font.Bold, "a bold header")
}

// TestWriteCSV: a BOM, then each section under its title row with its
// header, a blank line between sections; values as the page shows them.
func TestWriteCSV(t *testing.T) {
	t.Parallel()
	body, err := writeCSV(testSheet(), time.FixedZone("CST", 8*3600))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(body, []byte("\ufeff")))
	require.Contains(t, string(body), "\r\n\r\n工单明细", "a blank line before a section")
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"概要"}, {"项目", "数值"}, {"受理", "3"}, {"按时率", "25.0%"}, {"中位数", "43:05"},
		{"工单明细：[11/2026]"}, {"编号", "受理时间"}, {"#1", "2026-11-24 10:00"}, {"#2", ""}}, recs)
}
