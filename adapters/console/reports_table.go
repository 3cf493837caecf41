package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/problem"
	"opsbot/core/report"
	"opsbot/core/ticket"
)

// A report is shown, saved as XLSX and as CSV from one model: its
// sections, each a table with typed cells. The page shows each section as
// a table, the XLSX has a sheet per section, the CSV has every section in
// turn under a title row, separated by a blank line.

// cellKind is how a cell is typed in the XLSX and shown on the page.
type cellKind int

const (
	cellText     cellKind = iota
	cellInt               // a count
	cellTime              // a date and time, in the console's zone
	cellDuration          // a working or elapsed time, shown h:mm
	cellPercent           // a share, 0–1
)

// cell is one value of a section.
type cell struct {
	kind cellKind
	s    string
	n    float64
	t    time.Time
	d    time.Duration
}

// Cell constructors: text, a count, a duration, a date and time, yes/no
// and a catalog label.
func text(s string) cell            { return cell{kind: cellText, s: s} }
func count(n int) cell              { return cell{kind: cellInt, n: float64(n)} }
func duration(d time.Duration) cell { return cell{kind: cellDuration, d: d} }
func at(t time.Time) cell           { return cell{kind: cellTime, t: t} }
func yesNo(r *Request, ok bool) cell {
	return text(map[bool]string{true: r.T("console.reports.yes"), false: r.T("console.reports.no")}[ok])
}
func label(r *Request, key string) cell { return text(r.T(key)) }

// percent is part of whole as a share ("-" for a whole of none).
func percent(part, whole int) cell {
	if whole == 0 {
		return text("-")
	}
	return cell{kind: cellPercent, n: float64(part) / float64(whole)}
}

// atP is at of a time that may be missing ("" when nil).
func atP(t *time.Time) cell {
	if t == nil {
		return text("")
	}
	return at(*t)
}

// hmm is d as h:mm ("43:05"); "-" for none.
func hmm(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	m := int(d.Round(time.Minute) / time.Minute)
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

// Text is the cell as the page and the CSV show it.
func (c cell) Text(loc *time.Location) string {
	switch c.kind {
	case cellInt:
		return strconv.FormatFloat(c.n, 'f', -1, 64)
	case cellTime:
		if c.t.IsZero() {
			return ""
		}
		return c.t.In(loc).Format("2006-01-02 15:04")
	case cellDuration:
		return hmm(c.d)
	case cellPercent:
		return strconv.FormatFloat(c.n*100, 'f', 1, 64) + "%"
	}
	return c.s
}

// Numeric reports whether the page aligns the cell right.
func (c cell) Numeric() bool { return c.kind != cellText }

// column is a section's column: its header and width in characters.
type column struct {
	Head  string
	Width float64
}

// section is one table of a report.
type section struct {
	// ID names the section in the page (an element id) and in tests.
	ID      string
	Title   string
	Columns []column
	Rows    [][]cell
}

// sheet is a report ready to show or save.
type sheet struct {
	Kind     string // incidents | inspections | backups | tickets | approvals
	Title    string // "2026-11 事件分析（dongcheng）"
	Name     string // the file name without extension
	Sections []section
}

func cols(r *Request, spec ...any) []column {
	var out []column
	for i := 0; i+1 < len(spec); i += 2 {
		out = append(out, column{Head: r.T(spec[i].(string)), Width: float64(spec[i+1].(int))})
	}
	return out
}

// summary is the two-column section of named values that starts every
// report: the period (periodKey names it) and the scope, then rows.
func summary(r *Request, periodKey, period string, rows ...[]cell) section {
	head := [][]cell{row(r, periodKey, text(period)), row(r, "report.scope", text(scopeText(r)))}
	return section{ID: "summary", Title: r.T("console.reports.summary"),
		Columns: cols(r, "console.reports.col.item", 24, "console.reports.col.value", 28), Rows: append(head, rows...)}
}

func row(r *Request, key string, c cell) []cell { return []cell{label(r, key), c} }

// countRows turns counts by name into rows, most first.
func countRows(m map[string]int, name func(string) string) [][]cell {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return m[keys[a]] > m[keys[b]] || (m[keys[a]] == m[keys[b]] && keys[a] < keys[b]) })
	out := make([][]cell, len(keys))
	for i, k := range keys {
		out[i] = []cell{text(name(k)), count(m[k])}
	}
	return out
}

// scopeText names what a report counts (report.Scope): the city, the
// top units of the (narrowed) view by name, or the user's own items.
func scopeText(r *Request) string {
	units, own := report.Scope(r.View)
	switch {
	case own != "":
		return r.T("report.scope_own", "user", own)
	case units == nil:
		return r.T("console.scope." + r.View.Basis)
	}
	names := make([]string, len(units))
	for i, u := range units {
		names[i] = r.UnitName(u)
	}
	return strings.Join(names, "、")
}

// incidentSheet is the monthly incident analysis (W 8.5 d), the numbers
// of /report incidents.
func incidentSheet(r *Request, rep problem.Report) sheet {
	levels := map[string]int{}
	for l, n := range rep.ByLevel {
		levels[strconv.Itoa(l)] = n
	}
	levelRows := countRows(levels, func(k string) string { return r.T("level.n" + k) })
	sort.Slice(levelRows, func(a, b int) bool { return levelRows[a][0].s < levelRows[b][0].s })
	repeats := section{ID: "repeats", Title: r.T("report.repeats"),
		Columns: cols(r, "console.reports.col.problem", 8, "console.reports.col.title", 36, "console.reports.col.state", 10,
			"console.reports.col.incidents", 10, "console.reports.col.ids", 30)}
	for _, d := range rep.Repeats {
		var ids []string
		for _, i := range d.Incidents {
			ids = append(ids, "#"+strconv.FormatInt(i.ID, 10))
		}
		repeats.Rows = append(repeats.Rows, []cell{text("#" + strconv.FormatInt(d.Problem.ID, 10)), text(d.Problem.Title),
			label(r, "pstate."+d.Problem.State), count(len(d.Incidents)), text(strings.Join(ids, " "))})
	}
	return sheet{Kind: "incidents", Sections: []section{
		summary(r, "console.reports.month", rep.Month,
			row(r, "report.total", count(rep.Total)),
			row(r, "console.reports.open", count(rep.Open)),
			row(r, "console.reports.acked", count(rep.Acked)),
			row(r, "console.reports.resolved", count(rep.Resolved)),
			row(r, "report.escalations", count(rep.Escalations)),
			row(r, "console.reports.mtta", duration(rep.MTTA)),
			row(r, "console.reports.mttr", duration(rep.MTTR)),
		),
		{ID: "by_level", Title: r.T("report.by_level"), Columns: cols(r, "console.reports.col.level", 20, "console.reports.col.count", 10), Rows: levelRows},
		{ID: "by_unit", Title: r.T("report.by_unit"), Columns: cols(r, "console.reports.col.code", 14, "console.reports.col.unit", 24,
			"console.reports.col.count", 10), Rows: unitRows(r, rep.ByUnit)},
		{ID: "by_system", Title: r.T("report.by_system"), Columns: cols(r, "console.reports.col.system", 24, "console.reports.col.count", 10),
			Rows: countRows(rep.BySystem, func(k string) string { return k })},
		repeats,
	}}
}

// unitRows are counts by unit code ("-": none) with the units' names,
// most first.
func unitRows(r *Request, m map[string]int) [][]cell {
	rows := countRows(m, func(k string) string { return k })
	for i, row := range rows {
		name := "-"
		if code := row[0].s; code != "-" {
			name = r.UnitName(code)
		}
		rows[i] = []cell{row[0], text(name), row[1]}
	}
	return rows
}

// inspectionSheet is the inspections of a month or quarter (W 6).
func inspectionSheet(r *Request, period string, sums []inspect.PlanSummary) sheet {
	var runs, done, missed, issues int
	plans := section{ID: "plans", Title: r.T("console.reports.plans"),
		Columns: cols(r, "console.reports.col.plan", 20, "console.reports.col.runs", 10, "console.reports.col.done", 10,
			"console.reports.col.missed", 10, "console.reports.col.pending", 10, "console.reports.col.issues", 10, "console.reports.col.rate", 10)}
	items := section{ID: "issues", Title: r.T("console.reports.issue_items"),
		Columns: cols(r, "console.reports.col.plan", 20, "console.reports.col.issue", 48)}
	for _, s := range sums {
		runs, done, missed, issues = runs+s.Runs, done+s.Done, missed+s.Missed, issues+s.Issues
		plans.Rows = append(plans.Rows, []cell{text(s.Plan), count(s.Runs), count(s.Done), count(s.Missed), count(s.Pending), count(s.Issues),
			percent(s.Done, s.Runs)})
		for _, it := range s.IssueItems {
			items.Rows = append(items.Rows, []cell{text(s.Plan), text(it)})
		}
	}
	return sheet{Kind: "inspections", Sections: []section{
		summary(r, "console.reports.period", period,
			row(r, "console.reports.col.runs", count(runs)),
			row(r, "console.reports.col.done", count(done)),
			row(r, "console.reports.col.missed", count(missed)),
			row(r, "console.reports.col.issues", count(issues)),
			row(r, "console.reports.col.rate", percent(done, runs)),
		), plans, items,
	}}
}

// backupSheet is the backup audit of a month (W 8.4.4).
func backupSheet(r *Request, a backup.AuditMonth) sheet {
	state := "console.reports.audit_made"
	switch {
	case a.Draft:
		state = "console.reports.audit_draft"
	case a.SignedBy != "":
		state = "console.reports.audit_signed"
	}
	systems := section{ID: "systems", Title: r.T("console.reports.systems"),
		Columns: cols(r, "console.reports.col.system", 18, "console.reports.col.expected", 10, "console.reports.col.reported", 10,
			"console.reports.col.failed", 10, "console.reports.col.missing", 10, "console.reports.col.full", 10,
			"console.reports.col.full_missing", 12, "console.reports.col.verified", 12)}
	for _, s := range a.Systems {
		systems.Rows = append(systems.Rows, []cell{text(s.System), count(s.Expected), count(s.Reported), count(s.Failed), count(s.Missing),
			count(s.Full), count(s.FullMissing), yesNo(r, s.Verified)})
	}
	made := at(a.CreatedAt)
	if a.Draft {
		made = text("")
	}
	return sheet{Kind: "backups", Sections: []section{
		summary(r, "console.reports.month", a.Month,
			row(r, "console.reports.audit_state", label(r, state)),
			row(r, "console.reports.audit_at", made),
			row(r, "console.reports.signed_by", text(a.SignedBy)),
			row(r, "console.reports.signed_at", atP(a.SignedAt)),
		), systems,
	}}
}

// ticketSheet is the tickets/SLA month (M 6.2).
func ticketSheet(r *Request, m ticket.SLAMonth) sheet {
	kinds := section{ID: "kinds", Title: r.T("console.reports.by_kind"),
		Columns: cols(r, "console.reports.col.kind", 14, "console.reports.col.opened", 10, "console.reports.col.answered", 10,
			"console.reports.col.closed", 10, "console.reports.col.in_sla", 12, "console.reports.col.sla_rate", 10,
			"console.reports.col.overdue", 10, "console.reports.col.median_answer", 18)}
	line := func(name string, k ticket.KindMonth) []cell {
		return []cell{text(name), count(k.Opened), count(k.Answered), count(k.Closed), count(k.InSLA), percent(k.InSLA, k.Answered),
			count(k.Overdue), duration(k.MedianAnswer)}
	}
	for _, k := range m.Kinds {
		kinds.Rows = append(kinds.Rows, line(r.T("tkind."+k.Kind), k))
	}
	kinds.Rows = append(kinds.Rows, line(r.T("console.reports.total"), m.Total))
	list := section{ID: "tickets", Title: r.T("console.reports.tickets"),
		Columns: cols(r, "console.reports.col.id", 8, "console.reports.col.kind", 12, "console.reports.col.title", 30, "console.reports.col.unit", 16,
			"console.reports.col.state", 12, "console.reports.col.opened_at", 17, "console.reports.col.due", 17, "console.reports.col.answered_at", 17,
			"console.reports.col.answer_time", 14, "console.reports.col.in_sla", 10)}
	for _, t := range m.Tickets {
		sla := text("")
		if t.AnsweredAt != nil {
			sla = yesNo(r, t.InSLA)
		} else if t.Late {
			sla = label(r, "console.reports.overdue")
		}
		answer := text("")
		if t.AnsweredAt != nil {
			answer = duration(t.AnswerTime)
		}
		list.Rows = append(list.Rows, []cell{text("#" + strconv.FormatInt(t.ID, 10)), label(r, "tkind."+t.Kind), text(t.Title),
			text(r.UnitName(t.Unit)), text(ticketState(r, t.State)), at(t.CreatedAt), at(t.DueAt), atP(t.AnsweredAt), answer, sla})
	}
	return sheet{Kind: "tickets", Sections: []section{
		summary(r, "console.reports.month", m.Month,
			row(r, "console.reports.col.opened", count(m.Total.Opened)),
			row(r, "console.reports.col.answered", count(m.Total.Answered)),
			row(r, "console.reports.col.in_sla", count(m.Total.InSLA)),
			row(r, "console.reports.col.sla_rate", percent(m.Total.InSLA, m.Total.Answered)),
			row(r, "console.reports.col.overdue", count(m.Total.Overdue)),
			row(r, "console.reports.col.median_answer", duration(m.Total.MedianAnswer)),
		), kinds, list,
	}}
}

// ticketState names a ticket state ("open" has no chat label).
func ticketState(r *Request, s string) string {
	if s == "open" {
		return r.T("console.reports.open_ticket")
	}
	return r.T("tstate." + s)
}

// approvalSheet is the approvals month.
func approvalSheet(r *Request, m approval.Month) sheet {
	kinds := section{ID: "kinds", Title: r.T("console.reports.by_kind"),
		Columns: cols(r, "console.reports.col.kind", 14, "console.reports.col.requested", 10, "console.reports.col.done", 10,
			"console.reports.col.rejected", 10, "console.reports.col.cancelled", 10, "console.reports.col.expired", 10,
			"console.reports.col.waiting", 10, "console.reports.col.decisions", 10, "console.reports.col.mean_decision", 16,
			"console.reports.col.median_decision", 16)}
	line := func(name string, k approval.KindMonth) []cell {
		return []cell{text(name), count(k.Requested), count(k.Done), count(k.Rejected), count(k.Cancelled), count(k.Expired), count(k.Pending),
			count(k.Decisions), duration(k.MeanDecision), duration(k.MedianDecision)}
	}
	for _, k := range m.Kinds {
		kinds.Rows = append(kinds.Rows, line(r.T("kind."+string(k.Kind)), k))
	}
	kinds.Rows = append(kinds.Rows, line(r.T("console.reports.total"), m.Total))
	pending := section{ID: "pending", Title: r.T("console.reports.pending"),
		Columns: cols(r, "console.reports.col.id", 8, "console.reports.col.kind", 12, "console.reports.col.title", 30, "console.reports.col.unit", 16,
			"console.reports.col.requester", 12, "console.reports.col.submitted", 17, "console.reports.col.waited", 14)}
	for _, w := range m.Pending {
		pending.Rows = append(pending.Rows, []cell{text("#" + strconv.FormatInt(w.ID, 10)), label(r, "kind."+string(w.Kind)), text(w.Title),
			text(r.UnitName(w.Unit)), text(w.Requester), at(w.CreatedAt), duration(w.Waited)})
	}
	list := section{ID: "requests", Title: r.T("console.reports.requests"),
		Columns: cols(r, "console.reports.col.id", 8, "console.reports.col.kind", 12, "console.reports.col.title", 30, "console.reports.col.unit", 16,
			"console.reports.col.requester", 12, "console.reports.col.state", 10, "console.reports.col.submitted", 17,
			"console.reports.col.decisions", 10, "console.reports.col.decision_time", 14)}
	for _, q := range m.Requests {
		list.Rows = append(list.Rows, []cell{text("#" + strconv.FormatInt(q.ID, 10)), label(r, "kind."+string(q.Kind)), text(q.Title),
			text(r.UnitName(q.Unit)), text(q.Requester), label(r, "state."+string(q.State)), at(q.CreatedAt), count(q.Decisions),
			duration(q.DecisionTime)})
	}
	return sheet{Kind: "approvals", Sections: []section{
		summary(r, "console.reports.month", m.Month,
			row(r, "console.reports.col.requested", count(m.Total.Requested)),
			row(r, "console.reports.col.done", count(m.Total.Done)),
			row(r, "console.reports.col.rejected", count(m.Total.Rejected)),
			row(r, "console.reports.col.waiting", count(m.Total.Pending)),
			row(r, "console.reports.col.mean_decision", duration(m.Total.MeanDecision)),
			row(r, "console.reports.col.median_decision", duration(m.Total.MedianDecision)),
		), kinds, pending, list,
	}}
}
