package inspect_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/inspect"
	"opsbot/core/org"
)

func TestAddPlan(t *testing.T) {
	t.Parallel()
	items := []string{"disk", "backup"}
	for _, tc := range []struct {
		name     string
		actor    core.Actor
		plan     string
		cron     string
		assignee string
		items    []string
		opts     inspect.PlanOptions
		wantErr  error
	}{
		{name: "not an operator", actor: outsider, plan: "daily", cron: "0 9 * * *", assignee: "operator", items: items, wantErr: core.ErrForbidden},
		{name: "bad name", actor: operator, plan: "Daily Check", cron: "0 9 * * *", assignee: "operator", items: items, wantErr: core.ErrInvalid},
		{name: "bad cron", actor: operator, plan: "daily", cron: "0 25 * * *", assignee: "operator", items: items, wantErr: core.ErrInvalid},
		{name: "grace under a minute", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "operator", items: items,
			opts: inspect.PlanOptions{Grace: time.Second}, wantErr: core.ErrInvalid},
		{name: "level 5", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "operator", items: items,
			opts: inspect.PlanOptions{Level: 5}, wantErr: core.ErrInvalid},
		{name: "no items", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "operator", items: []string{" ", ""}, wantErr: core.ErrInvalid},
		{name: "unknown assignee", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "nobody", items: items, wantErr: core.ErrNotFound},
		{name: "removed assignee", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "gone", items: items, wantErr: core.ErrNotFound},
		{name: "a role nobody holds", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "unit_admin", items: items, wantErr: core.ErrConflict},
		{name: "added", actor: operator, plan: "daily", cron: "0 9 * * *", assignee: "operator", items: []string{"disk", " disk ", "backup"}},
		{name: "a second plan of that name", actor: operator, plan: "daily", cron: "0 10 * * *", assignee: "op1", items: items, wantErr: core.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "2026-11-19 10:00")
			if tc.name == "a second plan of that name" {
				_, err := h.svc.AddPlan(h.ctx, operator, "daily", inspect.Schedule{Cron: "0 9 * * *"}, "operator", items, inspect.PlanOptions{})
				require.NoError(t, err)
			}
			p, err := h.svc.AddPlan(h.ctx, tc.actor, tc.plan, inspect.Schedule{Cron: tc.cron}, tc.assignee, tc.items, tc.opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{"disk", "backup"}, p.Items, "items trimmed, each once")
			require.Equal(t, 2*time.Hour, p.Grace, "the configured grace by default")
			require.Equal(t, 3, p.Level)
			require.Equal(t, []string{"inspection:due inspect-plan:1 2026-11-20 09:00"}, h.pending(), "the next cron slot")
			require.Equal(t, []string{"inspect.plan.add"}, h.actions())
		})
	}
}

// newPlan adds plan "daily" at 09:00 every day for the operators.
func newPlan(t *testing.T, h *harness) inspect.Plan {
	t.Helper()
	p, err := h.svc.AddPlan(h.ctx, operator, "daily", inspect.Schedule{Cron: "0 9 * * *"}, "operator", []string{"disk", "backup"}, inspect.PlanOptions{Level: 2})
	require.NoError(t, err)
	return p
}

func TestRunDuePerCronSlotOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	h.until("2026-11-20 09:00")
	require.Equal(t, []string{"inspect.card inspect:1 → user:op1", "inspect.card inspect:1 → user:op2", "inspect.card inspect:1 → channel:ops"}, h.sent())
	require.Len(t, h.s.runs, 1)
	r := h.s.runs[0]
	require.Equal(t, at("2026-11-20 09:00"), r.DueAt)
	require.Equal(t, []string{"op1", "op2"}, r.Assignees)
	require.Equal(t, inspect.StatePending, r.State)
	require.Equal(t, []string{
		"inspection:due inspect-plan:1 2026-11-21 09:00",
		"inspection:grace inspect:1 remind 2026-11-20 11:00",
	}, h.pending())

	// The slot's timer fires once, however often it is handled.
	for _, tm := range h.s.Timers {
		require.NoError(t, h.svc.HandleTimer(h.ctx, tm.ID))
	}
	require.Len(t, h.s.runs, 1)
	require.Empty(t, h.sent())
	require.Equal(t, []string{"inspect.run"}, h.actions()[1:])
}

func TestRunAfterAnOutageResumesFromNow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	h.clock.T = at("2026-11-23 10:00") // down since before the 20th's slot
	for _, tm := range h.s.Timers {
		require.NoError(t, h.svc.HandleTimer(h.ctx, tm.ID))
	}
	require.Len(t, h.s.runs, 1, "the missed slot runs once, the ones after it are not replayed")
	require.Contains(t, h.pending(), "inspection:due inspect-plan:1 2026-11-24 09:00")
}

func TestUnreportedRunRemindsThenEscalatesCountedMissed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	h.until("2026-11-20 10:59")
	h.sent()
	h.until("2026-11-20 11:00")
	require.Equal(t, []string{"inspect.remind inspect:1 → user:op1", "inspect.remind inspect:1 → user:op2"}, h.sent(), "after the grace: the assignees")
	require.False(t, h.s.runs[0].Missed)
	h.until("2026-11-20 12:59")
	require.Empty(t, h.sent())
	h.until("2026-11-20 13:00")
	esc := bodies[inspect.Escalated](h)
	require.Equal(t, []string{"inspect.escalated inspect:1 → user:ua1"}, h.sent(), "the same time again: their admin, once")
	require.True(t, esc[0].Missed)
	require.Equal(t, at("2026-11-20 09:00"), esc[0].Due)
	require.True(t, h.s.runs[0].Missed, "counted missed")
	require.Equal(t, inspect.StatePending, h.s.runs[0].State, "and may still be reported")
	require.Contains(t, h.actions(), "inspect.missed")

	sums, err := h.svc.Summary(h.ctx, at("2026-11-01 00:00"), at("2026-12-01 00:00"), nil)
	require.NoError(t, err)
	require.Equal(t, []inspect.PlanSummary{{Plan: "daily", Runs: 1, Missed: 1}}, sums)
	for _, c := range []struct {
		month, quarter, label string
		runs                  int
	}{{"", "", "2026-11", 1}, {"2026-11", "", "2026-11", 1}, {"", "2026-Q4", "2026-Q4", 1}, {"2026-10", "", "2026-10", 0}} {
		label, sums, err := h.svc.PeriodSummary(h.ctx, c.month, c.quarter, nil)
		require.NoError(t, err)
		require.Equal(t, c.label, label, "this month when none is given")
		require.Len(t, sums, c.runs, label)
	}
	_, _, err = h.svc.PeriodSummary(h.ctx, "", "2026-Q5", nil)
	require.ErrorIs(t, err, core.ErrInvalid)
}

func TestEscalationWithoutAdminsGoesToTheSysAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "solo", inspect.Schedule{Cron: "0 9 * * *"}, "u9", []string{"disk"}, inspect.PlanOptions{Grace: time.Hour})
	require.NoError(t, err)
	h.until("2026-11-20 11:00")
	require.Equal(t, []string{"inspect.card inspect:1 → user:u9", "inspect.card inspect:1 → channel:ops", "inspect.remind inspect:1 → user:u9",
		"inspect.escalated inspect:1 → user:root"}, h.sent(), "the plan's own grace; no admin above u9: the sys admin")
}

func TestIssueOpensAnIncidentInTheSameTransaction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	h.until("2026-11-20 09:30")
	h.sent()

	out, err := h.svc.Mark(h.ctx, operator, 1, []int{1}, false, " 95% full ")
	require.NoError(t, err)
	require.Len(t, out.Incidents, 1)
	require.Len(t, h.inc.Opened, 1)
	inc := h.inc.Opened[0]
	require.Equal(t, "daily · disk: 95% full", inc.Title)
	require.Equal(t, 2, inc.Level, "the plan's level")
	require.Equal(t, "op1", inc.Actor)
	require.Same(t, h.s.runTx[1], inc.Tx, "the incident opens in the transaction that records the item")
	require.Equal(t, inc.ID, out.Run.Results[1].Incident)
	require.False(t, out.Run.Results[1].OK)
	require.Equal(t, inspect.StatePending, out.Run.State, "one item left")
	issues := bodies[inspect.Issue](h)
	require.Equal(t, []string{"update.inspect inspect:1 → (update)", "inspect.issue inspect:1 → user:op2"}, h.sent(),
		"the cards are replaced; the other assignee hears of the incident")
	require.Equal(t, inc.ID, issues[0].Incident)
	require.Equal(t, "95% full", issues[0].Note)
	require.Equal(t, []string{inspect.ItemIssue, ""}, issues[0].States)
	require.Equal(t, 1, issues[0].Issues)

	// OK closes the run: the reminders stop.
	out, err = h.svc.Mark(h.ctx, op2, 1, nil, true, "")
	require.NoError(t, err)
	require.Equal(t, inspect.StateDone, out.Run.State)
	require.Equal(t, at("2026-11-20 09:30"), *out.Run.DoneAt)
	require.True(t, out.Run.Results[2].OK)
	require.Empty(t, out.Incidents)
	require.Equal(t, []string{"update.inspect inspect:1 → (update)"}, h.sent())
	require.NotContains(t, h.pending(), "inspection:grace inspect:1 remind 2026-11-20 11:00")
	h.until("2026-11-20 20:00")
	require.Empty(t, h.sent(), "no reminder nor escalation of a done run")
	require.False(t, h.s.runs[0].Missed)
	require.Equal(t, []string{"inspect.plan.add", "inspect.run", "inspect.report", "inspect.report"}, h.actions())
}

func TestMarkRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		actor   core.Actor
		items   []int
		ok      bool
		wantErr error
	}{
		{name: "neither assignee nor operator", actor: outsider, items: []int{1}, ok: true, wantErr: core.ErrForbidden},
		{name: "item out of range", actor: operator, items: []int{3}, ok: true, wantErr: core.ErrInvalid},
		{name: "Issue needs the item", actor: operator, ok: false, wantErr: core.ErrInvalid},
		{name: "an item reported already", actor: operator, items: []int{2}, ok: true, wantErr: core.ErrConflict},
		{name: "OK for every item left", actor: operator, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "2026-11-19 10:00")
			newPlan(t, h)
			h.until("2026-11-20 09:30")
			_, err := h.svc.Mark(h.ctx, op2, 1, []int{2}, true, "")
			require.NoError(t, err)
			out, err := h.svc.Mark(h.ctx, tc.actor, 1, tc.items, tc.ok, "")
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Len(t, h.s.runs[0].Results, 1, "nothing recorded")
				return
			}
			require.NoError(t, err)
			require.Equal(t, inspect.StateDone, out.Run.State)
			_, err = h.svc.Mark(h.ctx, tc.actor, 1, []int{1}, true, "")
			require.ErrorIs(t, err, core.ErrConflict, "a done run takes no more")
		})
	}
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.Mark(h.ctx, operator, 9, nil, true, "")
	require.ErrorIs(t, err, core.ErrNotFound)
}

func TestReportMarksTheLatestOpenRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	_, err := h.svc.Report(h.ctx, operator, "daily", nil, true, "")
	require.ErrorIs(t, err, core.ErrConflict, "no run yet")
	h.until("2026-11-21 09:30")
	out, err := h.svc.Report(h.ctx, operator, "daily", nil, true, "")
	require.NoError(t, err)
	require.Equal(t, int64(2), out.Run.ID, "the latest")
	out, err = h.svc.Report(h.ctx, operator, "daily", nil, true, "")
	require.NoError(t, err)
	require.Equal(t, int64(1), out.Run.ID, "then the one before")
	_, err = h.svc.Report(h.ctx, operator, "weekly", nil, true, "")
	require.ErrorIs(t, err, core.ErrNotFound)

	plan, runs, err := h.svc.Log(h.ctx, "daily", 10)
	require.NoError(t, err)
	require.Equal(t, "daily", plan.Name)
	require.Len(t, runs, 2)
}

func TestRemovePlanStopsRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	_, err := h.svc.RemovePlan(h.ctx, outsider, "daily")
	require.ErrorIs(t, err, core.ErrForbidden)
	_, err = h.svc.RemovePlan(h.ctx, operator, "daily")
	require.NoError(t, err)
	h.until("2026-11-25 00:00")
	require.Empty(t, h.s.runs)
	infos, err := h.svc.Plans(h.ctx)
	require.NoError(t, err)
	require.Empty(t, infos)
}

func TestChecklistOf(t *testing.T) {
	t.Parallel()
	r := inspect.Run{ID: 4, Plan: "daily", Items: []string{"a", "b", "c"}, Assignees: []string{"op1"}, DueAt: at("2026-11-20 09:00"),
		State: inspect.StatePending, Missed: true, Results: map[int]inspect.Result{1: {OK: true}, 3: {OK: false, Incident: 7}}}
	require.Equal(t, inspect.Checklist{ID: 4, Plan: "daily", Items: []string{"a", "b", "c"}, States: []string{inspect.ItemOK, "", inspect.ItemIssue},
		State: inspect.StatePending, Assignees: []string{"op1"}, Due: at("2026-11-20 09:00"), Issues: 1, Missed: true}, inspect.ChecklistOf(r))
}

// TestWorkdaysPlanFollowsThePRCCalendar: a plan on "working days at
// 09:00" (M 7.3.2.2.1) does not run on the 2026 National Day holidays
// (10-01..07) and runs on the make-up Saturday 10-10; a day declared a
// holiday after its run was scheduled gets no run.
func TestWorkdaysPlanFollowsThePRCCalendar(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-09-29 10:00")
	for _, d := range []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"} {
		h.cal.SetHoliday(d)
	}
	h.cal.SetWorkday("2026-10-10")
	p, err := h.svc.AddPlan(h.ctx, operator, "workday", inspect.Schedule{Workdays: "09:00"}, "op1", []string{"disk"}, inspect.PlanOptions{})
	require.NoError(t, err)
	require.Equal(t, "09:00", p.Workdays)
	require.Empty(t, p.Cron)
	infos, err := h.svc.Plans(h.ctx)
	require.NoError(t, err)
	require.Equal(t, at("2026-09-30 09:00"), infos[0].Next)

	h.until("2026-10-13 09:30")
	var due []string
	for _, r := range h.s.runs {
		due = append(due, r.DueAt.In(cst).Format("01-02 Mon"))
	}
	require.Equal(t, []string{"09-30 Wed", "10-08 Thu", "10-09 Fri", "10-10 Sat", "10-12 Mon", "10-13 Tue"}, due)

	h.cal.SetHoliday("2026-10-14") // declared after the 10-14 run was scheduled
	h.until("2026-10-15 09:30")
	require.Len(t, h.s.runs, 7)
	require.Equal(t, at("2026-10-15 09:00"), h.s.runs[6].DueAt)
}

func TestScheduleIsCronOrWorkdays(t *testing.T) {
	t.Parallel()
	for _, sc := range []inspect.Schedule{{}, {Cron: "0 9 * * *", Workdays: "09:00"}, {Workdays: "9am"}, {Workdays: "25:00"}} {
		h := newHarness(t, "2026-11-19 10:00")
		_, err := h.svc.AddPlan(h.ctx, operator, "daily", sc, "op1", []string{"disk"}, inspect.PlanOptions{})
		require.ErrorIs(t, err, core.ErrInvalid, "%+v", sc)
	}
}

// TestSummaryScope: the inspections report keeps a run when the view
// keeps one of its assignees, by the assignee's unit (now) or, in a
// member's view, the assignee themself: a district's view the runs of its
// people, a member's view the runs assigned to them, the city every run.
func TestSummaryScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	h.s.users["a1"] = org.User{ID: "a1", Unit: "u1"}
	h.s.users["b1"] = org.User{ID: "b1", Unit: "d2"}
	for _, p := range []struct{ name, who string }{{"plan-a", "a1"}, {"plan-b", "b1"}} {
		_, err := h.svc.AddPlan(h.ctx, operator, p.name, inspect.Schedule{Cron: "0 9 * * *"}, p.who, []string{"disk"}, inspect.PlanOptions{})
		require.NoError(t, err)
	}
	h.until("2026-11-20 09:00")
	units := func(codes ...string) func(string, ...string) bool {
		return func(u string, _ ...string) bool { return slices.Contains(codes, u) }
	}
	own := func(id string) func(string, ...string) bool {
		return func(_ string, people ...string) bool { return slices.Contains(people, id) }
	}
	for _, tc := range []struct {
		name string
		keep func(string, ...string) bool
		want []string
	}{
		{"city", nil, []string{"plan-a", "plan-b"}},
		{"district d1", units("d1", "u1"), []string{"plan-a"}},
		{"unit u1", units("u1"), []string{"plan-a"}},
		{"district d2", units("d2"), []string{"plan-b"}},
		{"a1's own", own("a1"), []string{"plan-a"}},
		{"u9's own", own("u9"), nil},
	} {
		sums, err := h.svc.Summary(h.ctx, at("2026-11-01 00:00"), at("2026-12-01 00:00"), tc.keep)
		require.NoError(t, err)
		var got []string
		for _, s := range sums {
			got = append(got, s.Plan)
		}
		require.Equal(t, tc.want, got, tc.name)
	}
}
