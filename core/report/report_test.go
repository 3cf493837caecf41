package report_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/report"
	"opsbot/core/ticket"
)

// views gives fixed views by user.
type views map[string]org.View

func (v views) View(_ context.Context, a core.Actor) (org.View, error) { return v[a.UserID], nil }

// kept records which units and people the domains' keep accepted.
type kept struct{ units []string }

func (k *kept) probe(keep report.Keep) {
	k.units = nil
	for _, u := range []string{"city", "dongcheng", "dc-edu", "xicheng", ""} {
		if keep(u, "member") {
			k.units = append(k.units, u)
		}
	}
}

func (k *kept) MonthlyReport(_ context.Context, _ core.Actor, month string, keep report.Keep) (problem.Report, error) {
	k.probe(keep)
	return problem.Report{Month: month}, nil
}

func (k *kept) PeriodSummary(_ context.Context, _, _ string, keep report.Keep) (string, []inspect.PlanSummary, error) {
	k.probe(keep)
	return "2026-11", nil, nil
}

func (k *kept) AuditMonth(_ context.Context, _ string, keep report.Keep) (backup.AuditMonth, error) {
	k.probe(keep)
	return backup.AuditMonth{}, nil
}

func (k *kept) SLAMonth(_ context.Context, _ string, keep report.Keep) (ticket.SLAMonth, error) {
	k.probe(keep)
	return ticket.SLAMonth{}, nil
}

func (k *kept) Month(_ context.Context, _ string, keep report.Keep) (approval.Month, error) {
	k.probe(keep)
	return approval.Month{}, nil
}

// TestReportsFollowTheView (M 6.1, the scope rule): each report counts
// what the actor's view keeps, narrowed by a unit inside it; a unit
// outside it is refused (outside_view); the incident report names its
// scope: the city (nil), the view's top units, or the member's own items.
func TestReportsFollowTheView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tree := []org.Unit{{Code: "city", Path: "/city/"}, {Code: "dongcheng", Parent: "city", Path: "/city/dongcheng/"},
		{Code: "dc-edu", Parent: "dongcheng", Path: "/city/dongcheng/dc-edu/"}, {Code: "xicheng", Parent: "city", Path: "/city/xicheng/"}}
	vs := views{
		"admin":   {Basis: org.ViewCity, All: true, Units: []string{"city", "dongcheng", "dc-edu", "xicheng"}, Tree: tree},
		"liqiang": {Basis: org.ViewUnits, Units: []string{"dongcheng", "dc-edu"}, Tree: tree[1:3]},
		"member":  {Basis: org.ViewOwn, Own: "member"},
	}
	k := &kept{}
	s := report.NewService(report.Deps{Views: vs, Incidents: k, Inspections: k, Backups: k, Tickets: k, Approvals: k})
	for _, tc := range []struct {
		who, unit string
		units     []string // kept by the domains
		scope     []string
		own       string
		code      string
	}{
		{who: "admin", units: []string{"city", "dongcheng", "dc-edu", "xicheng", ""}},
		{who: "admin", unit: "dongcheng", units: []string{"dongcheng", "dc-edu"}, scope: []string{"dongcheng"}},
		{who: "liqiang", units: []string{"dongcheng", "dc-edu"}, scope: []string{"dongcheng"}},
		{who: "liqiang", unit: "dc-edu", units: []string{"dc-edu"}, scope: []string{"dc-edu"}},
		{who: "liqiang", unit: "xicheng", code: "outside_view"},
		{who: "member", units: []string{"city", "dongcheng", "dc-edu", "xicheng", ""}, scope: []string{}, own: "member"},
		{who: "member", unit: "dc-edu", code: "outside_view"},
	} {
		v, err := s.View(ctx, core.Actor{UserID: tc.who}, tc.unit)
		if tc.code != "" {
			var e *core.Error
			require.ErrorAs(t, err, &e, tc.who)
			require.Equal(t, tc.code, e.Code)
			require.ErrorIs(t, err, core.ErrForbidden)
			continue
		}
		require.NoError(t, err)
		rep, err := s.Incidents(ctx, core.Actor{UserID: tc.who}, v, "2026-11")
		require.NoError(t, err)
		require.Equal(t, tc.units, k.units, "%s %s", tc.who, tc.unit)
		require.Equal(t, tc.scope, rep.Scope, "%s %s", tc.who, tc.unit)
		require.Equal(t, tc.own, rep.Own)
		for _, read := range []func() error{
			func() error { _, _, err := s.Inspections(ctx, v, "", ""); return err },
			func() error { _, err := s.Backups(ctx, v, "2026-11"); return err },
			func() error { _, err := s.Tickets(ctx, v, "2026-11"); return err },
			func() error { _, err := s.Approvals(ctx, v, "2026-11"); return err },
		} {
			k.units = nil
			require.NoError(t, read())
			require.Equal(t, tc.units, k.units, "%s %s: every report keeps the same", tc.who, tc.unit)
		}
	}
}
