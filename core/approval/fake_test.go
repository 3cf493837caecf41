package approval_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/org"
	"opsbot/core/org/orgtest"
)

// clock is a fixed clock moved by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// fakeTimer is a stored timer and whether it is still pending.
type fakeTimer struct {
	core.Timer
	state string // pending | fired | cancelled
}

// fake is an in-memory store behind every port of the engine. InTx runs
// fn directly and restores what fn changed when it fails.
type fake struct {
	*orgtest.Org
	appGrants []approval.AppGrant
	routes    map[string][]approval.Step
	requests  map[int64]approval.Request
	decisions []approval.Decision
	timers    map[int64]fakeTimer
	lastID    int64
}

func newFake() *fake {
	return &fake{Org: orgtest.New(), routes: map[string][]approval.Step{}, requests: map[int64]approval.Request{}, timers: map[int64]fakeTimer{}}
}

// InTx runs fn with the fake as every port, rolling back on error.
func (f *fake) InTx(_ context.Context, fn func(p approval.Ports) error) error {
	saved := *f
	saved.Org, saved.requests, saved.timers = f.Org.Clone(), maps.Clone(f.requests), maps.Clone(f.timers)
	saved.appGrants = slices.Clone(f.appGrants)
	err := fn(approval.Ports{Tx: f, Reader: f, Directory: f, Register: f})
	if err != nil {
		*f = saved
	}
	return err
}

func (f *fake) id() int64 { f.lastID++; return f.lastID }

// core.Tx

func (f *fake) Schedule(_ context.Context, t core.Timer) error {
	t.ID = f.id()
	f.timers[t.ID] = fakeTimer{Timer: t, state: "pending"}
	return nil
}

func (f *fake) CancelTimers(_ context.Context, ref, kind string) error {
	for id, t := range f.timers {
		if t.Ref == ref && (kind == "" || t.Kind == kind) && t.state == "pending" {
			t.state = "cancelled"
			f.timers[id] = t
		}
	}
	return nil
}

func (f *fake) ClaimTimer(_ context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	t, ok := f.timers[id]
	if !ok || t.state != "pending" || t.DueAt.After(now) {
		return core.Timer{}, false, nil
	}
	t.state = "fired"
	f.timers[id] = t
	return t.Timer, true, nil
}

// approval.Tx and approval.Reader

func (f *fake) InsertRequest(_ context.Context, r *approval.Request) error {
	r.ID = f.id()
	f.requests[r.ID] = *r
	return nil
}

func (f *fake) Request(_ context.Context, id int64, _ bool) (approval.Request, error) {
	r, ok := f.requests[id]
	if !ok {
		return r, orgtest.NotFound("request", fmt.Sprint(id))
	}
	r.Payload = maps.Clone(r.Payload)
	return r, nil
}

func (f *fake) UpdateRequest(_ context.Context, r approval.Request) error {
	f.requests[r.ID] = r
	return nil
}

func (f *fake) InsertDecision(_ context.Context, d approval.Decision) error {
	d.ID = f.id()
	f.decisions = append(f.decisions, d)
	return nil
}

func (f *fake) Requests(_ context.Context, flt approval.Filter) ([]approval.Request, error) {
	var out []approval.Request
	for _, r := range f.requests {
		if (flt.Requester == "" || r.Requester == flt.Requester) && (!flt.Pending || r.State == approval.StatePending) && (flt.Kind == "" || r.Kind == flt.Kind) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if flt.Limit > 0 && len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f *fake) Decisions(_ context.Context, requestID int64) ([]approval.Decision, error) {
	var out []approval.Decision
	for _, d := range f.decisions {
		if d.RequestID == requestID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fake) Route(_ context.Context, route string) ([]approval.Step, error) {
	return f.routes[route], nil
}

// approval.Register (App and InsertApp come with orgtest.Org)

func (f *fake) Apps(_ context.Context) ([]org.App, error) {
	return slices.SortedFunc(maps.Values(f.AppByCode), func(a, b org.App) int { return strings.Compare(a.Code, b.Code) }), nil
}

func (f *fake) UpdateApp(_ context.Context, a org.App) error { f.AppByCode[a.Code] = a; return nil }

func (f *fake) UpsertAppGrant(_ context.Context, g approval.AppGrant) error {
	f.appGrants = append(f.appGrants, g)
	return nil
}

func (f *fake) DeleteAppGrants(_ context.Context, app string) ([]approval.AppGrant, error) {
	var gone, kept []approval.AppGrant
	for _, g := range f.appGrants {
		if g.App == app {
			gone = append(gone, g)
		} else {
			kept = append(kept, g)
		}
	}
	f.appGrants = kept
	return gone, nil
}

func (f *fake) DeleteAppGrant(_ context.Context, g approval.AppGrant) (approval.AppGrant, bool, error) {
	for i, h := range f.appGrants {
		if h.App == g.App && h.Grantee == g.Grantee && h.Kind == g.Kind {
			f.appGrants = slices.Delete(f.appGrants, i, i+1)
			return h, true, nil
		}
	}
	return approval.AppGrant{}, false, nil
}

func (f *fake) AppGrants(_ context.Context, app string) ([]approval.AppGrant, error) {
	var out []approval.AppGrant
	for _, g := range f.appGrants {
		if g.App == app {
			out = append(out, g)
		}
	}
	return out, nil
}

// Helpers to read what the engine wrote.

// sent returns the notices of type typ, in order.
func (f *fake) sent(typ string) []core.Notice {
	var out []core.Notice
	for _, n := range f.Notices {
		if n.Type() == typ {
			out = append(out, n)
		}
	}
	return out
}

// recipients returns who the notices of type typ went to.
func (f *fake) recipients(typ string) []string {
	var out []string
	for _, n := range f.sent(typ) {
		out = append(out, n.To.String())
	}
	return out
}

// pending returns the pending timers of kind, by due time.
func (f *fake) pending(kind string) []core.Timer {
	var out []core.Timer
	for _, t := range f.timers {
		if t.Kind == kind && t.state == "pending" {
			out = append(out, t.Timer)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out
}

func (f *fake) RequestsBetween(_ context.Context, from, to time.Time) ([]approval.Request, error) {
	var out []approval.Request
	for _, r := range f.requests {
		if !r.CreatedAt.Before(from) && r.CreatedAt.Before(to) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fake) DecisionsOf(_ context.Context, ids []int64) (map[int64][]approval.Decision, error) {
	out := map[int64][]approval.Decision{}
	for _, d := range f.decisions {
		if slices.Contains(ids, d.RequestID) {
			out[d.RequestID] = append(out[d.RequestID], d)
		}
	}
	return out, nil
}
