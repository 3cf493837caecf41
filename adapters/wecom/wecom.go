// Package wecom is the Enterprise WeChat (WeCom, 企业微信) platform: the
// callback endpoint of a self-built app (URL check, msg_signature, AES
// decryption, text messages and template_card_event clicks), sending
// (text, markdown, button_interaction template cards, update_template_card)
// to members, app group chats and group robots within WeCom's rate limits,
// and reading the contacts behind /org sync wecom (core/org plans the sync).
//
// Addresses. A member is addressed by their WeCom userid (core.Recipient
// User). A channel's WeCom address (core.Recipient Channel) is one of
//
//	appchat:<chatid>   a group chat created by the app (appchat/send)
//	robot:<key>        a group robot, by its webhook key (webhook/send)
//	user:<userid>      one member
//
// Group chats and robots cannot show interactive cards: messages with
// buttons are posted there as markdown listing the buttons, and the people
// who must act get the card in their own chat with the app.
//
// Limits. WeCom drops, without an error, messages over 30 a minute or
// 1000 an hour from one app to one member, and over 20 a minute from one
// group robot. The adapter counts sends per address in Redis; what is over
// is kept in Postgres (Refs.Hold) and sent by Flush once the window frees,
// notices to the same address merged into one message.
package wecom

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

	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work/message"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/chat"
)

// cardLifetime is how long a response_code can be used.
const cardLifetime = 72 * time.Hour

// Handler answers events (the bot).
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) []bot.Message
}

// Refs remembers sent cards and holds rate-limited messages;
// storage/postgres's PlatformMessages implements it.
type Refs interface {
	Save(ctx context.Context, platform, ref, address string, outboxID int64, data json.RawMessage) (int64, error)
	ByRef(ctx context.Context, platform, ref string, before int64) ([]chat.PlatformMessage, error)
	SetData(ctx context.Context, id int64, data json.RawMessage) error
	Hold(ctx context.Context, platform, address string, body json.RawMessage) error
	HeldAddresses(ctx context.Context, platform string) ([]string, error)
	Holds(ctx context.Context, platform, address string) (bool, error)
	Release(ctx context.Context, platform, address string, send func(held []chat.HeldMessage) error) error
}

// Shared is what the adapter keeps in Redis for every replica: callback
// ids seen, the per-address send logs of WeCom's quotas and the access
// token; main passes storage/redis's Shared.
type Shared interface {
	// First reports whether key is new and marks it seen for ttl.
	First(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Take reserves up to want slots of key's per-minute and per-hour
	// (0 = none) quota at now and returns how many it got.
	Take(ctx context.Context, key string, now time.Time, perMinute, perHour, want int) (int, error)
	Get(ctx context.Context, key string) (v string, ok bool, err error)
	Set(ctx context.Context, key, v string, ttl time.Duration) error
	Exists(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
}

// Deferrer takes the direct replies (command and click answers) that met
// a temporary failure, so they are retried like outbox notices instead of
// being lost; bot.DeferredReplies implements it.
type Deferrer interface {
	Defer(ctx context.Context, platform, userRef string, m bot.Message) error
}

// Adapter is the WeCom platform: an http handler for callbacks, a
// bot.Sender and a bot.Updater.
type Adapter struct {
	cfg      Config
	bot      Handler
	refs     Refs
	api      *apiClient
	crypt    crypt
	limit    *limiter
	shared   Shared
	deferrer Deferrer
	log      *slog.Logger

	wg  sync.WaitGroup
	sem chan struct{}
}

var (
	_ bot.Sender  = (*Adapter)(nil)
	_ bot.Updater = (*Adapter)(nil)
)

// New returns the WeCom adapter. The access token is cached in shared
// under cfg.KeyPrefix, shared by every replica.
func New(cfg Config, h Handler, refs Refs, shared Shared, deferred Deferrer, logger *slog.Logger) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil || refs == nil || shared == nil || deferred == nil {
		return nil, errors.New("wecom: handler, refs, redis and deferrer are required")
	}
	cfg = cfg.withDefaults()
	if cfg.APIBase != DefaultAPIBase {
		// The library fetches tokens from its built-in host; point it at
		// ours. Process-wide: one WeCom API base per process.
		base := cfg.APIBase
		util.SetURIModifier(func(uri string) string {
			if rest, ok := strings.CutPrefix(uri, DefaultAPIBase); ok {
				return base + rest
			}
			return uri
		})
	}
	tc := &tokenCache{shared: shared, prefix: cfg.KeyPrefix + "token:"}
	return &Adapter{
		cfg:      cfg,
		bot:      h,
		refs:     refs,
		api:      newAPIClient(cfg.APIBase, cfg.CorpID, cfg.Secret, itoa(cfg.AgentID), tc, cfg.CallTimeout),
		crypt:    crypt{token: cfg.Token, key: cfg.EncodingAESKey, corpID: cfg.CorpID},
		limit:    &limiter{shared: shared, prefix: cfg.KeyPrefix, now: cfg.Now},
		shared:   shared,
		deferrer: deferred,
		log:      logger.With("component", "wecom"),
		sem:      make(chan struct{}, 64),
	}, nil
}

// Platform names the platform.
func (a *Adapter) Platform() string { return core.PlatformWeCom }

// Routes registers the callback endpoint on mux.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /wecom/callback", a.verifyURL)
	mux.HandleFunc("POST /wecom/callback", a.callback)
}

// Address kinds.
const (
	kindUser    = "user"
	kindAppchat = "appchat"
	kindRobot   = "robot"
)

// address is where a message goes: "kind:id".
type address struct{ kind, id string }

func (d address) String() string { return d.kind + ":" + d.id }

// redacted is the address for logs and errors: a robot key is a secret.
func (d address) redacted() string {
	if d.kind == kindRobot {
		return d.kind + ":***"
	}
	return d.String()
}

// parseAddress reads a stored or configured "kind:id" address.
func parseAddress(s string) (address, error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" || (kind != kindUser && kind != kindAppchat && kind != kindRobot) {
		return address{}, fmt.Errorf("wecom: address %q is not appchat:<chatid>, robot:<key> or user:<userid>", s)
	}
	return address{kind: kind, id: id}, nil
}

// recipient turns a Sender recipient into an address.
func recipient(to core.Recipient) (address, error) {
	switch {
	case to.User != "":
		return address{kind: kindUser, id: to.User}, nil
	case to.Channel != "":
		return parseAddress(to.Channel)
	}
	return address{}, errors.New("wecom: empty recipient")
}

// quota returns the limit of an address; ok is false for unlimited ones.
func (a *Adapter) quota(d address) (quota, bool) {
	switch d.kind {
	case kindUser:
		return quota{PerMinute: a.cfg.PerMemberMinute, PerHour: a.cfg.PerMemberHour}, true
	case kindRobot:
		return quota{PerMinute: a.cfg.RobotPerMinute}, true
	}
	return quota{}, false
}

// Send delivers m to a member (to.User, their WeCom userid) or a channel
// address (to.Channel). A message over the rate limit is held durably and
// Send returns nil; Flush delivers it later. Errors are bot.Permanent
// (bad recipient or content), *bot.RetryAfterError (WeCom throttling) or
// plain (retry with backoff).
func (a *Adapter) Send(ctx context.Context, to core.Recipient, m bot.Message) error {
	d, err := recipient(to)
	if err != nil {
		return bot.Permanent(err)
	}
	if m.Status == "" {
		m.Status = bot.StatusNotice
	}
	return a.deliver(ctx, d, m)
}

// deliver sends m now when the address has a free slot, else holds it.
// Messages held for the address go first: m never overtakes them.
func (a *Adapter) deliver(ctx context.Context, d address, m bot.Message) error {
	if q, limited := a.quota(d); limited {
		held, err := a.heldFor(ctx, d)
		if err != nil {
			return err
		}
		if held {
			return a.hold(ctx, d, m)
		}
		want := a.cost(d, m)
		n, err := a.limit.take(ctx, d.String(), q, want)
		if err != nil {
			return fmt.Errorf("wecom: rate limit for %s: %w", d.redacted(), err)
		}
		if n < want {
			return a.hold(ctx, d, m)
		}
	}
	if err := a.post(ctx, d, m, ""); err != nil {
		return err
	}
	a.sendImage(ctx, d, m)
	return nil
}

// cost is how many WeCom messages m takes to d: one, or one per card of
// a message split into several cards for a member.
func (a *Adapter) cost(d address, m bot.Message) int {
	if d.kind != kindUser {
		return 1
	}
	return cardCount(m)
}

// post sends one message (or, with merged set, that pre-rendered markdown)
// without looking at the limiter.
func (a *Adapter) post(ctx context.Context, d address, m bot.Message, merged string) error {
	switch d.kind {
	case kindUser:
		return a.sendUser(ctx, d.id, m, merged)
	case kindAppchat:
		req := a.chatMessage(d.id, m)
		if merged != "" {
			req = &appchatRequest{ChatID: d.id, MsgType: msgMarkdown, Markdown: &textBody{Content: merged}}
		}
		return classify(a.api.call(ctx, "appchat/send", nil, req, nil))
	case kindRobot:
		req := a.robotMessage(m)
		if merged != "" {
			req.Markdown.Content = merged
		}
		return classify(postRobot(ctx, a.cfg.APIBase, d.id, a.cfg.CallTimeout, req))
	}
	return bot.Permanent(fmt.Errorf("wecom: unknown address kind %q", d.kind))
}

// cardData is what a sent card keeps in platform_messages.
type cardData struct {
	TaskID       string `json:"task_id"`
	ResponseCode string `json:"response_code"`
	User         string `json:"user"`
	SentAt       int64  `json:"sent_at"` // unix seconds
	Spent        bool   `json:"spent,omitempty"`
	Part         int    `json:"part,omitempty"` // which card of a split message (0-based)
}

// sendUser sends a message to one member with message/send — as several
// cards when it has more buttons than a card holds — and remembers each
// card's response_code for Update. When a later card meets a temporary
// failure after the first went out, the rest is held for Flush, so a
// retry never sends the first again.
func (a *Adapter) sendUser(ctx context.Context, userID string, m bot.Message, merged string) error {
	reqs, err := a.userMessages(userID, m)
	if err != nil {
		return bot.Permanent(err)
	}
	if merged != "" {
		reqs = []*sendRequest{{ToUser: userID, AgentID: a.cfg.AgentID, MsgType: msgMarkdown, Markdown: &textBody{Content: merged}}}
	}
	for i, req := range reqs {
		err := a.sendOne(ctx, userID, req, m.Ref, i)
		var perm *bot.PermanentError
		switch {
		case err == nil:
		case i == 0 || errors.As(err, &perm):
			return err
		default:
			a.log.Warn("card not sent; holding the rest of the message", "user", userID, "ref", m.Ref, "part", i, "err", err)
			return a.hold(ctx, address{kind: kindUser, id: userID}, rest(m, i))
		}
	}
	return nil
}

// sendOne sends one message/send request and remembers a card (part of
// the message about ref) for Update.
func (a *Adapter) sendOne(ctx context.Context, userID string, req *sendRequest, ref string, part int) error {
	var resp message.SendResponse
	if err := a.api.call(ctx, "message/send", nil, req, &resp); err != nil {
		return classify(err)
	}
	if resp.InvalidUser != "" {
		return bot.Permanent(fmt.Errorf("wecom: message/send: invalid user %q", resp.InvalidUser))
	}
	if req.TemplateCard != nil && ref != "" {
		data, _ := json.Marshal(cardData{TaskID: req.TemplateCard.TaskID, ResponseCode: resp.ResponseCode, User: userID, SentAt: a.cfg.Now().Unix(), Part: part})
		if _, err := a.refs.Save(ctx, core.PlatformWeCom, ref, address{kind: kindUser, id: userID}.String(), bot.OutboxOf(ctx), data); err != nil {
			// Sent already: a retry would duplicate it. The card just
			// cannot be updated later.
			a.log.Error("sent card not recorded; it will not be updated", "ref", ref, "user", userID, "err", err)
		}
	}
	return nil
}

// updateCard replaces a member's card (part of a split message) with m
// using a response_code.
func (a *Adapter) updateCard(ctx context.Context, userID, code string, m bot.Message, part int) error {
	c, err := cardPart(m, part, "", a.cfg.DoneLabel)
	if err != nil {
		return bot.Permanent(err)
	}
	req := updateCardRequest{UserIDs: []string{userID}, AgentID: a.cfg.AgentID, ResponseCode: code, TemplateCard: c}
	return a.api.call(ctx, "message/update_template_card", nil, req, nil)
}

// retryableUpdate reports whether a failed card update may succeed later.
// Any other errcode (a spent or expired response_code, a member gone) means
// the card stays as it is.
func retryableUpdate(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		var perm *bot.PermanentError
		return !errors.As(err, &perm)
	}
	switch ae.Code {
	case codeBusy, codeFreqLimit, codeMinuteFreqLimit, codeConcurrencyLimit, codeInvalidToken, codeTokenExpired:
		return true
	}
	return false
}

// Update replaces every card sent about ref with m (buttons gone, outcome
// shown), each with its stored response_code, which is then spent. Cards
// whose code is spent or older than 72 h are left as they are. A
// transient failure is returned after trying every card, so a retry only
// redoes the ones that failed.
func (a *Adapter) Update(ctx context.Context, ref string, m bot.Message) error {
	cards, err := a.refs.ByRef(ctx, core.PlatformWeCom, ref, bot.OutboxOf(ctx))
	if err != nil {
		return fmt.Errorf("wecom: cards of %s: %w", ref, err)
	}
	var errs []error
	for _, c := range cards {
		var data cardData
		if err := json.Unmarshal(c.Data, &data); err != nil || data.Spent || data.ResponseCode == "" {
			continue
		}
		if a.cfg.Now().Sub(time.Unix(data.SentAt, 0)) > cardLifetime {
			if err := a.spend(ctx, c.ID, data); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		err := a.updateCard(ctx, data.User, data.ResponseCode, m, data.Part)
		if err != nil && retryableUpdate(err) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			a.log.Warn("card not updatable", "ref", ref, "user", data.User, "err", err)
		}
		if err := a.spend(ctx, c.ID, data); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// spend marks a card's response_code used.
func (a *Adapter) spend(ctx context.Context, id int64, data cardData) error {
	data.Spent = true
	raw, _ := json.Marshal(data)
	if err := a.refs.SetData(ctx, id, raw); err != nil {
		return fmt.Errorf("wecom: mark card %d updated: %w", id, err)
	}
	return nil
}
