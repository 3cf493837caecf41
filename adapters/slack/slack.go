// Package slack is the Slack platform: one slash command (/opsbot <command>),
// interactivity (block_actions, view_submission), the Events API
// (app_mention and direct messages) over HTTP or Socket Mode, Block Kit
// rendering of bot messages, and a rate-limited sender that can update the
// cards it sent (chat.update) after a decision.
//
// Every inbound request is verified with the signing secret (HTTP) and
// acknowledged at once; the bot is called in the background and its replies
// go out through the request's response_url or chat.postMessage. Retried
// deliveries (same event_id or trigger_id) are handled once, remembered in
// Redis.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/chat"
)

// DefaultReasonActions are the button actions that ask for a reason in a
// modal before they reach the bot: the approval verbs that need a note
// (core/approval.NeedsNote).
var DefaultReasonActions = []string{"approval.reject", "approval.fail", "approval.issues"}

// Config configures the Slack adapter.
type Config struct {
	// BotToken is the bot user OAuth token (xoxb-…).
	BotToken string
	// SigningSecret verifies HTTP requests from Slack.
	SigningSecret string
	// AppToken is the app-level token (xapp-…) Socket Mode connects with.
	AppToken string
	// SocketMode receives events over a websocket instead of HTTP.
	SocketMode bool
	// APIURL overrides https://slack.com/api/ (tests).
	APIURL string
	// ReasonActions are button actions that open a modal asking for a
	// reason; the submitted reason reaches the bot as Event.Text. Nil means
	// DefaultReasonActions; an empty non-nil slice turns modals off.
	ReasonActions []string
	// Channels maps neutral channel names to Slack channel ids, so events
	// from a configured channel carry its neutral name (Event.Channel).
	Channels map[string]string
	// Language picks the adapter's own labels (modal, confirm dialog):
	// "zh-CN" (default) or "en".
	Language string
	// HandleTimeout bounds the background work of one request (bot call and
	// replies). Default 30 s.
	HandleTimeout time.Duration
	// DedupeTTL is how long a request id is remembered. Default 1 h.
	DedupeTTL time.Duration
	// ChannelInterval is the least time between two posts to one channel
	// (Slack allows about one a second). Default 1 s.
	ChannelInterval time.Duration
	// MaxWait is the longest Send waits for a channel's slot; beyond it Send
	// returns a bot.RetryAfterError so the outbox retries later. Default 1 s.
	MaxWait time.Duration
	// MaxBodyBytes limits request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// KeyPrefix prefixes the adapter's Redis keys. Default "opsbot:slack:".
	KeyPrefix string
	// HTTPClient calls Slack and response_url. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.ReasonActions == nil {
		c.ReasonActions = DefaultReasonActions
	}
	if c.Language != langEN {
		c.Language = langZH
	}
	if c.HandleTimeout <= 0 {
		c.HandleTimeout = 30 * time.Second
	}
	if c.DedupeTTL <= 0 {
		c.DedupeTTL = time.Hour
	}
	if c.ChannelInterval <= 0 {
		c.ChannelInterval = time.Second
	}
	if c.MaxWait <= 0 {
		c.MaxWait = time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "opsbot:slack:"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.APIURL != "" && !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	return c
}

// Validate reports a configuration the adapter cannot work with.
func (c Config) Validate() error {
	switch {
	case c.BotToken == "":
		return errors.New("slack: bot_token is required")
	case c.SocketMode && c.AppToken == "":
		return errors.New("slack: app_token is required in socket mode")
	case !c.SocketMode && c.SigningSecret == "":
		return errors.New("slack: signing_secret is required unless socket_mode is on")
	}
	for name, addr := range c.Channels {
		if strings.TrimSpace(addr) == "" {
			return fmt.Errorf("slack: channel %q has an empty address", name)
		}
	}
	return nil
}

// Handler answers events (the bot).
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) []bot.Message
}

// Refs remembers where each card went (channel and ts) so Update can
// replace it; storage/postgres's PlatformMessages implements it.
type Refs interface {
	Save(ctx context.Context, platform, ref, address string, outboxID int64, data json.RawMessage) (int64, error)
	ByRef(ctx context.Context, platform, ref string, before int64) ([]chat.PlatformMessage, error)
}

// Shared is what the adapter keeps in Redis for every replica: request ids
// seen, each channel's next post slot and the e-mail link cache; main
// passes storage/redis's Shared.
type Shared interface {
	// First reports whether key is new and marks it seen for ttl.
	First(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Reserve takes key's next slot, interval after the last one, when it
	// is at most maxWait away; else ok is false and wait says how long.
	Reserve(ctx context.Context, key string, interval, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	Exists(ctx context.Context, key string) (bool, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
}

// Linker links Slack users to org users by e-mail, so a person whose Slack
// e-mail matches an org user needs no manual /org user link. Optional.
type Linker interface {
	// Linked reports whether the Slack user id is linked to an org user.
	Linked(ctx context.Context, slackUserID string) (bool, error)
	// LinkByEmail links the Slack user id to the org user with email and
	// reports whether one matched.
	LinkByEmail(ctx context.Context, slackUserID, email string) (bool, error)
}

// Adapter is the Slack platform.
type Adapter struct {
	cfg     Config
	api     *slackapi.Client
	bot     Handler
	refs    Refs
	shared  Shared
	limit   *limiter
	linker  Linker
	log     *slog.Logger
	reasons map[string]bool
	names   map[string]string // Slack channel id → neutral name

	wg sync.WaitGroup
}

// New returns the Slack adapter. It makes no network call.
func New(cfg Config, h Handler, refs Refs, shared Shared, logger *slog.Logger) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil || refs == nil || shared == nil {
		return nil, errors.New("slack: handler, refs and shared redis state are required")
	}
	cfg = cfg.withDefaults()
	opts := []slackapi.Option{slackapi.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	a := &Adapter{
		cfg:     cfg,
		api:     slackapi.New(cfg.BotToken, opts...),
		bot:     h,
		refs:    refs,
		shared:  shared,
		limit:   &limiter{shared: shared, prefix: cfg.KeyPrefix + "rate:", interval: cfg.ChannelInterval},
		log:     logger.With("component", "slack"),
		reasons: map[string]bool{},
		names:   map[string]string{},
	}
	for _, act := range cfg.ReasonActions {
		a.reasons[act] = true
	}
	for name, addr := range cfg.Channels {
		a.names[addr] = name
	}
	return a, nil
}

// SetLinker turns on automatic linking by e-mail. Call it before Routes or Run.
func (a *Adapter) SetLinker(l Linker) { a.linker = l }

// Platform names the platform.
func (a *Adapter) Platform() string { return core.PlatformSlack }

// Routes registers the HTTP endpoints on mux. In Socket Mode they are
// still registered (Slack sends nothing there) so a switch back needs no
// rewiring.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.Handle("POST /slack/commands", a.verified(a.postCommand))
	mux.Handle("POST /slack/interactions", a.verified(a.postInteraction))
	mux.Handle("POST /slack/events", a.verified(a.postEvent))
}

// Wait blocks until the background work of requests already acknowledged
// has finished (shutdown, tests).
func (a *Adapter) Wait() { a.wg.Wait() }

// spawn runs fn in the background with its own timeout, detached from the
// request that started it; panics are logged, never propagated.
func (a *Adapter) spawn(what string, fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("panic in background work", "work", what, "panic", r)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.HandleTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// channelName is the neutral name of a Slack channel id, "" when unknown
// or a direct conversation.
func (a *Adapter) channelName(id string) string { return a.names[id] }

// first reports whether a request id is new. Redis trouble lets the request
// through: the core refuses double transitions anyway.
func (a *Adapter) first(ctx context.Context, key string) bool {
	if key == "" {
		return true
	}
	ok, err := a.shared.First(ctx, a.cfg.KeyPrefix+"seen:"+key, a.cfg.DedupeTTL)
	if err != nil {
		a.log.Warn("dedupe unavailable; handling the request", "key", key, "err", err)
		return true
	}
	return ok
}
