package inspect_test

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
)

// state is the in-memory store behind every port.
type state struct {
	*routinetest.Core
	routinetest.Org
	plans  []inspect.Plan
	runs   []inspect.Run
	users  map[string]org.User
	grants map[string][]org.Grant // by user
	units  []org.Unit
	runTx  map[int64]*tx // run id → transaction that last saved it
}

// tx is one transaction on the state: a new one each time, so tests can
// tell transactions apart.
type tx struct{ *state }

func (s *state) begin() *tx { return &tx{state: s} }

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
	t.runTx[r.ID] = t
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
	t.runTx[r.ID] = t
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

func (t *tx) GrantsOf(_ context.Context, userID string) ([]org.Grant, error) {
	return t.grants[userID], nil
}
func (t *tx) Unit(_ context.Context, code string) (org.Unit, error) {
	for _, u := range t.units {
		if u.Code == code {
			return u, nil
		}
	}
	return org.Unit{}, notFound("unit")
}
func (t *tx) Subtree(_ context.Context, prefix string) ([]org.Unit, error) {
	var out []org.Unit
	for _, u := range t.units {
		if strings.HasPrefix(u.Path, prefix) {
			out = append(out, u)
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

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time { return routinetest.At(cst, s) }

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
	clock *routinetest.Clock
	cal   *calendar.Calendar
	inc   *routinetest.Opener
	svc   *inspect.Service
}

// newHarness: operators op1 and op2 under unit admin ua1, root the sys
// admin, u9 a user with no role; a default grace of two hours, cards to
// the "ops" channel too.
func newHarness(t *testing.T, now string) *harness {
	t.Helper()
	s := &state{Core: &routinetest.Core{}, users: map[string]org.User{"op1": {ID: "op1"}, "op2": {ID: "op2"}, "u9": {ID: "u9"}, "gone": {ID: "gone", Removed: true}},
		Org: routinetest.Org{Holders: map[org.Role][]string{org.RoleOperator: {"op1", "op2"}, org.RoleSysAdmin: {"root"}},
			Admins: map[string][]string{"op1": {"ua1"}, "op2": {"ua1"}, "u9": {}}}, runTx: map[int64]*tx{},
		grants: map[string][]org.Grant{"op1": {{UserID: "op1", Role: org.RoleOperator, Scope: "city"}},
			"op2": {{UserID: "op2", Role: org.RoleOperator, Scope: "city"}}, "root": {{UserID: "root", Role: org.RoleSysAdmin, Scope: "city"}}}}
	c := &routinetest.Clock{T: at(now)}
	inc := &routinetest.Opener{}
	cal := calendar.New(cst, nil)
	svc := inspect.NewService(store{s}, c, cal, inc, inspect.Config{Grace: 2 * time.Hour, IssueLevel: 3, Channel: "ops"})
	return &harness{t: t, ctx: context.Background(), s: s, clock: c, cal: cal, inc: inc, svc: svc}
}

// until fires every timer due up to to, in order, as the worker would,
// and leaves the clock at to.
func (h *harness) until(to string) {
	h.t.Helper()
	require.NoError(h.t, h.s.Run(h.clock, at(to), func(id int64) error { return h.svc.HandleTimer(h.ctx, id) }))
}

// sent lists the notices queued so far as "type ref → recipient", and
// forgets them.
func (h *harness) sent() []string { return h.s.Sent() }

// bodies returns the payloads queued so far of type T.
func bodies[T core.Payload](h *harness) []T { return routinetest.Bodies[T](h.s.Core) }

// actions lists the audit actions recorded so far.
func (h *harness) actions() []string { return h.s.Actions() }

// pending lists the pending timers as "kind ref stage due".
func (h *harness) pending() []string {
	var out []string
	for _, tm := range h.s.Pending() {
		out = append(out, strings.Join(strings.Fields(tm.Kind+" "+tm.Ref+" "+tm.Data["stage"]+" "+tm.DueAt.In(cst).Format("2006-01-02 15:04")), " "))
	}
	return routinetest.Sorted(out)
}
