package duty

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Tx is what the rotation service needs inside one transaction: its
// rotations and overrides, and the org look-ups User, Unit, Root and
// GrantsOf.
type Tx interface {
	core.Tx
	RosterTx
	UpsertRotation(ctx context.Context, r Rotation) error
	SetOverride(ctx context.Context, rotation, day, user, by string, at time.Time) error
	User(ctx context.Context, id string) (org.User, error)
	Root(ctx context.Context) (org.Unit, error)
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
}

// RosterTx is what telling who is on duty reads: rotations, their
// overrides, and units (to find the rotation covering one).
type RosterTx interface {
	Rotation(ctx context.Context, name string) (Rotation, error)
	Rotations(ctx context.Context) ([]Rotation, error)
	Overrides(ctx context.Context, rotation string) (map[string]string, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
}

// Store runs rotation work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Service keeps duty rotations and overrides, and tells other domains who
// is on duty.
type Service struct {
	store Store
	clock core.Clock
	cal   *calendar.Calendar
}

// NewService returns the rotation service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar) *Service {
	return &Service{store: store, clock: clock, cal: cal}
}

// OnDuty is who is on a rotation now and next.
type OnDuty struct {
	Rotation Rotation
	Now      Shift
	Next     Shift
}

// mayManage: operators and sys admins, or an admin covering the unit.
func mayManage(ctx context.Context, tx Tx, actor string, unit org.Unit) (bool, error) {
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
func (s *Service) AddRotation(ctx context.Context, actor core.Actor, r Rotation) (Rotation, error) {
	if err := org.CheckCode("rotation", r.Name); err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, core.Invalid("rotation", "why", err.Error())
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
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
		if ok, err := mayManage(ctx, tx, actor.UserID, unit); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("not_covering", "action", "duty.rotation.add", "unit", r.Unit)
		}
		for _, m := range r.Members {
			if _, err := paging.ActiveUser(ctx, tx, m); err != nil {
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
		return core.Record(ctx, tx, s.clock.Now(), actor, "duty.rotation.add", "rotation:"+r.Name, before, r)
	})
	return r, err
}

// onDuty reads who is on rotation name at now and next.
func onDuty(ctx context.Context, tx RosterTx, name string, now time.Time, cal *calendar.Calendar) (OnDuty, error) {
	r, err := tx.Rotation(ctx, name)
	if errors.Is(err, core.ErrNotFound) {
		return OnDuty{Rotation: r}, core.NotFound("rotation_not_found", "name", name)
	}
	if err != nil {
		return OnDuty{Rotation: r}, err
	}
	over, err := tx.Overrides(ctx, name)
	if err != nil {
		return OnDuty{Rotation: r}, err
	}
	sh := r.ShiftAt(now, cal, over)
	return OnDuty{Rotation: r, Now: sh, Next: r.ShiftAt(sh.End, cal, over)}, nil
}

// Now returns who is on duty on a rotation, or on every rotation when name is "".
func (s *Service) Now(ctx context.Context, actor core.Actor, name string) ([]OnDuty, error) {
	return s.At(ctx, actor, name, s.clock.Now())
}

// At returns who is on duty on a rotation at t, and who comes next, or on
// every rotation when name is "". Any registered user may look, as with
// /duty now.
func (s *Service) At(ctx context.Context, actor core.Actor, name string, at time.Time) ([]OnDuty, error) {
	var out []OnDuty
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
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
			od, err := onDuty(ctx, tx, n, at, s.cal)
			if err != nil {
				return err
			}
			out = append(out, od)
		}
		return nil
	})
	return out, err
}

// Rotations lists the rotations by name. Any registered user may look.
func (s *Service) Rotations(ctx context.Context, actor core.Actor) ([]Rotation, error) {
	var out []Rotation
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		out, err = tx.Rotations(ctx)
		return err
	})
	return out, err
}

// Shifts returns rotation name's shifts on duty at some time during the
// days from to to (YYYY-MM-DD, both included, at most MaxShiftDays),
// swaps and skipped holidays included: the schedule /duty now and the
// handovers follow. Any registered user may look.
func (s *Service) Shifts(ctx context.Context, actor core.Actor, name, from, to string) (Rotation, []Shift, error) {
	loc := s.cal.Location()
	start, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		return Rotation{}, nil, core.Invalid("date", "value", from)
	}
	end, err := time.ParseInLocation("2006-01-02", to, loc)
	if err != nil {
		return Rotation{}, nil, core.Invalid("date", "value", to)
	}
	end = end.AddDate(0, 0, 1)
	if !start.Before(end) || end.After(start.AddDate(0, 0, MaxShiftDays)) {
		return Rotation{}, nil, core.Invalid("duty_range", "from", from, "to", to, "max", strconv.Itoa(MaxShiftDays))
	}
	var r Rotation
	var out []Shift
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if r, err = tx.Rotation(ctx, name); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("rotation_not_found", "name", name)
		} else if err != nil {
			return err
		}
		over, err := tx.Overrides(ctx, name)
		if err != nil {
			return err
		}
		out = r.ShiftsBetween(start, end, s.cal, over)
		return nil
	})
	return r, out, err
}

// Swap puts user on duty for the shift starting on day (YYYY-MM-DD).
// Members of the rotation and whoever may manage it may swap.
func (s *Service) Swap(ctx context.Context, actor core.Actor, name, day, user string) error {
	d, err := time.ParseInLocation("2006-01-02", day, s.cal.Location())
	if err != nil {
		return core.Invalid("date", "value", day)
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		r, err := tx.Rotation(ctx, name)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("rotation_not_found", "name", name)
		} else if err != nil {
			return err
		}
		if _, err := paging.ActiveUser(ctx, tx, user); err != nil {
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
		if ok, err := mayManage(ctx, tx, actor.UserID, unit); err != nil {
			return err
		} else if !ok && !member {
			return core.Forbidden("not_rotation_member", "rotation", name)
		}
		// Yesterday's shift may still be on (it ends at today's handover).
		if d.Before(s.cal.Midnight(s.clock.Now()).AddDate(0, 0, -1)) {
			return core.Invalid("date_past", "value", day)
		}
		if err := tx.SetOverride(ctx, name, d.Format("2006-01-02"), user, actor.UserID, s.clock.Now()); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "duty.swap", "rotation:"+name, nil, map[string]string{"day": day, "user": user})
	})
}

// roster asserts that another domain's transaction reads rotations.
func roster(tx core.Tx) (RosterTx, error) {
	r, ok := tx.(RosterTx)
	if !ok {
		return nil, fmt.Errorf("duty: %T reads no rotations", tx)
	}
	return r, nil
}

// OnDuty tells who is on rotation name now and next, inside another
// domain's transaction tx (which must read rotations: the store's does).
func (s *Service) OnDuty(ctx context.Context, tx core.Tx, name string) (OnDuty, error) {
	r, err := roster(tx)
	if err != nil {
		return OnDuty{}, err
	}
	return onDuty(ctx, r, name, s.clock.Now(), s.cal)
}

// Covering picks the rotation covering unit (the one whose unit is its
// nearest ancestor), else fallback, inside another domain's transaction.
func (s *Service) Covering(ctx context.Context, tx core.Tx, unit, fallback string) (string, error) {
	best, bestLen := fallback, -1
	if unit == "" {
		return best, nil
	}
	r, err := roster(tx)
	if err != nil {
		return "", err
	}
	u, err := r.Unit(ctx, unit)
	if err != nil {
		return best, nil
	}
	rs, err := r.Rotations(ctx)
	if err != nil {
		return "", err
	}
	for _, rot := range rs {
		ru, err := r.Unit(ctx, rot.Unit)
		if err == nil && ru.Contains(u) && len(ru.Path) > bestLen {
			best, bestLen = rot.Name, len(ru.Path)
		}
	}
	return best, nil
}
