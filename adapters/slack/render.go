package slack

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"opsbot/bot"
)

const (
	langZH = "zh-CN"
	langEN = "en"

	actionsBlock = "opsbot_actions"
	// Block Kit limits.
	maxHeader      = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxButtons     = 25
	maxButtonText  = 75
	maxButtonValue = 2000
	maxConfirm     = 300
	maxFallback    = 3000
)

// labels are the adapter's own words, by language.
var labels = map[string]map[string]string{
	langZH: {
		"confirm.title": "请确认", "confirm.ok": "确定", "cancel": "取消",
		"reason.title": "填写原因", "reason.label": "原因", "reason.submit": "提交", "reason.empty": "请填写原因",
	},
	langEN: {
		"confirm.title": "Are you sure?", "confirm.ok": "Yes", "cancel": "Cancel",
		"reason.title": "Give a reason", "reason.label": "Reason", "reason.submit": "Submit", "reason.empty": "A reason is required",
	},
}

func (a *Adapter) label(k string) string { return labels[a.cfg.Language][k] }

func plainText(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
}

func mrkdwnText(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escape escapes the three characters Slack's mrkdwn reserves.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var boldRe = regexp.MustCompile(`\*\*(.+?)\*\*`)

// mrkdwn turns the bot's light markdown (**bold**, "- " lists) into Slack
// mrkdwn, escaping everything else.
func mrkdwn(s string) string {
	s = boldRe.ReplaceAllString(escape(s), "*$1*")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "- "); ok {
			lines[i] = "• " + rest
		}
	}
	return strings.Join(lines, "\n")
}

// actionID names a button: the bot action and its position, so two
// buttons with one action stay distinct.
func actionID(action string, i int) string { return action + "|" + strconv.Itoa(i) }

// parseActionID returns the bot action of one of our buttons.
func parseActionID(id string) (string, bool) {
	i := strings.LastIndexByte(id, '|')
	if i <= 0 {
		return "", false
	}
	if _, err := strconv.Atoi(id[i+1:]); err != nil {
		return "", false
	}
	return id[:i], true
}

// render turns a bot message into Block Kit blocks and the plain fallback
// text Slack shows in notifications. An error reply carries a warning sign
// in its header (or first line).
func (a *Adapter) render(m bot.Message) (string, []slackapi.Block) {
	warn := m.Status == bot.StatusError
	var blocks []slackapi.Block
	title := strings.TrimSpace(m.Title)
	if title != "" {
		if warn {
			title = ":warning: " + title
		}
		blocks = append(blocks, slackapi.NewHeaderBlock(plainText(truncate(title, maxHeader))))
	}
	text := strings.TrimSpace(m.Text)
	if text != "" || len(blocks) == 0 && len(m.Fields) == 0 {
		body := mrkdwn(text)
		if warn && title == "" {
			body = ":warning: " + body
		}
		if strings.TrimSpace(body) == "" {
			body = " "
		}
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwnText(truncate(body, maxSectionText)), nil, nil))
	}
	for i := 0; i < len(m.Fields); i += maxFields {
		var fields []*slackapi.TextBlockObject
		for _, f := range m.Fields[i:min(i+maxFields, len(m.Fields))] {
			fields = append(fields, mrkdwnText(truncate("*"+escape(f.Name)+"*\n"+mrkdwn(f.Value), maxFieldText)))
		}
		blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil))
	}
	if len(m.Buttons) > 0 {
		var elems []slackapi.BlockElement
		for i, b := range m.Buttons[:min(len(m.Buttons), maxButtons)] {
			elems = append(elems, a.button(b, i))
		}
		blocks = append(blocks, slackapi.NewActionBlock(actionsBlock, elems...))
	}
	return fallback(m, warn), blocks
}

// layout is how m goes out: its fallback text and its blocks, at the top
// level or, for a card about an incident level, inside one attachment
// whose colour bar is the level's colour (Block Kit blocks have none).
func (a *Adapter) layout(m bot.Message) (string, []slackapi.Block, []slackapi.Attachment) {
	text, blocks := a.render(m)
	if s, ok := bot.SeverityOf(m.Level); ok {
		return text, nil, []slackapi.Attachment{{Color: s.Color, Blocks: slackapi.Blocks{BlockSet: blocks}}}
	}
	return text, blocks, nil
}

// msgOptions are the chat.postMessage and chat.update options showing m.
func (a *Adapter) msgOptions(m bot.Message) []slackapi.MsgOption {
	text, blocks, attachments := a.layout(m)
	return []slackapi.MsgOption{slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionAttachments(attachments...)}
}

// button renders one bot button with its style and confirm dialog.
func (a *Adapter) button(b bot.Button, i int) *slackapi.ButtonBlockElement {
	label := b.Label
	if label == "" {
		label = b.Action
	}
	el := slackapi.NewButtonBlockElement(actionID(b.Action, i), truncate(b.Value, maxButtonValue), plainText(truncate(label, maxButtonText)))
	style := slackapi.Style("")
	switch b.Style {
	case "primary":
		style = slackapi.StylePrimary
	case "danger":
		style = slackapi.StyleDanger
	}
	if style != "" {
		el = el.WithStyle(style)
	}
	if b.Confirm != "" {
		c := slackapi.NewConfirmationBlockObject(plainText(a.label("confirm.title")), mrkdwnText(truncate(mrkdwn(b.Confirm), maxConfirm)),
			plainText(truncate(label, 30)), plainText(a.label("cancel")))
		if style == slackapi.StyleDanger {
			c = c.WithStyle(slackapi.StyleDanger)
		}
		el = el.WithConfirm(c)
	}
	return el
}

// fallback is the notification text: title and the first line of text.
func fallback(m bot.Message, warn bool) string {
	first, _, _ := strings.Cut(strings.TrimSpace(m.Text), "\n")
	parts := []string{}
	for _, p := range []string{strings.TrimSpace(m.Title), first} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := mrkdwn(strings.Join(parts, " — "))
	if warn {
		s = "⚠ " + s
	}
	if s == "" {
		s = " "
	}
	return truncate(s, maxFallback)
}
