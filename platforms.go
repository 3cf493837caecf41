package main

import (
	"context"
	"errors"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"

	"opsbot/adapters/slack"
	"opsbot/adapters/webchat"
	"opsbot/adapters/wecom"
	"opsbot/bot"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/redis"
)

// platformSet is the chat platforms that are enabled, their senders and
// where each configured channel lives on each.
type platformSet struct {
	webchat  *webchat.Adapter
	wecom    *wecom.Adapter // nil when disabled
	slack    *slack.Adapter // nil when disabled
	senders  []bot.Sender
	channels map[string]map[string]string // channel → platform → address
}

// platforms builds the enabled chat adapters around the bot.
func platforms(cfg *configs.Config, store *postgres.Store, rdb goredis.UniversalClient, b *bot.Bot, orgs *org.Service,
	tokens *access.TokenService, channels *org.Channels, logger *slog.Logger) (*platformSet, error) {
	p := &platformSet{channels: map[string]map[string]string{}}
	// webchat.token is no longer the adapter's act-as-anyone Token: it is
	// the service token of its service user, resolved with the others.
	p.webchat = webchat.New(webchat.Config{DevMode: cfg.Webchat.DevMode, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Sessions: webchatBearer(orgs, tokens), Channels: channels.Of},
		store.Webchat(), b, directory(orgs), logger)
	if cfg.Webchat.Enabled {
		p.senders = append(p.senders, p.webchat)
		for _, c := range cfg.Channels {
			p.address(c.Name, core.PlatformWebchat, c.Name)
		}
	}
	var err error
	if cfg.WeCom.Enabled {
		p.wecom, err = wecom.New(wecom.Config{
			CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID, Secret: cfg.WeCom.Secret,
			ContactsSecret: cfg.WeCom.ContactsSecret, Token: cfg.WeCom.Token, EncodingAESKey: cfg.WeCom.EncodingAESKey,
			APIBase: cfg.WeCom.APIBase, PerMemberMinute: cfg.WeCom.Limits.PerMemberMinute,
			PerMemberHour: cfg.WeCom.Limits.PerMemberHour, RobotPerMinute: cfg.WeCom.Limits.RobotPerMinute,
			MaxBodyBytes: cfg.Server.MaxBodyBytes, CallbackWindow: cfg.WeCom.CallbackWindow.D(),
			DoneLabel: bot.T(cfg.Bot.Language, "wecom.done"), ButtonHint: bot.T(cfg.Bot.Language, "wecom.button_hint"),
		}, b, store.PlatformMessages(), redis.NewShared(rdb), b.DeferredReplies(queueNotice(store)), logger)
		if err != nil {
			return nil, err
		}
		p.senders = append(p.senders, p.wecom)
		for _, c := range cfg.Channels {
			if c.WeCom != "" {
				p.address(c.Name, core.PlatformWeCom, c.WeCom)
			}
		}
		b.SetOrgSync(core.PlatformWeCom, bot.NewOrgSyncer(org.NewSyncer(core.PlatformWeCom, p.wecom.Contacts(), orgs, org.SyncOptions{})))
	}
	if cfg.Slack.Enabled {
		slackChannels := map[string]string{}
		for _, c := range cfg.Channels {
			if c.Slack != "" {
				slackChannels[c.Name] = c.Slack
				p.address(c.Name, core.PlatformSlack, c.Slack)
			}
		}
		p.slack, err = slack.New(slack.Config{
			BotToken: cfg.Slack.BotToken, SigningSecret: cfg.Slack.SigningSecret, AppToken: cfg.Slack.AppToken,
			SocketMode: cfg.Slack.SocketMode, APIURL: cfg.Slack.APIURL, ReasonActions: cfg.Slack.ReasonActions,
			Channels: slackChannels, Language: cfg.Bot.Language, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		}, b, store.PlatformMessages(), redis.NewShared(rdb), logger)
		if err != nil {
			return nil, err
		}
		p.senders = append(p.senders, p.slack)
	}
	return p, nil
}

// webchatBearer resolves a web chat bearer to the user it acts as: a
// write-scoped API token (personal, or a service user's, webchat.token
// included), else a personal sign-in link. An interim bridge until the web
// chat authenticates through the sign-in Guard; a read-only token is
// refused here, since web chat commands change state.
func webchatBearer(orgs *org.Service, tokens *access.TokenService) func(ctx context.Context, secret string) (string, error) {
	return func(ctx context.Context, secret string) (string, error) {
		p, err := tokens.Authenticate(ctx, secret)
		switch {
		case err == nil && p.CanWrite():
			return p.Actor.UserID, nil
		case err == nil:
			return "", core.ErrNotFound
		case !errors.Is(err, access.ErrUnauthenticated):
			return "", err
		}
		return orgs.WebTokenUser(ctx, secret)
	}
}

// queueNotice writes one notice into the outbox in a transaction of its
// own (a direct reply a platform could not send at once).
func queueNotice(store *postgres.Store) bot.ReplyQueue {
	return func(ctx context.Context, n core.Notice) error {
		return store.WithTx(ctx, func(tx *postgres.Tx) error { return tx.Notify(ctx, n) })
	}
}

func (p *platformSet) address(channel, platform, addr string) {
	if p.channels[channel] == nil {
		p.channels[channel] = map[string]string{}
	}
	p.channels[channel][platform] = addr
}

// wait lets acknowledged platform requests finish (before the store closes).
func (p *platformSet) wait() {
	if p.wecom != nil {
		p.wecom.Wait()
	}
	if p.slack != nil {
		p.slack.Wait()
	}
}

// directory lists org users for the webchat picker.
func directory(orgs *org.Service) webchat.Directory {
	return func(ctx context.Context) ([]webchat.DirectoryUser, error) {
		profiles, err := orgs.Directory(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]webchat.DirectoryUser, len(profiles))
		for i, p := range profiles {
			roles := make([]string, 0, len(p.Grants))
			for _, g := range p.Grants {
				roles = append(roles, string(g.Role)+"@"+g.Scope)
			}
			out[i] = webchat.DirectoryUser{ID: p.User.ID, Name: p.User.Name, Unit: p.Unit.Code, UnitName: p.Unit.Name, Roles: roles}
		}
		return out, nil
	}
}
