package org

import (
	"context"
	"errors"
	"slices"
	"strings"

	"opsbot/core"
)

// authz is what an actor holds, loaded once per operation.
type authz struct {
	actor  core.Actor
	system bool
	grants []Grant
	scopes map[string]Unit // unit scopes of the actor's grants, by code
}

// CheckAdminOf is nil when actor is an admin covering the unit of the
// active user id (or the system), and otherwise a core error: the user is
// unknown or removed, or core.Forbidden "not_covering" naming action.
func CheckAdminOf(ctx context.Context, tx UserReader, actor core.Actor, id, action string) error {
	_, _, err := adminOfUser(ctx, tx, actor, id, action)
	return err
}

// CheckSysAdmin is nil when actor is a sys admin (or the system), and
// otherwise core.Forbidden "need_sys_admin" naming action.
func CheckSysAdmin(ctx context.Context, tx UserReader, actor core.Actor, action string) error {
	a, err := loadAuthz(ctx, tx, actor)
	if err != nil {
		return err
	}
	if !a.sys() {
		return core.Forbidden("need_sys_admin", "action", action)
	}
	return nil
}

// loadAuthz loads the actor's grants and the units they cover. The system
// actor may do everything; a removed or unknown user nothing.
func loadAuthz(ctx context.Context, tx UserReader, actor core.Actor) (*authz, error) {
	a := &authz{actor: actor, scopes: map[string]Unit{}}
	if actor.UserID == core.SystemUser && actor.Platform == core.PlatformSystem {
		a.system = true
		return a, nil
	}
	u, err := tx.User(ctx, actor.UserID)
	if err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return nil, core.Forbidden("not_registered", "id", actor.UserID)
		}
		return nil, err
	}
	if u.Removed {
		return nil, core.Forbidden("user_removed", "id", u.ID)
	}
	if a.grants, err = tx.GrantsOf(ctx, actor.UserID); err != nil {
		return nil, err
	}
	for _, g := range a.grants {
		if g.Role == RoleAccessParty {
			continue
		}
		if _, ok := a.scopes[g.Scope]; ok {
			continue
		}
		unit, err := tx.Unit(ctx, g.Scope)
		if err != nil {
			if errors.Is(err, core.ErrNotFound) {
				continue
			}
			return nil, err
		}
		a.scopes[g.Scope] = unit
	}
	return a, nil
}

// holds reports whether the actor holds any of roles on a unit that
// contains target (or anywhere, when target is nil).
func (a *authz) holds(target *Unit, roles ...Role) bool {
	if a.system {
		return true
	}
	for _, g := range a.grants {
		if !slices.Contains(roles, g.Role) {
			continue
		}
		if target == nil {
			return true
		}
		if scope, ok := a.scopes[g.Scope]; ok && scope.Contains(*target) {
			return true
		}
	}
	return false
}

// admin reports whether the actor is an admin (unit, district or sys) covering u.
func (a *authz) admin(u Unit) bool {
	return a.holds(&u, RoleUnitAdmin, RoleDistrictAdmin, RoleSysAdmin)
}

// tiered reports whether the actor is a district or sys admin covering u.
func (a *authz) tiered(u Unit) bool {
	return a.holds(&u, RoleDistrictAdmin, RoleSysAdmin)
}

// sys reports whether the actor is a sys admin.
func (a *authz) sys() bool { return a.holds(nil, RoleSysAdmin) }

// seesUser reports whether the actor may read user id's audit history:
// their own, or a user in a unit they administer.
func (a *authz) seesUser(ctx context.Context, tx Directory, id string) bool {
	if a.isSelf(id) {
		return true
	}
	u, err := tx.User(ctx, id)
	if err != nil {
		return false
	}
	unit, err := tx.Unit(ctx, u.Unit)
	return err == nil && a.admin(unit)
}

// isSelf reports whether userID is the actor.
func (a *authz) isSelf(userID string) bool { return !a.system && a.actor.UserID == userID }

// ancestorCodes returns the codes on a unit's path, root first.
func ancestorCodes(u Unit) []string {
	return strings.Split(strings.Trim(u.Path, "/"), "/")
}

// enclosing returns the nearest unit at or above u with the given level,
// or u's root when there is none.
func enclosing(ctx context.Context, tx Directory, u Unit, level Level) (Unit, error) {
	if u.Level == level {
		return u, nil
	}
	codes := ancestorCodes(u)
	for i := len(codes) - 2; i >= 0; i-- {
		p, err := tx.Unit(ctx, codes[i])
		if err != nil {
			return Unit{}, err
		}
		if p.Level == level {
			return p, nil
		}
	}
	return u, nil
}
