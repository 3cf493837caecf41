package chat

// Reply is a direct answer to a person (a command's or a click's reply)
// that their platform could not take at once — WeCom busy or throttling,
// a 5xx, a timeout. It is queued in the outbox as a notice of type
// "chat.reply", addressed to the person, carrying the message as the bot
// rendered it, so the outbox delivers it with its usual retries.
type Reply struct {
	// Platform is where the reply was first tried, e.g. "wecom".
	Platform string `json:"platform"`
	// Ref is the message's own ref ("" for a plain answer).
	Ref     string        `json:"ref,omitempty"`
	Status  string        `json:"status,omitempty"`
	Title   string        `json:"title,omitempty"`
	Text    string        `json:"text,omitempty"`
	Fields  []ReplyField  `json:"fields,omitempty"`
	Buttons []ReplyButton `json:"buttons,omitempty"`
	Image   []byte        `json:"image,omitempty"`
}

// NoticeType is "chat.reply".
func (Reply) NoticeType() string { return "chat.reply" }

// ReplyField is a name/value row of a reply.
type ReplyField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ReplyButton is a button of a reply card.
type ReplyButton struct {
	Action  string `json:"action"`
	Value   string `json:"value"`
	Label   string `json:"label"`
	Style   string `json:"style,omitempty"`
	Confirm string `json:"confirm,omitempty"`
}
