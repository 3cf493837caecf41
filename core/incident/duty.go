package incident

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/org"
)

// mayManageDuty: operators and sys admins, or an admin covering the unit.
func mayManageDuty(ctx context.Context, tx Tx, actor string, unit org.Unit) (bool, error) {
	grants, err := tx.GrantsOf(ctx, actor)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		switch g.Role {
		case org.RoleSysAdmin, org.RoleOperator:
			return true, nil
		case org.RoleDistrictAdmin, org.RoleUnitAdmin:
			if scope, err := tx.Unit(ctx, g.Scope); err == nil && scope.Contains(unit) {
				return true, nil
			}
		}
	}
	return false, nil
}

// AddRotation creates a duty rotation (or replaces its settings).
func (s *Service) AddRotation(ctx context.Context, actor core.Actor, r duty.Rotation) (duty.Rotation, error) {
	if !org.ValidCode(r.Name) {
		return r, core.Invalid("code", "field", "rotation", "value", r.Name)
	}
	if err := r.Validate(); err != nil {
		return r, core.Invalid("rotation", "why", err.Error())
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		if r.Unit == "" {
			root, err := tx.Root(ctx)
			if err != nil {
				return err
			}
			r.Unit = root.Code
		}
		unit, err := tx.Unit(ctx, r.Unit)
		if err != nil || unit.Removed {
			return core.NotFound("unit_not_found", "code", r.Unit)
		}
		if ok, err := mayManageDuty(ctx, tx, actor.UserID, unit); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("not_covering", "action", "duty.rotation.add", "unit", r.Unit)
		}
		for _, m := range r.Members {
			if _, err := activeUser(ctx, tx, m); err != nil {
				return err
			}
		}
		if r.StartDate.IsZero() {
			r.StartDate = s.clock.Now().In(s.cal.Location())
		}
		var before any
		if old, err := tx.Rotation(ctx, r.Name); err == nil {
			before = old
		}
		if err := tx.UpsertRotation(ctx, r); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(s, actor, "duty.rotation.add", "rotation:"+r.Name, before, r))
	})
	return r, err
}

// OnDuty is who is on a rotation now and next.
type OnDuty struct {
	Rotation duty.Rotation
	Now      duty.Shift
	Next     duty.Shift
}

// Now returns who is on duty on a rotation (the default one when "") or on every rotation.
func (s *Service) Now(ctx context.Context, actor core.Actor, name string) ([]OnDuty, error) {
	var out []OnDuty
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		var names []string
		if name != "" {
			names = []string{name}
		} else {
			rs, err := tx.Rotations(ctx)
			if err != nil {
				return err
			}
			for _, r := range rs {
				names = append(names, r.Name)
			}
		}
		for _, n := range names {
			r, sh, err := s.shift(ctx, tx, n)
			if err != nil {
				return err
			}
			over, err := tx.Overrides(ctx, n)
			if err != nil {
				return err
			}
			out = append(out, OnDuty{Rotation: r, Now: sh, Next: r.ShiftAt(sh.End, s.cal, over)})
		}
		return nil
	})
	return out, err
}

// Swap puts user on duty for the shift starting on day (YYYY-MM-DD).
// Members of the rotation and whoever may manage it may swap.
func (s *Service) Swap(ctx context.Context, actor core.Actor, name, day, user string) error {
	d, err := time.ParseInLocation("2006-01-02", day, s.cal.Location())
	if err != nil {
		return core.Invalid("date", "value", day)
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		r, err := tx.Rotation(ctx, name)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("rotation_not_found", "name", name)
		} else if err != nil {
			return err
		}
		if _, err := activeUser(ctx, tx, user); err != nil {
			return err
		}
		unit, err := tx.Unit(ctx, r.Unit)
		if err != nil {
			return err
		}
		member := false
		for _, m := range r.Members {
			member = member || m == actor.UserID
		}
		if ok, err := mayManageDuty(ctx, tx, actor.UserID, unit); err != nil {
			return err
		} else if !ok && !member {
			return core.Forbidden("not_rotation_member", "rotation", name)
		}
		if d.Before(s.clock.Now().In(s.cal.Location()).Truncate(24 * time.Hour).Add(-24 * time.Hour)) {
			return core.Invalid("date_past", "value", day)
		}
		if err := tx.SetOverride(ctx, name, d.Format("2006-01-02"), user, actor.UserID, s.clock.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(s, actor, "duty.swap", "rotation:"+name, nil, map[string]string{"day": day, "user": user}))
	})
}

func auditEntry(s *Service, actor core.Actor, action, entity string, before, after any) core.AuditEntry {
	e := core.AuditEntry{At: s.clock.Now(), Actor: actor.UserID, Platform: actor.Platform, Action: action, Entity: entity}
	if before != nil {
		e.Before = jsonText(before)
	}
	if after != nil {
		e.After = jsonText(after)
	}
	return e
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
