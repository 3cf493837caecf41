// Package chat holds the records chat platforms keep in storage: the cards
// sent on a platform (so they can be updated later), the messages a
// platform's rate limit held back, and the stored webchat messages.
//
// They are plain data shared by the adapters that fill them and the
// storage that keeps them, so neither imports the other (DESIGN §11:
// storage imports core only, adapters never import storage). A message's
// content is opaque here: adapters encode bot messages into these records
// and decode them back; storage keeps the bytes.
package chat

import (
	"encoding/json"
	"time"
)

// PlatformMessage is one card sent on a chat platform, kept so it can be
// updated later. Data is the adapter's own JSON (WeCom: task_id and
// response_code; Slack: channel and ts).
type PlatformMessage struct {
	ID        int64
	Platform  string
	Ref       string
	Address   string
	Data      json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// HeldMessage is a message a platform's rate limit held back; Body is the
// adapter's own JSON of the message.
type HeldMessage struct {
	ID        int64
	Address   string
	Body      json.RawMessage
	CreatedAt time.Time
}

// WebchatMessage is a stored webchat message: its address, its place in
// the inbox sequence and its content. Seq is bumped on every update, so an
// inbox cursor also returns updated cards.
type WebchatMessage struct {
	ID        int64
	Seq       int64
	Revision  int
	ToUser    string
	ToChannel string
	Content   WebchatContent
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WebchatContent is what a webchat message shows. Fields and Buttons are
// JSON arrays encoded by the webchat adapter ("[]" when empty).
type WebchatContent struct {
	Status  string
	Ref     string
	Title   string
	Text    string
	Fields  json.RawMessage
	Buttons json.RawMessage
	Image   []byte
}
