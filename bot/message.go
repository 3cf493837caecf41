// Package bot is the chat front: it turns platform-neutral events into
// core calls and core results into platform-neutral messages. It parses
// commands (English words and Chinese aliases), resolves who is asking,
// renders notices and replies in zh-CN or English, and is the one place
// where errors become user replies.
package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"opsbot/chart"
	"opsbot/core"
)

// Message statuses.
const (
	StatusOK     = "ok"
	StatusError  = "error"
	StatusNotice = "notice"
)

// Message is what the bot wants shown; adapters render it.
type Message struct {
	Ref     string   `json:"ref"`
	Status  string   `json:"status"`
	Title   string   `json:"title"`
	Text    string   `json:"text"`
	Fields  []Field  `json:"fields"`
	Buttons []Button `json:"buttons"`
	// Image is a PNG shown with the message (the digest's chart); on the
	// webchat API it is base64 in "image".
	Image []byte `json:"image,omitempty"`
	// Level is the incident level (1–4) a card is about, 0 for none: its
	// severity (SeverityOf) leads the title as an emoji and each adapter
	// shows its colour (a Slack attachment, a WeCom card's source line,
	// the web chat card's edge).
	Level int `json:"level,omitempty"`
	// Secret is a credential the message carries in its text (the token of
	// a personal sign-in link). It is delivered once, to whom the reply is
	// for; every stored copy (webchat history, held messages) is Redacted.
	// It never goes on the wire.
	Secret string `json:"-"`
}

// Severity is how cards show an incident level: a colour and an emoji.
type Severity struct {
	Level int    `json:"level"`
	Color string `json:"color"` // CSS hex colour
	Emoji string `json:"emoji"`
	Roman string `json:"roman"` // Ⅰ–Ⅳ
}

// levelEmoji leads the title of a card about an incident of level I–IV:
// red, orange, yellow, blue, as chart.LevelColors colours them.
var (
	levelEmoji = [4]string{"🔴", "🟠", "🟡", "🔵"}
	levelRoman = [4]string{"Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"}
)

// SeverityOf is the severity of incident level 1–4; ok is false for any
// other level (a card about no incident).
func SeverityOf(level int) (s Severity, ok bool) {
	if level < 1 || level > len(levelEmoji) {
		return Severity{}, false
	}
	return Severity{Level: level, Color: chart.LevelColors[level-1], Emoji: levelEmoji[level-1], Roman: levelRoman[level-1]}, true
}

// Leveled returns m as a card about an incident of level: Level set and
// the level's emoji leading the title. An unknown level leaves m as it is.
func (m Message) Leveled(level int) Message {
	s, ok := SeverityOf(level)
	if !ok {
		return m
	}
	m.Level = level
	if m.Title != "" {
		m.Title = s.Emoji + " " + m.Title
	}
	return m
}

// LevelOfTitle is the level whose emoji leads title (0 for none): how a
// stored card, which keeps its title but no level, gets its level back.
func LevelOfTitle(title string) int {
	for i, e := range levelEmoji {
		if strings.HasPrefix(title, e+" ") {
			return i + 1
		}
	}
	return 0
}

// Redaction replaces a message's secret in every stored copy.
const Redaction = "[redacted]"

// Redacted returns m as it may be stored: its secret replaced by
// Redaction wherever it appears (title, text, fields, buttons) and the
// Secret flag cleared. A message without a secret comes back unchanged.
func (m Message) Redacted() Message {
	if m.Secret == "" {
		return m
	}
	hide := func(s string) string { return strings.ReplaceAll(s, m.Secret, Redaction) }
	out := m
	out.Secret = ""
	out.Title, out.Text = hide(m.Title), hide(m.Text)
	if m.Fields != nil {
		out.Fields = make([]Field, len(m.Fields))
		for i, f := range m.Fields {
			out.Fields[i] = Field{Name: hide(f.Name), Value: hide(f.Value)}
		}
	}
	if m.Buttons != nil {
		out.Buttons = make([]Button, len(m.Buttons))
		for i, b := range m.Buttons {
			b.Value, b.Label, b.Confirm = hide(b.Value), hide(b.Label), hide(b.Confirm)
			out.Buttons[i] = b
		}
	}
	return out
}

// Field is a name/value row of a card.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Button is an action a person can tap. Value is an opaque reference the
// bot re-checks on click, never trusted data.
type Button struct {
	Action  string `json:"action"`
	Value   string `json:"value"`
	Label   string `json:"label"`
	Style   string `json:"style"`
	Confirm string `json:"confirm"`
}

// Event is one thing that happened on a platform: a text message or a
// button click.
type Event struct {
	Platform  string
	UserRef   string // platform user id (the org user id on webchat)
	Channel   string // neutral channel name, "" for a direct conversation
	Text      string // the command; on an action event, an optional reason or note
	Action    string
	Value     string
	MessageID string
}

// Sender delivers messages on one platform.
type Sender interface {
	// Platform names the platform, e.g. "webchat".
	Platform() string
	// Send delivers m to a platform address: to.User is the platform's
	// user id, to.Channel the platform's channel address.
	Send(ctx context.Context, to core.Recipient, m Message) error
}

// Updater is a Sender that can replace the cards it sent about a ref
// (buttons gone, outcome shown) after a decision.
type Updater interface {
	Update(ctx context.Context, ref string, m Message) error
}

// Address turns a neutral recipient and its platform address into the
// recipient a Sender expects.
func Address(to core.Recipient, platformAddr string) core.Recipient {
	if to.Channel != "" {
		return core.Recipient{Channel: platformAddr}
	}
	return core.Recipient{User: platformAddr}
}

// PermanentError is a delivery failure no retry can mend.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// RetryAfterError is a failure the platform asked to retry after a delay.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s: %v", e.After, e.Err) }

// Unwrap returns the cause.
func (e *RetryAfterError) Unwrap() error { return e.Err }
