package org

import (
	"context"
	"errors"
	"slices"
	"strings"

	"opsbot/core"
)

// ServiceUser is an integration's user as the config declares it: its id
// and name, its unit ("" for the root) and exactly the roles it holds.
type ServiceUser struct {
	ID    string
	Name  string
	Unit  string
	Roles []Grant // Role and Scope; the scope defaults as for /org role grant
}

// EnsureServiceUsers makes the org hold each service user as declared:
// the user exists, active and marked as a service user, in its unit, with
// exactly the listed roles (missing ones granted, others revoked). Every
// change is audited as the system's. It runs under the seed lock, so
// replicas starting together reconcile one at a time; a person's id
// cannot be taken over (core.Conflict "not_service_user").
func (s *Service) EnsureServiceUsers(ctx context.Context, users []ServiceUser) error {
	for _, su := range users {
		if err := CheckCode("api.service_users.id", su.ID); err != nil {
			return err
		}
		if err := checkName("api.service_users.name", su.Name); err != nil {
			return err
		}
		for _, g := range su.Roles {
			if !g.Role.Valid() {
				return core.Invalid("role", "value", string(g.Role))
			}
		}
	}
	return s.store.Exclusive(ctx, SeedLock, func(ctx context.Context) error {
		for _, su := range users {
			if err := s.store.InTx(ctx, func(tx Ports) error { return s.ensureServiceUser(ctx, tx, su) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// ensureServiceUser reconciles one service user in tx.
func (s *Service) ensureServiceUser(ctx context.Context, tx Ports, su ServiceUser) error {
	actor := core.SystemActor()
	now := s.clock.Now()
	unitCode := su.Unit
	if unitCode == "" {
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		unitCode = root.Code
	}
	if _, err := getUnit(ctx, tx, unitCode); err != nil {
		return err
	}
	want := User{ID: su.ID, Name: strings.TrimSpace(su.Name), Unit: unitCode, CreatedAt: now, Service: true}
	before, err := tx.User(ctx, su.ID)
	switch {
	case errors.Is(err, core.ErrNotFound):
		if err := tx.InsertUser(ctx, want); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "org.user.add", "user:"+su.ID, nil, want); err != nil {
			return err
		}
	case err != nil:
		return err
	case !before.Service:
		return core.Conflict("not_service_user", "id", su.ID)
	case before.Name != want.Name || before.Unit != want.Unit || before.Removed:
		want.CreatedAt = before.CreatedAt
		if err := tx.UpdateUser(ctx, want); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "org.user.service", "user:"+su.ID, before, want); err != nil {
			return err
		}
	}
	var keep []Grant
	for _, r := range su.Roles {
		unit, app, err := scopeFor(ctx, tx, r.Role, r.Scope, want)
		if err != nil {
			return err
		}
		g := Grant{UserID: su.ID, Role: r.Role, Scope: unit.Code, GrantedBy: actor.UserID, GrantedAt: now}
		if r.Role == RoleAccessParty {
			g.Scope = app.Code
		}
		keep = append(keep, g)
	}
	have, err := tx.GrantsOf(ctx, su.ID)
	if err != nil {
		return err
	}
	same := func(a, b Grant) bool { return a.Role == b.Role && a.Scope == b.Scope }
	for _, h := range have {
		if slices.ContainsFunc(keep, func(k Grant) bool { return same(h, k) }) {
			continue
		}
		if err := tx.DeleteGrant(ctx, h.UserID, h.Role, h.Scope); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "org.role.revoke", "user:"+su.ID, h, map[string]string{"reason": "not in api.service_users"}); err != nil {
			return err
		}
	}
	for _, k := range keep {
		if slices.ContainsFunc(have, func(h Grant) bool { return same(h, k) }) {
			continue
		}
		if err := tx.InsertGrant(ctx, k); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, now, actor, "org.role.grant", "user:"+su.ID, nil, k); err != nil {
			return err
		}
	}
	return nil
}
