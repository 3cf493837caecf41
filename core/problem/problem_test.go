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

var cst = fakestore.CST

var code = fakestore.Code

// TestProblemOnThirdRepeat (W 8.5: recurring incidents become problems):
// the review closing the third incident with the same system and cause
// (case and spacing aside) within 30 days proposes a problem, links the
// three and tells the sys admins and the channel; a fourth is linked to
// it silently; other systems, other causes and older incidents do not count.
func TestProblemOnThirdRepeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, cst)
	w := fakestore.NewWorld(start, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.AddUser("city", "zhangsan", "admin")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("zhangsan", org.RoleOperator, "city") // resolves and reviews (W 8.5 a: authority over incidents)
	w.Tx.Apps["portal"] = org.App{Code: "portal", Name: "门户"}
	w.Tx.Apps["mail"] = org.App{Code: "mail", Name: "邮件"}
	zs := core.Actor{UserID: "zhangsan"}

	steps := []struct {
		name     string
		after    time.Duration // since start
		system   string
		cause    string
		problem  int64 // linked to
		proposed bool
	}{
		{"older than the window", 0, "portal", "disk full", 0, false},
		{"first in the window", 31 * 24 * time.Hour, "portal", "disk full", 0, false},
		{"another system", 32 * 24 * time.Hour, "mail", "disk full", 0, false},
		{"another cause", 33 * 24 * time.Hour, "portal", "cert expired", 0, false},
		{"second repeat", 34 * 24 * time.Hour, "portal", "Disk  Full", 0, false},
		{"third repeat", 35 * 24 * time.Hour, "portal", "disk full", 1, true},
		{"fourth repeat", 36 * 24 * time.Hour, "portal", "disk full", 1, false},
	}
	for _, st := range steps {
		w.Tx.Reset()
		w.Clock.T = start.Add(st.after)
		i, err := w.Incidents.Declare(ctx, zs, "portal slow", 3, st.system, "")
		require.NoError(t, err, st.name)
		_, err = w.Incidents.Resolve(ctx, zs, i.ID, "cleaned")
		require.NoError(t, err, st.name)
		i, err = w.Incidents.Review(ctx, zs, i.ID, st.cause, "alert on disk@zhangsan@2026-12-31")
		require.NoError(t, err, st.name)
		require.Equal(t, st.problem, w.Tx.Links[i.ID], st.name)
		if st.proposed {
			require.Equal(t, []string{"user:admin|problem:1", "channel:ops-room|problem:1"}, w.Tx.Sent("incident.problem"), st.name)
			p := w.Tx.Payloads("incident.problem")[0].(problem.Proposed)
			require.Equal(t, problem.Proposed{Problem: 1, Title: "portal：disk full", Count: 3}, p)
			require.Equal(t, "review", w.Tx.EventKinds(i.ID)[len(w.Tx.EventKinds(i.ID))-1])
			require.Contains(t, w.Tx.EventMap[i.ID][len(w.Tx.EventMap[i.ID])-1].Body, "problem #1")
		} else {
			require.Empty(t, w.Tx.Sent("incident.problem"), st.name)
		}
	}
	require.Len(t, w.Tx.ProblemList, 1)
	require.True(t, w.Tx.ProblemList[0].Proposed)
	linked := 0
	for _, p := range w.Tx.Links {
		if p == 1 {
			linked++
		}
	}
	require.Equal(t, 4, linked, "the three repeats and the fourth")

	// The library: list, link by hand (noted on the incident), not found.
	list, err := w.Problems.List(ctx, zs)
	require.NoError(t, err)
	require.Len(t, list[0].Incidents, 4)
	require.NoError(t, w.Problems.Link(ctx, zs, 1, 1))
	require.Equal(t, "problem", w.Tx.EventKinds(1)[len(w.Tx.EventKinds(1))-1])
	require.Equal(t, "problem_not_found", code(w.Problems.Link(ctx, zs, 1, 9)))
	require.Equal(t, "incident_not_found", code(w.Problems.Link(ctx, zs, 99, 1)))
	_, err = w.Problems.Show(ctx, zs, 9)
	require.Equal(t, "problem_not_found", code(err))
}
