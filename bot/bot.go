package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/backup"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Config is what the bot needs to know besides its services.
type Config struct {
	Language string         // zh-CN (default) or en
	Location *time.Location // for showing times
	Clock    core.Clock     // "today" and default months (default the system clock)
	// WebchatURL is the web chat's public address for sign-in links.
	WebchatURL string
	// ConsoleURL is the console's public address (console.public_url, else
	// webchat.public_url); when set, every card about an incident, request,
	// ticket or report carries a link to its console page (ConsoleLink).
	ConsoleURL string
	// SessionTTL is how long a sign-in link works (default 30 days).
	SessionTTL time.Duration
	// Sessions ends a user's browser sessions on /webchat logout (nil:
	// there are none to end).
	Sessions SessionEnder
	// People lists people's names for cards and replies (default: the
	// org service's users; nil with no org service: ids are shown).
	People PeopleSource
}

// SessionEnder ends every browser session of a user: the user themselves,
// or an admin covering them (core/access.Sessions).
type SessionEnder interface {
	EndAll(ctx context.Context, actor core.Actor, userID string) (int, error)
}

// Hooks observe the bot (metrics).
type Hooks struct {
	// Command is called after each command or action with its name and
	// outcome: "ok", "refused" (a user-facing error) or "error".
	Command func(name, outcome string)
	// Scope, when set, gives the context an event is handled in (every
	// transaction of one command reads the org at the version its first
	// read found: storage's OrgScope).
	Scope func(ctx context.Context) context.Context
}

// Bot turns events into core calls and replies.
type Bot struct {
	cfg       Config
	org       *org.Service
	silencer  Silencer // set by the Alerts module; incident cards show silence buttons with it
	syncers   map[string]OrgSyncer
	log       *slog.Logger
	router    *Router
	actions   map[string]ActionFunc
	hooks     Hooks
	modules   []Module
	renderers map[string]NoticeRenderer
	topics    []string // help topics in the order modules were plugged
	// twins holds the bot in each language, this one included: they share
	// the services and each user is answered, and sent notices, by the
	// twin in the language they chose (/lang).
	twins map[string]*Bot
	// people names users on cards and replies; the twins share it.
	people *directory
	// chains are each level's paging chain, set by the Paging module
	// (/duty policy shows it); nil: chat only.
	chains pagingChains
}

// pagingChains is what /duty policy reads of paging: each level's chain,
// and whether a provider sends a method.
type pagingChains interface {
	Rules(level int) []paging.Rule
	Sends(m paging.Method) bool
}

// ActionFunc handles a button click.
type ActionFunc func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error)

// New returns a bot speaking for the org service with the general and org
// commands, and each plugged domain module.
func New(cfg Config, orgs *org.Service, logger *slog.Logger, hooks Hooks, plugs ...Plug) *Bot {
	if cfg.People == nil && orgs != nil {
		cfg.People = OrgPeople(orgs)
	}
	people := &directory{src: cfg.People, log: logger.With("component", "bot")}
	b := build(cfg, orgs, logger, hooks, plugs, people)
	for _, lang := range []string{LangZH, LangEN} {
		if lang == b.cfg.Language {
			continue
		}
		tcfg := cfg
		tcfg.Language = lang
		t := build(tcfg, orgs, logger, hooks, plugs, people)
		t.syncers = b.syncers // SetOrgSync on b serves every twin
		b.twins[lang], t.twins = t, b.twins
	}
	return b
}

// build returns a bot in one language (New builds the twins).
func build(cfg Config, orgs *org.Service, logger *slog.Logger, hooks Hooks, plugs []Plug, people *directory) *Bot {
	if cfg.Language != LangEN {
		cfg.Language = LangZH
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if hooks.Command == nil {
		hooks.Command = func(string, string) {}
	}
	b := &Bot{cfg: cfg, org: orgs, syncers: map[string]OrgSyncer{}, log: logger.With("component", "bot"), router: NewRouter(),
		actions: map[string]ActionFunc{}, hooks: hooks, renderers: map[string]NoticeRenderer{}, people: people}
	b.twins = map[string]*Bot{cfg.Language: b}
	b.plug(Module{Name: "general", Topic: "general", Notices: []NoticeRenderer{Renders(renderReply)}})
	b.registerGeneral()
	b.plug(b.orgModule())
	b.plug(b.webchatLinkModule())
	for _, p := range plugs {
		b.plug(p(b))
	}
	return b
}

// now is the bot's clock.
func (b *Bot) now() time.Time { return b.cfg.Clock.Now() }

// Lang returns the bot's language.
func (b *Bot) Lang() string { return b.cfg.Language }

// in returns the twin speaking lang (this bot for "" or an unknown one).
func (b *Bot) in(lang string) *Bot {
	if t, ok := b.twins[lang]; ok {
		return t
	}
	return b
}

// t translates in the bot's language.
func (b *Bot) t(key string, kv ...string) string { return T(b.cfg.Language, key, kv...) }

// HandleAction registers a button action handler.
func (b *Bot) HandleAction(action string, fn ActionFunc) { b.actions[action] = fn }

// storable returns ev with every field cleaned of what Postgres cannot
// store (a NUL character, invalid UTF-8), so a command, its arguments and
// an action's value reach the core as text that can be kept.
func storable(ev Event) Event {
	for _, f := range []*string{&ev.Platform, &ev.UserRef, &ev.Channel, &ev.Text, &ev.Action, &ev.Value, &ev.MessageID} {
		*f = core.CleanText(*f)
	}
	return ev
}

// Handle answers one event. It never panics and never returns no reply:
// any failure becomes an error message that says what was wrong. Text
// Postgres cannot store is cleaned first (see storable).
func (b *Bot) Handle(ctx context.Context, ev Event) (out []Message) {
	name := "unknown"
	defer func() {
		if r := recover(); r != nil {
			id := newRef()
			b.log.Error("panic handling event", "panic", r, "ref", id, "platform", ev.Platform, "user", ev.UserRef)
			out = []Message{b.errorMessage(b.t("err.internal", "id", id))}
			b.hooks.Command(name, "error")
		}
	}()
	ev = storable(ev)
	if b.hooks.Scope != nil {
		ctx = b.hooks.Scope(ctx)
	}
	actor, err := b.org.Resolve(ctx, ev.Platform, ev.UserRef)
	if err != nil {
		b.hooks.Command(name, outcome(err))
		return []Message{b.ErrorReply(err, nil)}
	}
	return b.in(actor.Language).handleAs(ctx, actor, ev, &name)
}

// handleAs answers an event of a resolved actor in this bot's language;
// name is set to the command or action run (Handle recovers panics).
func (b *Bot) handleAs(ctx context.Context, actor core.Actor, ev Event, name *string) []Message {
	var err error
	var msgs []Message
	var cmd *Command
	if ev.Action != "" {
		*name = ev.Action
		fn, ok := b.actions[ev.Action]
		if !ok {
			err = core.Invalid("unknown_action", "action", ev.Action)
		} else {
			msgs, err = fn(ctx, actor, ev)
		}
	} else {
		cmd, msgs, err = b.command(ctx, actor, ev)
		if cmd != nil {
			*name = cmd.Path
		}
	}
	b.hooks.Command(*name, outcome(err))
	if err != nil {
		return []Message{b.ErrorReply(err, cmd)}
	}
	for i := range msgs {
		if msgs[i].Status == "" {
			msgs[i].Status = StatusOK
		}
		msgs[i] = b.withLink(msgs[i])
	}
	return msgs
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case isUserError(err):
		return "refused"
	default:
		return "error"
	}
}

func isUserError(err error) bool {
	var ue *usageError
	var pe *parseError
	var ce *core.Error
	return errors.As(err, &ue) || errors.As(err, &pe) || errors.As(err, &ce) ||
		errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrForbidden) || errors.Is(err, core.ErrInvalid) ||
		errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrAlreadyDecided)
}

func (b *Bot) command(ctx context.Context, actor core.Actor, ev Event) (*Command, []Message, error) {
	text := strings.TrimSpace(ev.Text)
	if rest, ok := strings.CutPrefix(text, "／"); ok {
		text = "/" + rest
	}
	if !strings.HasPrefix(text, "/") {
		return nil, nil, &parseError{"not_a_command"}
	}
	tokens, err := tokenize(strings.TrimPrefix(text, "/"))
	if err != nil {
		return nil, nil, err
	}
	if len(tokens) == 0 {
		tokens = []string{"help"}
	}
	cmd, args, flags, err := b.router.Match(tokens)
	if err != nil {
		return cmd, nil, err
	}
	if err := b.resolveUsers(ctx, cmd, args, flags); err != nil {
		return cmd, nil, err
	}
	msgs, err := cmd.Run(ctx, &Request{Actor: actor, Event: ev, Command: cmd, Args: args, Flags: flags})
	if err != nil {
		err = b.suggestFor(ctx, actor, err)
	}
	return cmd, msgs, err
}

// errorMessage is a reply with status error.
func (b *Bot) errorMessage(text string) Message {
	return Message{Status: StatusError, Title: b.t("err.title"), Text: text}
}

// ErrorReply turns any error into the reply a user sees: what was wrong
// and, for a malformed command, how to use it. Unexpected errors are
// logged with a reference the user can quote.
func (b *Bot) ErrorReply(err error, cmd *Command) Message {
	var ue *usageError
	var pe *parseError
	var ce *core.Error
	var se *suggestError
	switch {
	case errors.As(err, &se):
		m := b.ErrorReply(se.err, cmd)
		m.Text += "\n" + b.t("err.did_you_mean", "choices", strings.Join(se.choices, b.t("list.or")))
		return m
	case errors.As(err, &ue):
		if len(ue.suggest) > 0 {
			err := &suggestError{err: &usageError{code: ue.code, arg: ue.arg, cmd: ue.cmd}, choices: ue.suggest}
			return b.ErrorReply(err, cmd)
		}
		if ue.code == "incomplete" {
			return b.errorMessage(b.t("err.incomplete", "arg", ue.arg) + "\n" + b.t("usage.list", "list", b.listUnder(ue.arg)))
		}
		text := b.t("err."+ue.code, "arg", ue.arg)
		if ue.cmd != nil {
			text += "\n" + b.t("usage", "usage", usageLine(ue.cmd))
		}
		return b.errorMessage(text)
	case errors.As(err, &pe):
		return b.errorMessage(b.t("err." + pe.code))
	case errors.As(err, &ce):
		if ce.Cause != nil {
			b.log.Warn("command refused", "code", ce.Code, "cause", ce.Cause)
		}
		return b.errorMessage(tmap(b.cfg.Language, "err."+ce.Code, b.localizeArgs(ce.Args)))
	case isUserError(err):
		return b.errorMessage(err.Error())
	}
	id := newRef()
	b.log.Error("command failed", "err", err, "ref", id)
	return b.errorMessage(b.t("err.internal", "id", id))
}

// localizeArgs translates the codes inside error arguments (roles, levels,
// kinds, states, actions, platforms) into the bot's language. Unit codes,
// ids and what the user typed stay as they are.
func (b *Bot) localizeArgs(args map[string]string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		switch k {
		case "role":
			v = b.roleName(v)
		case "roles":
			v = b.joined(strings.Split(v, ","), b.roleName)
		case "level", "want", "parent_level", "from_level", "into_level":
			v = b.t("level." + v)
		case "verb":
			v = b.t("verb." + v)
		case "verbs":
			v = b.joined(strings.Split(v, ","), func(c string) string { return b.firstKnown(c, "verb.") })
		case "state":
			v = b.firstKnown(v, "state.", "tstate.")
		case "istate":
			v = b.t("istate." + v)
		case "method":
			v = b.firstKnown(v, "contact.method.")
		case "pstate", "need":
			v = b.t("pstate." + v)
		case "pstep":
			v = b.firstKnown(v, "pstep.", "pstep.problem.")
		case "step":
			v = b.t("step." + v)
		case "kind":
			v = b.firstKnown(v, "kind.", "tkind.")
		case "status":
			v = b.firstKnown(v, "app.status.")
		case "platform":
			v = b.firstKnown(v, "platform.")
		case "action":
			v = b.actionName(v)
		case "field":
			v = b.firstKnown(v, "input.field.", "field.")
		case "by", "owner", "requester", "incoming":
			v = b.person(v)
		case "user":
			v = b.personID(v) // a refusal may be about what to type: 孙丽（sunli）
		case "grantee": // user:<id> or unit:<code>
			if id, ok := strings.CutPrefix(v, "user:"); ok {
				v = b.personID(id)
			}
		case "choices": // users of one name: which id to type
			ids := strings.Split(v, "、")
			for i, id := range ids {
				ids[i] = b.personID(id)
			}
			v = strings.Join(ids, "、")
		case "on_duty":
			v = b.names(strings.Split(v, "、"))
		}
		out[k] = v
	}
	return out
}

// firstKnown translates a code by the first catalog prefix that has it
// (error arguments such as "kind" carry an approval kind in one message
// and a ticket kind in another); an unknown code stays as it is.
func (b *Bot) firstKnown(code string, prefixes ...string) string {
	return knownIn(b.cfg.Language, code, prefixes...)
}

// knownIn is firstKnown in lang, for what renders without a bot (the
// request fields the console shows too).
func knownIn(lang, code string, prefixes ...string) string {
	for _, p := range prefixes {
		if _, ok := zh[p+code]; ok {
			return T(lang, p+code)
		}
	}
	return code
}

// joined names each code of a list (roles, verbs) and joins them with the
// language's list separator.
func (b *Bot) joined(codes []string, name func(string) string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = name(strings.TrimSpace(c))
	}
	return strings.Join(out, b.t("list.sep"))
}

// actionName is what an action key of the authorisation checks
// ("org.user.add", "org.role.grant.unit_admin") is called in words
// (action.<key> in the catalogs); an unknown key stays as it is.
func (b *Bot) actionName(key string) string {
	for _, verb := range []string{"org.role.grant.", "org.role.revoke."} {
		if role, ok := strings.CutPrefix(key, verb); ok {
			return b.t("action."+strings.TrimSuffix(verb, "."), "role", b.roleName(role))
		}
	}
	return b.firstKnown(key, "action.")
}

// coreText renders a text core stores as a stable marker (the title of a
// failed backup's incident, the summary of an incident Alertmanager
// resolved, why a grant was revoked with its unit) in the bot's language;
// any other text, written by a person, stays as it is.
func (b *Bot) coreText(s string) string {
	if system, rest, ok := strings.Cut(s, " "+backup.FailedTitle); ok && len(rest) >= len("2006-01-02") {
		// "<system> backup failed <day>[: <note>]"
		return b.t("backup.failed_title", "system", system, "day", rest[:10]) + rest[10:]
	}
	switch {
	case s == alert.ResolvedSummary:
		return b.t("alert.resolved_summary")
	case s == org.ReasonUnitRemoved:
		return b.t("org.reason.unit_removed")
	case strings.HasPrefix(s, org.ReasonUnitMerged):
		return b.t("org.reason.unit_merged", "into", strings.TrimPrefix(s, org.ReasonUnitMerged))
	}
	return s
}

func (b *Bot) roleName(r string) string { return b.t("role."+r) + "(" + r + ")" }

func usageLine(c *Command) string {
	s := "/" + c.Path
	if c.Usage != "" {
		s += " " + c.Usage
	}
	return s
}

func (b *Bot) listUnder(prefix string) string {
	var lines []string
	for _, c := range b.router.Commands() {
		if strings.HasPrefix(c.Path, prefix+" ") {
			lines = append(lines, "- "+usageLine(c))
		}
	}
	return strings.Join(lines, "\n")
}

func newRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fmtTime shows a time in the bot's zone.
func (b *Bot) fmtTime(t time.Time) string { return t.In(b.cfg.Location).Format("2006-01-02 15:04") }
