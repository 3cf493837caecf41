package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/backup"
	"opsbot/core/inspect"
)

// InspectionService is the inspection service (core/inspect), as
// /inspect plan list, /inspect log and /inspect report use it.
type InspectionService interface {
	Plans(ctx context.Context) ([]inspect.PlanInfo, error)
	Log(ctx context.Context, planName string, limit int) (inspect.Plan, []inspect.Run, error)
	Report(ctx context.Context, actor core.Actor, planName string, items []int, ok bool, note string) (inspect.Outcome, error)
}

// BackupService is the backup service (core/backup), as /backup plan
// list, /backup plan show, /backup log and /backup report use it.
type BackupService interface {
	Plans(ctx context.Context) ([]backup.Plan, error)
	PlanDetails(ctx context.Context, system string) (backup.Details, error)
	History(ctx context.Context, system string) (backup.Log, error)
	Report(ctx context.Context, actor core.Actor, system string, ok bool, kind, note, source string) (backup.ReportResult, error)
}

// maxRuns is how many runs of a plan GET …/runs reads, as /inspect log.
const maxRuns = 200

// InspectionPlan is an inspection plan.
type InspectionPlan struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Cron         string     `json:"cron,omitempty" doc:"The plan's cron spec (minute hour day-of-month month day-of-week)."`
	Workdays     string     `json:"workdays,omitempty" doc:"HH:MM on each working day of the PRC calendar, for a plan run on working days."`
	Assignee     string     `json:"assignee" doc:"A user id or a role."`
	Items        []string   `json:"items"`
	GraceMinutes int64      `json:"grace_minutes" doc:"How long a run may stay unreported before a reminder."`
	Level        int        `json:"level" doc:"The level of incidents opened by items marked issue."`
	NextRun      *time.Time `json:"next_run,omitempty"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
}

// InspectionItem is one checklist item of a run and its outcome.
type InspectionItem struct {
	N        int        `json:"n" doc:"The item's number (1-based), as POST /inspections/reports names it."`
	Name     string     `json:"name"`
	State    string     `json:"state" enum:"todo,ok,issue"`
	Note     string     `json:"note,omitempty"`
	By       string     `json:"by,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Incident int64      `json:"incident,omitempty" doc:"The incident an issue opened."`
}

// InspectionRun is one inspection of a plan.
type InspectionRun struct {
	ID        int64            `json:"id"`
	Plan      string           `json:"plan"`
	DueAt     time.Time        `json:"due_at"`
	State     string           `json:"state" enum:"pending,done"`
	Missed    bool             `json:"missed" doc:"Escalated before it was done."`
	Assignees []string         `json:"assignees"`
	Items     []InspectionItem `json:"items"`
	Issues    int              `json:"issues"`
	DoneAt    *time.Time       `json:"done_at,omitempty"`
}

// InspectionReport reports the outcome of a plan's latest open run.
type InspectionReport struct {
	Plan  string `json:"plan"`
	OK    bool   `json:"ok" doc:"true: the items are fine; false: they have an issue (each opens an incident)."`
	Items []int  `json:"items,omitempty" doc:"The item numbers (1-based); none: every item not reported yet (ok only)."`
	Note  string `json:"note,omitempty"`
}

// InspectionOutcome is what a report did: the run and the incidents opened.
type InspectionOutcome struct {
	Run       InspectionRun `json:"run"`
	Incidents []int64       `json:"incidents"`
}

func inspectionPlan(i inspect.PlanInfo) InspectionPlan {
	p := i.Plan
	out := InspectionPlan{ID: p.ID, Name: p.Name, Cron: p.Cron, Workdays: p.Workdays, Assignee: p.Assignee, Items: nonNil(p.Items),
		GraceMinutes: int64(p.Grace / time.Minute), Level: p.Level, CreatedBy: p.CreatedBy, CreatedAt: utc(p.CreatedAt)}
	if !i.Next.IsZero() {
		out.NextRun = utcp(&i.Next)
	}
	return out
}

func inspectionRun(r inspect.Run) InspectionRun {
	out := InspectionRun{ID: r.ID, Plan: r.Plan, DueAt: utc(r.DueAt), State: r.State, Missed: r.Missed, Assignees: nonNil(r.Assignees),
		Items: make([]InspectionItem, 0, len(r.Items)), Issues: r.Issues(), DoneAt: utcp(r.DoneAt)}
	for i, name := range r.Items {
		it := InspectionItem{N: i + 1, Name: name, State: "todo"}
		if res, ok := r.Results[i+1]; ok {
			it.State, it.Note, it.By, it.At, it.Incident = "issue", res.Note, res.By, utcp(&res.At), res.Incident
			if res.OK {
				it.State = "ok"
			}
		}
		out.Items = append(out.Items, it)
	}
	return out
}

// nonNil is s, or an empty list for nil (a required list is never null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// BackupPlan is a system's backup plan.
type BackupPlan struct {
	ID        int64     `json:"id"`
	System    string    `json:"system"`
	DailyAt   string    `json:"daily_at" doc:"HH:MM deadline of the daily report."`
	FullDay   int       `json:"full_day" doc:"Day of the month of the full backup; 0: none."`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// BackupReport is one backup report.
type BackupReport struct {
	ID     int64     `json:"id"`
	Day    string    `json:"day" doc:"The daily check it answers, YYYY-MM-DD."`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind" enum:"full,incremental"`
	OK     bool      `json:"ok"`
	Note   string    `json:"note,omitempty"`
	By     string    `json:"by"`
	Source string    `json:"source" enum:"chat,api"`
	Rerun  bool      `json:"rerun,omitempty" doc:"A report after a failed one of the same day."`
	// NotFull: an incremental backup on the plan's full-backup day.
	NotFull bool `json:"not_full,omitempty"`
}

// BackupFault is a failed backup's open fault report.
type BackupFault struct {
	ID        int64     `json:"id"`
	Report    int64     `json:"report"`
	Incident  int64     `json:"incident"`
	Assignees []string  `json:"assignees"`
	CreatedAt time.Time `json:"created_at"`
}

// BackupDay is one daily check with the reports that answered it.
type BackupDay struct {
	Day      string         `json:"day"`
	DueAt    time.Time      `json:"due_at"`
	State    string         `json:"state" enum:"pending,ok,failed,missing"`
	Attempts []BackupReport `json:"attempts" doc:"Oldest first."`
}

// BackupPlanDetails is a plan with its deadlines, its open faults and
// its last 14 days (/backup plan show and /backup log).
type BackupPlanDetails struct {
	Plan        BackupPlan    `json:"plan"`
	NextCheck   time.Time     `json:"next_check" doc:"The next daily report deadline."`
	NextRestore time.Time     `json:"next_restore" doc:"The next restore test's deadline (past when this month's is overdue)."`
	Faults      []BackupFault `json:"open_faults"`
	Days        []BackupDay   `json:"days" doc:"The last 14 days' checks, newest first."`
}

// BackupReportRequest is what a backup script (or an operator) posts.
type BackupReportRequest struct {
	System string `json:"system"`
	Status string `json:"status" enum:"ok,success,fail,failed,error"`
	Kind   string `json:"kind,omitempty" enum:"full,incremental" doc:"Default: full on the plan's full-backup day, else incremental."`
	Note   string `json:"note,omitempty"`
}

// BackupReportResult says what a report did.
type BackupReportResult struct {
	Report   int64   `json:"report"`
	Day      string  `json:"day"`
	Fault    int64   `json:"fault,omitempty" doc:"The fault report a failure filed."`
	Incident int64   `json:"incident,omitempty" doc:"The incident a failure opened."`
	Closed   []int64 `json:"closed_faults,omitempty" doc:"Fault reports a good report closed."`
	// NotFull: an incremental backup on the full-backup day, accepted but
	// counted as a missing full backup (the operators are told).
	NotFull bool `json:"not_full,omitempty"`
}

func backupPlan(p backup.Plan) BackupPlan {
	return BackupPlan{ID: p.ID, System: p.System, DailyAt: p.DailyAt, FullDay: p.FullDay, CreatedBy: p.CreatedBy, CreatedAt: utc(p.CreatedAt)}
}

func backupReport(r backup.Report) BackupReport {
	return BackupReport{ID: r.ID, Day: r.Day, At: utc(r.At), Kind: r.Kind, OK: r.OK, Note: r.Note, By: r.By, Source: r.Source}
}

func backupFault(f backup.Fault) BackupFault {
	return BackupFault{ID: f.ID, Report: f.ReportID, Incident: f.IncidentID, Assignees: nonNil(f.Assignees), CreatedAt: utc(f.CreatedAt)}
}

func backupDay(d backup.DayLog) BackupDay {
	out := BackupDay{Day: d.Check.Day, DueAt: utc(d.Check.DueAt), State: d.Check.State, Attempts: make([]BackupReport, 0, len(d.Attempts))}
	for _, at := range d.Attempts {
		r := backupReport(at.Report)
		r.Rerun, r.NotFull = at.Rerun, at.NotFull
		out.Attempts = append(out.Attempts, r)
	}
	return out
}

// routineRoutes are the inspections and backups.
func (a *API) routineRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/inspections/plans", OperationID: "listInspectionPlans", Tag: "inspections",
			Summary: "The active inspection plans with their next run (/inspect plan list)", Paged: true,
			Response: Page[InspectionPlan]{}, Handle: a.inspectionPlans},
		{Method: http.MethodGet, Path: "/api/v1/inspections/plans/{name}/runs", OperationID: "listInspectionRuns", Tag: "inspections",
			Summary: "A plan's runs, newest first, with each item's outcome (/inspect log)", Paged: true,
			Params: []Param{{Name: "name", Description: "The plan's name."}}, Response: Page[InspectionRun]{}, Handle: a.inspectionRuns},
		{Method: http.MethodPost, Path: "/api/v1/inspections/reports", OperationID: "reportInspection", Tag: "inspections",
			Summary:     "Report the outcome of a plan's latest open run (/inspect report)",
			Description: "Its assignees and the platform's operators may report. An item with an issue opens an incident.",
			Body:        InspectionReport{}, Response: InspectionOutcome{}, Handle: a.reportInspection},
		{Method: http.MethodGet, Path: "/api/v1/backups/plans", OperationID: "listBackupPlans", Tag: "backups",
			Summary: "The active backup plans (/backup plan list)", Paged: true, Response: Page[BackupPlan]{}, Handle: a.backupPlans},
		{Method: http.MethodGet, Path: "/api/v1/backups/plans/{system}", OperationID: "getBackupPlan", Tag: "backups",
			Summary: "A backup plan: its deadlines, open faults and last 14 days (/backup plan show, /backup log)",
			Params:  []Param{{Name: "system", Description: "The system the plan backs up."}}, Response: BackupPlanDetails{}, Handle: a.backupPlan},
		{Method: http.MethodPost, Path: "/api/v1/backups/report", OperationID: "reportBackup", Tag: "backups",
			Summary: "Report a backup's result (/backup report), from a backup script or an operator",
			Description: "An API token acts with its user's rights (operators report). Legacy: a script may instead send " +
				"Authorization: Bearer <backups.token> from the configuration; it reports as opsbot itself.",
			Legacy: a.backupScript, Body: BackupReportRequest{}, Response: BackupReportResult{}, Handle: a.reportBackup},
	}
}

func (a *API) inspectionPlans(c *Call) (any, error) {
	infos, err := a.cfg.Inspections.Plans(c.Ctx)
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(infos, inspectionPlan))
}

func (a *API) inspectionRuns(c *Call) (any, error) {
	_, runs, err := a.cfg.Inspections.Log(c.Ctx, c.String("name"), maxRuns)
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(runs, inspectionRun))
}

func (a *API) reportInspection(c *Call) (any, error) {
	b := BodyOf[InspectionReport](c)
	out, err := a.cfg.Inspections.Report(c.Ctx, c.Actor, b.Plan, b.Items, b.OK, b.Note)
	if err != nil {
		return nil, err
	}
	res := InspectionOutcome{Run: inspectionRun(out.Run), Incidents: []int64{}}
	for _, inc := range out.Incidents {
		res.Incidents = append(res.Incidents, inc.ID)
	}
	return res, nil
}

func (a *API) backupPlans(c *Call) (any, error) {
	ps, err := a.cfg.Backups.Plans(c.Ctx)
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(ps, backupPlan))
}

func (a *API) backupPlan(c *Call) (any, error) {
	d, err := a.cfg.Backups.PlanDetails(c.Ctx, c.String("system"))
	if err != nil {
		return nil, err
	}
	l, err := a.cfg.Backups.History(c.Ctx, c.String("system"))
	if err != nil {
		return nil, err
	}
	return BackupPlanDetails{Plan: backupPlan(d.Plan), NextCheck: utc(d.NextCheck), NextRestore: utc(d.NextRestore),
		Faults: Convert(d.Faults, backupFault), Days: Convert(l.Days, backupDay)}, nil
}

// unstorable refuses, with 400 as before the API had its table, a field
// Postgres could not store (a NUL character, invalid UTF-8), naming it:
// a script's report is not silently changed.
func unstorable(system, kind, note string) error {
	for _, f := range [][2]string{{"system", system}, {"kind", kind}, {"note", note}} {
		var ce *core.Error
		if err := core.CheckText(f[0], f[1]); errors.As(err, &ce) {
			return &statusError{status: http.StatusBadRequest, err: ce}
		}
	}
	return nil
}

// backupOutcome reads a report's status as /backup report reads ok|fail.
func backupOutcome(status string) (bool, error) {
	switch strings.ToLower(status) {
	case "ok", "success":
		return true, nil
	case "fail", "failed", "error":
		return false, nil
	}
	return false, core.Invalid("backup_outcome", "value", status)
}

func (a *API) reportBackup(c *Call) (any, error) {
	b := BodyOf[BackupReportRequest](c)
	if err := unstorable(b.System, b.Kind, b.Note); err != nil {
		return nil, err
	}
	ok, err := backupOutcome(b.Status)
	if err != nil {
		return nil, err
	}
	res, err := a.cfg.Backups.Report(c.Ctx, c.Actor, b.System, ok, b.Kind, b.Note, "api")
	if err != nil {
		return nil, err
	}
	out := BackupReportResult{Report: res.Report.ID, Day: res.Report.Day, NotFull: res.NotFull}
	if res.Fault != nil {
		out.Fault, out.Incident = res.Fault.ID, res.Incident.ID
	}
	for _, f := range res.Closed {
		out.Closed = append(out.Closed, f.ID)
	}
	return out, nil
}

// backupScript is the legacy credential of POST /api/v1/backups/report:
// the configured backups.token as a bearer token acts as the backup
// script (backup.ScriptActor). ok is false for any other request.
func (a *API) backupScript(r *http.Request) (access.Principal, bool) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || a.cfg.BackupsToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.BackupsToken)) != 1 {
		return access.Principal{}, false
	}
	return access.Principal{Actor: backup.ScriptActor(), Via: access.ViaService, Scope: access.ScopeWrite}, true
}
