package org_test

import (
	"context"
	"slices"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/org/orgtest"
)

// fake is an in-memory store behind every org port. InTx runs fn directly
// and restores what fn changed when it fails.
type fake struct {
	*orgtest.Org
	identities []org.Identity
	tokens     []org.WebToken
	rotations  []org.Rotation
}

func newFake() *fake {
	return &fake{Org: orgtest.New()}
}

// InTx runs fn with the fake as every port, rolling back on error.
func (f *fake) InTx(_ context.Context, fn func(p org.Ports) error) error {
	saved := *f
	saved.Org, saved.tokens = f.Org.Clone(), slices.Clone(f.tokens)
	err := fn(org.Ports{Directory: f, Editor: f, Accounts: f, Seeder: f, Trail: f})
	if err != nil {
		*f = saved
	}
	return err
}

// Exclusive runs fn: the fake serves one process.
func (f *fake) Exclusive(ctx context.Context, _ string, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

// Directory comes with orgtest.Org.

// Editor

func (f *fake) InsertUnit(_ context.Context, u org.Unit) error { f.Units[u.Code] = u; return nil }

func (f *fake) UpdateUnit(_ context.Context, u org.Unit) error { f.Units[u.Code] = u; return nil }

func (f *fake) RepathSubtree(_ context.Context, oldPrefix, newPrefix string) error {
	for code, u := range f.Units {
		if rest, ok := strings.CutPrefix(u.Path, oldPrefix); ok {
			u.Path = newPrefix + rest
			f.Units[code] = u
		}
	}
	return nil
}

func (f *fake) InsertUser(_ context.Context, u org.User) error { f.Users[u.ID] = u; return nil }

func (f *fake) UpdateUser(_ context.Context, u org.User) error { f.Users[u.ID] = u; return nil }

func (f *fake) InsertGrant(_ context.Context, g org.Grant) error {
	f.Grants = append(f.Grants, g)
	return nil
}

func (f *fake) DeleteGrant(_ context.Context, userID string, role org.Role, scope string) error {
	f.RemoveGrant(userID, role, scope)
	return nil
}

// Accounts

func (f *fake) Identity(_ context.Context, platform, externalID string) (org.Identity, error) {
	for _, i := range f.identities {
		if i.Platform == platform && i.ExternalID == externalID {
			return i, nil
		}
	}
	return org.Identity{}, orgtest.NotFound("identity", externalID)
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
	return "", orgtest.NotFound("token", "")
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

// Seeder (App and InsertApp come with orgtest.Org) and Trail

func (f *fake) InsertRotation(_ context.Context, r org.Rotation) error {
	f.rotations = append(f.rotations, r)
	return nil
}

func (f *fake) AuditTrail(_ context.Context, entity string) ([]core.AuditEntry, error) {
	var out []core.AuditEntry
	for _, e := range f.Audits {
		if e.Entity == entity {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fake) AuditSearch(_ context.Context, q org.AuditQuery) ([]core.AuditEntry, error) {
	var out []core.AuditEntry
	for i := len(f.Audits) - 1; i >= 0 && len(out) < q.Limit; i-- {
		e := f.Audits[i]
		if q.Matches(e) && (q.Before == 0 || e.Seq < q.Before) {
			out = append(out, e)
		}
	}
	return out, nil
}
