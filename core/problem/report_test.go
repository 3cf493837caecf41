package problem_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// TestMonthlyReportScope (M 6.1: per-unit reports): the monthly report
// counts the incidents the view keeps, by unit (a district's subtree) or,
// for a member's own items, those they declared or own; no view counts
// the city, incidents without a unit too.
func TestMonthlyReportScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, cst)
	w := fakestore.NewWorld(start, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	for _, u := range []org.Unit{{Code: "east", Path: "/city/east/"}, {Code: "east-edu", Path: "/city/east/east-edu/"},
		{Code: "west", Path: "/city/west/"}, {Code: "west-mkt", Path: "/city/west/west-mkt/"}} {
		w.Tx.Units[u.Code] = u
	}
	w.Tx.AddUser("city", "admin")
	w.Tx.AddUser("east-edu", "teacher")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	for _, d := range []struct{ by, title, unit string }{{core.SystemUser, "east district", "east"}, {"teacher", "edu", "east-edu"},
		{core.SystemUser, "market", "west-mkt"}, {core.SystemUser, "dns", ""}} {
		by := core.SystemActor()
		if d.by != core.SystemUser {
			by = core.Actor{UserID: d.by}
		}
		_, err := w.Incidents.Declare(ctx, by, d.title, 3, "", d.unit)
		require.NoError(t, err)
	}
	units := func(codes ...string) func(string, ...string) bool {
		return func(u string, _ ...string) bool { return slices.Contains(codes, u) }
	}
	for _, c := range []struct {
		name   string
		keep   func(string, ...string) bool
		total  int
		byUnit map[string]int
	}{
		{"the city", nil, 4, map[string]int{"east": 1, "east-edu": 1, "west-mkt": 1, "-": 1}},
		{"the east district", units("east", "east-edu"), 2, map[string]int{"east": 1, "east-edu": 1}},
		{"a unit", units("east-edu"), 1, map[string]int{"east-edu": 1}},
		{"the west district", units("west", "west-mkt"), 1, map[string]int{"west-mkt": 1}},
		{"the teacher's own", func(_ string, people ...string) bool { return slices.Contains(people, "teacher") }, 1, map[string]int{"east-edu": 1}},
	} {
		rep, err := w.Problems.MonthlyReport(ctx, core.Actor{UserID: "admin"}, "2026-11", c.keep)
		require.NoError(t, err, c.name)
		require.Equal(t, c.total, rep.Total, c.name)
		require.Equal(t, c.byUnit, rep.ByUnit, c.name)
	}
	_, err := w.Problems.MonthlyReport(ctx, core.Actor{UserID: "nobody"}, "2026-11", nil)
	require.ErrorIs(t, err, core.ErrForbidden, "only registered users")
}
