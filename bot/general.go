package bot

import (
	"context"
	"strings"

	"opsbot/core"
)

func (b *Bot) registerGeneral() {
	b.router.Handle(&Command{Path: "help", Usage: "[command|topic]", MaxArgs: -1, Topic: "general", Run: b.help})
	b.router.Handle(&Command{Path: "whoami", Topic: "general", Run: b.whoami})
	b.router.Handle(&Command{Path: "lang", Usage: "[zh|en]", MaxArgs: 1, Topic: "general", Run: b.lang})
	b.HandleAction("help.topic", func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		return b.helpTopic(ev.Value)
	})
}

func (b *Bot) help(_ context.Context, r *Request) ([]Message, error) {
	if len(r.Args) == 0 {
		m := Message{Title: b.t("help.title"), Text: b.t("help.intro")}
		for _, topic := range b.topics {
			m.Fields = append(m.Fields, Field{Name: b.t("help." + topic), Value: "/help " + topic})
			m.Buttons = append(m.Buttons, Button{Action: "help.topic", Value: topic, Label: b.t("help." + topic)})
		}
		return []Message{m}, nil
	}
	tokens := strings.Fields(r.Args[0])
	for i, w := range tokens {
		tokens[i] = strings.TrimPrefix(w, "/")
	}
	return b.helpTopic(strings.Join(canonicalPath(tokens), " "))
}

func (b *Bot) helpTopic(topic string) ([]Message, error) {
	var lines []string
	for _, c := range b.router.Commands() {
		if c.Topic == topic || c.Path == topic || strings.HasPrefix(c.Path, topic+" ") {
			lines = append(lines, "- **"+usageLine(c)+"**  "+b.t("help."+c.Path))
		}
	}
	if len(lines) == 0 {
		return nil, core.NotFound("help_unknown", "topic", topic)
	}
	title := topic
	if k := "help." + topic; T(b.cfg.Language, k) != k {
		title = T(b.cfg.Language, k)
	}
	return []Message{{Title: b.t("help.topic", "topic", title), Text: strings.Join(lines, "\n")}}, nil
}

func (b *Bot) whoami(ctx context.Context, r *Request) ([]Message, error) {
	p, err := b.org.Whoami(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	m := b.profileMessage(p)
	m.Fields = append(m.Fields, Field{Name: b.t("field.platform"), Value: r.Actor.Platform})
	return []Message{m}, nil
}

// languageNames maps what people type after /lang onto a language.
var languageNames = map[string]string{
	"zh": LangZH, "zh-cn": LangZH, "cn": LangZH, "chinese": LangZH, "中文": LangZH, "汉语": LangZH, "简体中文": LangZH,
	"en": LangEN, "english": LangEN, "英文": LangEN, "英语": LangEN,
}

// lang shows or sets the language the actor is answered and notified in.
func (b *Bot) lang(ctx context.Context, r *Request) ([]Message, error) {
	if len(r.Args) == 0 {
		return []Message{{Title: b.t("lang.title"), Text: b.t("lang.current", "language", b.t("lang.name."+b.cfg.Language))}}, nil
	}
	lang, ok := languageNames[strings.ToLower(r.Args[0])]
	if !ok {
		return nil, core.Invalid("language_unknown", "language", r.Args[0])
	}
	if err := b.org.SetLanguage(ctx, r.Actor, lang); err != nil {
		return nil, err
	}
	t := b.in(lang)
	return []Message{{Title: t.t("lang.title"), Text: t.t("lang.set", "language", t.t("lang.name."+lang))}}, nil
}
