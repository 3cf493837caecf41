// Package paging finds the people a domain tells: a registered actor, an
// active user, and the holders of admin roles covering a unit. Incidents,
// duty, problems and alerts share it so each keeps only the org look-ups
// it calls in its own port.
package paging

import (
	"context"
	"errors"
	"slices"

	"opsbot/core"
	"opsbot/core/org"
)

// Users looks users up (every store's org part).
type Users interface {
	User(ctx context.Context, id string) (org.User, error)
}

// Directory looks up units and who holds a role.
type Directory interface {
	Unit(ctx context.Context, code string) (org.Unit, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// ActiveUser returns user id, or user_not_found / user_removed.
func ActiveUser(ctx context.Context, tx Users, id string) (org.User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return org.User{}, core.NotFound("user_not_found", "id", id)
	}
	if err != nil {
		return org.User{}, err
	}
	if u.Removed {
		return org.User{}, core.NotFound("user_removed", "id", id)
	}
	return u, nil
}

// Registered refuses an actor who is no active user (not_registered).
func Registered(ctx context.Context, tx Users, actor core.Actor) error {
	if _, err := ActiveUser(ctx, tx, actor.UserID); err != nil {
		return core.Forbidden("not_registered", "id", actor.UserID)
	}
	return nil
}

// Add appends users not in out yet, skipping "".
func Add(out []string, users ...string) []string {
	for _, u := range users {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// Holders appends to out (once each) the holders of each role whose scope
// covers unit (every holder when unit is ""); sys admins and operators
// cover every unit.
func Holders(ctx context.Context, tx Directory, out []string, unit string, roles ...string) ([]string, error) {
	u, _ := tx.Unit(ctx, unit)
	for _, r := range roles {
		grants, err := tx.Holders(ctx, org.Role(r))
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			scope, err := tx.Unit(ctx, g.Scope)
			if err == nil && (unit == "" || scope.Contains(u) || g.Role == org.RoleSysAdmin || g.Role == org.RoleOperator) {
				out = Add(out, g.UserID)
			}
		}
	}
	return out, nil
}
