package org

import (
	"context"
	"slices"
	"strings"

	"opsbot/core"
)

// Bases of a View: which grant gives it.
const (
	ViewCity       = "city"       // sys admin (or the system): the whole city
	ViewOperations = "operations" // operator: city operations, every unit
	ViewUnits      = "units"      // district, unit admin or unit contact: their subtrees
	ViewOwn        = "own"        // anyone else (member): their own items only
)

// View is the part of the org an actor's console pages, lists and
// reports show (the scope rule of issue 15): the whole city (All), the
// units of their district or unit subtrees (Units), or only their own
// items (Own, the user id). Every list that takes a View keeps a row when
// View.Keeps(row's unit, row's people) is true; a store filters the same
// way in SQL (All, else unit = ANY(Units), else one of the row's people
// is Own).
type View struct {
	// Basis says which grant gives the view (ViewCity, ViewOperations,
	// ViewUnits, ViewOwn).
	Basis string
	// All is set for the whole city.
	All bool
	// Units are the codes of every unit in view, subtrees expanded,
	// ordered by path; for All, every active unit of the city.
	Units []string
	// Own is the user whose own items a ViewOwn shows ("" otherwise).
	Own string
	// Tree is the units in view, ordered by path, for a unit filter's
	// choices (names and depth); Narrow reads it.
	Tree []Unit
}

// ViewOf returns actor's view, derived from their grants as the other
// permission checks are: sys_admin (and the system) the city, operator
// city operations, district_admin / unit_admin / unit_contact the
// subtrees they hold, anyone else their own items. Errors: core.Forbidden
// "not_registered" / "user_removed" as for any command.
func ViewOf(ctx context.Context, tx Directory, actor core.Actor) (View, error) {
	a, err := loadAuthz(ctx, tx, actor)
	if err != nil {
		return View{}, err
	}
	return a.view(ctx, tx)
}

// View returns actor's view (see ViewOf).
func (s *Service) View(ctx context.Context, actor core.Actor) (View, error) {
	var v View
	err := s.store.InTx(ctx, func(tx Ports) error {
		var err error
		v, err = ViewOf(ctx, tx, actor)
		return err
	})
	return v, err
}

// view is ViewOf on loaded grants.
func (a *authz) view(ctx context.Context, tx Directory) (View, error) {
	all := func(basis string) (View, error) {
		root, err := tx.Root(ctx)
		if err != nil {
			return View{}, err
		}
		tree, err := tx.Subtree(ctx, root.Path)
		if err != nil {
			return View{}, err
		}
		return View{Basis: basis, All: true, Units: codesOf(tree), Tree: tree}, nil
	}
	switch {
	case a.sys():
		return all(ViewCity)
	case a.holds(nil, RoleOperator):
		return all(ViewOperations)
	}
	var tree []Unit
	seen := map[string]bool{}
	for _, g := range a.grants {
		if g.Role != RoleDistrictAdmin && g.Role != RoleUnitAdmin && g.Role != RoleUnitContact {
			continue
		}
		scope, ok := a.scopes[g.Scope]
		if !ok || scope.Removed {
			continue
		}
		sub, err := tx.Subtree(ctx, scope.Path)
		if err != nil {
			return View{}, err
		}
		for _, u := range sub {
			if !seen[u.Code] {
				seen[u.Code] = true
				tree = append(tree, u)
			}
		}
	}
	if len(tree) == 0 {
		return View{Basis: ViewOwn, Own: a.actor.UserID}, nil
	}
	slices.SortFunc(tree, func(x, y Unit) int { return strings.Compare(x.Path, y.Path) })
	return View{Basis: ViewUnits, Units: codesOf(tree), Tree: tree}, nil
}

func codesOf(units []Unit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.Code
	}
	return out
}

// Covers reports whether unit is in the view: any unit for All, one of
// Units otherwise (never for ViewOwn, nor "" unless All).
func (v View) Covers(unit string) bool {
	if v.All {
		return true
	}
	return unit != "" && slices.Contains(v.Units, unit)
}

// Keeps reports whether a row about unit, involving people (its
// declarer, owner, asker, holders…), is in the view: for ViewOwn when
// Own is one of people, else when the view covers unit.
func (v View) Keeps(unit string, people ...string) bool {
	if v.Own != "" {
		return slices.Contains(people, v.Own)
	}
	return v.Covers(unit)
}

// Narrow returns the view cut down to unit's subtree (the unit filter):
// v itself for "", core.Forbidden "outside_view" for a unit the view does
// not cover (a ViewOwn covers none), core.NotFound "unit_not_found" for
// an All view's unknown unit.
func (v View) Narrow(unit string) (View, error) {
	if unit == "" {
		return v, nil
	}
	if !v.Covers(unit) {
		return View{}, core.Forbidden("outside_view", "unit", unit)
	}
	i := slices.IndexFunc(v.Tree, func(u Unit) bool { return u.Code == unit })
	if i < 0 {
		return View{}, core.NotFound("unit_not_found", "code", unit)
	}
	top := v.Tree[i]
	var tree []Unit
	for _, u := range v.Tree {
		if top.Contains(u) {
			tree = append(tree, u)
		}
	}
	return View{Basis: v.Basis, Units: codesOf(tree), Tree: tree}, nil
}

// Check is nil when the view keeps a row about unit involving people
// (Keeps), else core.Forbidden: "outside_view_own" for a view of own
// items, "outside_view" naming the unit otherwise.
func (v View) Check(unit string, people ...string) error {
	if v.Keeps(unit, people...) {
		return nil
	}
	if v.Own != "" {
		return core.Forbidden("outside_view_own")
	}
	return core.Forbidden("outside_view", "unit", unit)
}

// Reaches reports whether unit is in the view or above it (a rotation of
// the city covers a district's incidents): any unit for All, a unit in
// view or an ancestor of one otherwise, none for own items.
func (v View) Reaches(unit string) bool {
	if v.All || v.Covers(unit) {
		return true
	}
	for _, u := range v.Tree {
		if slices.Contains(ancestorCodes(u), unit) {
			return true
		}
	}
	return false
}
