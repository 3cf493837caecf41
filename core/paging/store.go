package paging

import (
	"context"
	"time"

	"opsbot/core"
)

// Contact kinds: a mobile number serves SMS, voice and the webhook
// gateway; an e-mail address serves e-mail.
const (
	ContactMobile = "mobile"
	ContactEmail  = "email"
)

// Contact is one verified (or being verified) way to reach a person.
type Contact struct {
	ID          int64     `json:"id"`
	UserID      string    `json:"user"`
	Kind        string    `json:"kind"` // ContactMobile, ContactEmail
	Value       string    `json:"value"`
	Verified    bool      `json:"verified"`
	CodeHash    string    `json:"-"`
	CodeExpires time.Time `json:"-"`
	Attempts    int       `json:"attempts,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Profile is a person's contacts and quiet hours.
type Profile struct {
	UserID   string
	Quiet    string // "22:00-07:00", "" for none
	Contacts []Contact
}

// Page statuses.
const (
	StatusSending     = "sending"
	StatusRetrying    = "retrying"
	StatusSent        = "sent"
	StatusFailed      = "failed"
	StatusRateLimited = "rate_limited"
	StatusQuiet       = "quiet"
	StatusNoContact   = "no_contact"
)

// Record is a page as stored: what was sent to whom and what became of it.
type Record struct {
	ID         int64      `json:"id"`
	Key        string     `json:"key"`
	IncidentID int64      `json:"incident"`
	UserID     string     `json:"user"`
	Step       int        `json:"step"`
	Method     Method     `json:"method"`
	Address    string     `json:"address,omitempty"`
	Level      int        `json:"level"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	Provider   string     `json:"provider,omitempty"`
	MessageID  string     `json:"message_id,omitempty"`
	Attempts   int        `json:"attempts"`
	Error      string     `json:"error,omitempty"`
	At         time.Time  `json:"at"`
	AckedAt    *time.Time `json:"acked_at,omitempty"`
}

// Filter selects pages; zero fields match all.
type Filter struct {
	Key        string
	IncidentID int64
	UserID     string
	Address    string
	MessageID  string
	Methods    []Method
	Statuses   []string
	Since      time.Time
	Limit      int // newest first
}

// Token is a one-time acknowledge link, stored by its hash.
type Token struct {
	Hash       string
	PageID     int64
	IncidentID int64
	UserID     string
	Expires    time.Time
	UsedAt     *time.Time
}

// Tx is what the paging service does in a transaction.
type Tx interface {
	core.Tx
	Users
	// Profile reads a person's contacts and quiet hours.
	Profile(ctx context.Context, user string) (Profile, error)
	// SaveContact inserts (ID 0, setting it) or updates a contact.
	SaveContact(ctx context.Context, c *Contact) error
	DeleteContact(ctx context.Context, id int64) error
	SetQuiet(ctx context.Context, user, quiet string) error
	// SavePage inserts (ID 0, setting it) or updates a page; an insert
	// whose key is stored already inserts nothing and returns false.
	SavePage(ctx context.Context, p *Record) (bool, error)
	FindPages(ctx context.Context, f Filter) ([]Record, error)
	PutToken(ctx context.Context, t Token) error
	// UseToken marks the token with hash used at now when it is unused,
	// returning it and whether this call used it (not found: core.ErrNotFound).
	UseToken(ctx context.Context, hash string, now time.Time) (Token, bool, error)
	// HoldIncident takes the lock on incident id that storing its pages
	// takes (their foreign key), before a timer about it is claimed: the
	// one lock order, incident then timers (core.Fire).
	HoldIncident(ctx context.Context, id int64) error
}

// Store runs paging transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
