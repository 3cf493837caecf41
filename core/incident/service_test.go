package incident_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

var cst = fakestore.CST

// t0 is a Monday 10:00; the ops rotation hands over at 09:00 daily, so
// zhangsan is primary and lisi secondary (and primary of the next shift).
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, cst)

func world(t *testing.T) *fakestore.World {
	t.Helper()
	w := fakestore.NewWorld(t0, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.AddUser("city", "zhangsan", "lisi", "wangwu", "ua", "da", "admin", "op", "reporter")
	w.Tx.Grant("ua", org.RoleUnitAdmin, "city")
	w.Tx.Grant("da", org.RoleDistrictAdmin, "city")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("op", org.RoleOperator, "city")
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "city", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day",
		Handover: "09:00", StartDate: time.Date(2026, 11, 23, 0, 0, 0, 0, cst)}
	return w
}

var code = fakestore.Code

func users(list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, s[:len(s)-len("|incident:1#card")])
	}
	return out
}

// TestEscalationPolicyPerLevel: every level pages the primary (and the
// channel) at once, then each step's people exactly at its time, never
// before; level 1–2 also tell the next people on duty (24-hour duty).
func TestEscalationPolicyPerLevel(t *testing.T) {
	t.Parallel()
	pol := incident.DefaultPolicy()
	who := map[string]string{"primary": "user:zhangsan", "secondary": "user:lisi", "unit_admin": "user:ua",
		"district_admin": "user:da", "sys_admin": "user:admin"}
	for level := 1; level <= 4; level++ {
		t.Run("level "+string(rune('0'+level)), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := world(t)
			i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "site down", level, "", "city")
			require.NoError(t, err)
			require.Equal(t, "zhangsan", i.Owner)
			require.Equal(t, "ops", i.Rotation)
			require.Equal(t, []string{"user:zhangsan", "channel:ops-room"}, users(w.Tx.Sent("incident.card")))
			if level <= 2 {
				// The secondary takes the next shift: one person to tell.
				require.Equal(t, []string{"user:lisi|incident:1"}, w.Tx.Sent("incident.duty24"))
				d := w.Tx.Payloads("incident.duty24")[0].(incident.Duty24)
				require.Equal(t, []string{"zhangsan", "lisi"}, d.OnDuty)
				card := w.Tx.Payloads("incident.card")[0].(incident.Card)
				require.Equal(t, []string{"zhangsan", "lisi"}, card.OnDuty)
				require.Equal(t, "lisi", card.NextDuty)
			} else {
				require.Empty(t, w.Tx.Sent("incident.duty24"))
			}
			for n, step := range pol.Steps[level][1:] {
				w.Tx.Reset()
				w.Clock.T = t0.Add(step.After - time.Second)
				kinds, err := w.Fire(ctx)
				require.NoError(t, err)
				require.NotContains(t, kinds, incident.TimerEscalation, "step %d fired early", n+1)
				w.Clock.T = t0.Add(step.After)
				kinds, err = w.Fire(ctx)
				require.NoError(t, err)
				require.Contains(t, kinds, incident.TimerEscalation, "step %d at %s", n+1, step.After)
				var want []string
				for _, target := range step.Notify {
					want = append(want, who[target])
				}
				require.Equal(t, want, users(w.Tx.Sent("incident.card")), "step %d", n+1)
				for _, p := range w.Tx.Payloads("incident.card") {
					require.True(t, p.(incident.Card).Escalated)
				}
				got, err := w.Tx.Incident(ctx, i.ID, false)
				require.NoError(t, err)
				require.Equal(t, n+1, got.Escalation)
				require.Equal(t, "escalate", w.Tx.EventKinds(i.ID)[len(w.Tx.EventKinds(i.ID))-1])
			}
			require.Empty(t, w.Tx.PendingTimers(i.Ref(), incident.TimerEscalation), "no step after the last")
		})
	}
}

// TestAckStopsEscalation: acknowledging cancels the pending steps; the
// progress reminders go on.
func TestAckStopsEscalation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "db slow", 2, "", "")
	require.NoError(t, err)
	w.Clock.Add(2 * time.Minute)
	i, err = w.Incidents.Ack(ctx, core.Actor{UserID: "lisi"}, i.ID)
	require.NoError(t, err)
	require.Equal(t, incident.StateAcknowledged, i.State)
	require.Equal(t, "lisi", i.Owner)
	w.Clock.Add(time.Hour)
	kinds, err := w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{incident.TimerProgress}, kinds)
	require.Equal(t, []string{"user:lisi|incident:1"}, w.Tx.Sent("incident.progress"))
}

// TestProgressReminderAndOverdue (W 9.3: report continuously, never
// late): the owner is reminded one interval after the last report; half
// an interval later without a report the admins (and the channel) hear
// of it; a report restarts the interval.
func TestProgressReminderAndOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "disk full", 3, "", "")
	require.NoError(t, err)
	_, err = w.Incidents.Ack(ctx, core.Actor{UserID: "zhangsan"}, i.ID)
	require.NoError(t, err)

	steps := []struct {
		name     string
		at       time.Duration
		progress []string
		overdue  []string
	}{
		{"nothing before the interval", 2*time.Hour - time.Minute, nil, nil},
		{"the owner is reminded after 2 h", 2 * time.Hour, []string{"user:zhangsan|incident:1"}, nil},
		{"still nothing 59 min later", 2*time.Hour + 59*time.Minute, nil, nil},
		{"the admins after half an interval more", 3 * time.Hour, nil, []string{"user:ua|incident:1", "user:admin|incident:1", "channel:ops-room|incident:1"}},
		{"then the owner again one interval on", 5 * time.Hour, []string{"user:zhangsan|incident:1"}, nil},
	}
	for _, st := range steps {
		w.Tx.Reset()
		w.Clock.T = t0.Add(st.at)
		_, err := w.Fire(ctx)
		require.NoError(t, err, st.name)
		require.Equal(t, st.progress, w.Tx.Sent("incident.progress"), st.name)
		require.Equal(t, st.overdue, w.Tx.Sent("incident.overdue"), st.name)
	}
	require.Contains(t, w.Tx.EventKinds(i.ID), "report_overdue")
	p := w.Tx.Payloads("incident.progress")[0].(incident.ProgressDue)
	require.Equal(t, t0, p.LastUpdate.In(cst))

	// A report restarts the interval.
	_, err = w.Incidents.Update(ctx, core.Actor{UserID: "zhangsan"}, i.ID, "disk cleaned")
	require.NoError(t, err)
	pending := w.Tx.PendingTimers(i.Ref(), incident.TimerProgress)
	require.Len(t, pending, 1)
	require.Equal(t, w.Clock.Now().Add(2*time.Hour), pending[0].DueAt)
	require.Equal(t, []string{"user:reporter|incident:1", "channel:ops-room|incident:1"}, w.Tx.Sent("incident.event"))
}

// TestLifecycle walks the state machine, with the refusals of each state.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	zs, ls := core.Actor{UserID: "zhangsan", Name: "张三"}, core.Actor{UserID: "lisi"}
	i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "login fails", 3, "", "")
	require.NoError(t, err)
	id := i.ID
	steps := []struct {
		name  string
		do    func() (incident.Incident, error)
		state string
		code  string
	}{
		{"declare needs a registered actor", func() (incident.Incident, error) {
			return w.Incidents.Declare(ctx, core.Actor{UserID: "ghost"}, "x", 3, "", "")
		}, "", "not_registered"},
		{"a level outside 1–4", func() (incident.Incident, error) { return w.Incidents.SetLevel(ctx, zs, id, 5) }, "", "incident_level"},
		{"review before resolve", func() (incident.Incident, error) {
			return w.Incidents.Review(ctx, zs, id, "cause", "fix@zhangsan@2026-12-01")
		}, "", "review_before_resolve"},
		{"ack", func() (incident.Incident, error) { return w.Incidents.Ack(ctx, zs, id) }, incident.StateAcknowledged, ""},
		{"ack twice", func() (incident.Incident, error) { return w.Incidents.Ack(ctx, ls, id) }, "", "incident_acked"},
		{"assign", func() (incident.Incident, error) { return w.Incidents.Assign(ctx, zs, id, "lisi") }, incident.StateAcknowledged, ""},
		{"mitigate", func() (incident.Incident, error) { return w.Incidents.Mitigate(ctx, ls, id, "failover") }, incident.StateMitigated, ""},
		{"resolve needs a summary", func() (incident.Incident, error) { return w.Incidents.Resolve(ctx, ls, id, " ") }, "", "resolve_summary"},
		{"resolve", func() (incident.Incident, error) { return w.Incidents.Resolve(ctx, ls, id, "restarted sso") }, incident.StateResolved, ""},
		{"no update once resolved", func() (incident.Incident, error) { return w.Incidents.Update(ctx, ls, id, "x") }, "", "incident_not_open"},
		{"review with a bad action", func() (incident.Incident, error) { return w.Incidents.Review(ctx, ls, id, "cert", "renew") }, "", "action_format"},
		{"review", func() (incident.Incident, error) {
			return w.Incidents.Review(ctx, ls, id, "expired cert", "renew cert@wangwu@2026-12-01")
		}, incident.StateClosed, ""},
		{"review twice", func() (incident.Incident, error) {
			return w.Incidents.Review(ctx, ls, id, "expired cert", "renew cert@wangwu@2026-12-01")
		}, "", "incident_closed"},
	}
	for _, st := range steps {
		got, err := st.do()
		if st.code != "" {
			require.Equal(t, st.code, code(err), st.name)
			continue
		}
		require.NoError(t, err, st.name)
		require.Equal(t, st.state, got.State, st.name)
	}
	require.Equal(t, []string{"declare", "ack", "assign", "mitigate", "resolve", "review"}, w.Tx.EventKinds(id))
	require.Empty(t, w.Tx.PendingTimers(i.Ref(), incident.TimerEscalation))
	require.Empty(t, w.Tx.PendingTimers(i.Ref(), incident.TimerProgress))
	require.Equal(t, []string{"user:lisi|incident:1#card"}, w.Tx.Sent("incident.card")[2:], "the assignee gets the card")

	// Every change is audited.
	var actions []string
	for _, e := range w.Tx.Audits {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"incident.declare", "incident.ack", "incident.assign", "incident.mitigate", "incident.resolve", "incident.review"}, actions)

	// The review's action is reminded at 09:00 on its due date.
	due := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
	w.Tx.Reset()
	w.Clock.T = due.Add(-time.Minute)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, w.Tx.Sent("incident.action_due"))
	w.Clock.T = due
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"user:wangwu|incident:1"}, w.Tx.Sent("incident.action_due"))
	a := w.Tx.Payloads("incident.action_due")[0].(incident.ActionDue)
	require.Equal(t, "renew cert", a.Action)
	require.Equal(t, "2026-12-01", a.Due.Format("2006-01-02"))

}

// TestSetLevelReschedules: regrading an unacknowledged incident follows
// the new level's steps and interval.
func TestSetLevelReschedules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "slow pages", 4, "", "")
	require.NoError(t, err)
	_, err = w.Incidents.SetLevel(ctx, core.Actor{UserID: "zhangsan"}, i.ID, 1)
	require.NoError(t, err)
	esc := w.Tx.PendingTimers(i.Ref(), incident.TimerEscalation)
	require.Len(t, esc, 1)
	require.Equal(t, t0.Add(5*time.Minute), esc[0].DueAt, "level 1's second step")
	prog := w.Tx.PendingTimers(i.Ref(), incident.TimerProgress)
	require.Len(t, prog, 1)
	require.Equal(t, t0.Add(30*time.Minute), prog[0].DueAt)
}

// TestQueryFilters: Query selects by state, level, unit, system, time and
// text, newest first, pages by id, and refuses a bad state and an
// unregistered actor, like the chat's list.
func TestQueryFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	r := core.Actor{UserID: "reporter"}
	w.Tx.Apps["mail"] = org.App{Code: "mail", Owner: "city"}
	w.Tx.Apps["portal"] = org.App{Code: "portal", Owner: "city"}
	a, err := w.Incidents.Declare(ctx, r, "mail down", 2, "mail", "city")
	require.NoError(t, err)
	w.Clock.T = t0.Add(time.Hour)
	b, err := w.Incidents.Declare(ctx, r, "Portal slow", 3, "portal", "city")
	require.NoError(t, err)
	_, err = w.Incidents.Resolve(ctx, core.Actor{UserID: "zhangsan"}, a.ID, "restarted the relay")
	require.NoError(t, err)
	ids := func(f incident.Filter) []int64 {
		t.Helper()
		list, err := w.Incidents.Query(ctx, r, f)
		require.NoError(t, err)
		var out []int64
		for _, i := range list {
			out = append(out, i.ID)
		}
		return out
	}
	require.Equal(t, []int64{b.ID, a.ID}, ids(incident.Filter{}))
	require.Equal(t, []int64{b.ID}, ids(incident.Filter{State: incident.StateOpen}))
	require.Equal(t, []int64{a.ID}, ids(incident.Filter{State: incident.StateResolved}))
	require.Equal(t, []int64{a.ID}, ids(incident.Filter{Level: 2}))
	require.Equal(t, []int64{b.ID}, ids(incident.Filter{System: "portal"}))
	require.Empty(t, ids(incident.Filter{Unit: "elsewhere"}))
	require.Equal(t, []int64{b.ID}, ids(incident.Filter{Since: t0.Add(time.Minute)}))
	require.Equal(t, []int64{a.ID}, ids(incident.Filter{Until: t0.Add(time.Minute)}))
	require.Equal(t, []int64{b.ID}, ids(incident.Filter{Text: "portal"}), "any case")
	require.Equal(t, []int64{a.ID}, ids(incident.Filter{Text: "RELAY"}), "the summary too")
	require.Equal(t, []int64{b.ID}, ids(incident.Filter{Limit: 1}))
	require.Equal(t, []int64{a.ID}, ids(incident.Filter{Before: b.ID}))

	_, err = w.Incidents.Query(ctx, r, incident.Filter{State: "sleeping"})
	require.Equal(t, "incident_state", code(err))
	_, err = w.Incidents.Query(ctx, core.Actor{UserID: "stranger"}, incident.Filter{})
	require.Equal(t, "not_registered", code(err))
}

// lockedStore serialises a fake store's transactions (the fake is not
// safe for concurrent use) and counts the incident lists it reads.
type lockedStore struct {
	incident.Store
	mu    sync.Mutex
	lists atomic.Int64
}

type countingTx struct {
	incident.ReadTx
	s *lockedStore
}

func (c countingTx) Incidents(ctx context.Context, open bool, limit int) ([]incident.Line, error) {
	c.s.lists.Add(1)
	time.Sleep(time.Millisecond) // a round trip: callers arrive meanwhile
	return c.ReadTx.Incidents(ctx, open, limit)
}

func (s *lockedStore) InTx(ctx context.Context, fn func(incident.WriteTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.InTx(ctx, fn)
}

func (s *lockedStore) Read(ctx context.Context, fn func(incident.ReadTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.Read(ctx, func(tx incident.ReadTx) error { return fn(countingTx{tx, s}) })
}

// Lists asked at once share their reads of the store (a few reads answer
// many users), yet each shows every incident declared before it was
// asked for, as a read of its own would.
func TestConcurrentListsShareReadsAndMissNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	st := &lockedStore{Store: fakestore.Store{Tx: w.Tx}.Incidents()}
	svc := incident.NewService(st, w.Clock, w.Cal, incident.Config{Channel: "ops-room", Rotation: "ops", Policy: incident.DefaultPolicy()},
		incident.Deps{Roster: w.Rotations, Coverer: w.Rotations})
	var declared atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			_, err := svc.Declare(ctx, core.Actor{UserID: "reporter"}, "site down", 3, "", "city")
			require.NoError(t, err)
			declared.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var missed atomic.Int64
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			before := declared.Load()
			list, err := svc.List(ctx, core.Actor{UserID: "zhangsan"}, false, 50)
			require.NoError(t, err)
			if int64(len(list)) < before {
				missed.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, missed.Load(), "a list missed an incident declared before it was asked for")
	require.Less(t, st.lists.Load(), int64(100), "200 lists at once share their reads")
	list, err := svc.List(ctx, core.Actor{UserID: "zhangsan"}, false, 50)
	require.NoError(t, err)
	require.Len(t, list, 20)
	_, err = svc.List(ctx, core.Actor{UserID: "nobody"}, false, 50)
	require.ErrorIs(t, err, core.ErrForbidden, "each caller is still checked")
}
