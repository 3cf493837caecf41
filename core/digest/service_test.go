package digest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

// world is the org and a week of work around Tuesday 2026-03-10:
//
//	city ─┬─ east (district) ─┬─ edu
//	      │                   └─ health
//	      └─ west (district) ─── tax
//
// sys is the sys admin, dist the admin of east, eduadm of edu, taxadm of
// tax (unsubscribed); op an operator who never subscribed, op2 one who did.
func world() *fake {
	return &fake{
		units: []org.Unit{
			{Code: "city", Name: "示范市", Level: org.LevelCity, Path: "/city/"},
			{Code: "east", Name: "东区", Level: org.LevelDistrict, Parent: "city", Path: "/city/east/"},
			{Code: "edu", Name: "教育局", Level: org.LevelUnit, Parent: "east", Path: "/city/east/edu/"},
			{Code: "health", Name: "卫健委", Level: org.LevelUnit, Parent: "east", Path: "/city/east/health/"},
			{Code: "west", Name: "西区", Level: org.LevelDistrict, Parent: "city", Path: "/city/west/"},
			{Code: "tax", Name: "税务局", Level: org.LevelUnit, Parent: "west", Path: "/city/west/tax/"},
		},
		grants: []org.Grant{
			{UserID: "sys", Role: org.RoleSysAdmin, Scope: "city"},
			{UserID: "dist", Role: org.RoleDistrictAdmin, Scope: "east"},
			{UserID: "eduadm", Role: org.RoleUnitAdmin, Scope: "edu"},
			{UserID: "taxadm", Role: org.RoleUnitAdmin, Scope: "tax"},
			{UserID: "op", Role: org.RoleOperator, Scope: "city"},
			{UserID: "op2", Role: org.RoleOperator, Scope: "city"},
			{UserID: "ap", Role: org.RoleAccessParty, Scope: "oa"},
		},
		subs: map[string]bool{"taxadm": false, "op2": true},
		sent: map[string]bool{},
		incidents: []incident.Incident{
			{ID: 1, Unit: "edu", Level: 2, State: incident.StateResolved, CreatedAt: at(3, 10, 9, 0), AckedAt: ptr(at(3, 10, 9, 10)), ResolvedAt: ptr(at(3, 10, 10, 0))},
			{ID: 2, Unit: "health", Level: 1, State: "acknowledged", CreatedAt: at(3, 10, 14, 0), AckedAt: ptr(at(3, 10, 14, 30))},
			{ID: 3, Unit: "tax", Level: 3, State: "triggered", CreatedAt: at(3, 10, 8, 0)},
			{ID: 4, Unit: "edu", Level: 4, State: incident.StateResolved, CreatedAt: at(3, 5, 12, 0), AckedAt: ptr(at(3, 5, 12, 5)), ResolvedAt: ptr(at(3, 10, 12, 0))},
			{ID: 5, Level: 2, State: "acknowledged", CreatedAt: at(3, 10, 11, 0), AckedAt: ptr(at(3, 10, 11, 20))},
			{ID: 6, Unit: "edu", Level: 3, State: "triggered", CreatedAt: at(3, 9, 16, 0)},
			{ID: 7, Unit: "edu", Level: 2, State: incident.StateClosed, CreatedAt: at(1, 5, 9, 0), ResolvedAt: ptr(at(1, 6, 9, 0)), ClosedAt: ptr(at(1, 7, 9, 0))},
		},
		events: []event{{incident: 2, kind: "escalate", at: at(3, 10, 15, 0)}, {incident: 3, kind: "escalate", at: at(3, 10, 9, 0)},
			{incident: 1, kind: "escalate", at: at(3, 9, 23, 0)}, {incident: 1, kind: "ack", at: at(3, 10, 9, 10)}},
		tickets: []ticket.Ticket{
			{ID: 1, Unit: "edu", State: "open", DueAt: at(3, 11, 15, 0)},
			{ID: 2, Unit: "tax", State: "open", Overdue: true, DueAt: at(3, 9, 17, 30)},
			{ID: 3, Unit: "health", State: "answered", DueAt: at(3, 12, 10, 0), AnsweredAt: ptr(at(3, 10, 10, 0))},
			{ID: 4, Unit: "edu", State: "answered", DueAt: at(3, 10, 12, 0), AnsweredAt: ptr(at(3, 10, 16, 0))},
			{ID: 5, Unit: "edu", State: "waiting", DueAt: at(3, 11, 9, 0)},
		},
		requests: []approval.Request{
			{ID: 1, Unit: "edu", State: approval.StatePending, CreatedAt: at(3, 9, 9, 0)},
			{ID: 2, Unit: "tax", State: approval.StatePending, CreatedAt: at(3, 8, 9, 0)},
			{ID: 3, Unit: "edu", State: approval.StatePending, CreatedAt: at(3, 10, 12, 0)},
		},
		runs: []inspect.Run{
			{ID: 1, DueAt: at(3, 10, 10, 0), State: "done"}, {ID: 2, DueAt: at(3, 10, 11, 0), State: "done"},
			{ID: 3, DueAt: at(3, 10, 12, 0), State: "open", Missed: true}, {ID: 4, DueAt: at(3, 10, 17, 0), State: "open"},
			{ID: 5, DueAt: at(3, 11, 9, 0), State: "done"},
		},
		checks: []backup.Check{
			{PlanID: 1, Day: "2026-03-10", State: "ok"}, {PlanID: 2, Day: "2026-03-10", State: "ok"}, {PlanID: 3, Day: "2026-03-10", State: "ok"},
			{PlanID: 4, Day: "2026-03-10", State: "failed"}, {PlanID: 5, Day: "2026-03-10", State: "missing"},
			{PlanID: 6, Day: "2026-03-10", State: "pending"}, {PlanID: 1, Day: "2026-03-09", State: "failed"},
		},
		rotations: []duty.Rotation{
			{Name: "ops", Members: []string{"a", "b", "c"}, Every: "day", Handover: "09:00", StartDate: at(3, 1, 0, 0)},
			{Name: "edu-duty", Unit: "edu", Members: []string{"e1", "e2"}, Every: "week", Handover: "09:00", StartDate: at(3, 2, 0, 0)},
			{Name: "tax-duty", Unit: "tax", Members: []string{"t1", "t2"}, Every: "day", Handover: "09:00", StartDate: at(3, 1, 0, 0)},
		},
		overrides: map[string]map[string]string{"ops": {"2026-03-11": "x"}},
	}
}

type bundle struct {
	f     *fake
	clock *tickettest.Clock
	svc   *digest.Service
}

func setup(t *testing.T, now time.Time) bundle {
	t.Helper()
	f, c := world(), &tickettest.Clock{T: now}
	return bundle{f: f, clock: c, svc: digest.NewService(f, c, tickettest.SpringFestival2026())}
}

// series is the 14-day chart ending on last: incidents per day and the
// SLA % of the days given (-1 elsewhere).
func series(last time.Time, incidents map[int]int, sla map[int]int) []digest.Point {
	var out []digest.Point
	for i := 13; i >= 0; i-- {
		d := last.AddDate(0, 0, -i)
		p := digest.Point{Day: d, Incidents: incidents[d.Day()], SLA: -1}
		if v, ok := sla[d.Day()]; ok {
			p.SLA = v
		}
		out = append(out, p)
	}
	return out
}

// TestBuildPerScope: M 6.1 — each manager's digest counts what lies in
// their scope (the city, a district with its units, one unit); inspections
// and backups are platform-wide; duty shows the rotations of the scope
// and the city-wide ones, overrides applied.
func TestBuildPerScope(t *testing.T) {
	t.Parallel()
	day := at(3, 10, 0, 0)
	common := digest.Digest{First: day, Last: day, InspectionsDone: 2, InspectionsMissed: 1, InspectionsOpen: 1,
		BackupsOK: 3, BackupsFailed: 1, BackupsMissing: 2, TicketsDueToday: 2}
	tests := []struct {
		name string
		user string
		want func(d *digest.Digest)
	}{
		{name: "sys admin: the city", user: "sys", want: func(d *digest.Digest) {
			d.Scope, d.ScopeNames = digest.Scope{Kind: "city"}, []string{"示范市"}
			d.Opened, d.Acked, d.MTTA = 4, 3, 20*time.Minute                 // 10, 30 and 20 minutes
			d.Closed, d.Resolved, d.MTTR = 2, 2, 60*time.Hour+30*time.Minute // 1 h and 120 h
			d.OpenByLevel = [5]int{0, 1, 1, 2, 0}
			d.Escalations, d.TicketsOverdue, d.ApprovalsWaiting = 2, 1, 2
			d.OnDuty = []string{"ops: x / c", "edu-duty: e2 / e1", "tax-duty: t1 / t2"}
			d.Series = series(day, map[int]int{5: 1, 9: 1, 10: 4}, map[int]int{9: 0, 10: 50})
		}},
		{name: "district admin: the district and its units", user: "dist", want: func(d *digest.Digest) {
			d.Scope, d.ScopeNames = digest.Scope{Kind: "district", Units: []string{"east", "edu", "health"}}, []string{"东区"}
			d.Opened, d.Acked, d.MTTA = 2, 2, 20*time.Minute
			d.Closed, d.Resolved, d.MTTR = 2, 2, 60*time.Hour+30*time.Minute
			d.OpenByLevel = [5]int{0, 1, 0, 1, 0}
			d.Escalations, d.ApprovalsWaiting = 1, 1
			d.OnDuty = []string{"ops: x / c", "edu-duty: e2 / e1"}
			d.Series = series(day, map[int]int{5: 1, 9: 1, 10: 2}, map[int]int{10: 50})
		}},
		{name: "unit admin: the unit", user: "eduadm", want: func(d *digest.Digest) {
			d.Scope, d.ScopeNames = digest.Scope{Kind: "unit", Units: []string{"edu"}}, []string{"教育局"}
			d.Opened, d.Acked, d.MTTA = 1, 1, 10*time.Minute
			d.Closed, d.Resolved, d.MTTR = 2, 2, 60*time.Hour+30*time.Minute
			d.OpenByLevel = [5]int{0, 0, 0, 1, 0}
			d.ApprovalsWaiting = 1
			d.OnDuty = []string{"ops: x / c", "edu-duty: e2 / e1"}
			d.Series = series(day, map[int]int{5: 1, 9: 1, 10: 1}, map[int]int{10: 0})
		}},
		{name: "operator: the city", user: "op", want: func(d *digest.Digest) {
			d.Scope, d.ScopeNames = digest.Scope{Kind: "city"}, []string{"示范市"}
			d.Opened, d.Acked, d.MTTA = 4, 3, 20*time.Minute
			d.Closed, d.Resolved, d.MTTR = 2, 2, 60*time.Hour+30*time.Minute
			d.OpenByLevel = [5]int{0, 1, 1, 2, 0}
			d.Escalations, d.TicketsOverdue, d.ApprovalsWaiting = 2, 1, 2
			d.OnDuty = []string{"ops: x / c", "edu-duty: e2 / e1", "tax-duty: t1 / t2"}
			d.Series = series(day, map[int]int{5: 1, 9: 1, 10: 4}, map[int]int{9: 0, 10: 50})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, at(3, 11, 10, 0))
			got, err := b.svc.Build(context.Background(), tt.user, "2026-03-10", "2026-03-10")
			require.NoError(t, err)
			want := common
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

// TestBuildRefusals: only managers have a digest, and dates must be dates.
func TestBuildRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, first, last string
		err                     error
		code                    string
	}{
		{name: "an access party has no scope", user: "ap", first: "2026-03-10", last: "2026-03-10", err: core.ErrForbidden, code: "digest_no_scope"},
		{name: "a stranger has no scope", user: "nobody", first: "2026-03-10", last: "2026-03-10", err: core.ErrForbidden, code: "digest_no_scope"},
		{name: "not a date", user: "sys", first: "10.3.2026", last: "10.3.2026", err: core.ErrInvalid, code: "date"},
		{name: "last before first", user: "sys", first: "2026-03-10", last: "2026-03-09", err: core.ErrInvalid, code: "date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, at(3, 11, 10, 0))
			_, err := b.svc.Build(context.Background(), tt.user, tt.first, tt.last)
			require.ErrorIs(t, err, tt.err)
			var e *core.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, tt.code, e.Code)
		})
	}
}

// TestBuildToday: today's digest counts up to now only.
func TestBuildToday(t *testing.T) {
	t.Parallel()
	b := setup(t, at(3, 10, 12, 30))
	got, err := b.svc.Build(context.Background(), "sys", b.svc.Today(), b.svc.Today())
	require.NoError(t, err)
	require.Equal(t, "2026-03-10", b.svc.Today())
	require.Equal(t, "2026-03-09", b.svc.Yesterday())
	require.Equal(t, 3, got.Opened, "#1, #3 and #5; #2 opens at 14:00")
	require.Equal(t, 2, got.Closed)
	require.Equal(t, 1, got.Escalations, "#3 at 09:00; #2's comes at 15:00")
	require.Equal(t, [3]int{2, 1, 0}, [3]int{got.InspectionsDone, got.InspectionsMissed, got.InspectionsOpen}, "runs due by now")
}

// TestSendDaily: at the slot on a working day every manager gets one
// digest of the days since the previous working day (Monday's covers the
// weekend, the first day after the Spring Festival covers the holiday);
// subscribed operators get one, unsubscribed admins do not; nothing is
// sent on a day off; a second run the same day sends nothing.
func TestSendDaily(t *testing.T) {
	t.Parallel()
	managers := []string{"dist", "eduadm", "op2", "sys"}
	tests := []struct {
		name        string
		slot        time.Time
		first, last time.Time
		to          []string
	}{
		{name: "Wednesday covers Tuesday", slot: at(3, 11, 8, 30), first: at(3, 10, 0, 0), last: at(3, 10, 0, 0), to: managers},
		{name: "Monday covers Friday to Sunday", slot: at(3, 16, 8, 30), first: at(3, 13, 0, 0), last: at(3, 15, 0, 0), to: managers},
		{name: "after the Spring Festival: since the make-up Saturday", slot: at(2, 24, 8, 30), first: at(2, 14, 0, 0), last: at(2, 23, 0, 0), to: managers},
		{name: "a make-up Saturday covers Friday", slot: at(2, 28, 8, 30), first: at(2, 27, 0, 0), last: at(2, 27, 0, 0), to: managers},
		{name: "nothing on a Sunday", slot: at(3, 15, 8, 30)},
		{name: "nothing on a holiday", slot: at(2, 18, 8, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t, tt.slot.Add(time.Minute))
			n, err := b.svc.SendDaily(ctx, tt.slot)
			require.NoError(t, err)
			require.Equal(t, len(tt.to), n)
			require.Equal(t, tt.to, recipients(b.f.notices))
			for _, no := range b.f.notices {
				d, ok := no.Body.(digest.Digest)
				require.True(t, ok)
				require.Equal(t, tt.first, d.First)
				require.Equal(t, tt.last, d.Last)
				require.Equal(t, "digest:"+tt.last.Format(time.DateOnly)+":"+no.To.User, no.Ref)
				require.Equal(t, digest.NoticeDigest, no.Type())
			}

			b.clock.T = b.clock.T.Add(time.Hour)
			n, err = b.svc.SendDaily(ctx, tt.slot)
			require.NoError(t, err)
			require.Zero(t, n, "one digest per manager per day")
			require.Len(t, b.f.notices, len(tt.to))
		})
	}
}

// TestSendDailyWeekend: Monday's digest counts the incidents of the
// weekend; the next working day sends again.
func TestSendDailyWeekend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, at(3, 16, 8, 31))
	b.f.incidents = append(b.f.incidents,
		incident.Incident{ID: 8, Unit: "edu", Level: 2, State: "triggered", CreatedAt: at(3, 13, 18, 0)},
		incident.Incident{ID: 9, Unit: "edu", Level: 2, State: "triggered", CreatedAt: at(3, 14, 3, 0)},
		incident.Incident{ID: 10, Unit: "edu", Level: 2, State: "triggered", CreatedAt: at(3, 15, 23, 0)},
		incident.Incident{ID: 11, Unit: "edu", Level: 2, State: "triggered", CreatedAt: at(3, 16, 8, 0)})
	_, err := b.svc.SendDaily(ctx, at(3, 16, 8, 30))
	require.NoError(t, err)
	for _, n := range b.f.notices {
		if n.To.User == "eduadm" {
			require.Equal(t, 3, n.Body.(digest.Digest).Opened, "Friday evening, Saturday and Sunday; not Monday morning")
		}
	}

	b.clock.T = at(3, 17, 8, 31)
	n, err := b.svc.SendDaily(ctx, at(3, 17, 8, 30))
	require.NoError(t, err)
	require.Equal(t, 4, n, "a new day, a new digest")
}

// TestSubscribe: managers and operators may subscribe; anyone may
// unsubscribe; the choice is audited and decides who gets a digest.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, at(3, 11, 8, 0))
	act := func(id string) core.Actor { return core.Actor{UserID: id, Platform: core.PlatformWebchat} }

	err := b.svc.Subscribe(ctx, act("ap"), true)
	require.ErrorIs(t, err, core.ErrForbidden)
	require.NoError(t, b.svc.Subscribe(ctx, act("ap"), false))
	require.NoError(t, b.svc.Subscribe(ctx, act("op"), true))
	require.NoError(t, b.svc.Subscribe(ctx, act("sys"), false))
	require.Equal(t, map[string]bool{"taxadm": false, "op2": true, "ap": false, "op": true, "sys": false}, b.f.subs)
	require.Len(t, b.f.audit, 3)
	require.Equal(t, core.AuditEntry{At: at(3, 11, 8, 0), Actor: "op", Platform: core.PlatformWebchat, Action: "digest.subscribe",
		Entity: "user:op", After: "true"}, b.f.audit[1])

	_, err = b.svc.SendDaily(ctx, at(3, 11, 8, 30))
	require.NoError(t, err)
	require.Equal(t, []string{"dist", "eduadm", "op", "op2"}, recipients(b.f.notices))
}
