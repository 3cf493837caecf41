package overview_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/org/orgtest"
	"opsbot/core/overview"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

// fake holds what an overview reads.
type fake struct {
	*orgtest.Org
	incidents []incident.Incident
	joint     []int64
	rotations []duty.Rotation
	requests  []approval.Request
	tickets   []ticket.Ticket
	runs      []inspect.Run
	checks    []backup.Check
}

func (f *fake) Read(_ context.Context, fn func(overview.Reads) error) error { return fn(f) }

func (f *fake) ActiveIncidents(_ context.Context, view org.View, limit int) ([]incident.Incident, error) {
	flt := incident.Filter{State: incident.StateOpen, View: &view}
	var out []incident.Incident
	for _, i := range f.incidents {
		if flt.Match(i) && len(out) < limit {
			out = append(out, i)
		}
	}
	return out, nil
}

func (f *fake) JointIncidents(_ context.Context, ids []int64) ([]int64, error) {
	var out []int64
	for _, id := range f.joint {
		if slices.Contains(ids, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (f *fake) Rotations(context.Context) ([]duty.Rotation, error) { return f.rotations, nil }

func (f *fake) Overrides(context.Context, string) (map[string]string, error) { return nil, nil }

func (f *fake) Requests(context.Context, approval.Filter) ([]approval.Request, error) {
	return f.requests, nil
}

func (f *fake) OpenTickets(context.Context, int) ([]ticket.Ticket, error) { return f.tickets, nil }

func (f *fake) Runs(context.Context, int64, time.Time, time.Time, int) ([]inspect.Run, error) {
	return f.runs, nil
}

func (f *fake) BackupChecks(context.Context, int64, string, string) ([]backup.Check, error) {
	return f.checks, nil
}

// TestOverviewKeepsTheView: a district admin's overview has their
// district's incidents, approvals and tickets and nothing of another
// district; the operator's has both; a member's only their own. Approvals
// wait in working time; joint troubleshooting is marked; today's routine
// work is counted.
func TestOverviewKeepsTheView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := tickettest.At(time.November, 24, 10, 0) // a Tuesday
	cal := tickettest.National2026()
	o := orgtest.New()
	o.AddUnit("city", org.LevelCity, "")
	o.AddUnit("dongcheng", org.LevelDistrict, "city")
	o.AddUnit("xicheng", org.LevelDistrict, "city")
	o.AddUnit("dc-edu", org.LevelUnit, "dongcheng")
	o.AddUser("liqiang", "dongcheng", org.RoleDistrictAdmin, "dongcheng")
	o.AddUser("sunli", "city", org.RoleOperator, "city")
	o.AddUser("zhengmin", "dc-edu", "", "")
	f := &fake{Org: o,
		incidents: []incident.Incident{
			{ID: 3, Title: "west down", Level: 1, State: incident.StateDeclared, Unit: "xicheng", DeclaredBy: "sunli", CreatedAt: now.Add(-time.Hour)},
			{ID: 2, Title: "east slow", Level: 3, State: incident.StateAcknowledged, Unit: "dc-edu", DeclaredBy: "zhengmin", CreatedAt: now.Add(-2 * time.Hour)},
			{ID: 1, Title: "east old", Level: 2, State: incident.StateResolved, Unit: "dc-edu", DeclaredBy: "sunli", CreatedAt: now.Add(-48 * time.Hour)},
		},
		joint:     []int64{2},
		rotations: []duty.Rotation{{Name: "ops", Unit: "city", Members: []string{"sunli", "zhoujie"}, Every: "day", Handover: "09:00", StartDate: now.AddDate(0, 0, -10)}, {Name: "west", Unit: "xicheng", Members: []string{"w1"}, Every: "day", Handover: "09:00", StartDate: now.AddDate(0, 0, -10)}},
		requests: []approval.Request{
			{ID: 7, State: approval.StatePending, Unit: "dc-edu", Requester: "zhengmin", StepSince: tickettest.At(time.November, 23, 9, 0)},
			{ID: 8, State: approval.StatePending, Unit: "xicheng", Requester: "sunli", StepSince: now.Add(-time.Hour)},
		},
		tickets: []ticket.Ticket{
			{ID: 11, State: "open", Unit: "dc-edu", Asker: "zhengmin", DueAt: now.Add(5 * time.Hour)},
			{ID: 12, State: "open", Unit: "xicheng", Asker: "sunli", DueAt: now.Add(-time.Hour), Overdue: true},
			{ID: 13, State: "open", Unit: "dc-edu", Asker: "sunli", DueAt: now.Add(-time.Hour), Overdue: true},
		},
		runs:   []inspect.Run{{State: "done", Assignees: []string{"sunli"}}, {State: "open", Missed: true, Assignees: []string{"zhoujie"}}},
		checks: []backup.Check{{State: "ok"}, {State: "failed"}, {State: "pending"}},
	}
	svc := overview.NewService(f, &tickettest.Clock{T: now}, cal)
	read := func(user string) overview.Overview {
		v, err := org.ViewOf(ctx, o, core.Actor{UserID: user})
		require.NoError(t, err)
		ov, err := svc.Read(ctx, core.Actor{UserID: user}, v)
		require.NoError(t, err)
		return ov
	}
	ids := func(is []incident.Incident) (out []int64) {
		for _, i := range is {
			out = append(out, i.ID)
		}
		return out
	}
	tids := func(ts []ticket.Ticket) (out []int64) {
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}

	east := read("liqiang")
	require.Equal(t, []int64{2}, ids(east.Open))
	require.Equal(t, [4]int{0, 0, 1, 0}, east.ByLevel)
	require.Equal(t, []int64{2}, ids(east.Joint))
	require.Len(t, east.Approvals, 1)
	require.Equal(t, int64(7), east.Approvals[0].Request.ID)
	// Mon 09:00 → Tue 10:00 on 08:30–12:00, 14:00–17:30: 3 h + 3.5 h on
	// Monday, 1.5 h on Tuesday.
	require.Equal(t, 8*time.Hour, east.Approvals[0].Working)
	require.Equal(t, []int64{11}, tids(east.DueToday))
	require.Equal(t, []int64{13}, tids(east.Overdue))
	require.Len(t, east.Duty, 1, "the city rotation reaches the district; the west one does not")
	require.Equal(t, "ops", east.Duty[0].Rotation.Name)
	require.NotEmpty(t, east.Duty[0].Now.Primary)
	require.NotEqual(t, east.Duty[0].Now.Primary, east.Duty[0].Next.Primary)
	require.Equal(t, overview.Counts{Done: 1, Missed: 1}, east.Inspections)
	require.Equal(t, overview.Counts{Done: 1, Failed: 1, Pending: 1}, east.Backups)

	ops := read("sunli")
	require.Equal(t, []int64{3, 2}, ids(ops.Open))
	require.Len(t, ops.Approvals, 2)
	require.Equal(t, []int64{12, 13}, tids(ops.Overdue))
	require.Len(t, ops.Duty, 2)

	own := read("zhengmin")
	require.Equal(t, []int64{2}, ids(own.Open), "the member declared #2 only")
	require.Len(t, own.Approvals, 1)
	require.Equal(t, []int64{11}, tids(own.DueToday))
	require.Empty(t, own.Overdue)
	require.Empty(t, own.Duty)
	require.Equal(t, overview.Counts{}, own.Backups)

	narrowed, err := org.ViewOf(ctx, o, core.Actor{UserID: "sunli"})
	require.NoError(t, err)
	narrowed, err = narrowed.Narrow("xicheng")
	require.NoError(t, err)
	west, err := svc.Read(ctx, core.Actor{UserID: "sunli"}, narrowed)
	require.NoError(t, err)
	require.Equal(t, []int64{3}, ids(west.Open))

	_, err = svc.Read(ctx, core.Actor{UserID: "nobody"}, narrowed)
	require.ErrorIs(t, err, core.ErrForbidden)
}
