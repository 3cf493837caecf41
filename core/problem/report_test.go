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
)

// TestMonthlyReportScope (M 6.1: per-unit reports, the analysis to the
// city admin): a district or unit admin's monthly report counts the
// incidents of the units in their subtree only; a sys admin and an
// operator see the city (incidents without a unit too); a member sees
// their own unit.
func TestMonthlyReportScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, cst)
	w := fakestore.NewWorld(start, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	for _, u := range []org.Unit{{Code: "east", Path: "/city/east/"}, {Code: "east-edu", Path: "/city/east/east-edu/"},
		{Code: "west", Path: "/city/west/"}, {Code: "west-mkt", Path: "/city/west/west-mkt/"}} {
		w.Tx.Units[u.Code] = u
	}
	w.Tx.AddUser("city", "admin", "op")
	w.Tx.AddUser("east", "eastadmin")
	w.Tx.AddUser("east-edu", "eduadmin", "teacher")
	w.Tx.AddUser("west", "westadmin")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("op", org.RoleOperator, "city")
	w.Tx.Grant("eastadmin", org.RoleDistrictAdmin, "east")
	w.Tx.Grant("eduadmin", org.RoleUnitAdmin, "east-edu")
	w.Tx.Grant("westadmin", org.RoleDistrictAdmin, "west")
	for _, d := range []struct{ title, unit string }{{"east district", "east"}, {"edu", "east-edu"}, {"market", "west-mkt"}, {"dns", ""}} {
		_, err := w.Incidents.Declare(ctx, core.SystemActor(), d.title, 3, "", d.unit)
		require.NoError(t, err)
	}
	for _, c := range []struct {
		who    string
		total  int
		byUnit map[string]int
		scope  []string
	}{
		{"admin", 4, map[string]int{"east": 1, "east-edu": 1, "west-mkt": 1, "-": 1}, nil},
		{"op", 4, map[string]int{"east": 1, "east-edu": 1, "west-mkt": 1, "-": 1}, nil},
		{"eastadmin", 2, map[string]int{"east": 1, "east-edu": 1}, []string{"east"}},
		{"eduadmin", 1, map[string]int{"east-edu": 1}, []string{"east-edu"}},
		{"westadmin", 1, map[string]int{"west-mkt": 1}, []string{"west"}},
		{"teacher", 1, map[string]int{"east-edu": 1}, []string{"east-edu"}},
	} {
		rep, err := w.Problems.MonthlyReport(ctx, core.Actor{UserID: c.who}, "2026-11")
		require.NoError(t, err, c.who)
		require.Equal(t, c.total, rep.Total, c.who)
		require.Equal(t, c.byUnit, rep.ByUnit, c.who)
		require.Equal(t, c.scope, rep.Scope, c.who)
	}
}
