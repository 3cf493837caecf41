// Package paging pages people beyond chat — SMS, voice call, e-mail and a
// generic webhook (a government SMS gateway) — so that a level I/II
// incident at night wakes someone (M 7.3.2.1, W 8.1 b).
//
// This file is the contract between the paging service (contacts,
// notification rules, steps, rate limits, acknowledgements) and the
// providers in adapters/paging, which implement Provider and report
// acknowledgements that come back through them to an Acker.
package paging

import (
	"context"
	"errors"
	"time"
)

// Method is how a page reaches a person.
type Method string

// Methods.
const (
	MethodChat    Method = "chat"    // the person's chat platforms (the incident card)
	MethodSMS     Method = "sms"     // a text message to a mobile number
	MethodVoice   Method = "voice"   // a voice call to a mobile number
	MethodEmail   Method = "email"   // an e-mail
	MethodWebhook Method = "webhook" // a generic HTTP gateway (e.g. a government SMS gateway)
)

// Kind is what a page is about.
type Kind string

// Kinds.
const (
	KindIncident Kind = "incident" // an incident needs acknowledging
	KindVerify   Kind = "verify"   // a verification code for a new contact method
)

// Page is one message to one person by one method.
type Page struct {
	// Key is the page's idempotency key: a provider that honours one (the
	// webhook, e-mail's Message-ID, Aliyun's OutId) gets it, and a retry of
	// the same page carries the same key.
	Key        string
	Kind       Kind
	Method     Method
	Address    string // mobile number (11-digit mainland or +86…), e-mail address, or webhook target
	UserID     string
	Name       string // the person's display name
	Lang       string // the person's language (zh-CN, en)
	IncidentID int64
	Level      int    // 1–4 (Ⅰ–Ⅳ)
	Title      string // the incident's title
	Code       string // KindVerify: the verification code
	AckURL     string // KindIncident: the one-time acknowledge link (e-mail, webhook)
	AckReply   string // KindIncident: what to reply to the SMS / press in the call to acknowledge, e.g. "1"
	Subject    string // rendered subject / first line, in Lang
	Text       string // rendered plain text, in Lang
	HTML       string // rendered HTML (e-mail), in Lang
	At         time.Time
}

// Receipt is what a provider answered for a page it accepted.
type Receipt struct {
	Provider  string // aliyun, tencent, smtp, webhook
	MessageID string // the provider's id of the message (BizId, SerialNo, CallId, Message-ID …)
	Status    string // the provider's status word, as given
}

// Provider sends pages by some methods. Send returns a PermanentError for
// what a retry cannot fix (a refused number, a template not approved): the
// paging service then falls back to the person's next method. Any other
// error is retried with backoff, with the same Page.Key.
type Provider interface {
	Name() string
	Methods() []Method
	Send(ctx context.Context, p Page) (Receipt, error)
}

// PermanentError wraps a provider error that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "paging: permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// Reply is something that came back through a provider: an SMS reply, a
// key pressed in a voice call.
type Reply struct {
	Provider  string // aliyun, tencent, webhook
	Method    Method // sms or voice
	From      string // the mobile number it came from (as the provider gives it)
	Text      string // the reply's text or the key pressed
	MessageID string // the receipt id of the page it answers, when the provider gives it (voice)
	At        time.Time
}

// Acker takes acknowledgements that come back through pages (the paging
// service implements it; the providers' callback handlers call it). Each
// acknowledges an incident at most once and is audited; a second use of a
// one-time link is refused (core.ErrAlreadyDecided).
type Acker interface {
	AckReply(ctx context.Context, r Reply) error
	AckLink(ctx context.Context, token string) error
}
