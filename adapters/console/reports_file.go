package console

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"
)

// Content types of the downloads.
const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvType  = "text/csv; charset=utf-8"
)

// utf8BOM starts every CSV, so Excel opens the Chinese correctly.
const utf8BOM = "\ufeff"

// Number formats of the XLSX cells.
const (
	fmtTime     = "yyyy-mm-dd hh:mm"
	fmtDuration = "[h]:mm"
	fmtPercent  = "0.0%"
)

// excelTime is t's wall clock in loc as a zone-less time, which excelize
// stores as the serial Excel shows (Excel has no time zones).
func excelTime(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// sheetName is a section title cut to Excel's 31 characters, without the
// characters Excel refuses.
func sheetName(title string, used map[string]bool) string {
	r := []rune(title)
	for i, c := range r {
		switch c {
		case ':', '\\', '/', '?', '*', '[', ']':
			r[i] = '_'
		}
	}
	if len(r) > 31 {
		r = r[:31]
	}
	name := string(r)
	for n := 2; used[name]; n++ {
		name = fmt.Sprintf("%s %d", string(r[:min(len(r), 28)]), n)
	}
	used[name] = true
	return name
}

// writeXLSX saves a report as a workbook: one sheet per section, a bold
// frozen header row, column widths, dates, durations and shares as
// numbers with their formats.
func writeXLSX(s sheet, loc *time.Location) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E4EDF9"}},
		Alignment: &excelize.Alignment{Vertical: "center"}})
	if err != nil {
		return nil, err
	}
	styles := map[cellKind]int{}
	for kind, code := range map[cellKind]string{cellTime: fmtTime, cellDuration: fmtDuration, cellPercent: fmtPercent} {
		format := code
		if styles[kind], err = f.NewStyle(&excelize.Style{CustomNumFmt: &format}); err != nil {
			return nil, err
		}
	}
	used := map[string]bool{}
	for i, sec := range s.Sections {
		name := sheetName(sec.Title, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		for c, col := range sec.Columns {
			ref, _ := excelize.CoordinatesToCellName(c+1, 1)
			if err := f.SetCellStr(name, ref, col.Head); err != nil {
				return nil, err
			}
			letter, _ := excelize.ColumnNumberToName(c + 1)
			if err := f.SetColWidth(name, letter, letter, col.Width); err != nil {
				return nil, err
			}
		}
		if len(sec.Columns) > 0 {
			last, _ := excelize.CoordinatesToCellName(len(sec.Columns), 1)
			if err := f.SetCellStyle(name, "A1", last, head); err != nil {
				return nil, err
			}
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
		for ri, row := range sec.Rows {
			for ci, c := range row {
				ref, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
				if err := setCell(f, name, ref, c, loc, styles); err != nil {
					return nil, err
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// setCell writes one typed cell.
func setCell(f *excelize.File, sheet, ref string, c cell, loc *time.Location, styles map[cellKind]int) error {
	switch c.kind {
	case cellInt:
		return f.SetCellInt(sheet, ref, int64(c.n))
	case cellTime:
		if c.t.IsZero() {
			return nil
		}
		if err := f.SetCellValue(sheet, ref, excelTime(c.t, loc)); err != nil {
			return err
		}
	case cellDuration:
		if err := f.SetCellFloat(sheet, ref, c.d.Hours()/24, -1, 64); err != nil { // a fraction of a day, shown [h]:mm
			return err
		}
	case cellPercent:
		if err := f.SetCellFloat(sheet, ref, c.n, -1, 64); err != nil {
			return err
		}
	default:
		return f.SetCellStr(sheet, ref, c.s)
	}
	return f.SetCellStyle(sheet, ref, ref, styles[c.kind])
}

// writeCSV saves a report as one CSV, UTF-8 with a BOM: every section in
// turn, a title row (the section's title) then its header row and rows,
// with a blank line between sections.
func writeCSV(s sheet, loc *time.Location) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(utf8BOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	for i, sec := range s.Sections {
		if i > 0 {
			w.Flush()
			buf.WriteString("\r\n")
		}
		if err := w.Write([]string{sec.Title}); err != nil {
			return nil, err
		}
		heads := make([]string, len(sec.Columns))
		for c, col := range sec.Columns {
			heads[c] = col.Head
		}
		if err := w.Write(heads); err != nil {
			return nil, err
		}
		for _, row := range sec.Rows {
			rec := make([]string, len(row))
			for c, v := range row {
				rec[c] = v.Text(loc)
			}
			if err := w.Write(rec); err != nil {
				return nil, err
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
