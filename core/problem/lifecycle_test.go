package problem_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
	"opsbot/core/problem"
)

// world is the org of the lifecycle tests: zhangsan (operator) resolves
// incidents, lisi is a member who owns problems and actions, uadmin the
// unit admin covering both, wangwu a member of another unit.
func world(t *testing.T, at time.Time) *fakestore.World {
	t.Helper()
	w := fakestore.NewWorld(at, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.Units["d1"] = org.Unit{Code: "d1", Path: "/city/d1/"}
	w.Tx.Units["d2"] = org.Unit{Code: "d2", Path: "/city/d2/"}
	w.Tx.AddUser("d1", "zhangsan", "lisi", "uadmin")
	w.Tx.AddUser("d2", "wangwu", "d2admin")
	w.Tx.AddUser("city", "admin")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("zhangsan", org.RoleOperator, "city")
	w.Tx.Grant("uadmin", org.RoleUnitAdmin, "d1")
	w.Tx.Grant("d2admin", org.RoleUnitAdmin, "d2")
	return w
}

// TestMajorIncidentProposesProblem (W 8.5: major incidents become
// problems): resolving a level II incident opens a problem 待分析 linked
// to it, owned by the incident's owner, due in 10 working days, and tells
// the owner; a level III incident proposes none (only the third repeat
// rule applies to it, TestProblemOnThirdRepeat).
func TestMajorIncidentProposesProblem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, cst) // a Monday
	w := world(t, start)
	zs := core.Actor{UserID: "zhangsan"}

	i, err := w.Incidents.Declare(ctx, zs, "门户无法访问", 2, "", "d1")
	require.NoError(t, err)
	_, err = w.Incidents.Assign(ctx, zs, i.ID, "lisi")
	require.NoError(t, err)
	w.Tx.Reset()
	_, err = w.Incidents.Resolve(ctx, zs, i.ID, "重启恢复")
	require.NoError(t, err)

	require.Len(t, w.Tx.ProblemList, 1)
	p := w.Tx.ProblemList[0]
	require.Equal(t, problem.StateNew, p.State)
	require.Equal(t, "lisi", p.Owner)
	require.Equal(t, i.ID, p.Incident)
	require.True(t, p.Proposed)
	require.Equal(t, "2026-11-16", p.Due.Format("2006-01-02"), "10 working days after 2026-11-02")
	require.Equal(t, p.ID, w.Tx.Links[i.ID])
	require.Equal(t, []string{"user:lisi|problem:1"}, w.Tx.Sent("problem.assigned"))
	require.Contains(t, w.Tx.EventMap[i.ID][len(w.Tx.EventMap[i.ID])-1].Body, "problem #1")
	require.Len(t, w.Tx.PendingTimers("problem:1", problem.TimerDue), 1)
	require.Len(t, w.Tx.PendingTimers("problem:1", problem.TimerOverdue), 1)

	// A level III incident: no problem on resolution.
	w.Tx.Reset()
	j, err := w.Incidents.Declare(ctx, zs, "页面略慢", 3, "", "d1")
	require.NoError(t, err)
	_, err = w.Incidents.Resolve(ctx, zs, j.ID, "已优化")
	require.NoError(t, err)
	require.Len(t, w.Tx.ProblemList, 1)
	require.Empty(t, w.Tx.Sent("problem.assigned"))
	require.Zero(t, w.Tx.Links[j.ID])
}

// TestProblemLifecycle (W 8.5 e–i): 待分析 → 分析中 → 已找到根因 → 已解决
// (linked to a change request) → 已关闭, each step audited; each step out
// of order is refused naming the state; only the owner, operators and
// sys admins may move a problem; the fix is a change request or a free
// reference, not both and not a request of another kind.
func TestProblemLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t, time.Date(2026, 11, 2, 10, 0, 0, 0, cst))
	w.Tx.Requests[7] = "change"
	w.Tx.Requests[8] = "release"
	zs, lisi, wangwu := core.Actor{UserID: "zhangsan"}, core.Actor{UserID: "lisi"}, core.Actor{UserID: "wangwu"}
	p, err := w.Problems.Add(ctx, zs, "证书过期导致中断", "")
	require.NoError(t, err)
	id := p.ID

	// Out of order: each later step refused while new.
	_, err = w.Problems.Cause(ctx, zs, id, "证书未自动续期")
	require.Equal(t, "problem_state", code(err))
	require.Equal(t, map[string]string{"id": "1", "pstate": "open", "pstep": "problem.cause", "need": "analysing"}, err.(*core.Error).Args)
	_, err = w.Problems.Resolve(ctx, zs, id, 7, "")
	require.Equal(t, "problem_state", code(err))
	_, err = w.Problems.Close(ctx, zs, id)
	require.Equal(t, "problem_state", code(err))

	// Assign: a date in the past and a bad date refused; then lisi owns it.
	_, err = w.Problems.Assign(ctx, zs, id, "lisi", "2026-11-01")
	require.Equal(t, "problem_due_past", code(err))
	_, err = w.Problems.Assign(ctx, zs, id, "lisi", "11/20")
	require.Equal(t, "problem_due", code(err))
	_, err = w.Problems.Assign(ctx, wangwu, id, "wangwu", "2026-11-20")
	require.Equal(t, "problem_not_owner", code(err))
	p, err = w.Problems.Assign(ctx, zs, id, "lisi", "2026-11-20")
	require.NoError(t, err)
	require.Equal(t, "lisi", p.Owner)
	require.Equal(t, []string{"user:lisi|problem:1"}, w.Tx.Sent("problem.assigned"))

	// The owner moves it on; a member who is not the owner may not.
	_, err = w.Problems.Analyse(ctx, wangwu, id)
	require.Equal(t, "problem_not_owner", code(err))
	p, err = w.Problems.Analyse(ctx, lisi, id)
	require.NoError(t, err)
	require.Equal(t, problem.StateAnalysing, p.State)
	_, err = w.Problems.Analyse(ctx, lisi, id)
	require.Equal(t, "problem_state", code(err), "twice")
	_, err = w.Problems.Close(ctx, lisi, id)
	require.Equal(t, "problem_state", code(err))
	_, err = w.Problems.Cause(ctx, lisi, id, " ")
	require.Equal(t, "problem_cause", code(err))
	p, err = w.Problems.Cause(ctx, lisi, id, "证书未自动续期")
	require.NoError(t, err)
	require.Equal(t, problem.StateCauseFound, p.State)

	// Resolve: the fix must be a change request or a reference.
	_, err = w.Problems.Resolve(ctx, lisi, id, 0, "")
	require.Equal(t, "problem_fix", code(err))
	_, err = w.Problems.Resolve(ctx, lisi, id, 8, "")
	require.Equal(t, "problem_change_not_found", code(err), "a release is no change")
	_, err = w.Problems.Resolve(ctx, lisi, id, 99, "")
	require.Equal(t, "problem_change_not_found", code(err))
	p, err = w.Problems.Resolve(ctx, lisi, id, 7, "")
	require.NoError(t, err)
	require.Equal(t, problem.StateResolved, p.State)
	require.Equal(t, int64(7), p.ChangeID)
	require.Empty(t, w.Tx.PendingTimers("problem:1", ""), "timers stop once resolved")
	p, err = w.Problems.Close(ctx, lisi, id)
	require.NoError(t, err)
	require.Equal(t, problem.StateClosed, p.State)
	_, err = w.Problems.Analyse(ctx, lisi, id)
	require.Equal(t, "problem_state", code(err))

	var actions []string
	for _, a := range w.Tx.Audits {
		actions = append(actions, a.Action)
	}
	require.Equal(t, []string{"problem.add", "problem.assign", "problem.analyse", "problem.cause", "problem.resolve", "problem.close"}, actions)
}

// TestProblemOverdue: the owner is reminded at 09:00 on the due date and,
// still unresolved the day after, the admin covering the owner's unit is
// told; a resolved problem is neither reminded nor escalated.
func TestProblemOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t, time.Date(2026, 11, 2, 10, 0, 0, 0, cst))
	zs := core.Actor{UserID: "zhangsan"}
	p, err := w.Problems.Add(ctx, zs, "磁盘反复写满", "")
	require.NoError(t, err)
	_, err = w.Problems.Assign(ctx, zs, p.ID, "lisi", "2026-11-10")
	require.NoError(t, err)
	w.Tx.Reset()

	w.Clock.T = time.Date(2026, 11, 10, 8, 59, 0, 0, cst)
	kinds, err := w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, kinds)
	w.Clock.T = time.Date(2026, 11, 10, 9, 0, 0, 0, cst)
	kinds, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{problem.TimerDue}, kinds)
	require.Equal(t, []string{"user:lisi|problem:1"}, w.Tx.Sent("problem.due"))
	require.False(t, w.Tx.Payloads("problem.due")[0].(problem.Due).Overdue)

	w.Tx.Reset()
	w.Clock.T = time.Date(2026, 11, 11, 9, 0, 0, 0, cst)
	kinds, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{problem.TimerOverdue}, kinds)
	require.Equal(t, []string{"user:uadmin|problem:1"}, w.Tx.Sent("problem.due"), "the owner's unit admin, not d2's")
	require.True(t, w.Tx.Payloads("problem.due")[0].(problem.Due).Overdue)
	require.Equal(t, "problem.overdue", w.Tx.Audits[len(w.Tx.Audits)-1].Action)

	// Reassigned with a new date, then resolved before it: nothing fires.
	_, err = w.Problems.Assign(ctx, zs, p.ID, "lisi", "2026-11-20")
	require.NoError(t, err)
	_, err = w.Problems.Analyse(ctx, zs, p.ID)
	require.NoError(t, err)
	_, err = w.Problems.Cause(ctx, zs, p.ID, "日志未轮转")
	require.NoError(t, err)
	_, err = w.Problems.Resolve(ctx, zs, p.ID, 0, "运维手册 3.2 日志轮转")
	require.NoError(t, err)
	w.Tx.Reset()
	w.Clock.T = time.Date(2026, 11, 22, 9, 0, 0, 0, cst)
	kinds, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, kinds)
}

// TestReviewActionOverdue: a review action is reminded to its owner on
// its due date and escalated to the admin covering the owner's unit the
// day after; marking it done is for its owner or whoever has authority
// over the incident (audited, on the timeline), not another member; the
// monthly report lists open actions and counts the overdue ones.
func TestReviewActionOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t, time.Date(2026, 11, 2, 10, 0, 0, 0, cst))
	zs, lisi, wangwu := core.Actor{UserID: "zhangsan"}, core.Actor{UserID: "lisi"}, core.Actor{UserID: "wangwu"}
	i, err := w.Incidents.Declare(ctx, zs, "邮件延迟", 3, "", "d1")
	require.NoError(t, err)
	_, err = w.Incidents.Resolve(ctx, zs, i.ID, "队列清理")
	require.NoError(t, err)
	_, err = w.Incidents.Review(ctx, zs, i.ID, "队列积压", "增加队列告警@lisi@2026-11-05; 扩容@zhangsan@2026-11-30")
	require.NoError(t, err)
	w.Tx.Reset()

	w.Clock.T = time.Date(2026, 11, 5, 9, 0, 0, 0, cst)
	kinds, err := w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{incident.TimerActionDue}, kinds)
	require.Equal(t, []string{"user:lisi|incident:1"}, w.Tx.Sent("incident.action_due"))

	w.Tx.Reset()
	w.Clock.T = time.Date(2026, 11, 6, 9, 0, 0, 0, cst)
	kinds, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{incident.TimerActionOverdue}, kinds)
	require.Equal(t, []string{"user:uadmin|incident:1"}, w.Tx.Sent("incident.action_overdue"))
	o := w.Tx.Payloads("incident.action_overdue")[0].(incident.ActionOverdue)
	require.Equal(t, "增加队列告警", o.Action)
	require.Equal(t, "lisi", o.ActionOwner)
	require.Equal(t, "action_overdue", w.Tx.EventKinds(i.ID)[len(w.Tx.EventKinds(i.ID))-1])

	// The report of November shows both open, one overdue.
	rep, err := w.Problems.MonthlyReport(ctx, zs, "2026-11", nil)
	require.NoError(t, err)
	require.Len(t, rep.Actions, 2)
	require.Equal(t, 1, rep.Overdue)

	// Done: not by another member; by its owner; not twice.
	_, err = w.Incidents.ActionDone(ctx, wangwu, i.ID, 1)
	require.Equal(t, "action_not_owner", code(err))
	_, err = w.Incidents.ActionDone(ctx, lisi, i.ID, 3)
	require.Equal(t, "action_not_found", code(err))
	a, err := w.Incidents.ActionDone(ctx, lisi, i.ID, 1)
	require.NoError(t, err)
	require.True(t, a.Done)
	_, err = w.Incidents.ActionDone(ctx, lisi, i.ID, 1)
	require.Equal(t, "action_done_already", code(err))
	require.Equal(t, "incident.action.done", w.Tx.Audits[len(w.Tx.Audits)-1].Action)
	require.Equal(t, "action_done", w.Tx.EventKinds(i.ID)[len(w.Tx.EventKinds(i.ID))-1])
	// An operator (authority over the incident) marks the other one done
	// before its date: its timers are cancelled.
	_, err = w.Incidents.ActionDone(ctx, zs, i.ID, 2)
	require.NoError(t, err)
	w.Tx.Reset()
	w.Clock.T = time.Date(2026, 12, 2, 9, 0, 0, 0, cst)
	kinds, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, kinds)
	rep, err = w.Problems.MonthlyReport(ctx, zs, "2026-11", nil)
	require.NoError(t, err)
	require.Empty(t, rep.Actions)
}
