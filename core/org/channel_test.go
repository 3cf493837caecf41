package org_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// chanFake is an in-memory org.ChannelTx: the shared fake store's users,
// grants and audit, and the members admins added.
type chanFake struct {
	*fakestore.Tx
	added map[string][]string // channel → users
}

func (f *chanFake) InTx(_ context.Context, fn func(org.ChannelTx) error) error { return fn(f) }

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
	f := &chanFake{Tx: fakestore.New(), added: map[string][]string{}}
	f.AddUser("city", "admin", "cfg", "op", "member", "gone")
	f.Users["gone"] = org.User{ID: "gone", Removed: true}
	f.Grant("admin", org.RoleSysAdmin, "city")
	f.Grant("op", org.RoleOperator, "city")
	f.Grant("gone", org.RoleOperator, "city")
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
	require.Empty(t, f.Audits)
	require.NoError(t, c.Add(ctx, core.Actor{UserID: "admin"}, "incidents", "member"))
	require.ErrorIs(t, c.Add(ctx, core.Actor{UserID: "admin"}, "incidents", "member"), core.ErrConflict)
	require.Equal(t, []string{"incidents"}, of("member"))
	require.Len(t, f.Audits, 1)
	require.Equal(t, "channel.member.add", f.Audits[0].Action)
	require.Equal(t, "channel:incidents", f.Audits[0].Entity)

	ms, err := c.Members(ctx, core.Actor{UserID: "admin"}, "ops")
	require.NoError(t, err)
	require.Equal(t, []org.ChannelMember{{UserID: "cfg", Source: org.MemberConfig}, {UserID: "op", Source: org.MemberRole, Role: org.RoleOperator},
		{UserID: "gone", Source: org.MemberRole, Role: org.RoleOperator}}, ms)

	require.ErrorIs(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "ops", "cfg"), core.ErrInvalid)
	require.ErrorIs(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "ops", "op"), core.ErrNotFound)
	require.NoError(t, c.Remove(ctx, core.Actor{UserID: "admin"}, "incidents", "member"))
	require.Empty(t, of("member"))
	require.Len(t, f.Audits, 2)
	require.Equal(t, "channel.member.remove", f.Audits[1].Action)
}
