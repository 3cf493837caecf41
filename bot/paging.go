package bot

import (
	"context"
	"html"
	"strconv"
	"strings"

	"opsbot/core/paging"
)

// pagingBot is paging's part of the bot: contact methods, quiet hours and
// the page steps' timers.
type pagingBot struct {
	*Bot
	svc *paging.Service
}

// Paging plugs the contact commands (/contact add|verify|list|remove|quiet),
// the page step and retry timers, and the paging chain in /duty policy.
func Paging(svc *paging.Service) Plug {
	return func(b *Bot) Module {
		p := pagingBot{Bot: b, svc: svc}
		if svc != nil {
			b.chains = svc
		}
		return Module{
			Name:  "paging",
			Topic: "contact",
			Commands: []*Command{
				{Path: "contact add", Usage: "sms|voice|email <value>", MinArgs: 2, MaxArgs: 2, Run: p.add},
				{Path: "contact verify", Usage: "<code>", MinArgs: 1, MaxArgs: 1, Run: p.verify},
				{Path: "contact list", Run: p.list},
				{Path: "contact remove", Usage: "<id>|sms|voice|email", MinArgs: 1, MaxArgs: 1, Run: p.remove},
				{Path: "contact quiet", Usage: "22:00-07:00|off", MinArgs: 1, MaxArgs: 1, Run: p.quiet},
			},
			Timers: map[string]TimerFunc{paging.TimerStep: svc.HandleTimer, paging.TimerSend: svc.HandleTimer},
		}
	}
}

// method reads a contact method word (短信, 电话, 邮件 or English).
func method(v string) paging.Method { return paging.Method(canonicalValue(strings.ToLower(v))) }

func (p pagingBot) add(ctx context.Context, r *Request) ([]Message, error) {
	if err := private(r); err != nil {
		return nil, err
	}
	c, err := p.svc.AddContact(ctx, r.Actor, method(r.Args[0]), r.Args[1])
	if err != nil {
		return nil, err
	}
	return reply(Message{Text: p.t("contact.added", "kind", p.t("contact.kind."+c.Kind), "value", c.Value)})
}

func (p pagingBot) verify(ctx context.Context, r *Request) ([]Message, error) {
	c, err := p.svc.Verify(ctx, r.Actor, r.Args[0])
	if err != nil {
		return nil, err
	}
	return reply(Message{Text: p.t("contact.verified", "kind", p.t("contact.kind."+c.Kind), "value", c.Value)})
}

func (p pagingBot) list(ctx context.Context, r *Request) ([]Message, error) {
	prof, err := p.svc.Contacts(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	fields := []Field{{Name: p.t("contact.method.chat"), Value: p.t("contact.chat_always")}}
	for _, c := range prof.Contacts {
		state := p.t("contact.verified_state")
		if !c.Verified {
			state = p.t("contact.unverified_state")
		}
		fields = append(fields, Field{Name: "#" + strconv.FormatInt(c.ID, 10) + " " + p.t("contact.kind."+c.Kind), Value: c.Value + state})
	}
	quiet := p.t("contact.quiet_none")
	if prof.Quiet != "" {
		quiet = p.t("contact.quiet_is", "span", prof.Quiet)
	}
	return reply(Message{Title: p.t("contact.list.title"), Text: quiet, Fields: fields})
}

func (p pagingBot) remove(ctx context.Context, r *Request) ([]Message, error) {
	which := r.Args[0]
	if m := method(which); m != "" && !strings.HasPrefix(which, "#") {
		which = string(m)
	}
	gone, err := p.svc.RemoveContact(ctx, r.Actor, strings.TrimPrefix(which, "#"))
	if err != nil {
		return nil, err
	}
	var vals []string
	for _, c := range gone {
		vals = append(vals, c.Value)
	}
	return reply(Message{Text: p.t("contact.removed", "value", strings.Join(vals, "、"))})
}

func (p pagingBot) quiet(ctx context.Context, r *Request) ([]Message, error) {
	v := r.Args[0]
	if v == "关" || v == "关闭" || strings.EqualFold(v, "off") {
		v = "off"
	}
	q, err := p.svc.SetQuiet(ctx, r.Actor, v)
	if err != nil {
		return nil, err
	}
	if q == "" {
		return reply(Message{Text: p.t("contact.quiet_off")})
	}
	return reply(Message{Text: p.t("contact.quiet_set", "span", q)})
}

// pagingChain is a level's notification chain in words, e.g. "聊天 立即 →
// 短信 2 分钟未确认 → 电话 5 分钟未确认"; "" when paging is not plugged.
func (b *Bot) pagingChain(level int) string {
	if b.chains == nil {
		return ""
	}
	var steps []string
	for _, r := range b.chains.Rules(level) {
		when := b.t("policy.now")
		if r.After > 0 {
			when = b.t("contact.after", "after", FormatDuration(b.cfg.Language, r.After))
		}
		step := b.t("contact.method."+string(r.Method)) + " " + when
		if r.Method != paging.MethodChat && !b.chains.Sends(r.Method) {
			step += b.t("policy.no_provider") // no page goes out by it
		}
		steps = append(steps, step)
	}
	return strings.Join(steps, " → ")
}

// PageTexts renders pages in each person's language (paging.Texts).
type PageTexts struct{ Language string } // the bot's default language

// Render returns a page's subject, plain text and HTML.
func (pt PageTexts) Render(p paging.Page) (subject, text, htm string) {
	lang := p.Lang
	if _, ok := catalogs[lang]; !ok {
		lang = pt.Language
	}
	t := func(k string, kv ...string) string { return T(lang, k, kv...) }
	if p.Kind == paging.KindVerify {
		s, body := t("page.verify.subject"), t("page.verify.text", "code", p.Code)
		return s, body, "<p>" + html.EscapeString(body) + "</p>"
	}
	id := strconv.FormatInt(p.IncidentID, 10)
	level := t("level.n" + strconv.Itoa(p.Level))
	subject = t("page.incident.subject", "level", level, "id", id, "title", p.Title)
	text = t("page.incident.text", "name", p.Name, "level", level, "id", id, "title", p.Title)
	htm = "<p>" + html.EscapeString(text) + "</p>"
	if p.AckURL != "" {
		link := t("page.incident.link", "url", p.AckURL)
		text += "\n" + link
		htm += `<p><a href="` + html.EscapeString(p.AckURL) + `">` + html.EscapeString(t("page.incident.link_label")) + "</a></p>"
	} else if p.AckReply != "" {
		text += t("page.incident.reply", "reply", p.AckReply)
	}
	return subject, text, htm
}

var _ paging.Texts = PageTexts{}

// AckPageText is the text of the one-time acknowledge page in lang.
func AckPageText(lang, key string) string { return T(lang, "page.ack."+key) }

// ErrorIn explains err in lang, as a reply would.
func (b *Bot) ErrorIn(lang string, err error) string { return b.in(lang).ErrorReply(err, nil).Text }

// pageEvent renders a page's status on an incident's timeline: by which
// method to whom, what became of it, the provider's receipt or error.
func (b *Bot) pageEvent(e paging.Event) string {
	out := b.t("page.event", "method", b.firstKnown(string(e.Method), "contact.method."), "name", b.person(e.User),
		"status", b.firstKnown(e.Status, "page.status."))
	if e.MessageID != "" {
		out += b.t("page.event.receipt", "provider", e.Provider, "id", e.MessageID)
	}
	if e.Error != "" {
		out += b.t("page.event.error", "error", e.Error)
	}
	return out
}
