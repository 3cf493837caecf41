// Package audit computes and checks the hash chain of the audit log.
//
// Each entry carries the hash of the one before it; its own hash covers its
// sequence number, time, actor, platform, action, entity, before and after
// states and that previous hash. Changing or deleting any entry breaks the
// chain at that point, and a head record kept beside the log catches a
// removed tail.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"opsbot/core"
)

// Genesis is the previous hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Hash returns the hash of e, chained to e.PrevHash. Times are hashed at
// microsecond precision in UTC, the precision Postgres keeps.
func Hash(e core.AuditEntry) string {
	h := sha256.New()
	for _, s := range []string{
		strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Platform, e.Action, e.Entity, e.Before, e.After, e.PrevHash,
	} {
		// Length-prefix each field so that moving text between fields changes the hash.
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal fills Seq, PrevHash and Hash of e as the entry after prev (nil for the first).
func Seal(e core.AuditEntry, prev *core.AuditEntry) core.AuditEntry {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if prev == nil {
		e.Seq, e.PrevHash = 1, Genesis
	} else {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = Hash(e)
	return e
}

// Break describes the first broken link of a chain.
type Break struct {
	Seq    int64  // the entry at fault (or the missing one)
	Reason string // what is wrong
}

// Error renders the break for people.
func (b *Break) Error() string { return fmt.Sprintf("audit entry %d: %s", b.Seq, b.Reason) }

// Verifier checks entries one by one, in sequence order.
type Verifier struct {
	prev  *core.AuditEntry
	count int64
}

// Next checks e against the entry before it and returns a *Break at the first fault.
func (v *Verifier) Next(e core.AuditEntry) *Break {
	wantSeq, wantPrev := int64(1), Genesis
	if v.prev != nil {
		wantSeq, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case e.Seq > wantSeq:
		return &Break{Seq: wantSeq, Reason: fmt.Sprintf("missing: entries %d to %d were deleted", wantSeq, e.Seq-1)}
	case e.Seq < wantSeq:
		return &Break{Seq: e.Seq, Reason: "out of order or duplicated"}
	case e.PrevHash != wantPrev:
		return &Break{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it"}
	case Hash(e) != e.Hash:
		return &Break{Seq: e.Seq, Reason: fmt.Sprintf("modified: content does not match its hash (action %s on %s)", e.Action, e.Entity)}
	}
	ee := e
	v.prev = &ee
	v.count++
	return nil
}

// Finish checks the end of the chain against the head record (the last
// sequence number and hash stored at each append). headSeq 0 means an empty log.
func (v *Verifier) Finish(headSeq int64, headHash string) *Break {
	last := int64(0)
	lastHash := Genesis
	if v.prev != nil {
		last, lastHash = v.prev.Seq, v.prev.Hash
	}
	if headSeq > last {
		return &Break{Seq: last + 1, Reason: fmt.Sprintf("missing: entries %d to %d were deleted from the end", last+1, headSeq)}
	}
	if headSeq < last {
		return &Break{Seq: headSeq + 1, Reason: "entries after the recorded head were added outside opsbot"}
	}
	if headSeq > 0 && headHash != lastHash {
		return &Break{Seq: last, Reason: "last entry does not match the recorded head hash"}
	}
	return nil
}

// Count returns how many entries verified so far.
func (v *Verifier) Count() int64 { return v.count }
