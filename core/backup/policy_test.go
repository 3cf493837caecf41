package backup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/backup"
)

// wholePolicy is a complete backup policy (W 8.4.1).
var wholePolicy = backup.Policy{Location: "异地机房 NAS /backup/db1", Retention: "180d", Method: "full+incremental", Owner: "op2"}

// TestPlanPolicy (W 8.4.1): a plan records where its backups are kept, how
// long, how they are taken and who is responsible; bad values are refused
// with the reason; the owner must be an org user.
func TestPlanPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		pol  backup.Policy
		code string
	}{
		{"complete", wholePolicy, ""},
		{"none yet (a finding of the monthly audit)", backup.Policy{}, ""},
		{"snapshot, kept a year", backup.Policy{Method: "snapshot", Retention: "1y"}, ""},
		{"retention in Chinese", backup.Policy{Retention: "6个月"}, ""},
		{"unknown method", backup.Policy{Method: "copy"}, "backup_method"},
		{"retention without a unit", backup.Policy{Retention: "30"}, "backup_retention"},
		{"owner not an org user", backup.Policy{Owner: "nobody"}, "backup_owner_not_found"},
		{"owner removed", backup.Policy{Owner: "gone"}, "backup_owner_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "2026-11-19 10:00")
			p, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, tc.pol)
			if tc.code != "" {
				var ce *core.Error
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.code, ce.Code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.pol, p.Policy)
			d, err := h.svc.PlanDetails(h.ctx, "db1")
			require.NoError(t, err)
			require.Equal(t, tc.pol, d.Plan.Policy)
		})
	}
}

// TestSetPlanPolicy: /backup plan set changes only the fields given, is
// audited before → after, and refuses a change with no field or by a
// non-operator.
func TestSetPlanPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-11-19 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, backup.Policy{Location: "本地磁盘", Method: "full"})
	require.NoError(t, err)
	_, err = h.svc.SetPolicy(h.ctx, operator, "db1", backup.Policy{})
	requireCode(t, err, "backup_policy_empty")
	_, err = h.svc.SetPolicy(h.ctx, lead, "db1", backup.Policy{Owner: "op2"})
	require.ErrorIs(t, err, core.ErrForbidden)
	_, err = h.svc.SetPolicy(h.ctx, operator, "db9", backup.Policy{Owner: "op2"})
	require.ErrorIs(t, err, core.ErrNotFound)
	h.s.Trail = nil
	p, err := h.svc.SetPolicy(h.ctx, operator, "db1", backup.Policy{Location: "异地机房 NAS", Retention: "90d", Owner: "op2"})
	require.NoError(t, err)
	require.Equal(t, backup.Policy{Location: "异地机房 NAS", Retention: "90d", Method: "full", Owner: "op2"}, p.Policy)
	require.Equal(t, []string{"backup.plan.policy"}, h.actions())
	require.Contains(t, h.s.Trail[0].Before, `"location":"本地磁盘"`)
	require.Contains(t, h.s.Trail[0].After, `"location":"异地机房 NAS"`)
}

// TestAuditListsPlansMissingPolicy (W 8.4.1, W 8.4.3 c): the monthly
// backup audit lists each plan missing a policy field as a finding.
func TestAuditListsPlansMissingPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2026-10-29 10:00")
	_, err := h.svc.AddPlan(h.ctx, operator, "db1", "02:00", 0, wholePolicy)
	require.NoError(t, err)
	_, err = h.svc.AddPlan(h.ctx, operator, "web1", "03:00", 0, backup.Policy{Location: "本地磁盘", Method: "snapshot"})
	require.NoError(t, err)
	h.until("2026-11-01 09:00")
	created, err := h.svc.MonthlyAudit(h.ctx)
	require.NoError(t, err)
	require.True(t, created)
	a, err := h.svc.Audit(h.ctx, "2026-10")
	require.NoError(t, err)
	require.Len(t, a.Systems, 2)
	require.Empty(t, a.Systems[0].PolicyMissing, "db1 has its whole policy")
	require.Equal(t, []string{"retention", "owner"}, a.Systems[1].PolicyMissing)
}

// requireCode checks err is a core error with code.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ce *core.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, code, ce.Code)
}
