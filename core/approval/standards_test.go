package approval_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/org"
)

// at is a time on Monday 2026-11-23 (UTC, the engine's zone).
func at(hour, minute int) time.Time {
	return time.Date(2026, 11, 23, hour, minute, 0, 0, time.UTC)
}

// TestChangeStartsOnlyInItsWindow (W 8.6 d): an approved change may start
// only inside its window; before it the refusal names the window and when
// it opens, after it the change has expired.
func TestChangeStartsOnlyInItsWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		now  time.Time
		code string
	}{
		{"before the window", at(19, 59), "change_window_not_open"},
		{"at its start", at(20, 0), ""},
		{"inside", at(21, 30), ""},
		{"at its end", at(22, 0), "change_window_expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			id := e.change(t, "liqiang").Request.ID
			_, err := e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
			require.NoError(t, err)
			e.clock.now = tc.now
			_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
			if tc.code == "" {
				require.NoError(t, err)
				require.Equal(t, 3, e.f.requests[id].Step)
				return
			}
			requireCode(t, err, tc.code)
			require.Equal(t, 2, e.f.requests[id].Step, "nothing changed")
			if tc.code == "change_window_not_open" {
				require.Contains(t, errArgs(err), "2026-11-23 20:00 ~ 2026-11-23 22:00")
			}
		})
	}
}

// TestApproverMovesTheWindow (W 8.6 d): the approver may narrow or move a
// change's window when approving; the decision and the audit record it,
// the cards show it, start and expiry follow it.
func TestApproverMovesTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	id := e.change(t, "liqiang").Request.ID
	// A normal change's window stays out of working-day daytime, and must be in order.
	_, err := e.svc.ApproveWindow(ctx, as("admin"), id, 0, "", at(16, 0), at(19, 0))
	requireCode(t, err, "change_window_daytime")
	_, err = e.svc.ApproveWindow(ctx, as("admin"), id, 0, "", at(21, 0), at(20, 0))
	requireCode(t, err, "window_order")
	require.Empty(t, e.f.decisions, "a refused window leaves no decision")
	res, err := e.svc.ApproveWindow(ctx, as("admin"), id, 0, "缩短窗口", at(20, 30), at(21, 0))
	require.NoError(t, err)
	r := res.Request
	require.Equal(t, "2026-11-23 20:00 ~ 2026-11-23 22:00", r.Payload["window"], "the requested window is kept")
	require.Equal(t, "2026-11-23 20:30 ~ 2026-11-23 21:00", r.Payload["window_approved"])
	require.Equal(t, "2026-11-23 20:30 ~ 2026-11-23 21:00", e.f.decisions[0].Window)
	audit := e.f.Audits[len(e.f.Audits)-1]
	require.Equal(t, "request.approve", audit.Action)
	require.Contains(t, string(audit.After), "2026-11-23 20:30 ~ 2026-11-23 21:00")
	cards := e.f.sent(approval.NoticeCard)
	require.Equal(t, "2026-11-23 20:30 ~ 2026-11-23 21:00", cards[len(cards)-1].Body.(approval.Card).Payload["window_approved"])
	end := e.f.pending(approval.TimerWindowEnd)
	require.Len(t, end, 1)
	require.Equal(t, at(21, 0), end[0].DueAt)
	e.clock.now = at(20, 10)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	requireCode(t, err, "change_window_not_open")
	e.clock.now = at(20, 30)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	require.NoError(t, err)

	// Only an approval of a change carries a window.
	op, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	_, err = e.svc.ApproveWindow(ctx, as("admin"), op.Request.ID, 0, "", at(22, 0), at(23, 0))
	requireCode(t, err, "window_not_change")
}

// TestChangeExpiresUnstarted (W 8.6 d): a change whose window passes
// before it starts expires, and its requester and approvers are told.
func TestChangeExpiresUnstarted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		approve  bool
		told     []string
		stepName string
	}{
		{"approved, never started", true, []string{"user:liqiang", "user:admin"}, "implement"},
		{"never approved", false, []string{"user:liqiang"}, "approve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			id := e.change(t, "liqiang").Request.ID
			if tc.approve {
				_, err := e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
				require.NoError(t, err)
			}
			end := e.f.pending(approval.TimerWindowEnd)
			require.Len(t, end, 1)
			require.Equal(t, at(22, 0), end[0].DueAt)
			e.clock.now = at(21, 59)
			require.NoError(t, e.svc.HandleTimer(ctx, end[0].ID))
			require.Equal(t, approval.StatePending, e.f.requests[id].State, "not before its end")
			e.clock.now = at(22, 0)
			require.NoError(t, e.svc.HandleTimer(ctx, end[0].ID))
			require.NoError(t, e.svc.HandleTimer(ctx, end[0].ID), "a second firing does nothing")
			r := e.f.requests[id]
			require.Equal(t, approval.StateExpired, r.State)
			require.NotNil(t, r.ClosedAt)
			require.Equal(t, tc.told, e.f.recipients(approval.NoticeWindowMiss))
			w := e.f.sent(approval.NoticeWindowMiss)[0].Body.(approval.WindowMissed)
			require.Equal(t, tc.stepName, w.StepName)
			require.Equal(t, approval.StateExpired, w.State)
			require.Equal(t, "change.expire", e.f.Audits[len(e.f.Audits)-1].Action)
			require.Empty(t, e.f.pending(approval.TimerRemind), "no reminders for an expired change")
			upd := e.f.sent(approval.NoticeUpdate)
			require.Equal(t, "expire", upd[len(upd)-1].Body.(approval.CardUpdate).DecidedVerb, "its open cards lose their buttons")
			_, err := e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
			requireCode(t, err, "request_expired")
		})
	}
}

// TestEmergencyChangeStartsAtOnce (W 8.6 d): an emergency change may start
// as soon as its second approval is in, before its window.
func TestEmergencyChangeStartsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	res, err := e.svc.RequestChange(ctx, as("sunli"), approval.ChangeInput{Title: "t", Target: "db", Risk: "high", Plan: "p", Rollback: "r",
		Start: at(14, 0), End: at(15, 0), Emergency: true})
	require.NoError(t, err)
	id := res.Request.ID
	_, err = e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	requireCode(t, err, "verb_not_allowed") // not before its second approval
	_, err = e.svc.Decide(ctx, as("zhoujie"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	require.NoError(t, err, "10:00, before its 14:00 window")
	require.Equal(t, "sunli", e.f.requests[id].Payload["implementer"])
}

// opApproved is an operation by sunli approved by admin and zhoujie, with
// wuli a further operator.
func opApproved(t *testing.T, e engine) int64 {
	t.Helper()
	ctx := context.Background()
	e.f.AddUser("wuli", "city", org.RoleOperator, "city")
	res, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	for _, by := range []string{"admin", "zhoujie"} {
		_, err = e.svc.Decide(ctx, as(by), res.Request.ID, 0, approval.VerbApprove, "")
		require.NoError(t, err)
	}
	return res.Request.ID
}

// TestOperationNeedsAChecker (W 8.2 a/c): an operation is done by two
// people: the executor reports the result, another operator checks it
// (复核); neither the requester, an approver nor the executor may check,
// and it is complete only after the check.
func TestOperationNeedsAChecker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	id := opApproved(t, e)
	_, err := e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbOK, "")
	requireCode(t, err, "verb_not_allowed") // nothing to check before the result
	res, err := e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "已清理 12GB")
	require.NoError(t, err)
	require.Equal(t, approval.StatePending, res.Request.State, "not complete before the check")
	require.Equal(t, "check", res.Step.Name)
	require.Equal(t, []string{"wuli"}, res.Next)
	require.Equal(t, []string{"user:wuli"}, e.f.recipients(approval.NoticeCard)[len(e.f.recipients(approval.NoticeCard))-1:])
	for who, code := range map[string]string{"sunli": "checker_is_requester", "zhoujie": "checker_is_approver", "admin": "checker_is_approver"} {
		_, err = e.svc.Decide(ctx, as(who), id, 0, approval.VerbOK, "")
		requireCode(t, err, code)
	}
	// Issues send it back to the executor, with the finding.
	_, err = e.svc.Decide(ctx, as("wuli"), id, 0, approval.VerbIssues, "")
	requireCode(t, err, "note_required")
	res, err = e.svc.Decide(ctx, as("wuli"), id, 0, approval.VerbIssues, "/var/log/app 未清理")
	require.NoError(t, err)
	require.Equal(t, "execute", res.Step.Name)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "已补清理")
	require.NoError(t, err)
	res, err = e.svc.Decide(ctx, as("wuli"), id, 0, approval.VerbOK, "核对无误")
	require.NoError(t, err)
	r := res.Request
	require.Equal(t, approval.StateDone, r.State)
	require.Equal(t, "sunli", r.Payload["executor"])
	require.Equal(t, "已补清理", r.Payload["result"])
	require.Equal(t, "wuli", r.Payload["checker"])
	require.Equal(t, "ok", r.Payload["check"])
	require.Equal(t, "request.ok", e.f.Audits[len(e.f.Audits)-1].Action)
}

// TestCheckerIsNotTheExecutor: where someone other than the requester
// executes (a route's data may say so), the executor does not check either.
func TestCheckerIsNotTheExecutor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	e.f.routes["operation/dual"][1].Scope = "city"
	e.f.AddUser("zhaomin", "city", org.RoleOperator, "city")
	id := opApproved(t, e)
	_, err := e.svc.Decide(ctx, as("wuli"), id, 0, approval.VerbDone, "已清理")
	require.NoError(t, err)
	_, err = e.svc.Decide(ctx, as("wuli"), id, 0, approval.VerbOK, "")
	requireCode(t, err, "checker_is_executor")
	_, err = e.svc.Decide(ctx, as("zhaomin"), id, 0, approval.VerbOK, "")
	require.NoError(t, err)
}

// TestCrossUnitOnboardingOwnerFirst (M 7.1.1 b, 7.1.2.2 b): a cross-unit
// app's onboarding or offboarding filed by its access party goes to the
// owner unit's admin first, then to the sys admin, then an operator.
func TestCrossUnitOnboardingOwnerFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, requester string
		first           []string
	}{
		{"filed by the access party", "wuhao", []string{"zhangwei"}},
		{"filed by the owner unit's admin", "zhangwei", []string{"liqiang"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			e.f.AppByCode["kq"] = org.App{Code: "kq", Name: "考勤", Owner: "dc-edu", Scope: "cross", Level: "city", Status: approval.AppRegistered}
			e.f.AddUser("wuhao", "dc-edu", org.RoleAccessParty, "kq")
			res, err := e.svc.RequestOnline(ctx, as(tc.requester), "kq", "")
			require.NoError(t, err)
			id := res.Request.ID
			require.Equal(t, "owner_agree", res.Step.Name)
			require.Equal(t, tc.first, res.Next)
			_, err = e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
			requireCode(t, err, "not_eligible") // the sys admin waits for the owner unit
			res, err = e.svc.Decide(ctx, as(tc.first[0]), id, 0, approval.VerbApprove, "")
			require.NoError(t, err)
			require.Equal(t, "approve", res.Step.Name)
			require.Equal(t, []string{"admin", "admin2"}, res.Next)
			res, err = e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
			require.NoError(t, err)
			require.Equal(t, "execute", res.Step.Name)
			_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "")
			require.NoError(t, err)
			require.Equal(t, approval.AppOnline, e.f.AppByCode["kq"].Status)
			// Offboarding takes the same two approvals.
			res, err = e.svc.RequestOffline(ctx, as(tc.requester), "kq", "")
			require.NoError(t, err)
			require.Equal(t, "owner_agree", res.Step.Name)
			require.Equal(t, tc.first, res.Next)
		})
	}
}

// errArgs renders a core error's arguments, for checking what a refusal says.
func errArgs(err error) string {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return ""
	}
	return fmt.Sprint(ce.Args)
}
