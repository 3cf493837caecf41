package duty

import (
	"fmt"
	"strconv"
	"time"
)

// legacyTime is how version-0 rows wrote times: wall clock in the zone of
// the working calendar (the bot's zone).
const legacyTime = "2006-01-02 15:04"

// HandoverNotice is what a handover card shows.
type HandoverNotice struct {
	ID         int64      `json:"id"`
	Rotation   string     `json:"rotation"`
	ShiftStart time.Time  `json:"shift_start"`
	Outgoing   string     `json:"outgoing"`
	Incoming   string     `json:"incoming"`
	State      string     `json:"state"` // pending | accepted
	Notes      string     `json:"notes,omitempty"`
	OpenItems  string     `json:"open_items,omitempty"` // one line per item
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	// Wall is set on a notice decoded from a version-0 row, whose times
	// were wall clock in the bot's zone: they are kept as UTC and shown as
	// they are, not converted.
	Wall bool `json:"-"`
}

// DecodeLegacy reads a version-0 row (times as "2006-01-02 15:04").
func (n *HandoverNotice) DecodeLegacy(d map[string]string) error {
	id, err := strconv.ParseInt(d["id"], 10, 64)
	if err != nil {
		return fmt.Errorf("handover notice id %q: %w", d["id"], err)
	}
	*n = HandoverNotice{ID: id, Rotation: d["rotation"], Outgoing: d["outgoing"], Incoming: d["incoming"], State: d["state"],
		Notes: d["notes"], OpenItems: d["open_items"], Wall: true}
	if n.ShiftStart, err = time.Parse(legacyTime, d["shift_start"]); err != nil {
		return fmt.Errorf("handover notice shift_start: %w", err)
	}
	if d["accepted_at"] != "" {
		at, err := time.Parse(legacyTime, d["accepted_at"])
		if err != nil {
			return fmt.Errorf("handover notice accepted_at: %w", err)
		}
		n.AcceptedAt = &at
	}
	return nil
}

// HandoverCard is the handover card sent to the outgoing and incoming
// people when a shift changes, with the incoming person's accept button.
type HandoverCard struct{ HandoverNotice }

// NoticeType is "duty.handover".
func (HandoverCard) NoticeType() string { return "duty.handover" }

// HandoverUpdate replaces the handover's cards after notes or the
// signature.
type HandoverUpdate struct{ HandoverNotice }

// NoticeType is "update.duty.handover".
func (HandoverUpdate) NoticeType() string { return "update.duty.handover" }

// HandoverLate says a handover is still unaccepted: round 1 reminds the
// incoming person, round 2 tells the rotation's admins.
type HandoverLate struct {
	HandoverNotice
	Round int `json:"round"`
}

// NoticeType is "duty.handover_late".
func (HandoverLate) NoticeType() string { return "duty.handover_late" }

// DecodeLegacy reads a version-0 row.
func (n *HandoverLate) DecodeLegacy(d map[string]string) error {
	if err := n.HandoverNotice.DecodeLegacy(d); err != nil {
		return err
	}
	n.Round, _ = strconv.Atoi(d["round"])
	return nil
}
