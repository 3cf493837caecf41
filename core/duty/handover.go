package duty

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// TimerHandoverCheck fires when an incoming person has not accepted a
// handover in time.
const TimerHandoverCheck = "duty:handover_check"

// HandoverGrace is how long an incoming person has to accept before a
// reminder; twice that and the rotation's admins are told.
const HandoverGrace = 30 * time.Minute

// Handover is one signed (or pending) change of shift.
type Handover struct {
	ID         int64      `json:"id"`
	Rotation   string     `json:"rotation"`
	ShiftStart time.Time  `json:"shift_start"`
	Outgoing   string     `json:"outgoing"`
	Incoming   string     `json:"incoming"`
	State      string     `json:"state"`
	Notes      string     `json:"notes,omitempty"`
	OpenItems  string     `json:"open_items,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
}

// Ref is the handover's entity reference; its cards use CardRef.
func (h Handover) Ref() string { return "handover:" + strconv.FormatInt(h.ID, 10) }

// CardRef names the handover's cards.
func (h Handover) CardRef() string { return h.Ref() + "#card" }

// HandoverTx is what handovers need inside one transaction: handovers,
// the rotations they follow, and the org look-ups User, Unit and Holders.
type HandoverTx interface {
	core.Tx
	// InsertHandover inserts h unless one exists for its rotation and shift
	// start; created is false then.
	InsertHandover(ctx context.Context, h *Handover) (created bool, err error)
	Handover(ctx context.Context, id int64, lock bool) (Handover, error)
	UpdateHandover(ctx context.Context, h Handover) error
	Handovers(ctx context.Context, rotation string, pendingOnly bool, limit int) ([]Handover, error)
	RosterTx
	User(ctx context.Context, id string) (org.User, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// HandoverStore runs handover work in transactions.
type HandoverStore interface {
	InTx(ctx context.Context, fn func(tx HandoverTx) error) error
}

// Backlog lists what an outgoing person hands over (the incident service:
// open incidents and pending requests), inside the handover's transaction.
type Backlog interface {
	Backlog(ctx context.Context, tx core.Tx) (string, error)
}

// Handovers runs shift handovers: a card to the outgoing and incoming
// people when a shift changes, notes, the incoming person's signature, a
// reminder after HandoverGrace and the rotation's admins after twice that.
type Handovers struct {
	store   HandoverStore
	clock   core.Clock
	cal     *calendar.Calendar
	backlog Backlog
}

// NewHandovers returns the handover service.
func NewHandovers(store HandoverStore, clock core.Clock, cal *calendar.Calendar, backlog Backlog) *Handovers {
	return &Handovers{store: store, clock: clock, cal: cal, backlog: backlog}
}

func (s *Handovers) notice(h Handover) HandoverNotice {
	return HandoverNotice{ID: h.ID, Rotation: h.Rotation, ShiftStart: h.ShiftStart, Outgoing: h.Outgoing, Incoming: h.Incoming,
		State: h.State, Notes: h.Notes, OpenItems: h.OpenItems, AcceptedAt: h.AcceptedAt}
}

// Start opens a handover for every rotation whose shift changed in the
// last hour and has none yet: cards to the outgoing and incoming people,
// and a check timer. It is safe to run any number of times.
func (s *Handovers) Start(ctx context.Context) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx HandoverTx) error {
		rs, err := tx.Rotations(ctx)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, r := range rs {
			over, err := tx.Overrides(ctx, r.Name)
			if err != nil {
				return err
			}
			cur := r.ShiftAt(now, s.cal, over)
			if cur.Index == 0 || now.Sub(cur.Start) > time.Hour {
				continue
			}
			prev := r.ShiftAt(cur.Start.Add(-time.Minute), s.cal, over)
			if prev.Primary == cur.Primary {
				continue
			}
			items, err := s.backlog.Backlog(ctx, tx)
			if err != nil {
				return err
			}
			h := Handover{Rotation: r.Name, ShiftStart: cur.Start, Outgoing: prev.Primary, Incoming: cur.Primary,
				State: "pending", OpenItems: items, CreatedAt: now}
			created, err := tx.InsertHandover(ctx, &h)
			if err != nil {
				return err
			}
			if !created {
				continue
			}
			n++
			for _, u := range []string{h.Outgoing, h.Incoming} {
				if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), To: core.Recipient{User: u}, Body: HandoverCard{s.notice(h)}}); err != nil {
					return err
				}
			}
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerHandoverCheck, Ref: h.Ref(), DueAt: now.Add(HandoverGrace), Data: map[string]string{"round": "1"}}); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, now, core.SystemActor(), "duty.handover.start", h.Ref(), nil, h); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Notes records the outgoing person's notes on their pending handover.
func (s *Handovers) Notes(ctx context.Context, actor core.Actor, notes string) (Handover, error) {
	var out Handover
	err := s.store.InTx(ctx, func(tx HandoverTx) error {
		hs, err := tx.Handovers(ctx, "", true, 50)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.Outgoing != actor.UserID {
				continue
			}
			h, err := tx.Handover(ctx, h.ID, true)
			if err != nil {
				return err
			}
			before := h
			h.Notes = strings.TrimSpace(notes)
			if err := tx.UpdateHandover(ctx, h); err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), Body: HandoverUpdate{s.notice(h)}}); err != nil {
				return err
			}
			out = h
			return core.Record(ctx, tx, s.clock.Now(), actor, "duty.handover.notes", h.Ref(), before, h)
		}
		return core.NotFound("no_pending_handover", "user", actor.UserID)
	})
	return out, err
}

// Accept signs a handover: only its incoming person may, once.
func (s *Handovers) Accept(ctx context.Context, actor core.Actor, id int64) (Handover, error) {
	var out Handover
	sid := strconv.FormatInt(id, 10)
	err := s.store.InTx(ctx, func(tx HandoverTx) error {
		h, err := tx.Handover(ctx, id, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("handover_not_found", "id", sid)
		} else if err != nil {
			return err
		}
		if h.Incoming != actor.UserID {
			return core.Forbidden("not_incoming", "id", sid, "incoming", h.Incoming)
		}
		if h.State == "accepted" {
			return core.AlreadyDecided("handover_accepted", "id", sid, "by", h.Incoming,
				"at", h.AcceptedAt.In(s.cal.Location()).Format("2006-01-02 15:04"))
		}
		before := h
		now := s.clock.Now()
		h.State, h.AcceptedAt = "accepted", &now
		if err := tx.UpdateHandover(ctx, h); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, h.Ref(), ""); err != nil {
			return err
		}
		if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), Body: HandoverUpdate{s.notice(h)}}); err != nil {
			return err
		}
		out = h
		return core.Record(ctx, tx, now, actor, "duty.handover.accept", h.Ref(), before, h)
	})
	return out, err
}

// Log returns a rotation's recent handovers (every rotation's when "").
func (s *Handovers) Log(ctx context.Context, actor core.Actor, rotation string) ([]Handover, error) {
	var out []Handover
	err := s.store.InTx(ctx, func(tx HandoverTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		out, err = tx.Handovers(ctx, rotation, false, 20)
		return err
	})
	return out, err
}

// HandleTimer reminds the incoming person of an unaccepted handover, and
// on the second round tells the rotation's admins.
func (s *Handovers) HandleTimer(ctx context.Context, id int64) error {
	now := s.clock.Now()
	return core.Fire(ctx, s.store.InTx, id, now, func(tx HandoverTx, t core.Timer) error {
		hid, err := t.RefID("handover:")
		if err != nil {
			return fmt.Errorf("duty: %w", err)
		}
		h, err := tx.Handover(ctx, hid, true)
		if err != nil || h.State != "pending" {
			return err
		}
		if t.Data["round"] == "1" {
			if err := tx.Notify(ctx, core.Notice{Ref: h.Ref(), To: core.Recipient{User: h.Incoming}, Body: HandoverLate{HandoverNotice: s.notice(h), Round: 1}}); err != nil {
				return err
			}
			return tx.Schedule(ctx, core.Timer{Kind: TimerHandoverCheck, Ref: h.Ref(), DueAt: now.Add(HandoverGrace), Data: map[string]string{"round": "2"}})
		}
		r, err := tx.Rotation(ctx, h.Rotation)
		if err != nil {
			return err
		}
		admins, err := paging.Holders(ctx, tx, nil, r.Unit, string(org.RoleUnitAdmin), string(org.RoleDistrictAdmin), string(org.RoleSysAdmin))
		if err != nil {
			return err
		}
		for _, u := range admins {
			if err := tx.Notify(ctx, core.Notice{Ref: h.Ref(), To: core.Recipient{User: u}, Body: HandoverLate{HandoverNotice: s.notice(h), Round: 2}}); err != nil {
				return err
			}
		}
		return core.Record(ctx, tx, now, core.SystemActor(), "duty.handover.late", h.Ref(), nil, map[string]string{"told": strings.Join(admins, ",")})
	})
}
