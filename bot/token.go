package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/access"
)

// tokenBot is the API tokens' part of the bot.
type tokenBot struct {
	*Bot
	svc *access.TokenService
}

// Tokens plugs the API token commands: /token create|list|revoke for
// personal tokens and /token service create|list for the sys admin.
func Tokens(svc *access.TokenService) Plug {
	return func(b *Bot) Module {
		k := tokenBot{Bot: b, svc: svc}
		return Module{
			Name:  "token",
			Topic: "token",
			Commands: []*Command{
				{Path: "token create", Usage: "<name> [--expires 90d] [--scope read|write]", MinArgs: 1, MaxArgs: 1,
					Flags: map[string]bool{"expires": true, "scope": true}, Run: k.create},
				{Path: "token list", UserFlags: []string{"user"}, Usage: "[--user <userid>]", Flags: map[string]bool{"user": true}, Run: k.list},
				{Path: "token revoke", Usage: "<id>", MinArgs: 1, MaxArgs: 1, Run: k.revoke},
				{Path: "token service create", Usage: "<service user> <name> [--scope read|write]", MinArgs: 2, MaxArgs: 2,
					Flags: map[string]bool{"scope": true}, Run: k.createService},
				{Path: "token service list", Run: k.listService},
			},
			Notices: []NoticeRenderer{Renders(k.renderRevoked)},
		}
	}
}

// private refuses to show a secret in a channel of a platform whose
// replies the channel sees (WeCom, Slack); the web chat answers only the
// person who asked.
func private(r *Request) error {
	if r.Event.Channel != "" && r.Event.Platform != core.PlatformWebchat {
		return core.Forbidden("token_in_channel")
	}
	return nil
}

func (k tokenBot) create(ctx context.Context, r *Request) ([]Message, error) {
	if err := private(r); err != nil {
		return nil, err
	}
	var ttl time.Duration
	if r.Has("expires") {
		var err error
		if ttl, err = access.ParseTTL(r.Flag("expires")); err != nil {
			return nil, err
		}
	}
	secret, t, err := k.svc.Create(ctx, r.Actor, r.Args[0], r.Flag("scope"), ttl)
	if err != nil {
		return nil, err
	}
	return k.secretReply(secret, t)
}

func (k tokenBot) createService(ctx context.Context, r *Request) ([]Message, error) {
	if err := private(r); err != nil {
		return nil, err
	}
	secret, t, err := k.svc.CreateService(ctx, r.Actor, r.Args[0], r.Args[1], r.Flag("scope"))
	if err != nil {
		return nil, err
	}
	return k.secretReply(secret, t)
}

// secretReply shows a new token's secret, this once.
func (k tokenBot) secretReply(secret string, t access.Token) ([]Message, error) {
	until := k.t("token.never")
	if !t.ExpiresAt.IsZero() {
		until = k.fmtTime(t.ExpiresAt)
	}
	return reply(Message{Ref: "token:" + strconv.FormatInt(t.ID, 10), Title: k.t("token.created.title", "name", t.Name), Secret: secret,
		Text: k.t("token.created", "secret", secret, "id", strconv.FormatInt(t.ID, 10), "user", t.UserID,
			"scope", k.t("token.scope."+t.Scope), "until", until)})
}

// lines renders tokens one a line.
func (k tokenBot) lines(tokens []access.Token, withUser bool) string {
	now := k.now()
	var out []string
	for _, t := range tokens {
		line := "- #" + strconv.FormatInt(t.ID, 10) + " " + t.Name + " `" + t.Prefix + "` " + k.t("token.scope."+t.Scope)
		if withUser {
			line += " · " + t.UserID
		}
		switch {
		case t.ExpiresAt.IsZero():
		case !t.Live(now):
			line += " · " + k.t("token.expired", "at", k.fmtTime(t.ExpiresAt))
		default:
			line += " · " + k.t("token.until", "at", k.fmtTime(t.ExpiresAt))
		}
		if !t.LastUsedAt.IsZero() {
			line += " · " + k.t("token.used", "at", k.fmtTime(t.LastUsedAt))
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func (k tokenBot) list(ctx context.Context, r *Request) ([]Message, error) {
	user := r.Flag("user")
	if user == "" {
		user = r.Actor.UserID
	}
	tokens, err := k.svc.List(ctx, r.Actor, user)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return reply(Message{Text: k.t("token.none", "user", user)})
	}
	return reply(Message{Title: k.t("token.list.title", "user", user), Text: k.lines(tokens, false)})
}

func (k tokenBot) listService(ctx context.Context, r *Request) ([]Message, error) {
	tokens, err := k.svc.ListService(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return reply(Message{Text: k.t("token.service.none")})
	}
	return reply(Message{Title: k.t("token.service.title"), Text: k.lines(tokens, true)})
}

func (k tokenBot) revoke(ctx context.Context, r *Request) ([]Message, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(r.Args[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		return nil, core.Invalid("token_id", "value", r.Args[0])
	}
	t, err := k.svc.Revoke(ctx, r.Actor, id)
	if err != nil {
		return nil, err
	}
	return reply(Message{Ref: "token:" + strconv.FormatInt(id, 10),
		Text: k.t("token.revoked", "id", strconv.FormatInt(id, 10), "name", t.Name, "user", t.UserID)})
}

// renderRevoked tells a token's owner that an admin revoked it.
func (k tokenBot) renderRevoked(ref string, n access.TokenRevoked) (Message, error) {
	return Message{Ref: ref, Title: k.t("token.revoked_by.title"),
		Text: k.t("token.revoked_by", "id", strconv.FormatInt(n.ID, 10), "name", n.Name, "by", k.named(n.By, n.ByName))}, nil
}
