package org

import (
	"context"
	"slices"

	"opsbot/core"
)

// AdminsOf returns the admins nearest to a user's unit: the unit admins
// whose scope holds it, else the district admins, else the sys admins.
// It is who hears when someone misses a duty (an inspection, a backup).
func AdminsOf(ctx context.Context, tx AdminFinder, userID string) ([]string, error) {
	u, err := tx.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	unit, err := tx.Unit(ctx, u.Unit)
	if err != nil {
		return nil, err
	}
	for _, role := range []Role{RoleUnitAdmin, RoleDistrictAdmin, RoleSysAdmin} {
		grants, err := tx.Holders(ctx, role)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, g := range grants {
			if g.UserID == userID || slices.Contains(out, g.UserID) {
				continue
			}
			scope, err := tx.Unit(ctx, g.Scope)
			if err == nil && (role == RoleSysAdmin || scope.Contains(unit)) {
				out = append(out, g.UserID)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}

// HoldersOf returns the users holding role on any scope, each once.
func HoldersOf(ctx context.Context, tx HolderLister, role Role) ([]string, error) {
	grants, err := tx.Holders(ctx, role)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range grants {
		if !slices.Contains(out, g.UserID) {
			out = append(out, g.UserID)
		}
	}
	return out, nil
}

// RunsPlatform reports whether a user is an operator or the sys admin: who
// manages and reports inspections and backups.
func RunsPlatform(ctx context.Context, tx GrantLister, userID string) (bool, error) {
	grants, err := tx.GrantsOf(ctx, userID)
	if err != nil {
		return false, err
	}
	return HasRole(grants, RoleOperator) || HasRole(grants, RoleSysAdmin), nil
}

// RequirePlatform is nil for an operator or the sys admin and
// core.Forbidden(code, kv...) for anyone else.
func RequirePlatform(ctx context.Context, tx GrantLister, userID, code string, kv ...string) error {
	ok, err := RunsPlatform(ctx, tx, userID)
	if err != nil {
		return err
	}
	if !ok {
		return core.Forbidden(code, kv...)
	}
	return nil
}
