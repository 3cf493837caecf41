package inspect_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestRunNow: an operator starts a plan's run outside its schedule; the
// checklist goes out as at a scheduled run, the grace timer runs from now,
// the schedule is untouched and the start is audited under the operator.
func TestRunNow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	newPlan(t, h)
	_, err := h.svc.RunNow(h.ctx, outsider, "daily")
	require.ErrorIs(t, err, core.ErrForbidden)
	_, err = h.svc.RunNow(h.ctx, operator, "weekly")
	require.ErrorIs(t, err, core.ErrNotFound)

	r, err := h.svc.RunNow(h.ctx, operator, "daily")
	require.NoError(t, err)
	require.Equal(t, int64(1), r.ID)
	require.Equal(t, at("2026-11-19 10:00"), r.DueAt)
	require.Equal(t, []string{"op1", "op2"}, r.Assignees)
	require.Equal(t, []string{"inspect.card inspect:1 → user:op1", "inspect.card inspect:1 → user:op2", "inspect.card inspect:1 → channel:ops"}, h.sent())
	require.Equal(t, []string{
		"inspection:due inspect-plan:1 2026-11-20 09:00",
		"inspection:grace inspect:1 remind 2026-11-19 12:00",
	}, h.pending())
	require.Equal(t, []string{"inspect.plan.add", "inspect.run.now"}, h.actions())
	require.Equal(t, operator.UserID, h.s.Trail[len(h.s.Trail)-1].Actor)

	// The scheduled run still comes, as its own run.
	h.until("2026-11-20 09:00")
	require.Len(t, h.s.runs, 2)
}
