package wecom

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"opsbot/bot"
)

// WeCom size limits (message/send, appchat/send, webhook/send and the
// template card fields). Card text limits are WeCom's suggestions; longer
// text is cut with an ellipsis so the card stays readable.
const (
	maxTextBytes        = 2048 // text and markdown of message/send and appchat/send
	maxRobotBytes       = 4096 // markdown of webhook/send
	maxKeyBytes         = 1024 // button key
	maxCardButtons      = 6
	maxCardFields       = 6
	maxCardTitleRunes   = 26
	maxCardSubRunes     = 112
	maxCardKeyRunes     = 10
	maxCardValueRunes   = 26
	maxButtonTextRunes  = 10
	maxReplaceTextRunes = 10
)

// keySep separates a button's action from its value in the card key.
const keySep = "|"

// Message types of message/send.
const (
	msgText     = "text"
	msgMarkdown = "markdown"
	msgCard     = "template_card"
)

// textBody is the content of a text or markdown message.
type textBody struct {
	Content string `json:"content"`
}

// sendRequest is a message/send body. agentid is an integer, as WeCom
// documents it (the library's common part sends it as a string).
type sendRequest struct {
	ToUser       string        `json:"touser"`
	MsgType      string        `json:"msgtype"`
	AgentID      int64         `json:"agentid"`
	Text         *textBody     `json:"text,omitempty"`
	Markdown     *textBody     `json:"markdown,omitempty"`
	TemplateCard *templateCard `json:"template_card,omitempty"`
}

// appchatRequest is an appchat/send body.
type appchatRequest struct {
	ChatID   string    `json:"chatid"`
	MsgType  string    `json:"msgtype"`
	Text     *textBody `json:"text,omitempty"`
	Markdown *textBody `json:"markdown,omitempty"`
	Safe     int       `json:"safe"`
}

// robotRequest is a webhook/send body.
type robotRequest struct {
	MsgType  string    `json:"msgtype"`
	Markdown *textBody `json:"markdown,omitempty"`
}

// updateCardRequest is a message/update_template_card body.
type updateCardRequest struct {
	UserIDs      []string      `json:"userids,omitempty"`
	AgentID      int64         `json:"agentid"`
	ResponseCode string        `json:"response_code"`
	TemplateCard *templateCard `json:"template_card"`
}

// templateCard is a button_interaction template card.
type templateCard struct {
	CardType              string       `json:"card_type"`
	Source                *cardSource  `json:"source,omitempty"`
	MainTitle             cardTitle    `json:"main_title"`
	SubTitleText          string       `json:"sub_title_text,omitempty"`
	HorizontalContentList []cardField  `json:"horizontal_content_list,omitempty"`
	TaskID                string       `json:"task_id,omitempty"`
	ButtonList            []cardButton `json:"button_list"`
	ReplaceText           string       `json:"replace_text,omitempty"`
}

// cardSource is the line above a card's title; WeCom colours its text
// grey (0), black (1), red (2) or green (3), nothing else.
type cardSource struct {
	Desc      string `json:"desc"`
	DescColor int    `json:"desc_color"`
}

// Source line colours.
const (
	descBlack = 1
	descRed   = 2
)

// severitySource is the source line of a card about an incident level:
// the level's emoji and numeral, red for levels I and II, black for III
// and IV (WeCom has no orange, yellow or blue). Nil for no level.
func severitySource(level int) *cardSource {
	s, ok := bot.SeverityOf(level)
	if !ok {
		return nil
	}
	color := descBlack
	if level <= 2 {
		color = descRed
	}
	return &cardSource{Desc: s.Emoji + " " + s.Roman, DescColor: color}
}

type cardTitle struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

type cardField struct {
	KeyName string `json:"keyname"`
	Value   string `json:"value,omitempty"`
	Type    int    `json:"type,omitempty"` // 1: the value opens URL (a console link)
	URL     string `json:"url,omitempty"`
}

type cardButton struct {
	Text  string `json:"text"`
	Style int    `json:"style,omitempty"`
	Key   string `json:"key"`
}

// Button styles: WeCom knows 1–4 (1 is its default).
func buttonStyle(style string) int {
	switch style {
	case "primary":
		return 1
	case "danger":
		return 2
	}
	return 4
}

// ButtonKey is the card button key for a bot button: action|value.
func ButtonKey(b bot.Button) (string, error) {
	if strings.Contains(b.Action, keySep) {
		return "", fmt.Errorf("wecom: button action %q contains %q", b.Action, keySep)
	}
	key := b.Action + keySep + b.Value
	if len(key) > maxKeyBytes {
		return "", fmt.Errorf("wecom: button key for %s is %d bytes, over WeCom's %d", b.Action, len(key), maxKeyBytes)
	}
	return key, nil
}

// ParseButtonKey splits a card button key into action and value.
func ParseButtonKey(key string) (action, value string, ok bool) {
	action, value, ok = strings.Cut(key, keySep)
	return action, value, ok && action != ""
}

// newTaskID returns a fresh card task id: letters, digits and "-" only,
// well under WeCom's 128 bytes.
func newTaskID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "opsbot-" + hex.EncodeToString(b[:])
}

// cut shortens s to at most n runes, ending with "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cutBytes shortens s to at most n bytes on a rune boundary, ending with
// "…" when cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	s = s[:n-len(ell)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ell
}

// plain reports whether m is just text: no title, fields or buttons.
func plain(m bot.Message) bool {
	return m.Title == "" && len(m.Fields) == 0 && len(m.Buttons) == 0
}

// markdown renders m as WeCom markdown. hint, when not empty, lists the
// buttons for places where they cannot be tapped.
func markdown(m bot.Message, hint string) string {
	var b strings.Builder
	if m.Title != "" {
		if m.Status == bot.StatusError || m.Level == 1 || m.Level == 2 {
			fmt.Fprintf(&b, "**<font color=\"warning\">%s</font>**\n", m.Title)
		} else {
			fmt.Fprintf(&b, "**%s**\n", m.Title)
		}
	}
	if m.Text != "" {
		b.WriteString(m.Text)
		b.WriteString("\n")
	}
	for _, f := range m.Fields {
		if isURL(f.Value) {
			fmt.Fprintf(&b, "> %s：[%s](%s)\n", f.Name, f.Value, f.Value)
			continue
		}
		fmt.Fprintf(&b, "> %s：<font color=\"comment\">%s</font>\n", f.Name, f.Value)
	}
	if hint != "" && len(m.Buttons) > 0 {
		labels := make([]string, len(m.Buttons))
		for i, btn := range m.Buttons {
			labels[i] = btn.Label
		}
		fmt.Fprintf(&b, "<font color=\"comment\">%s%s</font>\n", hint, strings.Join(labels, " / "))
	}
	return strings.TrimRight(b.String(), "\n")
}

// card renders m as a button_interaction template card. With no buttons
// (a decided card) the button area shows done as a grey label.
func card(m bot.Message, taskID, done string) (*templateCard, error) {
	c := &templateCard{CardType: "button_interaction", TaskID: taskID, Source: severitySource(m.Level)}
	c.MainTitle.Title = cut(m.Title, maxCardTitleRunes)
	sub := m.Text
	fields := m.Fields
	if len(fields) > maxCardFields {
		keep := maxCardFields
		var link []bot.Field
		if last := fields[len(fields)-1]; isURL(last.Value) {
			keep, link = maxCardFields-1, []bot.Field{last} // the console link stays a field
			fields = fields[:len(fields)-1]
		}
		for _, f := range fields[keep:] {
			sub += "\n" + f.Name + "：" + f.Value
		}
		fields = append(fields[:keep:keep], link...)
	}
	c.SubTitleText = cut(strings.TrimSpace(sub), maxCardSubRunes)
	if c.MainTitle.Title == "" && c.SubTitleText == "" {
		return nil, errors.New("wecom: a card needs a title or text")
	}
	for _, f := range fields {
		cf := cardField{KeyName: cut(f.Name, maxCardKeyRunes), Value: cut(f.Value, maxCardValueRunes)}
		if isURL(f.Value) {
			cf.Type, cf.URL = 1, f.Value
		}
		c.HorizontalContentList = append(c.HorizontalContentList, cf)
	}
	buttons := m.Buttons
	if len(buttons) > maxCardButtons {
		return nil, fmt.Errorf("wecom: %d buttons, a card holds at most %d", len(buttons), maxCardButtons)
	}
	for _, btn := range buttons {
		key, err := ButtonKey(btn)
		if err != nil {
			return nil, err
		}
		c.ButtonList = append(c.ButtonList, cardButton{Text: cut(btn.Label, maxButtonTextRunes), Style: buttonStyle(btn.Style), Key: key})
	}
	if len(buttons) == 0 {
		label := cut(done, maxReplaceTextRunes)
		c.ButtonList = []cardButton{{Text: label, Key: "opsbot" + keySep + "done"}}
		c.ReplaceText = label
	}
	return c, nil
}

// splitButtons groups buttons, in order, into the cards that carry them:
// at most maxCardButtons each. Neighbours that share a value (the OK and
// Issue buttons of one checklist item, Approve and Reject of one request)
// stay on one card.
func splitButtons(bs []bot.Button) [][]bot.Button {
	var out [][]bot.Button
	var cur []bot.Button
	for i := 0; i < len(bs); {
		j := i + 1
		for j < len(bs) && bs[j].Value == bs[i].Value {
			j++
		}
		group := bs[i:j]
		if len(cur) > 0 && len(cur)+len(group) > maxCardButtons {
			out, cur = append(out, cur), nil
		}
		for len(group) > maxCardButtons { // a group no card holds whole
			out, group = append(out, group[:maxCardButtons]), group[maxCardButtons:]
		}
		cur = append(cur, group...)
		i = j
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// cardCount is how many cards m is sent as to a member.
func cardCount(m bot.Message) int {
	return max(1, len(splitButtons(m.Buttons)))
}

// cardPart renders card part (0-based) of m. WeCom cards hold at most 6
// buttons, so a message with more is sent as several cards: the first
// shows the title, text and fields, the others the title only; each
// carries its share of the buttons (splitButtons) and, when there are
// several, "k/n" beside the title. An update renders each stored part
// the same way, so a decision reaches every card; a part beyond the
// buttons left shows done.
func cardPart(m bot.Message, part int, taskID, done string) (*templateCard, error) {
	chunks := splitButtons(m.Buttons)
	pm := m
	if part > 0 {
		pm = bot.Message{Status: m.Status, Title: m.Title, Level: m.Level}
		if pm.Title == "" {
			pm.Title = m.Text
		}
	}
	pm.Buttons = nil
	if part < len(chunks) {
		pm.Buttons = chunks[part]
	}
	c, err := card(pm, taskID, done)
	if err != nil {
		return nil, err
	}
	if len(chunks) > 1 && part < len(chunks) {
		c.MainTitle.Desc = fmt.Sprintf("%d/%d", part+1, len(chunks))
	}
	return c, nil
}

// rest is what is left of m once its first sent cards went out: a card
// message with the buttons of the other parts.
func rest(m bot.Message, sent int) bot.Message {
	var buttons []bot.Button
	for _, chunk := range splitButtons(m.Buttons)[sent:] {
		buttons = append(buttons, chunk...)
	}
	title := m.Title
	if title == "" {
		title = m.Text
	}
	return bot.Message{Ref: m.Ref, Status: m.Status, Title: title, Buttons: buttons}
}

// userMessages renders m for message/send to one member: cards when it
// has buttons (several when it has more than a card holds), text when it
// is just text, markdown otherwise.
func (a *Adapter) userMessages(userID string, m bot.Message) ([]*sendRequest, error) {
	if len(m.Buttons) == 0 {
		req := &sendRequest{ToUser: userID, AgentID: a.cfg.AgentID}
		if plain(m) {
			req.MsgType, req.Text = msgText, &textBody{Content: cutBytes(m.Text, maxTextBytes)}
		} else {
			req.MsgType, req.Markdown = msgMarkdown, &textBody{Content: cutBytes(markdown(m, ""), maxTextBytes)}
		}
		return []*sendRequest{req}, nil
	}
	n := cardCount(m)
	reqs := make([]*sendRequest, n)
	for i := range n {
		c, err := cardPart(m, i, newTaskID(), a.cfg.DoneLabel)
		if err != nil {
			return nil, err
		}
		reqs[i] = &sendRequest{ToUser: userID, AgentID: a.cfg.AgentID, MsgType: msgCard, TemplateCard: c}
	}
	return reqs, nil
}

// chatMessage renders m for a group chat: buttons become a hint, as
// appchat/send has no interactive cards.
func (a *Adapter) chatMessage(chatID string, m bot.Message) *appchatRequest {
	if plain(m) {
		return &appchatRequest{ChatID: chatID, MsgType: msgText, Text: &textBody{Content: cutBytes(m.Text, maxTextBytes)}}
	}
	return &appchatRequest{ChatID: chatID, MsgType: msgMarkdown, Markdown: &textBody{Content: cutBytes(markdown(m, a.cfg.ButtonHint), maxTextBytes)}}
}

// robotMessage renders m for a group robot (markdown, buttons as a hint).
func (a *Adapter) robotMessage(m bot.Message) *robotRequest {
	return &robotRequest{MsgType: msgMarkdown, Markdown: &textBody{Content: cutBytes(markdown(m, a.cfg.ButtonHint), maxRobotBytes)}}
}

// isURL reports whether a field's value is a bare http(s) link (the
// console link bot.ConsoleLink adds), which cards make clickable.
func isURL(v string) bool {
	return (strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")) && !strings.ContainsAny(v, " \n")
}
