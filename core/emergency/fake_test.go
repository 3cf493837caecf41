package emergency

import (
	"context"
	"fmt"
	"sort"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
)

// fake is an in-memory store: every transaction sees the same rows.
type fake struct {
	*routinetest.Core
	routinetest.Org
	plans    map[int64]Plan
	drills   map[int64]Drill
	warnings map[int64]Warning
	users    map[string]bool
}

func newFake(o routinetest.Org, users ...string) *fake {
	f := &fake{Core: &routinetest.Core{}, Org: o, plans: map[int64]Plan{}, drills: map[int64]Drill{}, warnings: map[int64]Warning{}, users: map[string]bool{}}
	for _, u := range users {
		f.users[u] = true
	}
	return f
}

func (f *fake) InPlanTx(_ context.Context, fn func(PlanTx) error) error   { return fn(f) }
func (f *fake) InDrillTx(_ context.Context, fn func(DrillTx) error) error { return fn(f) }
func (f *fake) InWarnTx(_ context.Context, fn func(WarnTx) error) error   { return fn(f) }

func (f *fake) InsertEmergencyPlan(_ context.Context, p *Plan) error {
	p.ID = int64(len(f.plans) + 1)
	f.plans[p.ID] = *p
	return nil
}

func (f *fake) EmergencyPlan(_ context.Context, id int64, _ bool) (Plan, error) {
	p, ok := f.plans[id]
	if !ok {
		return Plan{}, fmt.Errorf("plan %d: %w", id, core.ErrNotFound)
	}
	return p, nil
}

func (f *fake) EmergencyPlans(context.Context) ([]Plan, error) {
	var out []Plan
	for _, p := range f.plans {
		out = append(out, p)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

func (f *fake) UpdateEmergencyPlan(_ context.Context, p Plan) error { f.plans[p.ID] = p; return nil }

func (f *fake) InsertDrill(_ context.Context, d *Drill) error {
	d.ID = int64(len(f.drills) + 1)
	f.drills[d.ID] = *d
	return nil
}

func (f *fake) Drill(_ context.Context, id int64, _ bool) (Drill, error) {
	d, ok := f.drills[id]
	if !ok {
		return Drill{}, fmt.Errorf("drill %d: %w", id, core.ErrNotFound)
	}
	return d, nil
}

func (f *fake) UpdateDrill(_ context.Context, d Drill) error { f.drills[d.ID] = d; return nil }

func (f *fake) Drills(_ context.Context, planID int64) ([]Drill, error) {
	var out []Drill
	for _, d := range f.drills {
		if planID == 0 || d.PlanID == planID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	return out, nil
}

func (f *fake) User(_ context.Context, id string) (org.User, error) {
	if !f.users[id] {
		return org.User{}, fmt.Errorf("user %s: %w", id, core.ErrNotFound)
	}
	return org.User{ID: id, Name: id}, nil
}

func (f *fake) InsertWarning(_ context.Context, w *Warning) error {
	w.ID = int64(len(f.warnings) + 1)
	f.warnings[w.ID] = *w
	return nil
}

func (f *fake) Warning(_ context.Context, id int64, _ bool) (Warning, error) {
	w, ok := f.warnings[id]
	if !ok {
		return Warning{}, fmt.Errorf("warning %d: %w", id, core.ErrNotFound)
	}
	return w, nil
}

func (f *fake) UpdateWarning(_ context.Context, w Warning) error { f.warnings[w.ID] = w; return nil }
