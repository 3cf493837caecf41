package console

import (
	"context"
	"slices"
	"strings"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// Reports are the periodic reports of a view (report.Service), as the
// chat's /report commands and /api/v1/reports read them.
type Reports interface {
	Incidents(ctx context.Context, actor core.Actor, view org.View, month string) (problem.Report, error)
	Inspections(ctx context.Context, view org.View, month, quarter string) (string, []inspect.PlanSummary, error)
	Backups(ctx context.Context, view org.View, month string) (backup.AuditMonth, error)
	Tickets(ctx context.Context, view org.View, month string) (ticket.SLAMonth, error)
	Approvals(ctx context.Context, view org.View, month string) (approval.Month, error)
}

// reportKinds are the reports, in the order the page offers them.
var reportKinds = []string{"incidents", "inspections", "backups", "tickets", "approvals"}

// reportPages are the reports page and the downloads
// /console/reports/{kind}.{xlsx|csv}.
func (c *Console) reportPages() []Page {
	if c.svc.Reports == nil {
		return nil
	}
	return []Page{
		{Path: "/console/reports", Nav: NavReports, Title: "console.reports.title", Template: "reports.html", Handle: c.reportPage},
		{Path: "/console/reports/{file}", Nav: NavReports, Title: "console.reports.title", Data: true, Handle: c.reportFile},
	}
}

// reportQuery is what the page's form and a download ask for.
type reportQuery struct {
	Kind, Month, Quarter string
}

// queryOf reads kind, month and quarter; month defaults to this month.
func queryOf(r *Request, kind string) reportQuery {
	q := r.URL.Query()
	rq := reportQuery{Kind: kind, Month: strings.TrimSpace(q.Get("month")), Quarter: strings.TrimSpace(q.Get("quarter"))}
	if rq.Kind == "" {
		rq.Kind = q.Get("kind")
	}
	if !slices.Contains(reportKinds, rq.Kind) {
		rq.Kind = reportKinds[0]
	}
	if rq.Kind != "inspections" {
		rq.Quarter = ""
	}
	if rq.Month == "" && rq.Quarter == "" {
		rq.Month = r.Now().In(r.Location()).Format("2006-01")
	}
	return rq
}

// build computes the report rq asks for in r's view.
func (c *Console) build(r *Request, rq reportQuery) (sheet, error) {
	ctx := r.Context()
	var s sheet
	period := rq.Month
	switch rq.Kind {
	case "incidents":
		rep, err := c.svc.Reports.Incidents(ctx, r.Actor, r.View, rq.Month)
		if err != nil {
			return s, err
		}
		s = incidentSheet(r, rep)
	case "inspections":
		label, sums, err := c.svc.Reports.Inspections(ctx, r.View, rq.Month, rq.Quarter)
		if err != nil {
			return s, err
		}
		period, s = label, inspectionSheet(r, label, sums)
	case "backups":
		a, err := c.svc.Reports.Backups(ctx, r.View, rq.Month)
		if err != nil {
			return s, err
		}
		s = backupSheet(r, a)
	case "tickets":
		m, err := c.svc.Reports.Tickets(ctx, r.View, rq.Month)
		if err != nil {
			return s, err
		}
		s = ticketSheet(r, m)
	case "approvals":
		m, err := c.svc.Reports.Approvals(ctx, r.View, rq.Month)
		if err != nil {
			return s, err
		}
		s = approvalSheet(r, m)
	}
	s.Title = r.T("console.reports.heading."+rq.Kind, "period", period, "scope", scopeText(r))
	s.Name = r.T("console.reports.file."+rq.Kind) + "-" + period
	if r.Unit != "" {
		s.Name += "-" + r.Unit
	}
	return s, nil
}

// reportKind is one choice of the page's kind selector.
type reportKind struct {
	Kind, Label string
	Selected    bool
}

// reportData is the reports page's data.
type reportData struct {
	Query     reportQuery
	Kinds     []reportKind
	Sheet     sheet
	XLSX, CSV string // download links
}

// reportPage shows the chosen report as tables, with its download links.
func (c *Console) reportPage(r *Request) (any, error) {
	rq := queryOf(r, "")
	s, err := c.build(r, rq)
	if err != nil {
		return nil, err
	}
	d := reportData{Query: rq, Sheet: s}
	for _, k := range reportKinds {
		d.Kinds = append(d.Kinds, reportKind{Kind: k, Label: r.T("console.reports.kind." + k), Selected: k == rq.Kind})
	}
	link := func(ext string) string {
		return r.Link("/console/reports/"+rq.Kind+"."+ext, "month", rq.Month, "quarter", rq.Quarter)
	}
	d.XLSX, d.CSV = link("xlsx"), link("csv")
	return d, nil
}

// reportFile answers /console/reports/{kind}.{xlsx|csv}: the report as
// a workbook or a CSV file.
func (c *Console) reportFile(r *Request) (any, error) {
	file := r.PathValue("file")
	kind, ext, _ := strings.Cut(file, ".")
	if !slices.Contains(reportKinds, kind) || (ext != "xlsx" && ext != "csv") {
		return nil, core.NotFound("report_not_found", "name", file)
	}
	s, err := c.build(r, queryOf(r, kind))
	if err != nil {
		return nil, err
	}
	if ext == "csv" {
		body, err := writeCSV(s, r.Location())
		if err != nil {
			return nil, err
		}
		return &Download{Name: s.Name + ".csv", ContentType: csvType, Body: body}, nil
	}
	body, err := writeXLSX(s, r.Location())
	if err != nil {
		return nil, err
	}
	return &Download{Name: s.Name + ".xlsx", ContentType: xlsxType, Body: body}, nil
}
