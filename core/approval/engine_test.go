package approval_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/calendar"
	"opsbot/core/org"
)

// engine is the approval service over an in-memory store, a hand-moved
// clock and the default working hours (08:30–12:00, 14:00–17:30) in UTC.
type engine struct {
	f     *fake
	clock *clock
	cal   *calendar.Calendar
	svc   *approval.Service
}

// Monday 2026-11-23, 10:00.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newEngine(t *testing.T) engine {
	t.Helper()
	f := newFake()
	f.AddUnit("city", org.LevelCity, "")
	f.AddUnit("dongcheng", org.LevelDistrict, "city")
	f.AddUnit("dc-edu", org.LevelUnit, "dongcheng")
	f.AddUser("admin", "city", org.RoleSysAdmin, "city")
	f.AddUser("admin2", "city", org.RoleSysAdmin, "city")
	f.AddUser("liqiang", "dongcheng", org.RoleDistrictAdmin, "dongcheng")
	f.AddUser("zhangwei", "dc-edu", org.RoleUnitAdmin, "dc-edu")
	f.AddUser("sunli", "city", org.RoleOperator, "city")
	f.AddUser("zhoujie", "city", org.RoleOperator, "city")
	f.AppByCode["edu"] = org.App{Code: "edu", Name: "教育平台", Owner: "dc-edu", Scope: "unit", Level: "unit", Status: approval.AppRegistered}
	// The routes of migrations 002 and 018 these tests walk.
	both := []org.Role{org.RoleOperator, org.RoleSysAdmin}
	approveReject := []string{approval.VerbApprove, approval.VerbReject}
	f.routes["app_online/unit"] = []approval.Step{
		{Route: "app_online/unit", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleUnitAdmin}, FallbackRoles: []org.Role{org.RoleDistrictAdmin, org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: approveReject},
		{Route: "app_online/unit", Seq: 2, Name: "execute", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1, Verbs: []string{approval.VerbDone}},
	}
	f.routes["change/normal"] = []approval.Step{
		{Route: "change/normal", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleSysAdmin}, Scope: "city", Count: 1, Verbs: approveReject},
		{Route: "change/normal", Seq: 2, Name: "implement", Roles: both, Scope: "city", Count: 1, Verbs: []string{approval.VerbStart}},
		{Route: "change/normal", Seq: 3, Name: "complete", Roles: both, Scope: "city", Count: 1, Verbs: []string{approval.VerbDone}},
		{Route: "change/normal", Seq: 4, Name: "review", Roles: both, Scope: "city", Count: 1, Verbs: []string{approval.VerbOK, approval.VerbIssues}},
	}
	f.routes["change/emergency"] = []approval.Step{
		{Route: "change/emergency", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleSysAdmin}, Scope: "city", Count: 1, Verbs: approveReject},
		{Route: "change/emergency", Seq: 2, Name: "approve2", Roles: []org.Role{org.RoleOperator, org.RoleSysAdmin, org.RoleDistrictAdmin}, Scope: "city", Count: 1, Verbs: approveReject},
		{Route: "change/emergency", Seq: 3, Name: "implement", Roles: both, Scope: "city", Count: 1, Verbs: []string{approval.VerbStart}},
	}
	f.routes["operation/dual"] = []approval.Step{
		{Route: "operation/dual", Seq: 1, Name: "approve", Roles: both, Scope: "city", Count: 2, Verbs: approveReject},
		{Route: "operation/dual", Seq: 2, Name: "execute", Roles: both, Scope: "requester", Count: 1, Verbs: []string{approval.VerbDone}},
		{Route: "operation/dual", Seq: 3, Name: "check", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1,
			Verbs: []string{approval.VerbOK, approval.VerbIssues}, BackTo: 2},
	}
	// Migration 018: a cross-unit app's owner unit agrees before the sys admin approves.
	for _, kind := range []string{"app_online", "app_offline"} {
		route := kind + "/cross"
		f.routes[route] = []approval.Step{
			{Route: route, Seq: 1, Name: "owner_agree", Roles: []org.Role{org.RoleUnitAdmin}, FallbackRoles: []org.Role{org.RoleDistrictAdmin},
				Scope: "owner", Count: 1, Verbs: approveReject},
			{Route: route, Seq: 2, Name: "approve", Roles: []org.Role{org.RoleSysAdmin}, Scope: "city", Count: 1, Verbs: approveReject},
			{Route: route, Seq: 3, Name: "execute", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1, Verbs: []string{approval.VerbDone}},
		}
	}
	c := &clock{now: monday}
	cal := calendar.New(time.UTC, nil)
	svc := approval.NewService(f, c, cal, approval.Config{})
	return engine{f: f, clock: c, cal: cal, svc: svc}
}

// requireCode checks err is a core error with code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ce *core.Error
	require.Truef(t, errors.As(err, &ce), "want error %s, got %v", code, err)
	require.Equal(t, code, ce.Code)
}

// change requests a normal change in tonight's window (20:00–22:00).
func (e engine) change(t *testing.T, by string) approval.Result {
	t.Helper()
	day := e.clock.now.Truncate(24 * time.Hour)
	res, err := e.svc.RequestChange(context.Background(), as(by), approval.ChangeInput{Title: "升级数据库", Target: "db01", Risk: "low",
		Plan: "滚动升级", Rollback: "回切快照", TestPlan: "读写校验", Steps: "停写-升级-校验", Staff: []string{"sunli"}, Start: day.Add(20 * time.Hour), End: day.Add(22 * time.Hour)})
	require.NoError(t, err)
	return res
}

// TestRequesterNeverApproves: whoever asked never approves or rejects
// their own request, even when they hold the deciding role; the step
// falls back to the next admin up, and cards never go to the requester.
func TestRequesterNeverApproves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		requester string
		submit    func(e engine) (approval.Result, error)
		deciders  []string
	}{
		{"a unit admin's onboarding goes to the admins above", "zhangwei",
			func(e engine) (approval.Result, error) { return e.svc.RequestOnline(ctx, as("zhangwei"), "edu", "") },
			[]string{"admin", "admin2", "liqiang"}},
		{"a sys admin's change goes to the other sys admin", "admin",
			func(e engine) (approval.Result, error) {
				return e.svc.RequestChange(ctx, as("admin"), approval.ChangeInput{Title: "t", Target: "db", Risk: "low", Plan: "p", Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"},
					Start: monday.Add(10 * time.Hour), End: monday.Add(12 * time.Hour)})
			}, []string{"admin2"}},
		{"an operator's dual-person operation goes to everyone else", "sunli",
			func(e engine) (approval.Result, error) {
				return e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
			},
			[]string{"admin", "admin2", "zhoujie"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			res, err := tc.submit(e)
			require.NoError(t, err)
			require.Equal(t, tc.deciders, res.Next)
			for _, n := range e.f.sent(approval.NoticeCard) {
				require.NotEqual(t, tc.requester, n.To.User, "a card went to the requester")
			}
			for _, verb := range []string{approval.VerbApprove, approval.VerbReject} {
				_, err := e.svc.Decide(ctx, as(tc.requester), res.Request.ID, 0, verb, "note")
				requireCode(t, err, "self_approval")
			}
			_, err = e.svc.Decide(ctx, as(tc.deciders[0]), res.Request.ID, 0, approval.VerbApprove, "")
			require.NoError(t, err)
		})
	}
}

// TestRequesterWithoutOtherDecider: a request nobody but its requester
// could approve is refused at submission, not left waiting.
func TestRequesterWithoutOtherDecider(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	e.f.RemoveGrant("admin", org.RoleSysAdmin, "city") // admin2 alone holds sys_admin
	_, err := e.svc.RequestChange(context.Background(), as("admin2"), approval.ChangeInput{Title: "t", Target: "db", Risk: "low", Plan: "p",
		Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"}, Start: monday.Add(10 * time.Hour), End: monday.Add(12 * time.Hour)})
	requireCode(t, err, "no_decider")
	require.Empty(t, e.f.requests)
}

// TestDualPersonOperation: an operation needs two distinct approvers,
// neither the requester; one person approving twice counts once.
func TestDualPersonOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		clicks [][2]string // actor, expected error code ("" none)
		state  approval.State
		step   int
	}{
		{"two operators", [][2]string{{"zhoujie", ""}, {"admin", ""}}, approval.StatePending, 2},
		{"the same approver twice", [][2]string{{"zhoujie", ""}, {"zhoujie", "same_person_twice"}}, approval.StatePending, 1},
		{"the requester as second approver", [][2]string{{"zhoujie", ""}, {"sunli", "self_approval"}}, approval.StatePending, 1},
		{"one approval only", [][2]string{{"admin", ""}}, approval.StatePending, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			res, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
			require.NoError(t, err)
			id := res.Request.ID
			for _, c := range tc.clicks {
				_, err := e.svc.Decide(ctx, as(c[0]), id, 0, approval.VerbApprove, "")
				if c[1] == "" {
					require.NoError(t, err)
				} else {
					requireCode(t, err, c[1])
				}
			}
			r := e.f.requests[id]
			require.Equal(t, tc.state, r.State)
			require.Equal(t, tc.step, r.Step)
			decided := map[string]bool{}
			for _, d := range e.f.decisions {
				require.NotEqual(t, "sunli", d.Actor)
				decided[d.Actor] = true
			}
			if tc.step == 2 {
				require.Len(t, decided, 2, "two distinct approvers")
				// The execute step is the requester's own.
				require.Equal(t, []string{"user:sunli"}, e.f.recipients(approval.NoticeCard)[len(e.f.recipients(approval.NoticeCard))-1:])
			}
		})
	}
}

// TestDualPersonWaitingCard: after the first approval the cards say who
// approved and how many are still missing, and keep their buttons.
func TestDualPersonWaitingCard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	res, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	got, err := e.svc.Decide(ctx, as("zhoujie"), res.Request.ID, 1, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, 1, got.Waiting)
	upd := e.f.sent(approval.NoticeUpdate)
	require.Len(t, upd, 1)
	u := upd[0].Body.(approval.CardUpdate)
	require.Equal(t, res.Request.StepRef(1), upd[0].Ref)
	require.Equal(t, 1, u.Waiting)
	require.Equal(t, []string{"zhoujie"}, u.ApprovedBy)
	require.Equal(t, monday, u.DecidedAt)
	require.Empty(t, e.f.sent(approval.NoticeProgress), "the requester hears once the step is decided")
}

// TestChangeReviewerIsNotImplementer: whoever started a change completes
// it, and someone else reviews it.
func TestChangeReviewerIsNotImplementer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		reviewer string
		code     string
	}{
		{"the implementer reviews", "sunli", "reviewer_is_implementer"},
		{"another operator reviews", "zhoujie", ""},
		{"a sys admin reviews", "admin", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			id := e.change(t, "liqiang").Request.ID
			_, err := e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
			require.NoError(t, err)
			e.clock.now = at(20, 5) // inside its window
			_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
			require.NoError(t, err)
			_, err = e.svc.Decide(ctx, as("zhoujie"), id, 0, approval.VerbDone, "完成")
			requireCode(t, err, "not_implementer")
			_, err = e.svc.CompleteChange(ctx, as("sunli"), id, "完成", "升级前正常", "升级后正常")
			require.NoError(t, err)
			res, err := e.svc.Decide(ctx, as(tc.reviewer), id, 0, approval.VerbOK, "")
			if tc.code != "" {
				requireCode(t, err, tc.code)
				require.Equal(t, approval.StatePending, e.f.requests[id].State)
				return
			}
			require.NoError(t, err)
			require.Equal(t, approval.StateDone, res.Request.State)
			require.Equal(t, "sunli", res.Request.Payload["implementer"])
			require.Equal(t, tc.reviewer, res.Request.Payload["reviewer"])
		})
	}
}

// fire runs every pending timer of kind due by now.
func (e engine) fire(t *testing.T, kind string) {
	t.Helper()
	for _, tm := range e.f.pending(kind) {
		require.NoError(t, e.svc.HandleTimer(context.Background(), tm.ID))
	}
}

// TestRemindersEveryFourWorkingHours: a step waiting for someone reminds
// them every 4 working hours, counting only working hours of working
// days (holidays skipped), until it is decided.
func TestRemindersEveryFourWorkingHours(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		at       time.Time
		holidays []string
		due      []time.Time // the first reminders, in turn
	}{
		{"within one day", monday, nil, []time.Time{
			time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC), // 10:00–12:00 + 14:00–16:00
			time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC), // 16:00–17:30 + 08:30–11:00
		}},
		{"over a weekend and a holiday", time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), []string{"2026-11-30"}, []time.Time{
			time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), // Fri 16:00–17:30, Tue 08:30–11:00
			time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), // 11:00–12:00 + 14:00–17:00
		}},
		{"asked at night", time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC), nil, []time.Time{
			time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC), // 08:30–12:00 + 14:00–14:30
			time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC),  // 14:30–17:30 + 08:30–09:30
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			for _, d := range tc.holidays {
				e.cal.SetHoliday(d)
			}
			e.clock.now = tc.at
			res, err := e.svc.RequestOnline(ctx, as("zhangwei"), "edu", "")
			require.NoError(t, err)
			for i, due := range tc.due {
				timers := e.f.pending(approval.TimerRemind)
				require.Len(t, timers, 1)
				require.Equal(t, due, timers[0].DueAt, "reminder %d", i+1)
				e.clock.now = due.Add(-time.Minute)
				e.fire(t, approval.TimerRemind) // not due yet: nothing
				require.Len(t, e.f.sent(approval.NoticeRemind), 3*i)
				e.clock.now = due
				e.fire(t, approval.TimerRemind)
				reminders := e.f.sent(approval.NoticeRemind)
				require.Len(t, reminders, 3*(i+1))
				for j, who := range []string{"admin", "admin2", "liqiang"} {
					n := reminders[3*i+j]
					require.Equal(t, "user:"+who, n.To.String())
					require.Equal(t, res.Request.StepRef(1), n.Ref)
					require.Equal(t, tc.at, n.Body.(approval.Reminder).Since)
				}
			}
			// Decided: the pending reminder goes, nobody is reminded again.
			_, err = e.svc.Decide(ctx, as("liqiang"), res.Request.ID, 0, approval.VerbApprove, "")
			require.NoError(t, err)
			timers := e.f.pending(approval.TimerRemind)
			require.Len(t, timers, 1, "the next step's reminder")
			require.Equal(t, "2", timers[0].Data["step"])
			e.clock.now = timers[0].DueAt
			e.fire(t, approval.TimerRemind)
			require.Equal(t, []string{"user:sunli", "user:zhoujie"}, e.f.recipients(approval.NoticeRemind)[3*len(tc.due):])
		})
	}
}

// TestReminderOfAStepMovedOn: a reminder that fires after its step was
// decided says nothing.
func TestReminderOfAStepMovedOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	res, err := e.svc.RequestOnline(ctx, as("zhangwei"), "edu", "")
	require.NoError(t, err)
	old := e.f.pending(approval.TimerRemind)[0]
	_, err = e.svc.Decide(ctx, as("liqiang"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	e.clock.now = old.DueAt
	require.NoError(t, e.svc.HandleTimer(ctx, old.ID))
	require.Empty(t, e.f.sent(approval.NoticeRemind))
}

// TestChangeStartedInTimeDoesNotExpire: the end of the window of a change
// started inside it says nothing and changes nothing.
func TestChangeStartedInTimeDoesNotExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	id := e.change(t, "liqiang").Request.ID
	_, err := e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	end := e.f.pending(approval.TimerWindowEnd)
	require.Len(t, end, 1)
	e.clock.now = at(20, 5)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	require.NoError(t, err)
	require.Empty(t, e.f.pending(approval.TimerWindowEnd), "starting cancels the window's end")
	e.clock.now = end[0].DueAt
	require.NoError(t, e.svc.HandleTimer(ctx, end[0].ID))
	require.Empty(t, e.f.sent(approval.NoticeWindowMiss))
	require.Equal(t, approval.StatePending, e.f.requests[id].State)
}

// TestNormalChangeAvoidsDaytime: a normal change touching working-day
// daytime is refused with the next allowed window; an emergency one is not.
func TestNormalChangeAvoidsDaytime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	in := approval.ChangeInput{Title: "t", Target: "db", Risk: "low", Plan: "p", Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"},
		Start: monday.Add(4 * time.Hour), End: monday.Add(6 * time.Hour)}
	_, err := e.svc.RequestChange(ctx, as("sunli"), in)
	requireCode(t, err, "change_window_daytime")
	in.Emergency = true
	res, err := e.svc.RequestChange(ctx, as("sunli"), in)
	require.NoError(t, err)
	require.Equal(t, "change/emergency", res.Request.Route)
}

// TestShowWaitedWorkingTime: Show tells how long the current step has
// waited in working time (the overview's count), and nothing once the
// request is closed.
func TestShowWaitedWorkingTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	res, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	e.clock.now = monday.Add(time.Hour) // 11:00, inside the morning's working hours
	d, err := e.svc.Show(ctx, as("sunli"), res.Request.ID)
	require.NoError(t, err)
	require.Equal(t, time.Hour, d.Waited)
	e.clock.now = monday.Add(24 * time.Hour) // Tuesday 10:00: a day on the wall, less in working time
	d, err = e.svc.Show(ctx, as("sunli"), res.Request.ID)
	require.NoError(t, err)
	require.Equal(t, e.cal.WorkingBetween(monday, e.clock.now), d.Waited)
	require.Less(t, d.Waited, 12*time.Hour)
	_, err = e.svc.Decide(ctx, as("sunli"), res.Request.ID, 0, approval.VerbReject, "不需要了")
	require.Error(t, err, "the requester may not reject their own")
	_, err = e.svc.Cancel(ctx, as("sunli"), res.Request.ID)
	require.NoError(t, err)
	d, err = e.svc.Show(ctx, as("sunli"), res.Request.ID)
	require.NoError(t, err)
	require.Zero(t, d.Waited, "a closed request waits on no one")
}
