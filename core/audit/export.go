package audit

import (
	"encoding/json"
	"fmt"
	"time"

	"opsbot/core"
)

// Record is an entry as an export writes it: one JSON object per line.
type Record struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Platform string    `json:"platform"`
	Action   string    `json:"action"`
	Entity   string    `json:"entity"`
	Before   string    `json:"before,omitempty"`
	After    string    `json:"after,omitempty"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// ExportLine returns e as one line of a JSON-lines export (no newline).
func ExportLine(e core.AuditEntry) ([]byte, error) {
	b, err := json.Marshal(Record{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Platform: e.Platform, Action: e.Action,
		Entity: e.Entity, Before: e.Before, After: e.After, PrevHash: e.PrevHash, Hash: e.Hash})
	if err != nil {
		return nil, fmt.Errorf("audit export: %w", err)
	}
	return b, nil
}

// CheckpointLine returns the last line of an export: {"checkpoint": c}.
func CheckpointLine(c Checkpoint) ([]byte, error) {
	b, err := json.Marshal(struct {
		Checkpoint Checkpoint `json:"checkpoint"`
	}{c})
	if err != nil {
		return nil, fmt.Errorf("audit export: %w", err)
	}
	return b, nil
}

// DayRange turns export bounds given as days (YYYY-MM-DD in loc, "" for
// unbounded; to is inclusive) into [from, to) instants.
func DayRange(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	var f, t time.Time
	if from != "" {
		d, err := time.ParseInLocation(time.DateOnly, from, loc)
		if err != nil {
			return f, t, core.Invalid("audit_day", "value", from)
		}
		f = d
	}
	if to != "" {
		d, err := time.ParseInLocation(time.DateOnly, to, loc)
		if err != nil {
			return f, t, core.Invalid("audit_day", "value", to)
		}
		t = d.AddDate(0, 0, 1)
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return f, t, core.Invalid("audit_range", "from", from, "to", to)
	}
	return f, t, nil
}
