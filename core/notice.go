package core

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Payload is the typed content of a notice: one struct per kind of thing
// a person must hear about (incident.Declared, backup.Failed …). Its JSON
// is what the outbox stores; the bot renders it with a type switch.
type Payload interface {
	// NoticeType names the payload in the outbox, e.g. "backup.missing".
	// Types starting "update." replace the cards already sent about the
	// notice's Ref instead of going to a recipient.
	NoticeType() string
}

// Versioned is implemented by payloads whose JSON shape changed; the
// outbox stores the version so old rows decode the old way. Payloads
// without it are version 1. Version 0 is the string map written before
// notices were typed.
type Versioned interface {
	NoticeVersion() int
}

// PayloadVersion returns the version a payload is stored under.
func PayloadVersion(p Payload) int {
	if v, ok := p.(Versioned); ok {
		return v.NoticeVersion()
	}
	return 1
}

// Notice is something a person must hear about, written to the outbox in
// the transaction that caused it and rendered later by the bot.
type Notice struct {
	Ref  string    // entity it is about, e.g. "user:zhangsan"
	To   Recipient // one recipient per notice; none for updates
	Body Payload   // what happened
}

// Type returns the notice's type name ("" without a body).
func (n Notice) Type() string {
	if n.Body == nil {
		return ""
	}
	return n.Body.NoticeType()
}

// IsUpdate reports whether a notice type replaces the cards already sent
// about its Ref (types "update.…"), rather than going to a recipient.
func IsUpdate(typ string) bool { return strings.HasPrefix(typ, "update.") }

// StoredNotice is a notice as the outbox keeps it: the type name, the
// payload version and its JSON, decoded by whoever renders it.
type StoredNotice struct {
	Type    string
	Version int
	Ref     string
	To      Recipient
	Payload json.RawMessage
}

// Encode turns a notice into its stored form.
func (n Notice) Encode() (StoredNotice, error) {
	if n.Body == nil {
		return StoredNotice{}, fmt.Errorf("notice about %q has no payload", n.Ref)
	}
	raw, err := json.Marshal(n.Body)
	if err != nil {
		return StoredNotice{}, fmt.Errorf("notice %s: %w", n.Type(), err)
	}
	return StoredNotice{Type: n.Type(), Version: PayloadVersion(n.Body), Ref: n.Ref, To: n.To, Payload: raw}, nil
}

// Delivery is an outbox notice being delivered, with what went out so far.
type Delivery struct {
	ID                 int64
	Notice             StoredNotice
	CreatedAt          time.Time
	Attempts           int
	DeliveredPlatforms []string
}
