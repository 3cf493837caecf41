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
	res, err := e.svc.RequestChange(ctx, as("sunli"), approval.ChangeInput{Title: "t", Target: "db", Risk: "high", Plan: "p", Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"},
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

// problemsFake is the problem library as a change sees it.
type problemsFake map[int64]string

func (p problemsFake) ProblemTitle(_ context.Context, _ core.Actor, id int64) (string, error) {
	if t, ok := p[id]; ok {
		return t, nil
	}
	return "", core.NotFound("problem_not_found", "id", fmt.Sprint(id))
}

// TestChangeCarriesItsRecord (W 8.6 b): a change names its test plan, its
// steps and its staff besides its plan and rollback; one missing is
// refused naming what is missing, unknown staff too; the cards show them.
func TestChangeCarriesItsRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	in := approval.ChangeInput{Title: "升级数据库", Target: "db01", Risk: "low", Plan: "滚动升级", Rollback: "回切快照",
		Start: at(20, 0), End: at(22, 0)}
	_, err := e.svc.RequestChange(ctx, as("sunli"), in)
	requireCode(t, err, "change_record_required")
	require.Contains(t, errArgs(err), "--test-plan --steps --staff")
	in.TestPlan, in.Steps = "升级前后读写校验", "1 停写 2 升级 3 校验"
	_, err = e.svc.RequestChange(ctx, as("sunli"), in)
	requireCode(t, err, "change_record_required")
	require.Contains(t, errArgs(err), "--staff")
	in.Staff = []string{"sunli", "nobody"}
	_, err = e.svc.RequestChange(ctx, as("sunli"), in)
	requireCode(t, err, "change_staff")
	require.Empty(t, e.f.requests)
	in.Staff = []string{"sunli", "zhoujie"}
	res, err := e.svc.RequestChange(ctx, as("sunli"), in)
	require.NoError(t, err)
	p := e.f.sent(approval.NoticeCard)[0].Body.(approval.Card).Payload
	require.Equal(t, "升级前后读写校验", p["test_plan"])
	require.Equal(t, "1 停写 2 升级 3 校验", p["steps"])
	require.Equal(t, "sunli,zhoujie", p["staff"])
	require.Equal(t, "回切快照", p["rollback"])
	require.Equal(t, "sunli,zhoujie", e.f.requests[res.Request.ID].Payload["staff"])
}

// TestChangeDoneNeedsTestRecord (W 8.6 e): a change is done only with the
// record of its tests before and after; without it the completion is
// refused with the reason and nothing moves, on every path (the command,
// the card's button, /request done).
func TestChangeDoneNeedsTestRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	id := e.change(t, "liqiang").Request.ID
	_, err := e.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	e.clock.now = at(20, 5)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbStart, "")
	require.NoError(t, err)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "完成")
	requireCode(t, err, "change_test_record")
	_, err = e.svc.CompleteChange(ctx, as("sunli"), id, "完成", "升级前读写正常", "")
	requireCode(t, err, "change_test_record")
	_, err = e.svc.CompleteChange(ctx, as("sunli"), id, "完成", "", "升级后读写正常")
	requireCode(t, err, "change_test_record")
	require.Equal(t, 3, e.f.requests[id].Step, "nothing moved")
	_, err = e.svc.CompleteChange(ctx, as("zhoujie"), id, "完成", "a", "b")
	requireCode(t, err, "not_implementer")
	res, err := e.svc.CompleteChange(ctx, as("sunli"), id, "完成", "升级前读写正常", "升级后读写正常，延迟 3ms")
	require.NoError(t, err)
	require.Equal(t, "review", res.Step.Name)
	r := e.f.requests[id]
	require.Equal(t, "完成", r.Payload["result"])
	require.Equal(t, "升级前读写正常", r.Payload["test_before"])
	require.Equal(t, "升级后读写正常，延迟 3ms", r.Payload["test_after"])
	cards := e.f.sent(approval.NoticeCard)
	require.Equal(t, "升级后读写正常，延迟 3ms", cards[len(cards)-1].Body.(approval.Card).Payload["test_after"], "the reviewer sees the record")
}

// TestChangeLinksItsProblem (W 8.5/8.6): a change is linked to the problem
// it fixes through the problem library; an unknown problem or a request
// that is not a change is refused; the link is audited.
func TestChangeLinksItsProblem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	id := e.change(t, "liqiang").Request.ID
	_, err := e.svc.LinkProblem(ctx, as("sunli"), id, 7)
	requireCode(t, err, "problems_off")
	e.svc.SetProblems(problemsFake{7: "数据库连接池耗尽"})
	_, err = e.svc.LinkProblem(ctx, as("sunli"), id, 8)
	requireCode(t, err, "problem_not_found")
	_, err = e.svc.LinkProblem(ctx, as("zhangwei"), id, 7)
	requireCode(t, err, "change_link_forbidden")
	op, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	_, err = e.svc.LinkProblem(ctx, as("sunli"), op.Request.ID, 7)
	requireCode(t, err, "not_change")
	r, err := e.svc.LinkProblem(ctx, as("sunli"), id, 7)
	require.NoError(t, err)
	require.Equal(t, "7", r.Payload["problem_id"])
	require.Equal(t, "#7 数据库连接池耗尽", e.f.requests[id].Payload["problem"])
	audit := e.f.Audits[len(e.f.Audits)-1]
	require.Equal(t, "change.link", audit.Action)
	require.Contains(t, string(audit.After), "problem:7")
}

// TestRevokeFollowsTheGrantRoute (M 5.2.2): withdrawing a permission is
// asked like a grant (a unit admin or contact of the grantee's unit) and
// approved by the district admin covering it; on approval the grant goes,
// audited. Without such a grant the request is refused.
func TestRevokeFollowsTheGrantRoute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	e.f.routes["permission/unit"] = []approval.Step{{Route: "permission/unit", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleDistrictAdmin},
		FallbackRoles: []org.Role{org.RoleSysAdmin}, Scope: "target", Count: 1, Verbs: []string{approval.VerbApprove, approval.VerbReject}}}
	e.f.AddUser("wanghua", "dc-edu", "", "")
	app := e.f.AppByCode["edu"]
	app.Status = approval.AppOnline
	e.f.AppByCode["edu"] = app
	_, err := e.svc.RequestRevoke(ctx, as("zhangwei"), "edu", "wanghua", "visible")
	requireCode(t, err, "grant_not_found")
	e.f.appGrants = append(e.f.appGrants, approval.AppGrant{App: "edu", Grantee: "user:wanghua", Kind: "visible", RequestID: 1, GrantedAt: monday},
		approval.AppGrant{App: "edu", Grantee: "user:wanghua", Kind: "inapp:成绩", RequestID: 1, GrantedAt: monday})
	_, err = e.svc.RequestRevoke(ctx, as("sunli"), "edu", "wanghua", "visible")
	requireCode(t, err, "need_unit_admin_or_contact")
	res, err := e.svc.RequestRevoke(ctx, as("zhangwei"), "edu", "wanghua", "visible")
	require.NoError(t, err)
	require.Equal(t, approval.KindRevoke, res.Request.Kind)
	require.Equal(t, "permission/unit", res.Request.Route)
	require.Equal(t, []string{"liqiang"}, res.Next)
	_, err = e.svc.Decide(ctx, as("liqiang"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, []approval.AppGrant{{App: "edu", Grantee: "user:wanghua", Kind: "inapp:成绩", RequestID: 1, GrantedAt: monday}}, e.f.appGrants,
		"only the named grant goes")
	var revoked bool
	for _, a := range e.f.Audits {
		if a.Action == "app.grant.revoke" {
			revoked = true
			require.Contains(t, string(a.Before), "user:wanghua")
		}
	}
	require.True(t, revoked, "the revoke is audited")
	// A revoke approved after the grant went otherwise is refused, nothing changes.
	res, err = e.svc.RequestRevoke(ctx, as("zhangwei"), "edu", "wanghua", "inapp:成绩")
	require.NoError(t, err)
	e.f.appGrants = nil
	_, err = e.svc.Decide(ctx, as("liqiang"), res.Request.ID, 0, approval.VerbApprove, "")
	requireCode(t, err, "grant_not_found")
	require.Equal(t, approval.StatePending, e.f.requests[res.Request.ID].State)
}

// orgChangeRoute is the route of migration 028.
func orgChangeRoute(e engine) {
	e.f.routes["org_change/district"] = []approval.Step{
		{Route: "org_change/district", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleDistrictAdmin}, FallbackRoles: []org.Role{org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: []string{approval.VerbApprove, approval.VerbReject}},
		{Route: "org_change/district", Seq: 2, Name: "carry_out", Roles: []org.Role{org.RoleDistrictAdmin}, FallbackRoles: []org.Role{org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: []string{approval.VerbDone}},
	}
}

// TestOrgChangeRequest (M 4.2.3 b): a unit contact asks the district admin
// covering their unit for an org change; approved, the admin is reminded
// to carry it out until they mark it done; nothing is applied by itself.
func TestOrgChangeRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	orgChangeRoute(e)
	e.f.AddUser("zhengmin", "dc-edu", org.RoleUnitContact, "dc-edu")
	_, err := e.svc.RequestOrgChange(ctx, as("sunli"), "", "新增用户 王华")
	requireCode(t, err, "org_change_forbidden")
	_, err = e.svc.RequestOrgChange(ctx, as("zhengmin"), "", " ")
	requireCode(t, err, "org_change_text")
	res, err := e.svc.RequestOrgChange(ctx, as("zhengmin"), "", "新增用户 王华（教务科），并设为单位管理员")
	require.NoError(t, err)
	id := res.Request.ID
	require.Equal(t, approval.KindOrgChange, res.Request.Kind)
	require.Equal(t, "dc-edu", res.Request.Unit)
	require.Equal(t, []string{"liqiang"}, res.Next)
	_, err = e.svc.Decide(ctx, as("zhangwei"), id, 0, approval.VerbApprove, "")
	requireCode(t, err, "not_eligible")
	res, err = e.svc.Decide(ctx, as("liqiang"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, "carry_out", res.Step.Name)
	require.Equal(t, []string{"liqiang"}, res.Next)
	// Reminded until done.
	timers := e.f.pending(approval.TimerRemind)
	require.Len(t, timers, 1)
	e.clock.now = timers[0].DueAt
	e.fire(t, approval.TimerRemind)
	require.Equal(t, []string{"user:liqiang"}, e.f.recipients(approval.NoticeRemind))
	require.Equal(t, "carry_out", e.f.sent(approval.NoticeRemind)[0].Body.(approval.Reminder).StepName)
	require.Equal(t, "新增用户 王华（教务科），并设为单位管理员", e.f.sent(approval.NoticeRemind)[0].Body.(approval.Reminder).Payload["change"])
	res, err = e.svc.Decide(ctx, as("liqiang"), id, 0, approval.VerbDone, "已新增")
	require.NoError(t, err)
	require.Equal(t, approval.StateDone, res.Request.State)
	require.Empty(t, e.f.pending(approval.TimerRemind))
}

// systestRoutes are the onboarding routes of migration 028.
func systestRoutes(e engine) {
	approveReject := []string{approval.VerbApprove, approval.VerbReject}
	e.f.routes["app_online/unit"] = []approval.Step{
		{Route: "app_online/unit", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleUnitAdmin}, FallbackRoles: []org.Role{org.RoleDistrictAdmin, org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: approveReject},
		{Route: "app_online/unit", Seq: 2, Name: "systest_request", Roles: []org.Role{org.RoleAccessParty}, Scope: "requester", Count: 1,
			Verbs: []string{approval.VerbTestRequest}},
		{Route: "app_online/unit", Seq: 3, Name: "systest", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1,
			Verbs: []string{approval.VerbTestPass, approval.VerbTestFail}, BackTo: 2},
		{Route: "app_online/unit", Seq: 4, Name: "execute", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1, Verbs: []string{approval.VerbDone}},
	}
}

// TestOnboardingSystemTest (W 5.6 a): an approved onboarding waits for its
// system test: the requester asks for it, an operator passes or fails it
// with a reason; a fail sends it back with the reason, and only a passed
// test lets an operator put the app online.
func TestOnboardingSystemTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	systestRoutes(e)
	res, err := e.svc.RequestOnline(ctx, as("zhangwei"), "edu", "")
	require.NoError(t, err)
	id := res.Request.ID
	res, err = e.svc.Decide(ctx, as("liqiang"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, "systest_request", res.Step.Name)
	require.Equal(t, []string{"zhangwei"}, res.Next)
	for _, verb := range []string{approval.VerbDone, approval.VerbTestPass} {
		_, err = e.svc.Decide(ctx, as("sunli"), id, 0, verb, "ok")
		requireCode(t, err, "verb_not_allowed") // not online, not passed, before the test
	}
	res, err = e.svc.Decide(ctx, as("zhangwei"), id, 0, approval.VerbTestRequest, "测试环境已部署")
	require.NoError(t, err)
	require.Equal(t, "systest", res.Step.Name)
	require.Equal(t, []string{"sunli", "zhoujie"}, res.Next)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbTestFail, "")
	requireCode(t, err, "note_required")
	res, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbTestFail, "登录页报错")
	require.NoError(t, err)
	require.Equal(t, "systest_request", res.Step.Name, "a fail goes back to the test request")
	pr := e.f.sent(approval.NoticeProgress)
	require.Equal(t, "登录页报错", pr[len(pr)-1].Body.(approval.Progress).Note, "the requester hears the reason")
	require.Equal(t, approval.AppRegistered, e.f.AppByCode["edu"].Status)
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "")
	requireCode(t, err, "verb_not_allowed")
	_, err = e.svc.Decide(ctx, as("zhangwei"), id, 0, approval.VerbTestRequest, "已修复")
	require.NoError(t, err)
	res, err = e.svc.Decide(ctx, as("zhoujie"), id, 0, approval.VerbTestPass, "功能、性能测试通过")
	require.NoError(t, err)
	require.Equal(t, "execute", res.Step.Name)
	require.Equal(t, "pass", res.Request.Payload["systest"])
	require.Equal(t, "zhoujie", res.Request.Payload["systest_by"])
	_, err = e.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "")
	require.NoError(t, err)
	require.Equal(t, approval.AppOnline, e.f.AppByCode["edu"].Status)
}

// TestBackupAccessIsApprovedAndRegistered (W 8.4.3 c): access to offline
// backup data is asked with a reason, approved by a sys admin and, once
// approved, registered: who, which system, when, why.
func TestBackupAccessIsApprovedAndRegistered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	e.f.routes["backup_access/city"] = []approval.Step{{Route: "backup_access/city", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleSysAdmin},
		Scope: "city", Count: 1, Verbs: []string{approval.VerbApprove, approval.VerbReject}}}
	_, err := e.svc.RequestBackupAccess(ctx, as("sunli"), "sjsj", "")
	requireCode(t, err, "reason_required")
	res, err := e.svc.RequestBackupAccess(ctx, as("sunli"), "sjsj", "核对 11 月 20 日误删数据")
	require.NoError(t, err)
	require.Equal(t, []string{"admin", "admin2"}, res.Next)
	list, err := e.svc.BackupAccess(ctx, as("admin"))
	require.NoError(t, err)
	require.Empty(t, list, "not registered before approval")
	e.clock.now = monday.Add(time.Hour)
	_, err = e.svc.Decide(ctx, as("admin"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	list, err = e.svc.BackupAccess(ctx, as("zhoujie"))
	require.NoError(t, err)
	require.Equal(t, []approval.BackupAccessEntry{{Request: res.Request.ID, Who: "sunli", System: "sjsj", Reason: "核对 11 月 20 日误删数据",
		ApprovedBy: "admin", At: monday.Add(time.Hour)}}, list)
	var registered bool
	for _, a := range e.f.Audits {
		registered = registered || a.Action == "backup.access.register"
	}
	require.True(t, registered)
	_, err = e.svc.BackupAccess(ctx, as("zhangwei"))
	requireCode(t, err, "backup_access_forbidden")
}
