package monthly_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/inspect"
	"opsbot/core/internal/fakestore"
	"opsbot/core/monthly"
	"opsbot/core/org"
	"opsbot/core/ticket/tickettest"
)

func setup(t *testing.T) (*fake, *monthly.Service, *fakestore.Clock) {
	t.Helper()
	f := newFake()
	f.tree["d1"] = []string{"d1", "u1"}
	f.tree["u2"] = []string{"u2"}
	f.Grant("boss", org.RoleSysAdmin, "city")
	f.Grant("dadmin", org.RoleDistrictAdmin, "d1")
	f.Grant("uadmin", org.RoleUnitAdmin, "u2")
	f.Grant("op", org.RoleOperator, "city")
	f.incidents["u1"] = 2
	f.incidents["u2"] = 3
	clock := &fakestore.Clock{T: tickettest.At(time.October, 1, 9, 0)}
	svc := monthly.NewService(f, f, clock, tickettest.National2026(), monthly.Options{})
	return f, svc, clock
}

// reports lists the monthly reports sent, by recipient.
func reports(f *fake) map[string][]monthly.Report {
	out := map[string][]monthly.Report{}
	for _, n := range f.Notices {
		if r, ok := n.Body.(monthly.Report); ok {
			out[n.To.User] = append(out[n.To.User], r)
		}
	}
	return out
}

func TestFirstWorkday(t *testing.T) {
	cal := tickettest.National2026()
	require.Equal(t, "2026-10-08", cal.FirstWorkday(2026, time.October).Format(time.DateOnly)) // 国庆 Oct 1–7
	require.Equal(t, "2026-09-01", cal.FirstWorkday(2026, time.September).Format(time.DateOnly))
	require.Equal(t, "2026-11-02", cal.FirstWorkday(2026, time.November).Format(time.DateOnly)) // Nov 1 is a Sunday
	spring := tickettest.SpringFestival2026()
	spring.SetWorkday("2026-03-01") // a make-up Sunday counts
	require.Equal(t, "2026-03-01", spring.FirstWorkday(2026, time.March).Format(time.DateOnly))
}

func TestMonthlyOncePerManagerWithTwoSchedulers(t *testing.T) {
	f, svc, clock := setup(t)
	ctx := context.Background()

	// Oct 1–7 are the National Day holiday: nothing goes out.
	for day := 1; day <= 7; day++ {
		clock.T = tickettest.At(time.October, day, 9, 0)
		n, c, err := svc.Push(ctx, clock.T)
		require.NoError(t, err)
		require.Zero(t, n+c, "Oct %d", day)
	}
	require.Empty(t, f.Notices)

	// Oct 8, the first working day: two schedulers' runs, one report each.
	clock.T = tickettest.At(time.October, 8, 9, 0)
	n1, _, err := svc.Push(ctx, clock.T)
	require.NoError(t, err)
	n2, _, err := svc.Push(ctx, clock.T)
	require.NoError(t, err)
	require.Equal(t, 3, n1)
	require.Zero(t, n2)
	got := reports(f)
	require.Len(t, got, 3) // boss, dadmin, uadmin; not the operator
	for u, rs := range got {
		require.Len(t, rs, 1, u)
		require.Equal(t, "2026-09", rs[0].Month)
	}
	require.Equal(t, "city", got["boss"][0].Scope)
	require.Equal(t, 5, got["boss"][0].Incidents.Total)
	require.Equal(t, "units", got["dadmin"][0].Scope)
	require.Equal(t, []string{"d1"}, got["dadmin"][0].Units)
	require.Equal(t, 2, got["dadmin"][0].Incidents.Total, "the district admin's report counts only their district")
	require.Equal(t, 3, got["uadmin"][0].Incidents.Total)

	// The next day's run sends nothing more.
	clock.T = tickettest.At(time.October, 9, 9, 0)
	n, _, err := svc.Push(ctx, clock.T)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestMonthlyCatchUpAndAvailability(t *testing.T) {
	f, svc, clock := setup(t)
	ctx := context.Background()
	start := tickettest.At(time.September, 30, 22, 0)
	end := tickettest.At(time.October, 1, 2, 0)
	f.outages = []monthly.Outage{
		{Incident: 7, System: "portal", Unit: "u1", Start: start, End: &end},                                // 2 h in September
		{Incident: 8, System: "mail", Unit: "u2", Start: tickettest.At(time.September, 3, 10, 0), End: nil}, // still down
	}
	// Down at 09:00 on Oct 8: the run at 15:00 catches up.
	clock.T = tickettest.At(time.October, 8, 15, 0)
	n, err := svc.SendMonthly(ctx, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	got := reports(f)
	require.Equal(t, []monthly.Uptime{{System: "portal", Outages: 1, Down: 2 * time.Hour, Permyriad: 9972}}, got["dadmin"][0].Availability)
	city := got["boss"][0].Availability
	require.Len(t, city, 2)
	require.Equal(t, "mail", city[0].System)
	require.Equal(t, 28*24*time.Hour-10*time.Hour, city[0].Down) // Sep 3 10:00 to Oct 1
}

func TestQuarterlyCheckActionsReminded(t *testing.T) {
	f, svc, clock := setup(t)
	ctx := context.Background()
	f.plans = []inspect.PlanSummary{
		{Plan: "daily-hosts", Runs: 60, Done: 58, Missed: 2},
		{Plan: "weekly-db", Runs: 13, Done: 13, Issues: 1, IssueItems: []string{"disk (incident #4)"}},
		{Plan: "clean", Runs: 13, Done: 13},
	}
	clock.T = tickettest.At(time.October, 8, 9, 0)
	_, c1, err := svc.Push(ctx, clock.T)
	require.NoError(t, err)
	_, c2, err := svc.Push(ctx, clock.T)
	require.NoError(t, err)
	require.Equal(t, 2, c1) // boss and op
	require.Zero(t, c2)
	require.Len(t, f.actions, 2, "one action per finding, created once")
	a := f.actions[0]
	require.Equal(t, "2026-Q3", a.Quarter)
	require.Equal(t, "missed", a.Kind)
	require.Equal(t, 2, a.Count)
	require.Equal(t, "op", a.Owner)
	require.Equal(t, "2026-10-21", a.Due.Format(time.DateOnly)) // 10 working days, Sat Oct 10 worked
	require.Equal(t, "issue", f.actions[1].Kind)
	for _, n := range f.Notices {
		if ch, ok := n.Body.(monthly.Check); ok {
			require.Len(t, ch.Actions, 2)
			require.Len(t, ch.Plans, 3)
		}
	}

	// Action 2 is done before its date; action 1 is reminded, then overdue.
	_, err = svc.Done(ctx, core.Actor{UserID: "op"}, "2026-q3", 2)
	require.NoError(t, err)
	_, err = svc.Done(ctx, core.Actor{UserID: "op"}, "2026-Q3", 2)
	require.True(t, errors.Is(err, core.ErrAlreadyDecided))
	_, err = svc.Done(ctx, core.Actor{UserID: "uadmin"}, "2026-Q3", 1)
	require.True(t, errors.Is(err, core.ErrForbidden))

	f.Reset()
	clock.T = tickettest.At(time.October, 21, 9, 0)
	for _, tm := range f.Due(clock.T) {
		require.NoError(t, svc.HandleTimer(ctx, tm.ID))
	}
	require.Equal(t, []string{"user:op|check-action:2026-Q3#1"}, f.Sent(monthly.NoticeAction))
	f.Reset()
	clock.T = tickettest.At(time.October, 21, 18, 0)
	for _, tm := range f.Due(clock.T) {
		require.NoError(t, svc.HandleTimer(ctx, tm.ID))
	}
	require.ElementsMatch(t, []string{"user:op|check-action:2026-Q3#1", "user:boss|check-action:2026-Q3#1"}, f.Sent(monthly.NoticeAction))
	for _, p := range f.Payloads(monthly.NoticeAction) {
		require.True(t, p.(monthly.ActionDue).Overdue)
	}
	_, err = svc.Done(ctx, core.Actor{UserID: "op"}, "2026-Q3", 1)
	require.NoError(t, err)
	require.Empty(t, f.PendingTimers("", ""))
}
