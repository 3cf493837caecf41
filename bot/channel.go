package bot

import (
	"context"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
)

// ChannelMembers is channel membership as the /channel commands use it.
type ChannelMembers interface {
	Add(ctx context.Context, actor core.Actor, channel, user string) error
	Remove(ctx context.Context, actor core.Actor, channel, user string) error
	Members(ctx context.Context, actor core.Actor, channel string) ([]org.ChannelMember, error)
	Names() []string
}

// Channels plugs channel membership: /channel add|remove|list, for sys
// admins. Channels are closed; these commands and the config are the only
// ways in.
func Channels(svc ChannelMembers) Plug {
	return func(b *Bot) Module {
		c := channelBot{b, svc}
		return Module{Name: "channel", Topic: "org", Commands: []*Command{
			{Path: "channel add", Users: []int{1}, Usage: "<channel> <userid>", MinArgs: 2, MaxArgs: 2, Run: c.add},
			{Path: "channel remove", Users: []int{1}, Usage: "<channel> <userid>", MinArgs: 2, MaxArgs: 2, Run: c.remove},
			{Path: "channel list", Usage: "[channel]", MaxArgs: 1, Run: c.list},
		}}
	}
}

type channelBot struct {
	*Bot
	svc ChannelMembers
}

func (c channelBot) add(ctx context.Context, r *Request) ([]Message, error) {
	ch, user := r.Args[0], r.Args[1]
	if err := c.svc.Add(ctx, r.Actor, ch, user); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "channel:" + ch, Text: c.t("channel.added", "channel", ch, "user", user)})
}

func (c channelBot) remove(ctx context.Context, r *Request) ([]Message, error) {
	ch, user := r.Args[0], r.Args[1]
	if err := c.svc.Remove(ctx, r.Actor, ch, user); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "channel:" + ch, Text: c.t("channel.removed", "channel", ch, "user", user)})
}

// list shows one channel's members and why each is one, or every channel's.
func (c channelBot) list(ctx context.Context, r *Request) ([]Message, error) {
	names := c.svc.Names()
	if len(r.Args) > 0 {
		names = r.Args[:1]
	}
	var lines []string
	for _, ch := range names {
		members, err := c.svc.Members(ctx, r.Actor, ch)
		if err != nil {
			return nil, err
		}
		who := make([]string, len(members))
		for i, m := range members {
			who[i] = c.personID(m.UserID) + c.t("channel.source."+m.Source, "role", string(m.Role))
		}
		if len(who) == 0 {
			who = []string{c.t("channel.none")}
		}
		lines = append(lines, "#"+ch+"："+strings.Join(who, "、"))
	}
	if len(lines) == 0 {
		lines = []string{c.t("channel.no_channels")}
	}
	return reply(Message{Title: c.t("channel.list.title"), Text: strings.Join(lines, "\n")})
}
