package approval_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
)

// TestMonth: the approvals month counts the month's requests by kind and
// outcome, the working time each approval or rejection took from the
// start of its step, and the requests still pending with how long they
// waited; a set of units counts only its requests (a city-wide operation
// is not a district's).
func TestMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	online, err := e.svc.RequestOnline(ctx, as("zhangwei"), "edu", "")
	require.NoError(t, err)
	op, err := e.svc.RequestOperation(ctx, as("sunli"), "清理日志", "磁盘将满")
	require.NoError(t, err)
	e.clock.now = monday.Add(time.Hour) // 11:00
	_, err = e.svc.Decide(ctx, as("liqiang"), online.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	e.clock.now = monday.Add(5 * time.Hour) // 15:00
	_, err = e.svc.Decide(ctx, as("sunli"), online.Request.ID, 0, approval.VerbDone, "")
	require.NoError(t, err)
	e.clock.now = monday.Add(23 * time.Hour) // Tuesday 09:00: 2 h + 3.5 h + 0.5 h of working time
	_, err = e.svc.Decide(ctx, as("admin"), op.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	e.clock.now = monday.Add(24 * time.Hour) // Tuesday 10:00

	m, err := e.svc.Month(ctx, "2026-11", nil)
	require.NoError(t, err)
	require.Equal(t, []approval.KindMonth{
		{Kind: approval.KindAppOnline, Requested: 1, Done: 1, Decisions: 1, MeanDecision: time.Hour, MedianDecision: time.Hour},
		{Kind: approval.KindOperation, Requested: 1, Pending: 1, Decisions: 1, MeanDecision: 6 * time.Hour, MedianDecision: 6 * time.Hour},
	}, m.Kinds)
	require.Equal(t, approval.KindMonth{Requested: 2, Done: 1, Pending: 1, Decisions: 2, MeanDecision: 3*time.Hour + 30*time.Minute,
		MedianDecision: 3*time.Hour + 30*time.Minute}, m.Total)
	require.Len(t, m.Pending, 1)
	require.Equal(t, op.Request.ID, m.Pending[0].ID)
	require.Equal(t, 7*time.Hour, m.Pending[0].Waited)
	require.Len(t, m.Requests, 2)

	district := map[string]bool{"dongcheng": true, "dc-edu": true}
	m, err = e.svc.Month(ctx, "2026-11", func(u string, _ ...string) bool { return district[u] })
	require.NoError(t, err)
	require.Equal(t, 1, m.Total.Requested)
	require.Equal(t, online.Request.ID, m.Requests[0].ID)
	require.Empty(t, m.Pending)

	m, err = e.svc.Month(ctx, "2026-10", nil)
	require.NoError(t, err)
	require.Empty(t, m.Requests)
	_, err = e.svc.Month(ctx, "11/2026", nil)
	require.ErrorIs(t, err, core.ErrInvalid)
}
