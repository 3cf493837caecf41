package main

import (
	"context"
	"errors"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"

	"opsbot/adapters/auth"
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
	signin   *auth.Handler  // the /auth/ pages
	guard    *auth.Guard    // who a web chat or API request acts as
	wecom    *wecom.Adapter // nil when disabled
	slack    *slack.Adapter // nil when disabled
	senders  []bot.Sender
	channels map[string]map[string]string // channel → platform → address
}

// platforms builds the enabled chat adapters around the bot, and the
// sign-in pages. guard authenticates web chat and API requests alike.
func platforms(cfg *configs.Config, store *postgres.Store, rdb goredis.UniversalClient, b *bot.Bot, orgs *org.Service,
	tokens *access.TokenService, channels *org.Channels, sessions *access.Sessions, clock core.Clock, logger *slog.Logger) (*platformSet, error) {
	p := &platformSet{channels: map[string]map[string]string{}}
	// A bearer is an API token (personal, or a service user's, webchat.token
	// included) or, as before sessions, a personal sign-in link.
	p.guard = auth.NewGuard(sessions, bearers{tokens: tokens, links: orgs}, cfg.Auth.CookieSecureOr())
	p.webchat = webchat.New(webchat.Config{DevMode: cfg.Webchat.DevMode, Auth: p.guard, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Channels: channels.Of}, store.Webchat(), b, directory(orgs), logger)
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
	if p.signin, err = signinPages(cfg, p.guard, sessions, orgs, rdb, b, p.wecom, clock, logger); err != nil {
		return nil, err
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

// bearers resolves a bearer secret: an API token first, else a personal
// sign-in link from /webchat link (acting as its user, like a session).
type bearers struct {
	tokens *access.TokenService
	links  *org.Service
}

// Authenticate implements auth.Tokens.
func (b bearers) Authenticate(ctx context.Context, secret string) (access.Principal, error) {
	p, err := b.tokens.Authenticate(ctx, secret)
	if !errors.Is(err, access.ErrUnauthenticated) {
		return p, err
	}
	user, err := b.links.WebTokenUser(ctx, secret)
	if errors.Is(err, core.ErrNotFound) {
		return access.Principal{}, access.ErrUnauthenticated
	}
	if err != nil {
		return access.Principal{}, err
	}
	return access.Principal{Actor: core.Actor{UserID: user, Name: user, Platform: core.PlatformWebchat},
		Via: access.ViaSession, Scope: access.ScopeWrite}, nil
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

// signinPages builds the /auth/ pages: WeCom web login when WeCom is on
// and auth.wecom_login is set, OIDC when an issuer is set, the dev picker
// in dev mode.
func signinPages(cfg *configs.Config, guard *auth.Guard, sessions *access.Sessions, orgs *org.Service, rdb goredis.UniversalClient,
	b *bot.Bot, wc *wecom.Adapter, clock core.Clock, logger *slog.Logger) (*auth.Handler, error) {
	ac := auth.Config{Language: cfg.Bot.Language, DevMode: cfg.Webchat.DevMode, AttemptsPerMinute: cfg.Auth.LoginAttemptsPerMinute,
		KeyPrefix: cfg.Worker.Queue + ":", Now: clock.Now}
	if wc != nil && cfg.Auth.WeComLogin {
		ac.WeCom = &auth.WeComConfig{CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID, RedirectBase: cfg.Auth.RedirectBase,
			AuthorizeURL: cfg.Auth.WeComAuthorizeURL, SSOURL: cfg.Auth.WeComSSOURL, Users: wc}
	}
	if o := cfg.Auth.OIDC; o.Issuer != "" {
		ac.OIDC = &auth.OIDCConfig{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
			Scopes: o.Scopes, Claim: o.Claim, ClaimName: o.ClaimName, DisplayName: o.DisplayName}
	}
	dir := directory(orgs)
	return auth.New(ac, auth.Deps{
		Sessions: sessions, Guard: guard, Resolve: orgs.Resolve, LinkUser: orgs.WebTokenUser, Limiter: redis.NewShared(rdb),
		DevUsers: func(ctx context.Context) ([]auth.DevUser, error) {
			users, err := dir(ctx)
			out := make([]auth.DevUser, len(users))
			for i, u := range users {
				out[i] = auth.DevUser{ID: u.ID, Name: u.Name}
			}
			return out, err
		},
		ErrorText: func(err error) string { return b.ErrorReply(err, nil).Text },
	}, logger)
}
