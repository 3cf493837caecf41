package org_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// fake is an in-memory store behind every org port. InTx runs fn directly
// and restores what fn changed when it fails.
type fake struct {
	units      map[string]org.Unit
	users      map[string]org.User
	grants     []org.Grant
	identities []org.Identity
	tokens     []org.WebToken
	apps       map[string]org.App
	rotations  []org.Rotation
	audits     []core.AuditEntry
	notices    []core.Notice
}

func newFake() *fake {
	return &fake{units: map[string]org.Unit{}, users: map[string]org.User{}, apps: map[string]org.App{}}
}

// InTx runs fn with the fake as every port, rolling back on error.
func (f *fake) InTx(_ context.Context, fn func(p org.Ports) error) error {
	saved := *f
	saved.units, saved.users, saved.apps = maps.Clone(f.units), maps.Clone(f.users), maps.Clone(f.apps)
	saved.grants, saved.tokens = slices.Clone(f.grants), slices.Clone(f.tokens)
	err := fn(org.Ports{Directory: f, Editor: f, Accounts: f, Seeder: f, Trail: f})
	if err != nil {
		*f = saved
	}
	return err
}

func notFound(what, key string) error { return fmt.Errorf("%s %s: %w", what, key, core.ErrNotFound) }

// Directory

func (f *fake) Unit(_ context.Context, code string) (org.Unit, error) {
	u, ok := f.units[code]
	if !ok {
		return u, notFound("unit", code)
	}
	return u, nil
}

func (f *fake) Subtree(_ context.Context, prefix string) ([]org.Unit, error) {
	var out []org.Unit
	for _, u := range f.units {
		if strings.HasPrefix(u.Path, prefix) && !u.Removed {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (f *fake) Root(_ context.Context) (org.Unit, error) {
	for _, u := range f.units {
		if u.Parent == "" {
			return u, nil
		}
	}
	return org.Unit{}, notFound("unit", "root")
}

func (f *fake) User(_ context.Context, id string) (org.User, error) {
	u, ok := f.users[id]
	if !ok {
		return u, notFound("user", id)
	}
	return u, nil
}

func (f *fake) UsersIn(_ context.Context, codes []string) ([]org.User, error) {
	var out []org.User
	for _, u := range f.users {
		if slices.Contains(codes, u.Unit) && !u.Removed {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fake) grantsWhere(keep func(g org.Grant) bool) []org.Grant {
	var out []org.Grant
	for _, g := range f.grants {
		if keep(g) {
			out = append(out, g)
		}
	}
	return out
}

func (f *fake) GrantsOf(_ context.Context, userID string) ([]org.Grant, error) {
	return f.grantsWhere(func(g org.Grant) bool { return g.UserID == userID }), nil
}

func (f *fake) GrantsOn(_ context.Context, scope string) ([]org.Grant, error) {
	return f.grantsWhere(func(g org.Grant) bool { return g.Scope == scope }), nil
}

func (f *fake) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	return f.grantsWhere(func(g org.Grant) bool { return g.Role == role && !f.users[g.UserID].Removed }), nil
}

// Editor

func (f *fake) Audit(_ context.Context, e core.AuditEntry) error {
	f.audits = append(f.audits, e)
	return nil
}

func (f *fake) Notify(_ context.Context, n core.Notice) error {
	f.notices = append(f.notices, n)
	return nil
}

func (f *fake) InsertUnit(_ context.Context, u org.Unit) error { f.units[u.Code] = u; return nil }

func (f *fake) UpdateUnit(_ context.Context, u org.Unit) error { f.units[u.Code] = u; return nil }

func (f *fake) RepathSubtree(_ context.Context, oldPrefix, newPrefix string) error {
	for code, u := range f.units {
		if rest, ok := strings.CutPrefix(u.Path, oldPrefix); ok {
			u.Path = newPrefix + rest
			f.units[code] = u
		}
	}
	return nil
}

func (f *fake) InsertUser(_ context.Context, u org.User) error { f.users[u.ID] = u; return nil }

func (f *fake) UpdateUser(_ context.Context, u org.User) error { f.users[u.ID] = u; return nil }

func (f *fake) InsertGrant(_ context.Context, g org.Grant) error {
	f.grants = append(f.grants, g)
	return nil
}

func (f *fake) DeleteGrant(_ context.Context, userID string, role org.Role, scope string) error {
	f.grants = f.grantsWhere(func(g org.Grant) bool { return g.UserID != userID || g.Role != role || g.Scope != scope })
	return nil
}

// Accounts

func (f *fake) Identity(_ context.Context, platform, externalID string) (org.Identity, error) {
	for _, i := range f.identities {
		if i.Platform == platform && i.ExternalID == externalID {
			return i, nil
		}
	}
	return org.Identity{}, notFound("identity", externalID)
}

func (f *fake) IdentitiesOf(_ context.Context, userID string) ([]org.Identity, error) {
	var out []org.Identity
	for _, i := range f.identities {
		if i.UserID == userID {
			out = append(out, i)
		}
	}
	return out, nil
}

func (f *fake) UpsertIdentity(_ context.Context, id org.Identity) error {
	f.identities = append(f.identities, id)
	return nil
}

func (f *fake) InsertWebToken(_ context.Context, t org.WebToken) error {
	f.tokens = append(f.tokens, t)
	return nil
}

func (f *fake) WebTokenUser(_ context.Context, hash string, now time.Time) (string, error) {
	for _, t := range f.tokens {
		if t.Hash == hash && now.Before(t.ExpiresAt) {
			return t.UserID, nil
		}
	}
	return "", notFound("token", "")
}

func (f *fake) RevokeWebTokens(_ context.Context, userID string, now time.Time) (int, error) {
	n := 0
	for i, t := range f.tokens {
		if t.UserID == userID && now.Before(t.ExpiresAt) {
			f.tokens[i].ExpiresAt = now
			n++
		}
	}
	return n, nil
}

// Seeder and Trail

func (f *fake) App(_ context.Context, code string) (org.App, error) {
	a, ok := f.apps[code]
	if !ok {
		return a, notFound("app", code)
	}
	return a, nil
}

func (f *fake) InsertApp(_ context.Context, a org.App) error { f.apps[a.Code] = a; return nil }

func (f *fake) InsertRotation(_ context.Context, r org.Rotation) error {
	f.rotations = append(f.rotations, r)
	return nil
}

func (f *fake) AuditTrail(_ context.Context, entity string) ([]core.AuditEntry, error) {
	var out []core.AuditEntry
	for _, e := range f.audits {
		if e.Entity == entity {
			out = append(out, e)
		}
	}
	return out, nil
}
