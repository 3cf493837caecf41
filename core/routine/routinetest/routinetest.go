// Package routinetest holds what the unit tests of routines (backups,
// inspections) share: a clock moved by hand and an in-memory core.Tx
// whose timers fire in order, as the worker would fire them. Core serves
// the fakes of other domains too (tickets).
package routinetest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Clock is a clock moved by hand.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// At parses "2006-01-02 15:04" in loc; it panics on a malformed time
// (tests write them by hand).
func At(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// Timer is a scheduled timer and what became of it.
type Timer struct {
	core.Timer
	Fired, Cancelled bool
}

// Core is an in-memory core.Tx: the audit trail, the queued notices and
// the timers, kept across transactions.
type Core struct {
	Trail   []core.AuditEntry
	Notices []core.Notice
	Timers  []*Timer
}

// Audit appends an entry to the trail.
func (c *Core) Audit(_ context.Context, e core.AuditEntry) error {
	c.Trail = append(c.Trail, e)
	return nil
}

// Notify queues a notice.
func (c *Core) Notify(_ context.Context, n core.Notice) error {
	c.Notices = append(c.Notices, n)
	return nil
}

// Schedule adds a pending timer.
func (c *Core) Schedule(_ context.Context, t core.Timer) error {
	t.ID = int64(len(c.Timers) + 1)
	c.Timers = append(c.Timers, &Timer{Timer: t})
	return nil
}

// CancelTimers cancels the pending timers of kind ("" all) about ref.
func (c *Core) CancelTimers(_ context.Context, ref, kind string) error {
	for _, t := range c.Timers {
		if t.Ref == ref && (kind == "" || t.Kind == kind) && !t.Fired {
			t.Cancelled = true
		}
	}
	return nil
}

// ClaimTimer fires a pending timer due by now, once.
func (c *Core) ClaimTimer(_ context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	for _, t := range c.Timers {
		if t.ID == id {
			if t.Fired || t.Cancelled || t.DueAt.After(now) {
				return core.Timer{}, false, nil
			}
			t.Fired = true
			return t.Timer, true, nil
		}
	}
	return core.Timer{}, false, nil
}

// Pending lists the timers neither fired nor cancelled.
func (c *Core) Pending() []*Timer {
	var out []*Timer
	for _, t := range c.Timers {
		if !t.Fired && !t.Cancelled {
			out = append(out, t)
		}
	}
	return out
}

// Run fires every timer due up to end with fire, earliest first, moving
// the clock to each one's due time as the worker would run it, and leaves
// the clock at end.
func (c *Core) Run(clock *Clock, end time.Time, fire func(id int64) error) error {
	for {
		var next *Timer
		for _, t := range c.Pending() {
			if !t.DueAt.After(end) && (next == nil || t.DueAt.Before(next.DueAt)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		if next.DueAt.After(clock.T) {
			clock.T = next.DueAt
		}
		if err := fire(next.ID); err != nil {
			return err
		}
	}
	clock.T = end
	return nil
}

// Sent lists the notices queued so far as "type ref → recipient"
// ("(update)" for updates), and forgets them.
func (c *Core) Sent() []string {
	var out []string
	for _, n := range c.Notices {
		to := n.To.String()
		if n.To == (core.Recipient{}) {
			to = "(update)"
		}
		out = append(out, n.Type()+" "+n.Ref+" → "+to)
	}
	c.Notices = nil
	return out
}

// Actions lists the audit actions recorded so far.
func (c *Core) Actions() []string {
	var out []string
	for _, e := range c.Trail {
		out = append(out, e.Action)
	}
	return out
}

// Bodies returns the payloads of type T queued so far.
func Bodies[T core.Payload](c *Core) []T {
	var out []T
	for _, n := range c.Notices {
		if p, ok := n.Body.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// Sorted returns list sorted (for comparing sets of lines).
func Sorted(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}

// Org answers the org look-ups of routine ports: the holders of each
// role and the admins of each user (a user not listed is not in the org).
type Org struct {
	Holders map[org.Role][]string
	Admins  map[string][]string
}

// HoldersOf returns the users holding role.
func (o Org) HoldersOf(_ context.Context, r org.Role) ([]string, error) { return o.Holders[r], nil }

// AdminsOf returns a user's admins, core.ErrNotFound for a user not listed.
func (o Org) AdminsOf(_ context.Context, u string) ([]string, error) {
	as, ok := o.Admins[u]
	if !ok {
		return nil, fmt.Errorf("user %s: %w", u, core.ErrNotFound)
	}
	return as, nil
}

// Opener opens incidents (ids from 100) and records each with the
// transaction it was opened in.
type Opener struct{ Opened []Opened }

// Opened is an incident an Opener opened.
type Opened struct {
	incident.Incident
	Tx    core.Tx
	Actor string
}

// DeclareIn records the incident.
func (o *Opener) DeclareIn(_ context.Context, tx core.Tx, actor core.Actor, title string, level int, system, _ string) (incident.Incident, error) {
	inc := incident.Incident{ID: int64(100 + len(o.Opened)), Title: title, Level: level, System: system}
	o.Opened = append(o.Opened, Opened{Incident: inc, Tx: tx, Actor: actor.UserID})
	return inc, nil
}
