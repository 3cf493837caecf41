package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core/org"
)

// orgModule is the org's part of the bot, built in: the /org commands,
// the contacts sync and the org's notices.
func (b *Bot) orgModule() Module {
	level := map[string]bool{"parent": true, "level": true}
	unitFlag := map[string]bool{"unit": true}
	scope := map[string]bool{"scope": true}
	sync, syncActions := b.orgSyncCommands()
	return Module{Name: "org", Topic: "org",
		Commands: append([]*Command{
			{Path: "org tree", Usage: "[unit] [--page N]", MaxArgs: 1, Flags: pageFlag, Run: b.orgTree},
			{Path: "org unit add", Usage: "<code> <name> --parent <code> --level district|unit|department", MinArgs: 2, MaxArgs: 2, Flags: level, Required: []string{"parent", "level"}, Run: b.unitAdd},
			{Path: "org unit rename", Usage: "<code> <name>", MinArgs: 2, MaxArgs: 2, Run: b.unitRename},
			{Path: "org unit remove", Usage: "<code>", MinArgs: 1, MaxArgs: 1, Run: b.unitRemove},
			{Path: "org unit merge", Usage: "<from> <into>", MinArgs: 2, MaxArgs: 2, Run: b.unitMerge},
			{Path: "org user add", Usage: "<userid> <name> --unit <code>", MinArgs: 2, MaxArgs: 2, Flags: unitFlag, Required: []string{"unit"}, Run: b.userAdd},
			{Path: "org user move", Users: []int{0}, Usage: "<userid> --unit <code>", MinArgs: 1, MaxArgs: 1, Flags: unitFlag, Required: []string{"unit"}, Run: b.userMove},
			{Path: "org user remove", Users: []int{0}, Usage: "<userid>", MinArgs: 1, MaxArgs: 1, Run: b.userRemove},
			{Path: "org user show", Users: []int{0}, Usage: "<userid>", MinArgs: 1, MaxArgs: 1, Run: b.userShow},
			{Path: "org user link", Users: []int{0}, Usage: "<userid> --platform wecom|slack|email|phone --id <platform id>", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"platform": true, "id": true}, Required: []string{"platform", "id"}, Run: b.userLink},
			{Path: "org role grant", Users: []int{0}, Usage: "<userid> <role> [--scope <unit|app>]", MinArgs: 2, MaxArgs: 2, Flags: scope, Run: b.roleGrant},
			{Path: "org role revoke", Users: []int{0}, Usage: "<userid> <role> [--scope <unit|app>]", MinArgs: 2, MaxArgs: 2, Flags: scope, Run: b.roleRevoke},
		}, sync...),
		Actions: syncActions,
		Notices: []NoticeRenderer{
			Renders(func(ref string, n org.UserAdded) (Message, error) {
				return b.orgNotice(ref, n.NoticeType(), "unit", n.UnitName, "by", n.ByName), nil
			}),
			Renders(func(ref string, n org.UserMoved) (Message, error) {
				return b.orgNotice(ref, n.NoticeType(), "from", n.From, "to", n.To, "by", n.ByName), nil
			}),
			Renders(func(ref string, n org.RoleGranted) (Message, error) {
				return b.orgNotice(ref, n.NoticeType(), "role", b.roleName(string(n.Role)), "scope", n.Scope, "by", n.ByName), nil
			}),
			Renders(func(ref string, n org.RoleRevoked) (Message, error) {
				return b.orgNotice(ref, n.NoticeType(), "role", b.roleName(string(n.Role)), "scope", n.Scope, "by", n.ByName, "reason", b.coreText(n.Reason)), nil
			}),
		},
	}
}

// orgNotice is a notice of the org to the user concerned, in the text
// under "notice.<type>".
func (b *Bot) orgNotice(ref, typ string, kv ...string) Message {
	return Message{Ref: ref, Status: StatusNotice, Title: b.t("notice.title"), Text: strings.TrimSpace(b.t("notice."+typ, kv...))}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func reply(m Message) ([]Message, error) { return []Message{m}, nil }

func (b *Bot) orgTree(ctx context.Context, r *Request) ([]Message, error) {
	root, next := "", "/org tree"
	if len(r.Args) > 0 {
		root, next = r.Args[0], "/org tree "+r.Args[0]
	}
	page, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	nodes, err := b.org.Tree(ctx, r.Actor, root)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(nodes))
	for _, n := range nodes {
		lines = append(lines, b.t("tree.line", "indent", strings.Repeat("\u3000\u3000", n.Depth),
			"name", n.Unit.Name, "code", n.Unit.Code, "level", b.t("level."+string(n.Unit.Level)), "users", strconv.Itoa(n.Users)))
	}
	title, ref := "", ""
	if len(nodes) > 0 {
		title, ref = nodes[0].Unit.Name, "unit:"+nodes[0].Unit.Code
	}
	text, err := b.paged(lines, page, false, next)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: ref, Title: b.t("tree.title", "name", title), Text: text})
}

func (b *Bot) unitAdd(ctx context.Context, r *Request) ([]Message, error) {
	u, err := b.org.AddUnit(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("parent"), org.Level(r.Flag("level")))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "unit:" + u.Code, Text: b.t("unit.added", "level", b.t("level."+string(u.Level)), "name", u.Name, "code", u.Code, "parent", u.Parent)})
}

func (b *Bot) unitRename(ctx context.Context, r *Request) ([]Message, error) {
	u, err := b.org.RenameUnit(ctx, r.Actor, r.Args[0], r.Args[1])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "unit:" + u.Code, Text: b.t("unit.renamed", "code", u.Code, "name", u.Name)})
}

func (b *Bot) unitRemove(ctx context.Context, r *Request) ([]Message, error) {
	if err := b.org.RemoveUnit(ctx, r.Actor, r.Args[0]); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "unit:" + r.Args[0], Text: b.t("unit.removed", "code", r.Args[0])})
}

func (b *Bot) unitMerge(ctx context.Context, r *Request) ([]Message, error) {
	res, err := b.org.MergeUnits(ctx, r.Actor, r.Args[0], r.Args[1])
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "unit:" + res.Into.Code, Text: b.t("unit.merged", "from", res.From.Name, "into", res.Into.Name,
		"users", strconv.Itoa(len(res.MovedUsers)), "units", strconv.Itoa(len(res.MovedUnits)), "grants", strconv.Itoa(len(res.RevokedGrants)))})
}

func (b *Bot) userAdd(ctx context.Context, r *Request) ([]Message, error) {
	u, err := b.org.AddUser(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("unit"))
	b.people.forget()
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "user:" + u.ID, Text: b.t("user.added", "name", u.Name, "id", u.ID, "unit", u.Unit)})
}

func (b *Bot) userMove(ctx context.Context, r *Request) ([]Message, error) {
	u, err := b.org.MoveUser(ctx, r.Actor, r.Args[0], r.Flag("unit"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "user:" + u.ID, Text: b.t("user.moved", "name", u.Name, "id", u.ID, "unit", u.Unit)})
}

func (b *Bot) userRemove(ctx context.Context, r *Request) ([]Message, error) {
	if err := b.org.RemoveUser(ctx, r.Actor, r.Args[0]); err != nil {
		return nil, err
	}
	b.people.forget()
	return reply(Message{Ref: "user:" + r.Args[0], Text: b.t("user.removed", "id", r.Args[0])})
}

func (b *Bot) userShow(ctx context.Context, r *Request) ([]Message, error) {
	p, err := b.org.ShowUser(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(b.profileMessage(p))
}

func (b *Bot) userLink(ctx context.Context, r *Request) ([]Message, error) {
	if err := b.org.LinkIdentity(ctx, r.Actor, r.Args[0], r.Flag("platform"), r.Flag("id")); err != nil {
		return nil, err
	}
	return reply(Message{Ref: "user:" + r.Args[0], Text: b.t("user.linked", "platform", r.Flag("platform"), "ext", r.Flag("id"), "id", r.Args[0])})
}

func (b *Bot) roleGrant(ctx context.Context, r *Request) ([]Message, error) {
	g, err := b.org.GrantRole(ctx, r.Actor, r.Args[0], org.Role(canonicalValue(r.Args[1])), r.Flag("scope"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "user:" + g.UserID, Text: b.t("role.granted", "user", b.personID(g.UserID), "role", b.roleName(string(g.Role)), "scope", g.Scope)})
}

func (b *Bot) roleRevoke(ctx context.Context, r *Request) ([]Message, error) {
	g, err := b.org.RevokeRole(ctx, r.Actor, r.Args[0], org.Role(canonicalValue(r.Args[1])), r.Flag("scope"))
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "user:" + g.UserID, Text: b.t("role.revoked", "user", b.personID(g.UserID), "role", b.roleName(string(g.Role)), "scope", g.Scope)})
}

// profileMessage renders a user's profile card.
func (b *Bot) profileMessage(p org.Profile) Message {
	roles := make([]string, 0, len(p.Grants))
	for _, g := range p.Grants {
		roles = append(roles, b.roleName(string(g.Role))+" @ "+g.Scope)
	}
	if len(roles) == 0 {
		roles = append(roles, b.t("role.member"))
	}
	linked := b.t("none")
	if len(p.Identities) > 0 {
		links := make([]string, 0, len(p.Identities))
		for _, i := range p.Identities {
			links = append(links, i.Platform+": "+i.ExternalID)
		}
		linked = strings.Join(links, "; ")
	}
	return Message{
		Ref:   "user:" + p.User.ID,
		Title: b.t("whoami.title", "name", p.User.Name, "id", p.User.ID),
		Fields: []Field{
			{Name: b.t("field.unit"), Value: p.Unit.Name + " (" + p.Unit.Code + ")"},
			{Name: b.t("field.roles"), Value: strings.Join(roles, "\n")},
			{Name: b.t("field.identities"), Value: linked},
		},
	}
}
