package emergency

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
)

var shanghai = time.FixedZone("CST", 8*3600)

type bundle struct {
	svc   *Service
	f     *fake
	clock *routinetest.Clock
}

func setup(t *testing.T) bundle {
	t.Helper()
	o := routinetest.Org{Holders: map[org.Role][]string{org.RoleOperator: {"op"}, org.RoleSysAdmin: {"admin"}, "district_admin": {"lead"}}}
	f := newFake(o, "op", "admin", "lead", "zhang", "li")
	clock := &routinetest.Clock{T: routinetest.At(shanghai, "2026-03-02 10:00")}
	path := Path{Channels: []string{"leaders"}, Users: []string{"boss"}, Roles: []string{"sys_admin"}}
	return bundle{svc: NewService(f, clock, shanghai, path), f: f, clock: clock}
}

func (b bundle) fire(t *testing.T, until time.Time) {
	t.Helper()
	require.NoError(t, b.f.Run(b.clock, until, func(id int64) error {
		for _, tm := range b.f.Timers {
			if tm.ID == id && tm.Kind == TimerReview {
				return b.svc.HandleTimer(context.Background(), id)
			}
		}
		return b.svc.HandleDrillTimer(context.Background(), id)
	}))
}

var op = core.Actor{UserID: "op", Platform: core.PlatformWebchat}

func TestAnnualReviewRemindsThenEscalatesWhenMissed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	p, err := b.svc.AddPlan(ctx, op, "portal", "门户网站应急预案", 2, "https://docs/plan.pdf")
	require.NoError(t, err)
	require.Equal(t, routinetest.At(shanghai, "2027-03-02 10:00"), p.ReviewDue)

	// A month before the due date: the operators are reminded.
	b.fire(t, routinetest.At(shanghai, "2027-02-01 00:00"))
	require.Equal(t, []string{"emergency.review_due emergency-plan:1 → user:op"}, b.f.Sent())
	// Not reviewed by the due date: escalated to the sys admins, audited.
	b.fire(t, routinetest.At(shanghai, "2027-03-02 10:00"))
	require.Equal(t, []string{"emergency.review_missed emergency-plan:1 → user:admin"}, b.f.Sent())
	require.Contains(t, b.f.Actions(), "emergency.plan.review_missed")
	require.True(t, b.f.plans[1].Overdue(b.clock.T))
}

func TestReviewOnTimeMovesTheDueDateAndNothingEscalates(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.AddPlan(ctx, op, "portal", "门户网站应急预案", 2, "https://docs/plan.pdf")
	require.NoError(t, err)
	b.fire(t, routinetest.At(shanghai, "2027-02-10 00:00"))
	require.Len(t, b.f.Sent(), 1) // the reminder
	p, err := b.svc.Review(ctx, op, 1, "updated after the drill")
	require.NoError(t, err)
	require.Equal(t, routinetest.At(shanghai, "2028-02-10 00:00"), p.ReviewDue)
	b.fire(t, routinetest.At(shanghai, "2027-12-31 00:00"))
	require.Empty(t, b.f.Sent(), "the old escalation is cancelled; the next reminder is a month before 2028-02-10")
	b.fire(t, routinetest.At(shanghai, "2028-01-11 00:00"))
	require.Equal(t, []string{"emergency.review_due emergency-plan:1 → user:op"}, b.f.Sent())
}

func TestOnlyOperatorsAndSysAdminsManagePlans(t *testing.T) {
	b := setup(t)
	_, err := b.svc.AddPlan(context.Background(), core.Actor{UserID: "zhang"}, "portal", "预案", 2, "x")
	require.True(t, errors.Is(err, core.ErrForbidden))
	_, err = b.svc.AddPlan(context.Background(), op, "portal", "预案", 5, "x")
	require.True(t, errors.Is(err, core.ErrInvalid))
}

func TestDrillRemindedTheDayBeforeAndFindingsBecomeActions(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.AddPlan(ctx, op, "portal", "门户网站应急预案", 2, "https://docs/plan.pdf")
	require.NoError(t, err)
	b.f.Sent()
	d, err := b.svc.ScheduleDrill(ctx, op, 1, "2026-03-10", []string{"zhang", "li"})
	require.NoError(t, err)
	b.fire(t, routinetest.At(shanghai, "2026-03-09 09:00"))
	require.Equal(t, []string{"emergency.drill_due drill:1 → user:zhang", "emergency.drill_due drill:1 → user:li"}, b.f.Sent())

	_, err = b.svc.RecordDrill(ctx, op, d.ID, []string{"zhang", "li"}, "切换脚本超时@nobody@2026-03-20")
	require.True(t, errors.Is(err, core.ErrNotFound), "an unknown owner is refused")
	_, err = b.svc.RecordDrill(ctx, op, d.ID, []string{"zhang"}, "切换脚本超时@zhang")
	require.True(t, errors.Is(err, core.ErrInvalid))
	d, err = b.svc.RecordDrill(ctx, op, d.ID, []string{"zhang", "li"}, "切换脚本超时@zhang@2026-03-20；通讯录过期@li@2026-03-25")
	require.NoError(t, err)
	require.Len(t, d.Findings, 2)
	require.Equal(t, []string{"emergency.finding drill:1 → user:zhang", "emergency.finding drill:1 → user:li"}, b.f.Sent())

	_, err = b.svc.FindingDone(ctx, core.Actor{UserID: "li"}, d.ID, 2)
	require.NoError(t, err)
	// Finding 1 is reminded on its due date and escalated the next day; finding 2 is done.
	b.fire(t, routinetest.At(shanghai, "2026-03-30 00:00"))
	sent := routinetest.Bodies[FindingNotice](b.f.Core)
	require.Len(t, sent, 2)
	require.Equal(t, "due", sent[0].Stage)
	require.Equal(t, "overdue", sent[1].Stage)
	require.Equal(t, []string{"emergency.finding drill:1 → user:zhang", "emergency.finding drill:1 → user:admin"}, b.f.Sent())
}

func TestWarningIssuedAndLiftedAlongTheReportPath(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	w, err := b.svc.Issue(ctx, op, 2, "台风预警：机房可能断电")
	require.NoError(t, err)
	path := []string{"user:boss", "user:admin", "channel:leaders"}
	require.Equal(t, lines("emergency.warning_issued warning:1 → ", path), b.f.Sent())
	_, err = b.svc.Lift(ctx, op, w.ID, "台风已过境")
	require.NoError(t, err)
	require.Equal(t, lines("emergency.warning_lifted warning:1 → ", path), b.f.Sent())
	_, err = b.svc.Lift(ctx, op, w.ID, "")
	require.True(t, errors.Is(err, core.ErrAlreadyDecided))
	require.Equal(t, []string{"emergency.warning.issue", "emergency.warning.lift"}, b.f.Actions())
}

func lines(prefix string, to []string) []string {
	out := make([]string, len(to))
	for i, r := range to {
		out[i] = prefix + r
	}
	return out
}

func TestReporterReportsLevelOneAndTwoChanges(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	r := NewReporter(b.clock, Path{Channels: []string{"leaders"}})
	i := incident.Incident{ID: 7, Title: "门户宕机", Level: 2, State: incident.StateDeclared}
	require.NoError(t, r.Changed(ctx, b.f, op, "incident.declare", i, nil))
	acked := i
	acked.State = incident.StateAcknowledged
	require.NoError(t, r.Changed(ctx, b.f, op, "incident.ack", acked, i))
	require.NoError(t, r.Changed(ctx, b.f, op, "incident.joint", acked, nil), "not a change of state: not reported")
	low := incident.Incident{ID: 8, Level: 3, State: incident.StateDeclared}
	require.NoError(t, r.Changed(ctx, b.f, op, "incident.declare", low, nil))
	require.Equal(t, []string{"emergency.incident_report incident:7 → channel:leaders", "emergency.incident_report incident:7 → channel:leaders"}, b.f.Sent())
}
