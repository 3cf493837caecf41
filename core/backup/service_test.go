package backup_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/backup"
)

// of keeps the lines of sent whose notice type is one of types.
func of(sent []string, types ...string) []string {
	var out []string
	for _, s := range sent {
		for _, typ := range types {
			if strings.HasPrefix(s, typ+" ") {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestAddAndRemovePlan(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	for _, tc := range []struct {
		name    string
		actor   core.Actor
		system  string
		daily   string
		full    int
		wantErr error
	}{
		{name: "not an operator", actor: lead, system: "db1", daily: "02:00", wantErr: core.ErrForbidden},
		{name: "bad system code", actor: operator, system: "DB 1", daily: "02:00", wantErr: core.ErrInvalid},
		{name: "bad deadline", actor: operator, system: "db1", daily: "25:00", wantErr: core.ErrInvalid},
		{name: "full-backup day past the 28th", actor: operator, system: "db1", daily: "02:00", full: 30, wantErr: core.ErrInvalid},
		{name: "added", actor: operator, system: "db1", daily: "2:00", full: 1},
		{name: "a second plan of the system", actor: operator, system: "db1", daily: "03:00", wantErr: core.ErrConflict},
	} {
		_, err := h.svc.AddPlan(h.ctx, tc.actor, tc.system, tc.daily, tc.full, backup.Policy{})
		if tc.wantErr != nil {
			require.ErrorIs(t, err, tc.wantErr, tc.name)
		} else {
			require.NoError(t, err, tc.name)
		}
	}
	plans, err := h.svc.Plans(h.ctx)
	require.NoError(t, err)
	require.Len(t, plans, 1)
	require.Equal(t, "02:00", plans[0].DailyAt, "the deadline is stored as HH:MM")
	require.Equal(t, []string{
		"backup:check 2026-11-20 remind 2026-11-20 02:00", // the next deadline
		"backup:verify 2026-11 remind 2026-11-22 09:00",   // three days before the 25th
	}, h.pending())
	require.Equal(t, []string{"backup.plan.add"}, h.actions())

	_, err = h.svc.RemovePlan(h.ctx, lead, "db1")
	require.ErrorIs(t, err, core.ErrForbidden)
	_, err = h.svc.RemovePlan(h.ctx, operator, "db1")
	require.NoError(t, err)
	require.Empty(t, h.pending(), "a removed plan's timers are cancelled")
	h.until("2026-11-26 00:00")
	require.Empty(t, h.sent())
	_, err = h.svc.Report(h.ctx, operator, "db1", true, "", "", "chat")
	require.ErrorIs(t, err, core.ErrNotFound, "a removed plan takes no reports")
}

func TestMissingReportRemindsThenEscalatesNamingTheDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 20, backup.Policy{})
	require.NoError(t, err)

	h.until("2026-11-20 02:00")
	require.Equal(t, []string{"backup.missing backup-plan:1#2026-11-20 → user:op1", "backup.missing backup-plan:1#2026-11-20 → user:op2"},
		of(h.sent(), "backup.missing", "backup.escalated"), "no report by the deadline: the operators are reminded")
	h.until("2026-11-20 02:59")
	require.Empty(t, of(h.sent(), "backup.escalated"), "not before the grace is over")

	h.until("2026-11-20 03:00")
	esc := bodies[backup.Escalated](h)
	require.Equal(t, []string{"backup.escalated backup-plan:1#2026-11-20 → user:lead1", "backup.escalated backup-plan:1#2026-11-20 → user:ua1"},
		of(h.sent(), "backup.escalated"), "after the grace: the lead and the operators' admin")
	require.Len(t, esc, 2)
	require.Equal(t, backup.Overdue{System: "db1", Day: "2026-11-20", Due: at("2026-11-20 02:00"), Full: true}, esc[0].Overdue,
		"the escalation names the deadline, not deadline plus grace; the 20th is the full-backup day")
	c, err := h.s.begin().BackupCheck(h.ctx, 1, "2026-11-20")
	require.NoError(t, err)
	require.Equal(t, backup.CheckMissing, c.State, "the day counts missed")
	require.Contains(t, h.actions(), "backup.missing")
	require.Contains(t, h.pending(), "backup:check 2026-11-21 remind 2026-11-21 02:00", "the next day's check is set")
}

func TestReportsAnswerTheirDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		reportAt string
		wantDay  string
		wantSent []string // reminders and escalations of the 20th
	}{
		{name: "before the deadline: no reminder", reportAt: "2026-11-20 01:00", wantDay: "2026-11-20"},
		{name: "late within the grace: reminded, not escalated", reportAt: "2026-11-20 02:30", wantDay: "2026-11-20",
			wantSent: []string{"backup.missing backup-plan:1#2026-11-20 → user:op1", "backup.missing backup-plan:1#2026-11-20 → user:op2"}},
		{name: "late after the escalation: still answers the missed day", reportAt: "2026-11-20 09:00", wantDay: "2026-11-20",
			wantSent: []string{"backup.missing backup-plan:1#2026-11-20 → user:op1", "backup.missing backup-plan:1#2026-11-20 → user:op2",
				"backup.escalated backup-plan:1#2026-11-20 → user:lead1", "backup.escalated backup-plan:1#2026-11-20 → user:ua1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "2026-11-19 10:00")
			_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
			require.NoError(t, err)
			h.until(tc.reportAt)
			res, err := h.svc.Report(h.ctx, script, "db1", true, "", "", "api")
			require.NoError(t, err)
			require.Equal(t, tc.wantDay, res.Report.Day)
			require.Equal(t, "incremental", res.Report.Kind)
			h.until("2026-11-20 12:00")
			require.Equal(t, tc.wantSent, of(h.sent(), "backup.missing", "backup.escalated"))
			c, err := h.s.begin().BackupCheck(h.ctx, 1, tc.wantDay)
			require.NoError(t, err)
			require.Equal(t, backup.CheckOK, c.State)
		})
	}
}

func TestReportValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
	require.NoError(t, err)
	_, err = h.svc.Report(h.ctx, operator, "db1", true, "differential", "", "chat")
	require.ErrorIs(t, err, core.ErrInvalid)
	_, err = h.svc.Report(h.ctx, operator, "db1", true, "", strings.Repeat("x", 1001), "chat")
	require.ErrorIs(t, err, core.ErrInvalid)
	_, err = h.svc.Report(h.ctx, lead, "db1", true, "", "", "chat")
	require.ErrorIs(t, err, core.ErrForbidden, "in chat only operators report")
	_, err = h.svc.Report(h.ctx, script, "db2", true, "", "", "api")
	require.ErrorIs(t, err, core.ErrNotFound)
	res, err := h.svc.Report(h.ctx, script, "db1", true, "", "", "api")
	require.NoError(t, err, "the backup script reports through the API without a role")
	require.Equal(t, core.SystemUser, res.Report.By)
	viaToken := lead
	viaToken.Platform = core.PlatformAPI
	_, err = h.svc.Report(h.ctx, viaToken, "db1", true, "", "", "api")
	require.ErrorIs(t, err, core.ErrForbidden, "an API token acts with its user's rights: only operators report")
}

func TestFailureFilesFaultIncidentAndRerunUntilAGoodReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 20, backup.Policy{})
	require.NoError(t, err)
	h.until("2026-11-20 01:30")

	res, err := h.svc.Report(h.ctx, script, "db1", false, "", " disk full ", "api")
	require.NoError(t, err)
	require.Equal(t, "full", res.Report.Kind, "on the full-backup day a report without a kind is the full backup")
	require.NotNil(t, res.Fault)
	require.Equal(t, []string{"op1", "op2"}, res.Fault.Assignees, "the re-run is the operators' task")
	require.Equal(t, "open", res.Fault.State)
	require.Len(t, h.inc.Opened, 1)
	inc := h.inc.Opened[0]
	require.Equal(t, "db1 backup failed 2026-11-20: disk full", inc.Title)
	require.Equal(t, 3, inc.Level)
	require.Equal(t, "db1", inc.System, "db1 is an app: the incident is about it")
	require.Equal(t, core.SystemUser, inc.Actor, "a script's failure is declared by the system")
	require.Same(t, h.s.faultTx[res.Fault.ID], inc.Tx, "the incident opens in the fault's transaction")
	require.Equal(t, inc.ID, res.Fault.IncidentID)
	failed := bodies[backup.Failed](h)
	require.Equal(t, []string{"backup.fault backup-fault:1 → user:op1", "backup.fault backup-fault:1 → user:op2"}, h.sent())
	require.Equal(t, backup.Failed{System: "db1", Day: "2026-11-20", Kind: "full", Note: "disk full", By: core.SystemUser,
		Report: res.Report.ID, Fault: 1, Incident: inc.ID}, failed[0])
	require.Equal(t, []string{"backup.plan.add", "backup.report", "backup.fault.open"}, h.actions())

	h.until("2026-11-20 09:00")
	require.Empty(t, of(h.sent(), "backup.missing", "backup.escalated"), "a failed report is a report: no reminder")

	// The re-run after the deadline answers the failed day while its fault is open.
	rerun, err := h.svc.Report(h.ctx, operator, "db1", true, "", "", "chat")
	require.NoError(t, err)
	require.Equal(t, "2026-11-20", rerun.Report.Day)
	require.Nil(t, rerun.Fault)
	require.Len(t, rerun.Closed, 1)
	f := rerun.Closed[0]
	require.Equal(t, "closed", f.State)
	require.Equal(t, rerun.Report.ID, *f.ClosedReport)
	require.Equal(t, at("2026-11-20 09:00"), *f.ClosedAt)
	require.Equal(t, []backup.Recovered{{System: "db1", Fault: 1, Incident: inc.ID, By: "op1"}, {System: "db1", Fault: 1, Incident: inc.ID, By: "op1"}},
		bodies[backup.Recovered](h))
	require.Equal(t, []string{"backup.recovered backup-fault:1 → user:op1", "backup.recovered backup-fault:1 → user:op2"}, h.sent())
	c, err := h.s.begin().BackupCheck(h.ctx, 1, "2026-11-20")
	require.NoError(t, err)
	require.Equal(t, backup.CheckOK, c.State, "the re-run's check is the failed day's")

	// With the fault closed, the next report is the next day's backup.
	next, err := h.svc.Report(h.ctx, operator, "db1", true, "", "", "chat")
	require.NoError(t, err)
	require.Equal(t, "2026-11-21", next.Report.Day)
	require.Empty(t, next.Closed)

	// A failure reported in chat: declared by the operator; no app, no system.
	h.s.apps = map[string]bool{}
	h.until("2026-11-22 01:00")
	_, err = h.svc.Report(h.ctx, operator, "db1", false, "incremental", "", "chat")
	require.NoError(t, err)
	require.Len(t, h.inc.Opened, 2)
	require.Equal(t, "op1", h.inc.Opened[1].Actor)
	require.Empty(t, h.inc.Opened[1].System)
	require.Equal(t, "db1 backup failed 2026-11-22", h.inc.Opened[1].Title)
}

func TestMonthlyRestoreTest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		verify     string // when a restore test is recorded ("" none)
		ok         bool
		wantRemind bool
		wantMissed bool
	}{
		{name: "none: due, then escalated", wantRemind: true, wantMissed: true},
		{name: "recorded before the reminder", verify: "2026-11-21 10:00", ok: true},
		{name: "recorded after the reminder", verify: "2026-11-23 10:00", ok: true, wantRemind: true},
		{name: "only a failed one: still escalated", verify: "2026-11-23 10:00", wantRemind: true, wantMissed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "2026-11-19 10:00")
			_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
			require.NoError(t, err)
			var sent []string
			if tc.verify != "" {
				h.until(tc.verify)
				sent = append(sent, h.sent()...)
				res, err := h.svc.Verify(h.ctx, operator, "db1", tc.ok, "restored to staging")
				require.NoError(t, err)
				require.Equal(t, "2026-11", res.Verification.Month)
				if tc.ok {
					require.Nil(t, res.Incident)
				} else {
					require.NotNil(t, res.Incident, "a failed restore test opens an incident")
					require.Equal(t, "db1 restore test failed: restored to staging", h.inc.Opened[0].Title)
				}
			}
			h.until("2026-11-25 18:00")
			sent = append(sent, h.sent()...)
			var want []string
			if tc.wantRemind {
				want = append(want, "backup.verify_due backup-plan:1#verify-2026-11 → user:op1", "backup.verify_due backup-plan:1#verify-2026-11 → user:op2")
			}
			if tc.wantMissed {
				want = append(want, "backup.verify_missed backup-plan:1#verify-2026-11 → user:lead1",
					"backup.verify_missed backup-plan:1#verify-2026-11 → user:op1", "backup.verify_missed backup-plan:1#verify-2026-11 → user:op2")
			}
			require.Equal(t, want, of(sent, "backup.verify_due", "backup.verify_missed"))
			require.Equal(t, tc.wantMissed, contains(h.actions(), "backup.verify.missed"))
			require.Contains(t, h.pending(), "backup:verify 2026-12 remind 2026-12-22 09:00", "next month's restore test is set either way")
		})
	}
	t.Run("the reminder names the deadline", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "2026-11-19 10:00")
		_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
		require.NoError(t, err)
		h.until("2026-11-22 09:00")
		due := bodies[backup.RestoreDue](h)
		require.NotEmpty(t, due)
		require.Equal(t, backup.RestoreOverdue{System: "db1", Month: "2026-11", Due: at("2026-11-25 18:00")}, due[0].RestoreOverdue)
	})
	t.Run("a plan added after the reminder is escalated at the deadline", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, "2026-11-23 10:00")
		_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
		require.NoError(t, err)
		require.Contains(t, h.pending(), "backup:verify 2026-11 escalate 2026-11-25 18:00")
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMonthlyAuditOncePerMonthSignedByTheLead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-10-29 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, wholePolicy)
	require.NoError(t, err)
	h.until("2026-10-30 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", true, "full", "", "api") // the 30th
	require.NoError(t, err)
	h.until("2026-10-31 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", false, "", "", "api") // the 31st failed
	require.NoError(t, err)
	h.until("2026-10-31 05:00")
	_, err = h.svc.Report(h.ctx, operator, "db1", true, "", "", "chat") // its re-run
	require.NoError(t, err)
	h.until("2026-11-01 09:00")
	h.s.Notices = nil

	created, err := h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, []string{"backup.audit backup-audit:2026-10 → user:lead1"}, of(h.sent(), "backup.audit"))
	a, err := h.svc.Audit(h.ctx, "2026-10")
	require.NoError(t, err)
	require.Equal(t, []backup.SystemMonth{{System: "db1", Expected: 2, Reported: 2, Failed: 1, Missing: 0, Full: 1, Verified: false}}, a.Systems,
		"the failure counts although its re-run succeeded")
	_, err = h.svc.Audit(h.ctx, "2026-09")
	require.ErrorIs(t, err, core.ErrNotFound, "no audit that month")
	_, err = h.svc.Audit(h.ctx, "October")
	require.ErrorIs(t, err, core.ErrInvalid, "not a month")

	h.until("2026-11-02 09:00")
	h.s.Notices = nil
	created, err = h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	require.False(t, created, "once per month: the daily job finds it done")
	require.Empty(t, of(h.sent(), "backup.audit"))

	_, err = h.svc.SignOff(h.ctx, operator, "2026-10")
	require.ErrorIs(t, err, core.ErrForbidden, "only the lead signs")
	_, err = h.svc.SignOff(h.ctx, lead, "2026-09")
	require.ErrorIs(t, err, core.ErrNotFound)
	signed, err := h.svc.SignOff(h.ctx, lead, "2026-10")
	require.NoError(t, err)
	require.Equal(t, "lead1", signed.SignedBy)
	require.Equal(t, []string{"update.backup.audit backup-audit:2026-10 → (update)"}, h.sent(), "the sign-off replaces the cards")
	_, err = h.svc.SignOff(h.ctx, lead, "2026-10")
	require.ErrorIs(t, err, core.ErrConflict, "signed once")
	require.Contains(t, h.actions(), "backup.audit.signoff")

	h.until("2026-12-01 09:00")
	created, err = h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	require.True(t, created, "next month has its own")
}

func TestHistory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
	require.NoError(t, err)
	h.until("2026-11-20 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", false, "", "", "api")
	require.NoError(t, err)
	h.until("2026-11-21 04:00")
	l, err := h.svc.History(h.ctx, "db1")
	require.NoError(t, err)
	require.Len(t, l.Checks, 2)
	require.Equal(t, []string{"2026-11-21", "2026-11-20"}, []string{l.Checks[0].Day, l.Checks[1].Day}, "newest first")
	require.Equal(t, []string{backup.CheckMissing, backup.CheckFailed}, []string{l.Checks[0].State, l.Checks[1].State})
	require.Len(t, l.Faults, 1)
	_, err = h.svc.History(h.ctx, "db2")
	require.ErrorIs(t, err, core.ErrNotFound)
}

func TestPlanDetails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 1, backup.Policy{})
	require.NoError(t, err)
	d, err := h.svc.PlanDetails(h.ctx, "db1")
	require.NoError(t, err)
	require.Equal(t, at("2026-11-20 02:00"), d.NextCheck)
	require.Empty(t, d.Reports)
	require.Empty(t, d.Faults)
	require.Equal(t, at("2026-11-25 18:00"), d.NextRestore, "this month's restore test")

	h.until("2026-11-20 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", false, "", "disk full", "api")
	require.NoError(t, err)
	h.until("2026-11-21 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", true, "", "", "api")
	require.NoError(t, err)
	_, err = h.svc.Verify(h.ctx, operator, "db1", true, "")
	require.NoError(t, err)
	h.until("2026-11-21 10:00")
	d, err = h.svc.PlanDetails(h.ctx, "db1")
	require.NoError(t, err)
	require.Equal(t, at("2026-11-22 02:00"), d.NextCheck)
	require.Len(t, d.Reports, 2)
	require.Equal(t, []string{"2026-11-20", "2026-11-20"}, []string{d.Reports[0].Day, d.Reports[1].Day}, "the re-run answered the failed day")
	require.True(t, d.Reports[0].OK, "newest first")
	require.Empty(t, d.Faults, "the re-run closed the fault")
	require.Equal(t, at("2026-12-25 18:00"), d.NextRestore, "this month's passed: next month's")

	h.until("2026-11-22 01:00")
	_, err = h.svc.Report(h.ctx, script, "db1", false, "", "", "api")
	require.NoError(t, err)
	d, err = h.svc.PlanDetails(h.ctx, "db1")
	require.NoError(t, err)
	require.Len(t, d.Faults, 1, "an open fault shows")

	_, err = h.svc.PlanDetails(h.ctx, "db2")
	require.ErrorIs(t, err, core.ErrNotFound)
}

// TestIncrementalOnFullBackupDay: on the plan's full-backup day an
// incremental report is accepted but flagged at once (to the reporter and
// the operators) and the day counts as a missing full backup in the
// monthly audit (W 8.4.4: monthly full backups).
func TestIncrementalOnFullBackupDay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 20, backup.Policy{})
	require.NoError(t, err)
	h.until("2026-11-20 01:00")
	h.s.Notices = nil
	res := h.report("2026-11-20 01:00", script, true, "incremental", "")
	require.Equal(t, "incremental", res.Report.Kind, "accepted as reported")
	require.True(t, res.NotFull, "flagged")
	require.Equal(t, []backup.NotFull{{System: "db1", Day: "2026-11-20", Report: res.Report.ID, By: core.SystemUser}}, bodies[backup.NotFull](h)[:1])
	require.Equal(t, []string{"backup.not_full backup-plan:1#2026-11-20 → user:op1", "backup.not_full backup-plan:1#2026-11-20 → user:op2"},
		of(h.sent(), "backup.not_full"))
	require.Contains(t, h.actions(), "backup.full.missing")

	require.False(t, h.report("2026-11-21 01:00", script, true, "incremental", "").NotFull, "an ordinary day")
	require.False(t, h.report("2026-11-21 01:00", script, true, "", "").NotFull)

	h.until("2026-12-01 09:00")
	_, err = h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	a, err := h.svc.Audit(h.ctx, "2026-11")
	require.NoError(t, err)
	require.Len(t, a.Systems, 1)
	require.Equal(t, 0, a.Systems[0].Full)
	require.Equal(t, 1, a.Systems[0].FullMissing, "the full-backup day had only an incremental backup")

	t.Run("a full report on the day counts", func(t *testing.T) {
		h := newHarness(t, "2026-11-19 10:00")
		_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 20, backup.Policy{})
		require.NoError(t, err)
		res := h.report("2026-11-20 01:00", script, true, "", "")
		require.Equal(t, "full", res.Report.Kind)
		require.False(t, res.NotFull)
		h.until("2026-12-01 09:00")
		_, err = h.svc.MonthlyAudit(h.ctx)
		require.NoError(t, err)
		a, err := h.svc.Audit(h.ctx, "2026-11")
		require.NoError(t, err)
		require.Equal(t, 1, a.Systems[0].Full)
		require.Equal(t, 0, a.Systems[0].FullMissing)
	})
}

// TestHistoryKeepsTheFailedAttemptNextToItsRerun: the log lists each
// day's reports in order, the failed attempt and its successful re-run,
// the re-run marked as such (W 8.4.4).
func TestHistoryKeepsTheFailedAttemptNextToItsRerun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{})
	require.NoError(t, err)
	h.report("2026-11-20 01:00", script, false, "", "disk full")
	h.report("2026-11-20 05:00", operator, true, "", "")
	h.report("2026-11-21 01:00", script, true, "", "")

	l, err := h.svc.History(h.ctx, "db1")
	require.NoError(t, err)
	var got []string
	for _, d := range l.Days {
		line := d.Check.Day + " " + d.Check.State + ":"
		for _, a := range d.Attempts {
			line += fmt.Sprintf(" %s/%v/rerun=%v", a.Report.At.In(cst).Format("15:04"), a.Report.OK, a.Rerun)
		}
		got = append(got, line)
	}
	require.Equal(t, []string{
		"2026-11-21 ok: 01:00/true/rerun=false",
		"2026-11-20 ok: 01:00/false/rerun=false 05:00/true/rerun=true",
	}, got)
}
