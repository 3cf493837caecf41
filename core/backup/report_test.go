package backup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/backup"
)

// TestAuditMonth (W 8.4.4, per unit): before the 1st the month so far is
// a draft, after it the stored audit with its sign-off; a set of units
// keeps the systems whose app it owns.
func TestAuditMonth(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-10-29 10:00")
	h.s.apps["db2"] = true
	h.s.owners = map[string]string{"db1": "east", "db2": "west"}
	for _, sys := range []string{"db1", "db2"} {
		_, err := h.svc.AddPlan(h.ctx, operator, sys, "02:00", 0, wholePolicy)
		require.NoError(t, err)
	}
	h.until("2026-10-30 01:00")
	_, err := h.svc.Report(h.ctx, script, "db1", true, "full", "", "api")
	require.NoError(t, err)
	h.until("2026-10-30 12:00")
	east := func(u string, _ ...string) bool { return u == "east" }

	m, err := h.svc.AuditMonth(h.ctx, "2026-10", nil)
	require.NoError(t, err)
	require.True(t, m.Draft)
	require.Equal(t, []backup.SystemMonth{
		{System: "db1", Expected: 1, Reported: 1, Full: 1},
		{System: "db2", Expected: 1, Missing: 1},
	}, m.Systems)
	m, err = h.svc.AuditMonth(h.ctx, "2026-10", east)
	require.NoError(t, err)
	require.Equal(t, []backup.SystemMonth{{System: "db1", Expected: 1, Reported: 1, Full: 1}}, m.Systems)

	h.until("2026-11-01 09:00")
	_, err = h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	_, err = h.svc.SignOff(h.ctx, lead, "2026-10")
	require.NoError(t, err)
	m, err = h.svc.AuditMonth(h.ctx, "2026-10", east)
	require.NoError(t, err)
	require.False(t, m.Draft)
	require.Equal(t, "lead1", m.SignedBy)
	require.Len(t, m.Systems, 1)
	require.Equal(t, "db1", m.Systems[0].System)
	m, err = h.svc.AuditMonth(h.ctx, "2026-10", func(string, ...string) bool { return false })
	require.NoError(t, err)
	require.Empty(t, m.Systems)

	_, err = h.svc.AuditMonth(h.ctx, "Oct", nil)
	require.ErrorIs(t, err, core.ErrInvalid)
}
