package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
)

// Reports are the periodic reports of the caller's view of the org
// narrowed by ?unit= (core/report), as /report commands and the console
// read them.
type Reports interface {
	// View is actor's view narrowed to unit ("" the whole view).
	View(ctx context.Context, actor core.Actor, unit string) (org.View, error)
	Incidents(ctx context.Context, actor core.Actor, view org.View, month string) (problem.Report, error)
	Inspections(ctx context.Context, view org.View, month, quarter string) (string, []inspect.PlanSummary, error)
	Backups(ctx context.Context, view org.View, month string) (backup.AuditMonth, error)
}

// IncidentReport is the monthly incident analysis, scoped to what the
// caller oversees.
type IncidentReport struct {
	Month       string         `json:"month"`
	Scope       []string       `json:"scope,omitempty" doc:"The units whose subtrees it counts; absent: the whole city (or own items, see own)."`
	Own         string         `json:"own,omitempty" doc:"The user whose own incidents it counts (a member's view)."`
	Total       int            `json:"total"`
	Open        int            `json:"open"`
	Acked       int            `json:"acked"`
	Resolved    int            `json:"resolved"`
	Escalations int            `json:"escalations"`
	ByLevel     map[string]int `json:"by_level" doc:"Incidents per level (\"1\" … \"4\")."`
	ByUnit      map[string]int `json:"by_unit" doc:"Incidents per unit code (\"-\": none)."`
	BySystem    map[string]int `json:"by_system" doc:"Incidents per system (\"-\": none)."`
	MTTASeconds int64          `json:"mtta_seconds" doc:"Mean time to acknowledge, over acknowledged incidents."`
	MTTRSeconds int64          `json:"mttr_seconds" doc:"Mean time to resolve, over resolved incidents."`
	Repeats     []RepeatedCase `json:"repeats" doc:"Problems with two or more incidents this month."`
}

// RepeatedCase is a problem and its incidents of the month.
type RepeatedCase struct {
	Problem   int64   `json:"problem"`
	Title     string  `json:"title"`
	State     string  `json:"state"`
	Incidents []int64 `json:"incidents"`
}

// InspectionReportSummary is the inspections of a month or a quarter,
// per plan, as the caller oversees them.
type InspectionReportSummary struct {
	Period string                 `json:"period" doc:"YYYY-MM or YYYY-Qn."`
	Runs   int                    `json:"runs"`
	Done   int                    `json:"done"`
	Missed int                    `json:"missed"`
	Issues int                    `json:"issues"`
	Plans  []InspectionPlanPeriod `json:"plans"`
}

// InspectionPlanPeriod counts one plan's runs in the period.
type InspectionPlanPeriod struct {
	Plan       string   `json:"plan"`
	Runs       int      `json:"runs"`
	Done       int      `json:"done"`
	Missed     int      `json:"missed"`
	Pending    int      `json:"pending"`
	Issues     int      `json:"issues"`
	IssueItems []string `json:"issue_items" doc:"\"MM-DD item (#incident)\" per item marked issue."`
}

// BackupAudit is the monthly backup-record audit the lead signs off.
type BackupAudit struct {
	Month     string         `json:"month"`
	Systems   []BackupSystem `json:"systems"`
	CreatedAt time.Time      `json:"created_at"`
	SignedBy  string         `json:"signed_by,omitempty"`
	SignedAt  *time.Time     `json:"signed_at,omitempty"`
}

// BackupSystem is one system's line of the audit.
type BackupSystem struct {
	System      string `json:"system"`
	Expected    int    `json:"expected"`
	Reported    int    `json:"reported"`
	Failed      int    `json:"failed"`
	Missing     int    `json:"missing"`
	Full        int    `json:"full"`
	FullMissing int    `json:"full_missing" doc:"Full-backup days without a successful full backup."`
	Verified    bool   `json:"verified" doc:"A restore test passed that month."`
}

// reportRoutes are the periodic reports.
func (a *API) reportRoutes() []Route {
	month := Param{Name: "month", Required: true, Description: "YYYY-MM."}
	unit := Param{Name: "unit", Description: "A unit code inside the caller's scope: the report of its subtree (403 outside_view for another)."}
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/reports/incidents", OperationID: "getIncidentReport", Tag: "reports",
			Summary:     "The monthly incident analysis (/report incidents)",
			Description: "Sys admins and operators see the whole city, district and unit admins and unit contacts their units, others their own incidents (declared or owned).",
			Params:      []Param{month, unit}, Response: IncidentReport{}, Handle: a.incidentReport},
		{Method: http.MethodGet, Path: "/api/v1/reports/inspections", OperationID: "getInspectionReport", Tag: "reports",
			Summary:     "The inspections of a month or a quarter (/report inspections)",
			Description: "quarter wins over month; this month when neither is given. Sys admins and operators see every run, admins the runs of their units' people, others the runs assigned to them.",
			Params:      []Param{{Name: "month", Description: "YYYY-MM."}, {Name: "quarter", Description: "YYYY-Qn, e.g. 2026-Q4."}, unit},
			Response:    InspectionReportSummary{}, Handle: a.inspectionReport},
		{Method: http.MethodGet, Path: "/api/v1/reports/backups", OperationID: "getBackupAudit", Tag: "reports",
			Summary: "The monthly backup-record audit (/backup audit)", Params: []Param{month, unit},
			Description: "Made on the 1st for the month before: 404 until then. Only the systems whose app the caller's scope owns (all for the city).",
			Response:    BackupAudit{}, Handle: a.backupAudit},
	}
}

// view is the caller's view narrowed by ?unit=.
func (a *API) view(c *Call) (org.View, error) {
	return a.cfg.Reports.View(c.Ctx, c.Actor, c.String("unit"))
}

func (a *API) incidentReport(c *Call) (any, error) {
	v, err := a.view(c)
	if err != nil {
		return nil, err
	}
	rep, err := a.cfg.Reports.Incidents(c.Ctx, c.Actor, v, c.String("month"))
	if err != nil {
		return nil, err
	}
	out := IncidentReport{Month: rep.Month, Scope: rep.Scope, Own: rep.Own, Total: rep.Total, Open: rep.Open, Acked: rep.Acked, Resolved: rep.Resolved,
		Escalations: rep.Escalations, ByLevel: map[string]int{}, ByUnit: rep.ByUnit, BySystem: rep.BySystem,
		MTTASeconds: int64(rep.MTTA / time.Second), MTTRSeconds: int64(rep.MTTR / time.Second), Repeats: []RepeatedCase{}}
	for l, n := range rep.ByLevel {
		out.ByLevel[strconv.Itoa(l)] = n
	}
	for _, d := range rep.Repeats {
		rc := RepeatedCase{Problem: d.Problem.ID, Title: d.Problem.Title, State: d.Problem.State, Incidents: []int64{}}
		for _, i := range d.Incidents {
			rc.Incidents = append(rc.Incidents, i.ID)
		}
		out.Repeats = append(out.Repeats, rc)
	}
	return out, nil
}

func (a *API) inspectionReport(c *Call) (any, error) {
	v, err := a.view(c)
	if err != nil {
		return nil, err
	}
	label, sums, err := a.cfg.Reports.Inspections(c.Ctx, v, c.String("month"), c.String("quarter"))
	if err != nil {
		return nil, err
	}
	out := InspectionReportSummary{Period: label, Plans: Convert(sums, func(s inspect.PlanSummary) InspectionPlanPeriod {
		return InspectionPlanPeriod{Plan: s.Plan, Runs: s.Runs, Done: s.Done, Missed: s.Missed, Pending: s.Pending, Issues: s.Issues,
			IssueItems: nonNil(s.IssueItems)}
	})}
	for _, s := range sums {
		out.Runs, out.Done, out.Missed, out.Issues = out.Runs+s.Runs, out.Done+s.Done, out.Missed+s.Missed, out.Issues+s.Issues
	}
	return out, nil
}

func (a *API) backupAudit(c *Call) (any, error) {
	v, err := a.view(c)
	if err != nil {
		return nil, err
	}
	au, err := a.cfg.Reports.Backups(c.Ctx, v, c.String("month"))
	if err != nil {
		return nil, err
	}
	if au.Draft {
		return nil, core.NotFound("backup_audit_not_found", "month", au.Month)
	}
	return BackupAudit{Month: au.Month, CreatedAt: utc(au.CreatedAt), SignedBy: au.SignedBy, SignedAt: utcp(au.SignedAt),
		Systems: Convert(au.Systems, func(s backup.SystemMonth) BackupSystem {
			return BackupSystem{System: s.System, Expected: s.Expected, Reported: s.Reported, Failed: s.Failed, Missing: s.Missing,
				Full: s.Full, FullMissing: s.FullMissing, Verified: s.Verified}
		})}, nil
}
