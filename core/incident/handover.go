package incident

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Handover timer kind and notices.
const (
	TimerHandoverCheck = "duty:handover_check"
	NoticeHandover     = "duty.handover"        // to outgoing and incoming: the handover card
	NoticeHandoverUpd  = "update.duty.handover" // replaces the handover cards
	NoticeHandoverLate = "duty.handover_late"   // reminder to the incoming, then the rotation's admins
)

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
func (h Handover) Ref() string { return "handover:" + itoa(h.ID) }

// CardRef names the handover's cards.
func (h Handover) CardRef() string { return h.Ref() + "#card" }

// HandoverTx is what handovers need beyond Tx.
type HandoverTx interface {
	// InsertHandover inserts h unless one exists for its rotation and shift
	// start; created is false then.
	InsertHandover(ctx context.Context, h *Handover) (created bool, err error)
	Handover(ctx context.Context, id int64, lock bool) (Handover, error)
	UpdateHandover(ctx context.Context, h Handover) error
	Handovers(ctx context.Context, rotation string, pendingOnly bool, limit int) ([]Handover, error)
	PendingRequests(ctx context.Context) (int, error)
}

// HandoverGrace is how long an incoming person has to accept before a
// reminder; twice that and the rotation's admins are told.
const HandoverGrace = 30 * time.Minute

// openItems lists what the outgoing person hands over.
func (s *Service) openItems(ctx context.Context, tx Tx) (string, error) {
	open, err := tx.Incidents(ctx, true, 100)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, i := range open {
		line := "incident #" + itoa(i.ID) + " L" + strconv.Itoa(i.Level) + " " + i.Title + " [" + i.State + "]"
		lines = append(lines, line)
	}
	pending, err := tx.PendingRequests(ctx)
	if err != nil {
		return "", err
	}
	if pending > 0 {
		lines = append(lines, "pending requests: "+strconv.Itoa(pending))
	}
	return strings.Join(lines, "\n"), nil
}

func (s *Service) handoverData(h Handover) map[string]string {
	d := map[string]string{"id": itoa(h.ID), "rotation": h.Rotation, "outgoing": h.Outgoing, "incoming": h.Incoming,
		"state": h.State, "notes": h.Notes, "open_items": h.OpenItems,
		"shift_start": h.ShiftStart.In(s.cal.Location()).Format("2006-01-02 15:04")}
	if h.AcceptedAt != nil {
		d["accepted_at"] = h.AcceptedAt.In(s.cal.Location()).Format("2006-01-02 15:04")
	}
	return d
}

// StartHandovers opens a handover for every rotation whose shift changed in
// the last hour and has none yet: cards to the outgoing and incoming
// people, and a check timer. It is safe to run any number of times.
func (s *Service) StartHandovers(ctx context.Context) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		htx := tx
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
			items, err := s.openItems(ctx, tx)
			if err != nil {
				return err
			}
			h := Handover{Rotation: r.Name, ShiftStart: cur.Start, Outgoing: prev.Primary, Incoming: cur.Primary,
				State: "pending", OpenItems: items, CreatedAt: now}
			created, err := htx.InsertHandover(ctx, &h)
			if err != nil || !created {
				if err != nil {
					return err
				}
				continue
			}
			n++
			data := s.handoverData(h)
			for _, u := range []string{h.Outgoing, h.Incoming} {
				if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), To: core.Recipient{User: u}, Body: core.Legacy{Kind: NoticeHandover, Data: data}}); err != nil {
					return err
				}
			}
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerHandoverCheck, Ref: h.Ref(), DueAt: now.Add(HandoverGrace), Data: map[string]string{"round": "1"}}); err != nil {
				return err
			}
			if err := tx.Audit(ctx, auditEntry(s, core.SystemActor(), "duty.handover.start", h.Ref(), nil, h)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// HandoverNotes records the outgoing person's notes on their pending handover.
func (s *Service) HandoverNotes(ctx context.Context, actor core.Actor, notes string) (Handover, error) {
	var out Handover
	err := s.store.InTx(ctx, func(tx Tx) error {
		htx := tx
		hs, err := htx.Handovers(ctx, "", true, 50)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.Outgoing != actor.UserID {
				continue
			}
			h, err := htx.Handover(ctx, h.ID, true)
			if err != nil {
				return err
			}
			before := h
			h.Notes = strings.TrimSpace(notes)
			if err := htx.UpdateHandover(ctx, h); err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), Body: core.Legacy{Kind: NoticeHandoverUpd, Data: s.handoverData(h)}}); err != nil {
				return err
			}
			out = h
			return tx.Audit(ctx, auditEntry(s, actor, "duty.handover.notes", h.Ref(), before, h))
		}
		return core.NotFound("no_pending_handover", "user", actor.UserID)
	})
	return out, err
}

// AcceptHandover signs a handover: only its incoming person may, once.
func (s *Service) AcceptHandover(ctx context.Context, actor core.Actor, id int64) (Handover, error) {
	var out Handover
	err := s.store.InTx(ctx, func(tx Tx) error {
		htx := tx
		h, err := htx.Handover(ctx, id, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("handover_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		if h.Incoming != actor.UserID {
			return core.Forbidden("not_incoming", "id", itoa(id), "incoming", h.Incoming)
		}
		if h.State == "accepted" {
			return core.AlreadyDecided("handover_accepted", "id", itoa(id), "by", h.Incoming,
				"at", h.AcceptedAt.In(s.cal.Location()).Format("2006-01-02 15:04"))
		}
		before := h
		now := s.clock.Now()
		h.State, h.AcceptedAt = "accepted", &now
		if err := htx.UpdateHandover(ctx, h); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, h.Ref(), ""); err != nil {
			return err
		}
		if err := tx.Notify(ctx, core.Notice{Ref: h.CardRef(), Body: core.Legacy{Kind: NoticeHandoverUpd, Data: s.handoverData(h)}}); err != nil {
			return err
		}
		out = h
		return tx.Audit(ctx, auditEntry(s, actor, "duty.handover.accept", h.Ref(), before, h))
	})
	return out, err
}

// HandoverLog returns a rotation's recent handovers (every rotation's when "").
func (s *Service) HandoverLog(ctx context.Context, actor core.Actor, rotation string) ([]Handover, error) {
	var out []Handover
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		var err error
		out, err = tx.Handovers(ctx, rotation, false, 20)
		return err
	})
	return out, err
}

// HandleHandoverTimer reminds the incoming person of an unaccepted
// handover, and on the second round tells the rotation's admins.
func (s *Service) HandleHandoverTimer(ctx context.Context, id int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		t, ok, err := tx.ClaimTimer(ctx, id, s.clock.Now())
		if err != nil || !ok {
			return err
		}
		var hid int64
		if _, err := fmtSscanf(t.Ref, "handover:%d", &hid); err != nil {
			return err
		}
		htx := tx
		h, err := htx.Handover(ctx, hid, true)
		if err != nil || h.State != "pending" {
			return err
		}
		data := s.handoverData(h)
		if t.Data["round"] == "1" {
			data["round"] = "1"
			if err := tx.Notify(ctx, core.Notice{Ref: h.Ref(), To: core.Recipient{User: h.Incoming}, Body: core.Legacy{Kind: NoticeHandoverLate, Data: data}}); err != nil {
				return err
			}
			return tx.Schedule(ctx, core.Timer{Kind: TimerHandoverCheck, Ref: h.Ref(), DueAt: s.clock.Now().Add(HandoverGrace), Data: map[string]string{"round": "2"}})
		}
		r, err := tx.Rotation(ctx, h.Rotation)
		if err != nil {
			return err
		}
		admins, err := s.targets(ctx, tx, Incident{Unit: r.Unit}, []string{string(org.RoleUnitAdmin), string(org.RoleDistrictAdmin), string(org.RoleSysAdmin)})
		if err != nil {
			return err
		}
		data["round"] = "2"
		for _, u := range admins {
			if err := tx.Notify(ctx, core.Notice{Ref: h.Ref(), To: core.Recipient{User: u}, Body: core.Legacy{Kind: NoticeHandoverLate, Data: data}}); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, auditEntry(s, core.SystemActor(), "duty.handover.late", h.Ref(), nil, map[string]string{"told": strings.Join(admins, ",")}))
	})
}
