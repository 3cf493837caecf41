package org_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
)

// chanFake is an in-memory org.ChannelTx.
type chanFake struct {
	users  map[string]org.User
	grants []org.Grant
	added  map[string][]string // channel → users
	audits []core.AuditEntry
}

func (f *chanFake) InTx(_ context.Context, fn func(org.ChannelTx) error) error { return fn(f) }

func (f *chanFake) Audit(_ context.Context, e core.AuditEntry) error {
	f.audits = append(f.audits, e)
	return nil
}

func (f *chanFake) Notify(context.Context, core.Notice) error { return nil }

func (f *chanFake) User(_ context.Context, id string) (org.User, error) {
	u, ok := f.users[id]
	if !ok {
		return u, core.ErrNotFound
	}
	return u, nil
}

func (f *chanFake) GrantsOf(_ context.Context, id string) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.UserID == id {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *chanFake) Holders(_ context.Context, r org.Role) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.Role == r {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *chanFake) AddChannelMember(_ context.Context, ch, u string) (bool, error) {
	if slices.Contains(f.added[ch], u) {
		return false, nil
	}
	f.added[ch] = append(f.added[ch], u)
	return true, nil
}

func (f *chanFake) RemoveChannelMember(_ context.Context, ch, u string) (bool, error) {
	i := slices.Index(f.added[ch], u)
	if i < 0 {
		return false, nil
	}
	f.added[ch] = slices.Delete(f.added[ch], i, i+1)
	return true, nil
}

func (f *chanFake) ChannelMembers(_ context.Context, ch string) ([]string, error) {
	return f.added[ch], nil
}

func (f *chanFake) MemberChannels(_ context.Context, u string) ([]string, error) {
	var out []string
	for ch, us := range f.added {
		if slices.Contains(us, u) {
			out = append(out, ch)
		}
	}
	return out, nil
}

type nowClock struct{}

func (nowClock) Now() time.Time { return time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC) }

// TestChannelMembership: members come from the config, from roles the
// config names and from sys admins' additions (audited); nobody else is in.
func TestChannelMembership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &chanFake{users: map[string]org.User{}, added: map[string][]string{}}
	for _, u := range []string{"admin", "cfg", "op", "member", "gone"} {
		f.users[u] = org.User{ID: u, Removed: u == "gone"}
	}
	f.grants = []org.Grant{{UserID: "admin", Role: org.RoleSysAdmin, Scope: "city"}, {UserID: "op", Role: org.RoleOperator, Scope: "city"},
		{UserID: "gone", Role: org.RoleOperator, Scope: "city"}}
	c := org.NewChannels(f, nowClock{}, []org.ChannelRule{
		{Name: "ops", Members: []string{"cfg"}, Roles: []org.Role{org.RoleOperator}},
		{Name: "incidents", Members: []string{"cfg"}},
	})
	of := func(u string) []string {
		chans, err := c.Of(ctx, u)
		require.NoError(t, err)
		return chans
	}
	require.Equal(t, []string{"ops", "incidents"}, of("cfg"))
	require.Equal(t, []string{"ops"}, of("op"), "by role")
	require.Empty(t, of("member"))
	require.Empty(t, of("gone"), "a removed user is in no channel")
	require.Empty(t, of("nobody"))

	require.ErrorIs(t, c.Add(ctx, core.Actor{UserID: "op"}, "ops", "member"), core.ErrForbidden)
	require.ErrorIs(t, c.Add(ctx, core.Actor{UserID: "admin"}, "nochan", "member"), core.ErrNotFound)
	require.ErrorIs(t, c.Add(ctx, core.Actor{UserID: "admin"}, "ops", "nobody"), core.ErrNotFound)
	require.Empty(t, f.audits)
	require.NoError(t, c.Add(ctx, core.Actor{UserID: "admin"}, "incidents", "member"))
	require.ErrorIs(t, c.Add(ctx, core.Actor{UserID: "admin"}, "incidents", "member"), core.ErrConflict)
	require.Equal(t, []string{"incidents"}, of("member"))
	require.Len(t, f.audits, 1)
	require.Equal(t, "channel.member.add", f.audits[0].Action)
	require.Equal(t, "channel:incidents", f.audits[0].Entity)

	ms, err := c.Members(ctx, core.Actor{UserID: "admin"}, "ops")
	require.NoError(t, err)
	require.Equal(t, []org.ChannelMember{{UserID: "cfg", Source: org.MemberConfig}, {UserID: "op", Source: org.MemberRole, Role: org.RoleOperator},
		{UserID: "gone", Source: org.MemberRole, Role: org.RoleOperator}}, ms)

	require.ErrorIs(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "ops", "cfg"), core.ErrInvalid)
	require.ErrorIs(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "ops", "op"), core.ErrNotFound)
	require.NoError(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "incidents", "member"))
	require.Empty(t, of("member"))
	require.Len(t, f.audits, 2)
	require.Equal(t, "channel.member.remove", f.audits[1].Action)
}
