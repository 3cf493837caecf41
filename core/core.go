package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Clock tells the time. Core logic never calls time.Now directly.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Platform names where an action came from.
const (
	PlatformWebchat = "webchat"
	PlatformWeCom   = "wecom"
	PlatformSlack   = "slack"
	PlatformSystem  = "system"
	PlatformAPI     = "api"
)

// SystemUser is the actor id used for changes opsbot makes by itself
// (bootstrap, demo data, timers).
const SystemUser = "system"

// Actor is who asks for something: an org user and the platform they used.
type Actor struct {
	UserID   string
	Name     string
	Platform string
	// Language is the language the user chose for replies ("" the
	// bot's default, bot.language).
	Language string
}

// SystemActor returns the actor for opsbot's own changes.
func SystemActor() Actor {
	return Actor{UserID: SystemUser, Name: "opsbot", Platform: PlatformSystem}
}

// Recipient is whom a notice is for: one org user or one named channel.
type Recipient struct {
	User    string `json:"user,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// String returns "user:<id>" or "channel:<name>".
func (r Recipient) String() string {
	if r.Channel != "" {
		return "channel:" + r.Channel
	}
	return "user:" + r.User
}

// AuditEntry is one append-only record of a state change.
type AuditEntry struct {
	Seq      int64
	At       time.Time
	Actor    string
	Platform string
	Action   string // e.g. "org.unit.add"
	Entity   string // e.g. "unit:dc-edu"
	Before   string // JSON of the state before, "" when created
	After    string // JSON of the state after, "" when removed
	PrevHash string
	Hash     string
}

// Change is the audit entry of actor's action on entity at at, with the
// entity's state before (nil when created) and after (nil when removed),
// as JSON.
func Change(at time.Time, actor Actor, action, entity string, before, after any) AuditEntry {
	e := AuditEntry{At: at, Actor: actor.UserID, Platform: actor.Platform, Action: action, Entity: entity}
	if before != nil {
		b, _ := json.Marshal(before)
		e.Before = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.After = string(b)
	}
	return e
}

// Record audits actor's action on entity in the transaction rec: the one
// way domains write audit entries (before, then after).
func Record(ctx context.Context, rec Recorder, at time.Time, actor Actor, action, entity string, before, after any) error {
	return rec.Audit(ctx, Change(at, actor, action, entity, before, after))
}

// Recorder is what every domain transaction can do besides its own rows:
// append audit entries and queue notices, both committed with the change.
type Recorder interface {
	Audit(ctx context.Context, e AuditEntry) error
	Notify(ctx context.Context, n Notice) error
}

// ErrNotReady means a delivery must wait for an earlier one (a card
// update for a card not delivered yet, or an earlier notice to the same
// person or channel); it is retried shortly, not failed.
var ErrNotReady = errors.New("not ready")

// Timer is something due at a time: a reminder, an escalation step, a
// deadline. Its due time lives in the store; the queue only triggers it.
type Timer struct {
	ID    int64
	Kind  string // the task type that fires it, e.g. "approval:remind"
	Ref   string // entity it is about, e.g. "request:42"
	DueAt time.Time
	Data  map[string]string
}

// RefID reads the number after prefix in the timer's ref ("ticket:" in
// "ticket:42" gives 42), or says which timer's ref does not have one.
func (t Timer) RefID(prefix string) (int64, error) {
	var id int64
	if _, err := fmt.Sscanf(t.Ref, prefix+"%d", &id); err != nil {
		return 0, fmt.Errorf("timer %d (%s) has ref %q, not %s<id>: %w", t.ID, t.Kind, t.Ref, prefix, err)
	}
	return id, nil
}

// Tx is what every domain's transaction port starts from: audit entries,
// notices and timers, all committed with the change.
type Tx interface {
	Recorder
	Timers
}

// Fire claims timer id in a transaction run by inTx and, when it was due
// and neither cancelled nor fired already, runs fn with it: the one way
// domains handle a timer that came due.
//
// Every path takes row locks in one global order (an alert group,
// then its incident, then timers, then the outbox and audit inserts), so
// none can wait for another in a cycle. A handler that locks the entity
// its timer is about passes lock: it runs first, with the timer read but
// not locked, and takes those locks; only then is the timer claimed (the
// guarded update still fires it once; lock must change nothing). A
// handler without lock claims first and locks its entity in fn; that is
// safe too, because a change that holds the entity never waits for the
// timer row (Timers.CancelTimers skips a timer being fired).
func Fire[T Timers](ctx context.Context, inTx func(ctx context.Context, fn func(tx T) error) error, id int64, now time.Time,
	fn func(tx T, t Timer) error, lock ...func(tx T, t Timer) error) error {
	return inTx(ctx, func(tx T) error {
		if len(lock) > 0 {
			pt, ok := any(tx).(PendingTimers)
			if !ok {
				return fmt.Errorf("core: timer %d: %T cannot read a timer before claiming it", id, tx)
			}
			t, ok, err := pt.PendingTimer(ctx, id, now)
			if err != nil || !ok {
				return err
			}
			for _, l := range lock {
				if err := l(tx, t); err != nil {
					return err
				}
			}
		}
		t, ok, err := tx.ClaimTimer(ctx, id, now)
		if err != nil || !ok {
			return err
		}
		return fn(tx, t)
	})
}

// Timers is what a transaction can do with timers: schedule new ones,
// cancel pending ones, and claim one that fired (once).
type Timers interface {
	Schedule(ctx context.Context, t Timer) error
	// CancelTimers cancels the pending timers of kind about ref ("" kind:
	// all). One a handler is firing at that moment is left to fire (it came
	// due before the change; the handler reads its entity after the change),
	// so a change never waits for a timer's handler.
	CancelTimers(ctx context.Context, ref, kind string) error
	// ClaimTimer marks a pending timer due by now fired and returns it; ok is
	// false when it was cancelled, already fired or is not due.
	ClaimTimer(ctx context.Context, id int64, now time.Time) (t Timer, ok bool, err error)
}

// PendingTimers is what a transaction whose timer handlers lock their
// entity first (core.Fire's lock) can do besides Timers.
type PendingTimers interface {
	// PendingTimer reads a pending timer due by now without locking it (ok
	// false otherwise), so its entity can be locked before it is claimed.
	PendingTimer(ctx context.Context, id int64, now time.Time) (t Timer, ok bool, err error)
}
