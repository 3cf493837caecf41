package org

import (
	"context"
	"errors"
	"slices"

	"opsbot/core"
)

// Channels are closed: a user is in a channel when the config names them
// (channels[].members), when they hold a role the config names for it
// (channels[].roles, on any scope), or when a sys admin added them with
// /channel add. Nobody joins a channel by posting into it.

// ChannelRule is a configured channel: its members and the roles whose
// holders are members.
type ChannelRule struct {
	Name    string
	Members []string
	Roles   []Role
}

// Member sources.
const (
	MemberConfig = "config" // channels[].members
	MemberRole   = "role"   // holds one of channels[].roles
	MemberAdded  = "added"  // added by a sys admin
)

// ChannelMember is one member of a channel and why they are one.
type ChannelMember struct {
	UserID string `json:"user"`
	Source string `json:"source"`         // config | role | added
	Role   Role   `json:"role,omitempty"` // the role, for Source role
}

// ChannelTx is what channel membership reads and changes in one
// transaction: the members sys admins added (the configured ones come
// from the rules), users and grants.
type ChannelTx interface {
	core.Recorder
	User(ctx context.Context, id string) (User, error)
	GrantsOf(ctx context.Context, userID string) ([]Grant, error)
	Holders(ctx context.Context, role Role) ([]Grant, error)
	// AddChannelMember adds a member and reports whether they were new.
	AddChannelMember(ctx context.Context, channel, user string) (bool, error)
	// RemoveChannelMember removes an added member and reports whether they were one.
	RemoveChannelMember(ctx context.Context, channel, user string) (bool, error)
	// ChannelMembers lists the added members of a channel, ordered.
	ChannelMembers(ctx context.Context, channel string) ([]string, error)
	// MemberChannels lists the channels a user was added to, ordered.
	MemberChannels(ctx context.Context, user string) ([]string, error)
}

// ChannelStore runs channel membership work in transactions.
type ChannelStore interface {
	InTx(ctx context.Context, fn func(tx ChannelTx) error) error
}

// Channels answers who is in which channel and lets sys admins change it.
type Channels struct {
	store ChannelStore
	clock core.Clock
	rules []ChannelRule
}

// NewChannels returns channel membership for the configured channels.
func NewChannels(store ChannelStore, clock core.Clock, rules []ChannelRule) *Channels {
	return &Channels{store: store, clock: clock, rules: rules}
}

func (c *Channels) rule(name string) (ChannelRule, bool) {
	i := slices.IndexFunc(c.rules, func(r ChannelRule) bool { return r.Name == name })
	if i < 0 {
		return ChannelRule{}, false
	}
	return c.rules[i], true
}

// Of lists the channels user is in, in the configured order. A removed or
// unknown user is in none.
func (c *Channels) Of(ctx context.Context, user string) ([]string, error) {
	var out []string
	err := c.store.InTx(ctx, func(tx ChannelTx) error {
		u, err := tx.User(ctx, user)
		if err != nil || u.Removed {
			return ignoreNotFound(err)
		}
		added, err := tx.MemberChannels(ctx, user)
		if err != nil {
			return err
		}
		grants, err := tx.GrantsOf(ctx, user)
		if err != nil {
			return err
		}
		for _, r := range c.rules {
			if slices.Contains(r.Members, user) || slices.Contains(added, r.Name) ||
				slices.ContainsFunc(grants, func(g Grant) bool { return slices.Contains(r.Roles, g.Role) }) {
				out = append(out, r.Name)
			}
		}
		return nil
	})
	return out, err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	return err
}

// checkSys refuses anyone but a sys admin (not_sys_admin).
func checkSys(ctx context.Context, tx ChannelTx, actor core.Actor, what string) error {
	grants, err := tx.GrantsOf(ctx, actor.UserID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(grants, func(g Grant) bool { return g.Role == RoleSysAdmin }) {
		return core.Forbidden("channel_sys_admin_only", "action", what)
	}
	return nil
}

// known returns the rule of a configured channel (channel_not_found otherwise).
func (c *Channels) known(name string) (ChannelRule, error) {
	r, ok := c.rule(name)
	if !ok {
		return r, core.NotFound("channel_not_found", "channel", name)
	}
	return r, nil
}

// Add makes user a member of channel (a sys admin only; audited as
// channel.member.add on "channel:<name>").
func (c *Channels) Add(ctx context.Context, actor core.Actor, channel, user string) error {
	r, err := c.known(channel)
	if err != nil {
		return err
	}
	return c.store.InTx(ctx, func(tx ChannelTx) error {
		if err := checkSys(ctx, tx, actor, "add"); err != nil {
			return err
		}
		u, err := tx.User(ctx, user)
		if errors.Is(err, core.ErrNotFound) || (err == nil && u.Removed) {
			return core.NotFound("user_not_found", "id", user)
		} else if err != nil {
			return err
		}
		if slices.Contains(r.Members, user) {
			return core.Conflict("channel_member_already", "channel", channel, "user", user)
		}
		added, err := tx.AddChannelMember(ctx, channel, user)
		if err != nil {
			return err
		}
		if !added {
			return core.Conflict("channel_member_already", "channel", channel, "user", user)
		}
		return core.Record(ctx, tx, c.clock.Now(), actor, "channel.member.add", "channel:"+channel, nil,
			ChannelMember{UserID: user, Source: MemberAdded})
	})
}

// Remove takes a member a sys admin added out of channel (a sys admin
// only; audited as channel.member.remove). Configured members and role
// holders stay until the config changes (channel_member_configured).
func (c *Channels) Remove(ctx context.Context, actor core.Actor, channel, user string) error {
	r, err := c.known(channel)
	if err != nil {
		return err
	}
	return c.store.InTx(ctx, func(tx ChannelTx) error {
		if err := checkSys(ctx, tx, actor, "remove"); err != nil {
			return err
		}
		if slices.Contains(r.Members, user) {
			return core.Invalid("channel_member_configured", "channel", channel, "user", user)
		}
		removed, err := tx.RemoveChannelMember(ctx, channel, user)
		if err != nil {
			return err
		}
		if !removed {
			return core.NotFound("channel_member_not_added", "channel", channel, "user", user)
		}
		return core.Record(ctx, tx, c.clock.Now(), actor, "channel.member.remove", "channel:"+channel,
			ChannelMember{UserID: user, Source: MemberAdded}, nil)
	})
}

// Members lists a channel's members and why each is one (a sys admin
// only): configured first, then role holders, then those added.
func (c *Channels) Members(ctx context.Context, actor core.Actor, channel string) ([]ChannelMember, error) {
	r, err := c.known(channel)
	if err != nil {
		return nil, err
	}
	var out []ChannelMember
	err = c.store.InTx(ctx, func(tx ChannelTx) error {
		if err := checkSys(ctx, tx, actor, "list"); err != nil {
			return err
		}
		seen := map[string]bool{}
		add := func(m ChannelMember) {
			if !seen[m.UserID] {
				seen[m.UserID] = true
				out = append(out, m)
			}
		}
		for _, u := range r.Members {
			add(ChannelMember{UserID: u, Source: MemberConfig})
		}
		for _, role := range r.Roles {
			grants, err := tx.Holders(ctx, role)
			if err != nil {
				return err
			}
			for _, g := range grants {
				add(ChannelMember{UserID: g.UserID, Source: MemberRole, Role: role})
			}
		}
		added, err := tx.ChannelMembers(ctx, channel)
		if err != nil {
			return err
		}
		for _, u := range added {
			add(ChannelMember{UserID: u, Source: MemberAdded})
		}
		return nil
	})
	return out, err
}

// Names lists the configured channels.
func (c *Channels) Names() []string {
	out := make([]string, len(c.rules))
	for i, r := range c.rules {
		out[i] = r.Name
	}
	return out
}
