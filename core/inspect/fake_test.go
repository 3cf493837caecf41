package inspect_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
)

// clock is a clock moved by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// timer is a scheduled timer and what became of it.
type timer struct {
	core.Timer
	fired, cancelled bool
}

// state is the in-memory store behind every port.
type state struct {
	plans   []inspect.Plan
	runs    []inspect.Run
	users   map[string]org.User
	holders map[org.Role][]string
	admins  map[string][]string
	timers  []*timer
	notices []core.Notice
	trail   []core.AuditEntry
	txs     int
	runTx   map[int64]int // run id → transaction that last saved it
}

// tx is one transaction on the state; seq tells transactions apart.
type tx struct {
	*state
	seq int
}

func (s *state) begin() *tx { s.txs++; return &tx{state: s, seq: s.txs} }

type store struct{ s *state }

func (st store) InTx(_ context.Context, fn func(inspect.Tx) error) error { return fn(st.s.begin()) }
func (st store) InPlanTx(_ context.Context, fn func(inspect.PlanTx) error) error {
	return fn(st.s.begin())
}
func (st store) Read(_ context.Context, fn func(inspect.Reader) error) error { return fn(st.s.begin()) }

var (
	_ inspect.Tx     = (*tx)(nil)
	_ inspect.PlanTx = (*tx)(nil)
	_ inspect.Reader = (*tx)(nil)
)

func notFound(what string) error { return fmt.Errorf("%s: %w", what, core.ErrNotFound) }

func (t *tx) Audit(_ context.Context, e core.AuditEntry) error {
	t.trail = append(t.trail, e)
	return nil
}
func (t *tx) Notify(_ context.Context, n core.Notice) error {
	t.notices = append(t.notices, n)
	return nil
}
func (t *tx) Schedule(_ context.Context, tm core.Timer) error {
	tm.ID = int64(len(t.timers) + 1)
	t.timers = append(t.timers, &timer{Timer: tm})
	return nil
}
func (t *tx) CancelTimers(_ context.Context, ref, kind string) error {
	for _, tm := range t.timers {
		if tm.Ref == ref && (kind == "" || tm.Kind == kind) && !tm.fired {
			tm.cancelled = true
		}
	}
	return nil
}
func (t *tx) ClaimTimer(_ context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	for _, tm := range t.timers {
		if tm.ID == id {
			if tm.fired || tm.cancelled || tm.DueAt.After(now) {
				return core.Timer{}, false, nil
			}
			tm.fired = true
			return tm.Timer, true, nil
		}
	}
	return core.Timer{}, false, nil
}

func (t *tx) InsertPlan(_ context.Context, p *inspect.Plan) error {
	p.ID = int64(len(t.plans) + 1)
	t.plans = append(t.plans, *p)
	return nil
}
func (t *tx) Plan(_ context.Context, name string) (inspect.Plan, error) {
	var found *inspect.Plan
	for i := range t.plans {
		p := &t.plans[i]
		if p.Name == name && (found == nil || p.Active || !found.Active) {
			found = p
		}
	}
	if found == nil {
		return inspect.Plan{}, notFound("plan")
	}
	return *found, nil
}
func (t *tx) PlanByID(_ context.Context, id int64, _ bool) (inspect.Plan, error) {
	if id < 1 || int(id) > len(t.plans) {
		return inspect.Plan{}, notFound("plan")
	}
	return t.plans[id-1], nil
}
func (t *tx) UpdatePlan(_ context.Context, p inspect.Plan) error { t.plans[p.ID-1] = p; return nil }
func (t *tx) Plans(_ context.Context) ([]inspect.Plan, error) {
	var out []inspect.Plan
	for _, p := range t.plans {
		if p.Active {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// copyRun keeps stored runs apart from the service's copies.
func copyRun(r inspect.Run) inspect.Run {
	r.Results = maps.Clone(r.Results)
	return r
}

func (t *tx) InsertRun(_ context.Context, r *inspect.Run) error {
	r.ID = int64(len(t.runs) + 1)
	t.runs = append(t.runs, copyRun(*r))
	t.runTx[r.ID] = t.seq
	return nil
}
func (t *tx) Run(_ context.Context, id int64, _ bool) (inspect.Run, error) {
	if id < 1 || int(id) > len(t.runs) {
		return inspect.Run{}, notFound("run")
	}
	return copyRun(t.runs[id-1]), nil
}
func (t *tx) UpdateRun(_ context.Context, r inspect.Run) error {
	t.runs[r.ID-1] = copyRun(r)
	t.runTx[r.ID] = t.seq
	return nil
}
func (t *tx) Runs(_ context.Context, planID int64, from, to time.Time, limit int) ([]inspect.Run, error) {
	var out []inspect.Run
	for i := len(t.runs) - 1; i >= 0 && len(out) < limit; i-- {
		r := t.runs[i]
		if (planID == 0 || r.PlanID == planID) && !r.DueAt.Before(from) && r.DueAt.Before(to) {
			out = append(out, copyRun(r))
		}
	}
	return out, nil
}

func (t *tx) User(_ context.Context, id string) (org.User, error) {
	u, ok := t.users[id]
	if !ok {
		return org.User{}, notFound("user")
	}
	return u, nil
}
func (t *tx) HoldersOf(_ context.Context, r org.Role) ([]string, error) { return t.holders[r], nil }
func (t *tx) AdminsOf(_ context.Context, u string) ([]string, error) {
	as, ok := t.admins[u]
	if !ok {
		return nil, notFound("user")
	}
	return as, nil
}

// opener opens incidents and records in which transaction.
type opener struct{ opened []opened }

type opened struct {
	incident.Incident
	tx    int
	actor string
}

func (o *opener) DeclareIn(_ context.Context, t core.Tx, actor core.Actor, title string, level int, system, _ string) (incident.Incident, error) {
	inc := incident.Incident{ID: int64(100 + len(o.opened)), Title: title, Level: level, System: system}
	o.opened = append(o.opened, opened{Incident: inc, tx: t.(*tx).seq, actor: actor.UserID})
	return inc, nil
}

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	operator = core.Actor{UserID: "op1", Platform: core.PlatformWebchat}
	op2      = core.Actor{UserID: "op2", Platform: core.PlatformWebchat}
	outsider = core.Actor{UserID: "u9", Platform: core.PlatformWebchat}
)

// harness is an inspection service on the fakes, at a time moved by hand.
type harness struct {
	t     *testing.T
	ctx   context.Context
	s     *state
	clock *clock
	inc   *opener
	svc   *inspect.Service
}

// newHarness: operators op1 and op2 under unit admin ua1, root the sys
// admin, u9 a user with no role; a default grace of two hours, cards to
// the "ops" channel too.
func newHarness(t *testing.T, now string) *harness {
	t.Helper()
	s := &state{users: map[string]org.User{"op1": {ID: "op1"}, "op2": {ID: "op2"}, "u9": {ID: "u9"}, "gone": {ID: "gone", Removed: true}},
		holders: map[org.Role][]string{org.RoleOperator: {"op1", "op2"}, org.RoleSysAdmin: {"root"}},
		admins:  map[string][]string{"op1": {"ua1"}, "op2": {"ua1"}, "u9": {}}, runTx: map[int64]int{}}
	c := &clock{now: at(now)}
	inc := &opener{}
	svc := inspect.NewService(store{s}, c, calendar.New(cst, nil), inc, inspect.Config{Grace: 2 * time.Hour, IssueLevel: 3, Channel: "ops"})
	return &harness{t: t, ctx: context.Background(), s: s, clock: c, inc: inc, svc: svc}
}

// until fires every timer due up to to, in order, as the worker would,
// and leaves the clock at to.
func (h *harness) until(to string) {
	h.t.Helper()
	end := at(to)
	for {
		var next *timer
		for _, tm := range h.s.timers {
			if !tm.fired && !tm.cancelled && !tm.DueAt.After(end) && (next == nil || tm.DueAt.Before(next.DueAt)) {
				next = tm
			}
		}
		if next == nil {
			break
		}
		if next.DueAt.After(h.clock.now) {
			h.clock.now = next.DueAt
		}
		require.NoError(h.t, h.svc.HandleTimer(h.ctx, next.ID))
	}
	h.clock.now = end
}

// sent lists the notices queued so far as "type ref → recipient", and
// forgets them.
func (h *harness) sent() []string {
	var out []string
	for _, n := range h.s.notices {
		to := n.To.String()
		if n.To == (core.Recipient{}) {
			to = "(update)"
		}
		out = append(out, n.Type()+" "+n.Ref+" → "+to)
	}
	h.s.notices = nil
	return out
}

// bodies returns the payloads queued so far of type T.
func bodies[T core.Payload](h *harness) []T {
	var out []T
	for _, n := range h.s.notices {
		if p, ok := n.Body.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// actions lists the audit actions recorded so far.
func (h *harness) actions() []string {
	var out []string
	for _, e := range h.s.trail {
		out = append(out, e.Action)
	}
	return out
}

// pending lists the pending timers as "kind ref stage due".
func (h *harness) pending() []string {
	var out []string
	for _, tm := range h.s.timers {
		if !tm.fired && !tm.cancelled {
			out = append(out, strings.Join(strings.Fields(tm.Kind+" "+tm.Ref+" "+tm.Data["stage"]+" "+tm.DueAt.In(cst).Format("2006-01-02 15:04")), " "))
		}
	}
	slices.Sort(out)
	return out
}
