package bot

import (
	"cmp"
	"context"
	"slices"
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
			line := "- **" + usageLine(c) + "**"
			if zh := zhPath(c.Path); b.cfg.Language == LangZH && zh != "" {
				line += "（/" + zh + "）"
			}
			lines = append(lines, line+"  "+b.t("help."+c.Path))
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

// zhPreferred is the Chinese word help shows for a command word that has
// several: the one people say (添加, not 新增); zhPreferredFirst overrides
// it for the first word of a command, where a word means another command
// (/报表 the reports, /备份 上报 a backup report; /预案 the emergency plans,
// /备份 计划 a backup plan).
var (
	zhPreferred = map[string]string{"add": "添加", "remove": "删除", "revoke": "撤销", "escalate": "升级", "show": "查看",
		"report": "上报", "plan": "计划", "verify": "验证", "digest": "日报", "link": "关联", "review": "评估", "start": "开始",
		"mitigate": "缓解", "policy": "策略", "forward": "转交", "wait": "等待", "assign": "指派"}
	zhPreferredFirst = map[string]string{"report": "报表", "plan": "预案", "review": "复核"}
	// zhPreferredAt overrides both for one command's word (its path up
	// to that word).
	zhPreferredAt = map[string]string{"backup verify": "恢复测试", "webchat link": "登录", "incident review": "复核"}
)

// zhPath is a command's path in Chinese words ("incident declare" → "事件
// 申报"), each read back as the word it stands for in its position (the
// parser's aliases); "" when a word has no Chinese alias.
func zhPath(path string) string {
	words := strings.Fields(path)
	out := make([]string, 0, len(words))
	for i, w := range words {
		var cands []string
		for zh, en := range aliases {
			if en == w {
				cands = append(cands, zh)
			}
		}
		for zh, en := range scopedAliases[strings.Join(words[:i], " ")] {
			if en == w {
				cands = append(cands, zh)
			}
		}
		slices.SortFunc(cands, func(a, b string) int {
			return cmp.Or(cmp.Compare(len([]rune(a)), len([]rune(b))), strings.Compare(a, b))
		})
		pref := zhPreferred[w]
		if i == 0 && zhPreferredFirst[w] != "" {
			pref = zhPreferredFirst[w]
		}
		if p := zhPreferredAt[strings.Join(words[:i+1], " ")]; p != "" {
			pref = p
		}
		if pref != "" {
			cands = append([]string{pref}, cands...)
		}
		found := ""
		for _, c := range cands {
			if canonicalNext(words[:i], c) == w {
				found = c
				break
			}
		}
		if found == "" {
			return ""
		}
		out = append(out, found)
	}
	return strings.Join(out, " ")
}
