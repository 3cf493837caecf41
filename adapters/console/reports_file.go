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
// numbers with their formats. Each sheet is written with excelize's
// stream writer, row after row: a month of tickets is tens of thousands
// of cells, and setting them one by one on the sheet model cost most of
// the download.
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
		if err := writeSection(f, name, sec, head, styles, loc); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSection streams one section into sheet name: widths and the
// frozen pane first (the stream writer wants them before any row), then
// the header row and the rows.
func writeSection(f *excelize.File, name string, sec section, head int, styles map[cellKind]int, loc *time.Location) error {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for c, col := range sec.Columns {
		if err := sw.SetColWidth(c+1, c+1, col.Width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	values := make([]any, 0, len(sec.Columns))
	for _, col := range sec.Columns {
		values = append(values, excelize.Cell{StyleID: head, Value: col.Head})
	}
	if len(values) > 0 {
		if err := sw.SetRow("A1", values); err != nil {
			return err
		}
	}
	for ri, row := range sec.Rows {
		values = values[:0]
		for _, c := range row {
			values = append(values, cellValue(c, loc, styles))
		}
		ref, _ := excelize.CoordinatesToCellName(1, ri+2)
		if err := sw.SetRow(ref, values); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cellValue is one typed cell as the stream writer takes it (nil: none).
func cellValue(c cell, loc *time.Location, styles map[cellKind]int) any {
	switch c.kind {
	case cellInt:
		return int64(c.n)
	case cellTime:
		if c.t.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: styles[cellTime], Value: excelTime(c.t, loc)}
	case cellDuration: // a fraction of a day, shown [h]:mm
		return excelize.Cell{StyleID: styles[cellDuration], Value: c.d.Hours() / 24}
	case cellPercent:
		return excelize.Cell{StyleID: styles[cellPercent], Value: c.n}
	}
	return c.s
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
