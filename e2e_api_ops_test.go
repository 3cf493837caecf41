package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/api"
	"opsbot/adapters/api/apitest"
	"opsbot/core/backup"
)

// opsScenarios tell duty, inspections, backups, reports, audit and org
// through the REST API: each endpoint answers 2xx for someone allowed,
// and refuses the others as the chat command does, in the chat's words.
func opsScenarios() []apiScenario {
	return []apiScenario{
		{"duty", dutyScenario},
		{"inspections", inspectionScenario},
		{"backups", backupScenario},
		{"reports", reportScenario},
		{"audit", auditScenario},
		{"org", orgScenario},
	}
}

// malformed sends a request that breaks the spec on purpose (a bad or
// missing parameter): the harness validates only its answer.
func (s *apiSession) malformed(t *testing.T, user, method, path string) (int, api.ErrorDetail) {
	t.Helper()
	req, err := http.NewRequest(method, s.a.base+path, nil)
	require.NoError(t, err)
	req.Header.Set(api.DevUserHeader, user)
	resp, err := s.h.With(t).Client().Do(apitest.Malformed(req))
	require.NoError(t, err)
	defer resp.Body.Close()
	var e api.ErrorBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	return resp.StatusCode, e.Error
}

// shanghaiNow is the app's wall clock (the bot's zone).
func shanghaiNow(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return time.Now().In(loc)
}

func dutyScenario(t *testing.T, s *apiSession) {
	var rots api.Page[api.DutyRotation]
	s.ok(t, "zhengmin", "GET", "/api/v1/duty/rotations", nil, 200, &rots)
	i := slices.IndexFunc(rots.Items, func(r api.DutyRotation) bool { return r.Name == "ops-oncall" })
	require.GreaterOrEqual(t, i, 0, "the demo rotation")
	require.Equal(t, []string{"sunli", "zhoujie"}, rots.Items[i].Members)
	s.fails(t, "", "GET", "/api/v1/duty/rotations", nil, 401, "unauthenticated")

	var now api.DutyNowList
	s.ok(t, "zhengmin", "GET", "/api/v1/duty/now", nil, 200, &now)
	require.NotEmpty(t, now.Items)
	s.ok(t, "zhengmin", "GET", "/api/v1/duty/now?rotation=ops-oncall", nil, 200, &now)
	require.Len(t, now.Items, 1)
	require.Contains(t, []string{"sunli", "zhoujie"}, now.Items[0].Now.Primary)
	require.Equal(t, now.Items[0].Now.End, now.Items[0].Next.Start, "next follows now")
	chat := s.a.say("zhengmin", "/duty now ops-oncall").all()
	require.Contains(t, chat, map[string]string{"sunli": "孙丽", "zhoujie": "周杰"}[now.Items[0].Now.Primary], "the chat names the same person")

	// Tomorrow's shift swapped by a member is who is on duty then.
	today := shanghaiNow(t)
	tomorrow := today.AddDate(0, 0, 1)
	noon := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 12, 0, 0, 0, today.Location())
	day := tomorrow.Format(time.DateOnly)
	at := "/api/v1/duty/now?rotation=ops-oncall&at=" + url.QueryEscape(noon.Format(time.RFC3339))
	s.ok(t, "zhengmin", "GET", at, nil, 200, &now)
	other := map[string]string{"sunli": "zhoujie", "zhoujie": "sunli"}[now.Items[0].Now.Primary]
	var swap api.DutySwap
	s.ok(t, "sunli", "POST", "/api/v1/duty/swaps", api.DutySwap{Rotation: "ops-oncall", Date: day, User: other}, 200, &swap)
	require.Equal(t, other, swap.User)
	s.ok(t, "zhengmin", "GET", at, nil, 200, &now)
	require.Equal(t, other, now.Items[0].Now.Primary)
	require.True(t, now.Items[0].Now.Override)
	msg := s.fails(t, "zhengmin", "POST", "/api/v1/duty/swaps", api.DutySwap{Rotation: "ops-oncall", Date: day, User: "zhengmin"}, 403, "not_rotation_member")
	require.Equal(t, s.a.say("zhengmin", "/duty swap ops-oncall "+day+" zhengmin").Text, msg, "the chat's own words")
	s.fails(t, "sunli", "POST", "/api/v1/duty/swaps", api.DutySwap{Rotation: "ops-oncall", Date: "tomorrow", User: other}, 422, "date")
	s.fails(t, "sunli", "POST", "/api/v1/duty/swaps", api.DutySwap{Rotation: "ops-oncall", Date: day, User: "ghost"}, 404, "user_not_found")
	s.fails(t, "sunli", "POST", "/api/v1/duty/swaps", `{"rotation":"ops-oncall","date":`, 400, "api_bad_json")
	s.fails(t, "zhengmin", "GET", "/api/v1/duty/now?rotation=nope", nil, 404, "rotation_not_found")
	code, e := s.malformed(t, "zhengmin", "GET", "/api/v1/duty/now?at=noon")
	require.Equal(t, 400, code)
	require.Equal(t, "api_bad_param", e.Code)

	// A week of shifts: without gaps, the swapped one included.
	week := today.AddDate(0, 0, 6).Format(time.DateOnly)
	var shifts api.DutyShifts
	s.ok(t, "zhengmin", "GET", "/api/v1/duty/shifts?rotation=ops-oncall&from="+today.Format(time.DateOnly)+"&to="+week, nil, 200, &shifts)
	require.GreaterOrEqual(t, len(shifts.Shifts), 7)
	for k := 1; k < len(shifts.Shifts); k++ {
		require.Equal(t, shifts.Shifts[k-1].End, shifts.Shifts[k].Start)
	}
	require.True(t, slices.ContainsFunc(shifts.Shifts, func(sh api.DutyShift) bool {
		return sh.Primary == other && sh.Override && !sh.Start.After(noon) && sh.End.After(noon)
	}), "the swap is in the range")
	s.fails(t, "zhengmin", "GET", "/api/v1/duty/shifts?rotation=ops-oncall&from="+week+"&to="+today.Format(time.DateOnly), nil, 422, "duty_range")
	s.fails(t, "zhengmin", "GET", "/api/v1/duty/shifts?rotation=nope&from="+today.Format(time.DateOnly)+"&to="+week, nil, 404, "rotation_not_found")
	code, e = s.malformed(t, "zhengmin", "GET", "/api/v1/duty/shifts?rotation=ops-oncall")
	require.Equal(t, 400, code)
	require.Equal(t, "api_param_required", e.Code)
}

func inspectionScenario(t *testing.T, s *apiSession) {
	requireOK(t, s.a.say("sunli", `/inspect plan add api-check --cron "* * * * *" --assignee sunli --items cpu,disk`))
	var plans api.Page[api.InspectionPlan]
	s.ok(t, "zhengmin", "GET", "/api/v1/inspections/plans", nil, 200, &plans)
	i := slices.IndexFunc(plans.Items, func(p api.InspectionPlan) bool { return p.Name == "api-check" })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, []string{"cpu", "disk"}, plans.Items[i].Items)
	require.NotNil(t, plans.Items[i].NextRun)

	// Bring the plan's first run forward to this minute.
	_, err := s.a.store.Pool().Exec(context.Background(), `UPDATE timers SET due_at = date_trunc('minute', now())
		WHERE kind = 'inspection:due' AND state = 'pending' AND ref = $1`, fmt.Sprintf("inspect-plan:%d", plans.Items[i].ID))
	require.NoError(t, err)
	var runs api.Page[api.InspectionRun]
	eventually(t, "the run starts", func() bool {
		s.ok(t, "zhengmin", "GET", "/api/v1/inspections/plans/api-check/runs", nil, 200, &runs)
		return len(runs.Items) > 0
	})
	require.Equal(t, "pending", runs.Items[0].State)
	require.Equal(t, "todo", runs.Items[0].Items[0].State)

	msg := s.fails(t, "zhengmin", "POST", "/api/v1/inspections/reports", api.InspectionReport{Plan: "api-check", OK: true}, 403, "inspect_not_yours")
	require.Equal(t, s.a.say("zhengmin", "/inspect report api-check ok").Text, msg, "the chat's own words")
	s.fails(t, "sunli", "POST", "/api/v1/inspections/reports", api.InspectionReport{Plan: "api-check", OK: true, Items: []int{9}}, 422, "inspect_item")
	s.fails(t, "sunli", "POST", "/api/v1/inspections/reports", api.InspectionReport{Plan: "nope", OK: true}, 404, "inspect_plan_not_found")
	var out api.InspectionOutcome
	s.ok(t, "sunli", "POST", "/api/v1/inspections/reports", api.InspectionReport{Plan: "api-check", OK: false, Items: []int{2}, Note: "disk 95%"}, 200, &out)
	require.Len(t, out.Incidents, 1, "an issue opens an incident")
	require.Equal(t, "issue", out.Run.Items[1].State)
	require.Equal(t, out.Incidents[0], out.Run.Items[1].Incident)
	s.ok(t, "sunli", "POST", "/api/v1/inspections/reports", api.InspectionReport{Plan: "api-check", OK: true}, 200, &out)
	require.Equal(t, "done", out.Run.State)
	require.Empty(t, out.Incidents)
	s.fails(t, "zhengmin", "GET", "/api/v1/inspections/plans/nope/runs", nil, 404, "inspect_plan_not_found")
	requireOK(t, s.a.say("sunli", "/inspect plan remove api-check"))
}

func backupScenario(t *testing.T, s *apiSession) {
	requireOK(t, s.a.say("sunli", "/backup plan add api-db --daily 23:59"))
	var plans api.Page[api.BackupPlan]
	s.ok(t, "zhengmin", "GET", "/api/v1/backups/plans", nil, 200, &plans)
	require.True(t, slices.ContainsFunc(plans.Items, func(p api.BackupPlan) bool { return p.System == "api-db" && p.DailyAt == "23:59" }))

	// The legacy script token, an operator's credential, and refusals.
	script := http.Header{"Authorization": {"Bearer backup-script-token"}}
	code, raw := s.h.With(t).Do("POST", "/api/v1/backups/report", script, api.BackupReportRequest{System: "api-db", Status: "fail", Note: "disk full"})
	require.Equal(t, 200, code, string(raw))
	code, raw = s.h.With(t).Do("POST", "/api/v1/backups/report", http.Header{"Authorization": {"Bearer wrong"}}, api.BackupReportRequest{System: "api-db", Status: "ok"})
	require.Equal(t, 401, code, string(raw))
	var res api.BackupReportResult
	s.ok(t, "sunli", "POST", "/api/v1/backups/report", api.BackupReportRequest{System: "api-db", Status: "ok", Kind: "full"}, 200, &res)
	require.NotEmpty(t, res.Closed, "the good report closes the script's fault")
	msg := s.fails(t, "zhengmin", "POST", "/api/v1/backups/report", api.BackupReportRequest{System: "api-db", Status: "ok"}, 403, "backup_manage")
	require.Equal(t, s.a.say("zhengmin", "/backup report api-db ok").Text, msg, "an API token acts with its user's rights")
	s.fails(t, "sunli", "POST", "/api/v1/backups/report", api.BackupReportRequest{System: "nosuch", Status: "ok"}, 404, "backup_plan_not_found")
	s.fails(t, "sunli", "POST", "/api/v1/backups/report", `{"system":"api-db","status":"weird"}`, 422, "backup_outcome")
	s.fails(t, "sunli", "POST", "/api/v1/backups/report", `{"system":"api-db","status":"ok","extra":1}`, 400, "api_bad_json")

	var d api.BackupPlanDetails
	s.ok(t, "zhengmin", "GET", "/api/v1/backups/plans/api-db", nil, 200, &d)
	require.Equal(t, "api-db", d.Plan.System)
	require.Empty(t, d.Faults)
	require.NotEmpty(t, d.Days)
	require.Len(t, d.Days[0].Attempts, 2, "the failure and its re-run")
	require.True(t, d.Days[0].Attempts[1].Rerun)
	s.fails(t, "zhengmin", "GET", "/api/v1/backups/plans/nosuch", nil, 404, "backup_plan_not_found")
}

func reportScenario(t *testing.T, s *apiSession) {
	month := shanghaiNow(t).Format("2006-01")
	var inc api.IncidentReport
	s.ok(t, "liqiang", "GET", "/api/v1/reports/incidents?month="+month, nil, 200, &inc)
	require.Equal(t, month, inc.Month)
	require.Equal(t, []string{"dongcheng"}, inc.Scope, "a district admin sees the district")
	s.fails(t, "liqiang", "GET", "/api/v1/reports/incidents?month=2026-13", nil, 422, "month")
	code, e := s.malformed(t, "liqiang", "GET", "/api/v1/reports/incidents")
	require.Equal(t, 400, code, "month is required")
	require.Equal(t, "api_param_required", e.Code)
	s.fails(t, "nobody", "GET", "/api/v1/reports/incidents?month="+month, nil, 403, "not_registered")

	var insp api.InspectionReportSummary
	s.ok(t, "sunli", "GET", "/api/v1/reports/inspections?quarter=2026-Q4", nil, 200, &insp)
	require.Equal(t, "2026-Q4", insp.Period)
	s.ok(t, "sunli", "GET", "/api/v1/reports/inspections", nil, 200, &insp)
	require.Equal(t, month, insp.Period, "this month by default")
	s.fails(t, "sunli", "GET", "/api/v1/reports/inspections?quarter=2026-Q5", nil, 422, "quarter")

	// A month's backup audit, once the monthly job made it.
	created, err := inTxBackups(s, backup.Audit{Month: "2026-01", CreatedAt: time.Now(),
		Systems: []backup.SystemMonth{{System: "api-db", Expected: 31, Reported: 30, Missing: 1, Verified: true}}})
	require.NoError(t, err)
	require.True(t, created)
	var audit api.BackupAudit
	s.ok(t, "sunli", "GET", "/api/v1/reports/backups?month=2026-01", nil, 200, &audit)
	require.Equal(t, []api.BackupSystem{{System: "api-db", Expected: 31, Reported: 30, Missing: 1, Verified: true}}, audit.Systems)
	s.ok(t, "zhengmin", "GET", "/api/v1/reports/backups?month=2026-01", nil, 200, &audit)
	require.Empty(t, audit.Systems, "a member's view (own items) holds no backup system")
	s.fails(t, "zhengmin", "GET", "/api/v1/reports/backups?month=2025-01", nil, 404, "backup_audit_not_found")
	s.fails(t, "zhengmin", "GET", "/api/v1/reports/backups?month=January", nil, 422, "month")
}

// inTxBackups stores a month's backup audit as the monthly job does.
func inTxBackups(s *apiSession, a backup.Audit) (created bool, err error) {
	err = s.a.store.Backups().InTx(context.Background(), func(tx backup.Tx) error {
		created, err = tx.InsertBackupAudit(context.Background(), a)
		return err
	})
	return created, err
}

func auditScenario(t *testing.T, s *apiSession) {
	requireOK(t, s.a.say("zhangwei", "/org user add audit-u1 审计甲 --unit dc-edu"))
	requireOK(t, s.a.say("zhangwei", "/org user add audit-u2 审计乙 --unit dc-edu"))
	var trail api.Page[api.AuditEntry]
	s.ok(t, "zhangwei", "GET", "/api/v1/audit/entities/user:audit-u1", nil, 200, &trail)
	require.Len(t, trail.Items, 1)
	require.Equal(t, "org.user.add", trail.Items[0].Action)
	require.Equal(t, "zhangwei", trail.Items[0].Actor)
	msg := s.fails(t, "zhengmin", "GET", "/api/v1/audit/entities/user:zhangwei", nil, 403, "audit_forbidden")
	require.Equal(t, s.a.say("zhengmin", "/audit user:zhangwei").Text, msg, "the chat's own words")
	s.fails(t, "admin", "GET", "/api/v1/audit/entities/nonsense", nil, 422, "entity_ref")

	// Paged newest first, by the district's admin.
	var page api.Page[api.AuditEntry]
	s.ok(t, "liqiang", "GET", "/api/v1/audit?actor=zhangwei&limit=1", nil, 200, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "user:audit-u2", page.Items[0].Entity)
	require.NotEmpty(t, page.NextCursor)
	first := page.Items[0].Seq
	s.ok(t, "liqiang", "GET", "/api/v1/audit?actor=zhangwei&limit=1&cursor="+page.NextCursor, nil, 200, &page)
	require.Equal(t, "user:audit-u1", page.Items[0].Entity)
	require.Less(t, page.Items[0].Seq, first)
	since := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	s.ok(t, "admin", "GET", "/api/v1/audit?since="+since, nil, 200, &page)
	require.Empty(t, page.Items)
	s.fails(t, "wangfang", "GET", "/api/v1/audit?actor=zhangwei", nil, 403, "audit_forbidden")
	s.fails(t, "zhengmin", "GET", "/api/v1/audit", nil, 403, "audit_search_all")
	s.fails(t, "admin", "GET", "/api/v1/audit?since="+since+"&until="+since, nil, 422, "audit_search_range")
	code, e := s.malformed(t, "admin", "GET", "/api/v1/audit?cursor=garbage!")
	require.Equal(t, 400, code)
	require.Equal(t, "api_bad_param", e.Code)
}

func orgScenario(t *testing.T, s *apiSession) {
	var units api.Page[api.OrgTreeUnit]
	s.ok(t, "zhengmin", "GET", "/api/v1/org/units?root=dongcheng", nil, 200, &units)
	require.Equal(t, "dongcheng", units.Items[0].Code)
	require.Equal(t, 0, units.Items[0].Depth)
	s.fails(t, "zhengmin", "GET", "/api/v1/org/units?root=nowhere", nil, 404, "unit_not_found")

	var users api.Page[api.OrgUser]
	s.ok(t, "zhengmin", "GET", "/api/v1/org/users?unit=dc-health", nil, 200, &users)
	require.Equal(t, []api.OrgUser{{ID: "liuyang", Name: "刘洋", Unit: "dc-health"}, {ID: "maxin", Name: "马鑫", Unit: "dc-health"}}, users.Items)
	var prof api.OrgProfile
	s.ok(t, "zhengmin", "GET", "/api/v1/org/users/zhangwei", nil, 200, &prof)
	require.Equal(t, "dc-edu", prof.Unit.Code)
	require.Contains(t, prof.Roles, api.OrgGrant{User: "zhangwei", Role: "unit_admin", Scope: "dc-edu", GrantedBy: "system"})
	s.fails(t, "zhengmin", "GET", "/api/v1/org/users/ghost", nil, 404, "user_not_found")

	// Admins change the org; members are refused with the chat's words.
	var unit api.OrgUnit
	s.ok(t, "liqiang", "POST", "/api/v1/org/units", api.NewOrgUnit{Code: "dc-api", Name: "东城区接口办", Parent: "dongcheng", Level: "unit"}, 201, &unit)
	require.Equal(t, "/city/dongcheng/dc-api/", unit.Path)
	s.fails(t, "zhengmin", "POST", "/api/v1/org/units", api.NewOrgUnit{Code: "dc-x", Name: "X", Parent: "dongcheng", Level: "unit"}, 403, "not_covering")
	var u api.OrgUser
	s.ok(t, "liqiang", "POST", "/api/v1/org/users", api.NewOrgUser{ID: "api-u1", Name: "接口甲", Unit: "dc-api"}, 201, &u)
	require.Equal(t, api.OrgUser{ID: "api-u1", Name: "接口甲", Unit: "dc-api"}, u)
	msg := s.fails(t, "zhengmin", "POST", "/api/v1/org/users", api.NewOrgUser{ID: "api-u2", Name: "接口乙", Unit: "dc-api"}, 403, "not_covering")
	require.Equal(t, s.a.say("zhengmin", "/org user add api-u2 接口乙 --unit dc-api").Text, msg, "the chat's own words")
	s.fails(t, "liqiang", "POST", "/api/v1/org/users", api.NewOrgUser{ID: "api-u1", Name: "接口甲", Unit: "dc-api"}, 409, "user_exists")
	s.fails(t, "liqiang", "POST", "/api/v1/org/users", api.NewOrgUser{ID: "API U", Name: "接口", Unit: "dc-api"}, 422, "code")
	var g api.OrgGrant
	s.ok(t, "liqiang", "POST", "/api/v1/org/users/api-u1/roles", api.NewOrgGrant{Role: "unit_admin", Scope: "dc-api"}, 201, &g)
	require.Equal(t, api.OrgGrant{User: "api-u1", Role: "unit_admin", Scope: "dc-api", GrantedBy: "liqiang"}, g)
	s.fails(t, "zhangwei", "POST", "/api/v1/org/users/api-u1/roles", api.NewOrgGrant{Role: "unit_contact", Scope: "dc-api"}, 403, "not_covering")
	s.fails(t, "liqiang", "POST", "/api/v1/org/users/ghost/roles", api.NewOrgGrant{Role: "unit_contact"}, 404, "user_not_found")
	s.ok(t, "api-u1", "GET", "/api/v1/org/users", nil, 200, &users)
	require.Equal(t, []api.OrgUser{{ID: "api-u1", Name: "接口甲", Unit: "dc-api"}}, users.Items, "a unit admin: their unit")
}
