// Package audit computes and checks the sealed chain of the audit log.
//
// Each entry carries the seal of the one before it; its own seal covers
// its sequence number, time, actor, platform, action, entity, before and
// after states and that previous seal. Since the upgrade of issue 21 the
// seal is an HMAC-SHA256 with a key held outside the database (Key), so
// someone with every right on the database cannot change, insert or
// re-chain entries unseen: they cannot compute the seals.
//
// Entries written before the key was configured keep their plain SHA-256
// hashes (Hash). The first keyed entry is a rekey checkpoint (action
// audit.rekey on audit:chain), chained to the last unkeyed one and sealed
// with the key, so the unkeyed past is fixed from that moment on. The trust
// boundary: a change made to the unkeyed entries before the rekey is not
// detectable; one made after it is, reported at the rekey entry.
//
// Signed checkpoints of the chain head (Checkpoint), published outside the
// database, catch what a valid chain alone cannot: a log truncated and
// rebuilt, or a tail cut off with the head record reset.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"opsbot/core"
)

// Genesis is the previous hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// The rekey checkpoint: the first entry sealed with the key.
const (
	ActionRekey = "audit.rekey"
	ChainEntity = "audit:chain"
)

// Hash returns the unkeyed SHA-256 hash of e, chained to e.PrevHash: the
// seal of entries written before the chain was keyed. Times are hashed at
// microsecond precision in UTC, the precision Postgres keeps.
func Hash(e core.AuditEntry) string {
	h := sha256.New()
	writeFields(h, "", e)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal fills Seq, PrevHash and Hash of e as the entry after prev (nil for
// the first), sealed with key (nil: the unkeyed hash).
func Seal(e core.AuditEntry, prev *core.AuditEntry, key *Key) core.AuditEntry {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if prev == nil {
		e.Seq, e.PrevHash = 1, Genesis
	} else {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	if key == nil {
		e.Hash = Hash(e)
	} else {
		e.Hash = key.MAC(e)
	}
	return e
}

// rekeyState is the after-state of a rekey checkpoint.
type rekeyState struct {
	LegacySeq  int64  `json:"legacy_seq"`
	LegacyHash string `json:"legacy_hash"`
	KeyID      string `json:"key_id"`
}

// Rekey returns the rekey checkpoint after prev (nil for an empty log),
// sealed with key: it records the unkeyed head and starts the keyed chain.
func Rekey(at time.Time, prev *core.AuditEntry, key *Key) core.AuditEntry {
	st := rekeyState{LegacyHash: Genesis, KeyID: key.ID()}
	if prev != nil {
		st.LegacySeq, st.LegacyHash = prev.Seq, prev.Hash
	}
	after, _ := json.Marshal(st)
	e := core.AuditEntry{At: at, Actor: core.SystemUser, Platform: core.PlatformSystem, Action: ActionRekey,
		Entity: ChainEntity, After: string(after)}
	return Seal(e, prev, key)
}

// IsRekey reports whether e is a rekey checkpoint.
func IsRekey(e core.AuditEntry) bool { return e.Action == ActionRekey && e.Entity == ChainEntity }

// Break describes the first broken link of a chain.
type Break struct {
	Seq    int64  // the entry at fault (or the missing one)
	Reason string // what is wrong
}

// Error renders the break for people.
func (b *Break) Error() string { return fmt.Sprintf("audit entry %d: %s", b.Seq, b.Reason) }

// Verifier checks entries one by one, in sequence order. With a Key it
// checks the keyed seals from the rekey checkpoint on; with Checkpoints
// (signatures already checked, see CheckCheckpoints) it also checks that
// the chain still holds every entry a checkpoint vouched for.
type Verifier struct {
	Key         *Key
	Checkpoints []Checkpoint

	prev    *core.AuditEntry
	anchor  *core.AuditEntry // the first rekey checkpoint
	count   int64
	bySeq   map[int64]Checkpoint
	anchors map[int64]string // first keyed entry → its seal, as checkpoints recorded it
	matched int64            // seq of the last checkpoint the chain matched
}

func (v *Verifier) init() {
	if v.bySeq != nil {
		return
	}
	v.bySeq, v.anchors = map[int64]Checkpoint{}, map[int64]string{}
	for _, c := range v.Checkpoints {
		v.bySeq[c.Seq] = c
		if c.AnchorSeq > 0 {
			v.anchors[c.AnchorSeq] = c.AnchorHash
		}
	}
}

// Next checks e against the entry before it and returns a *Break at the first fault.
func (v *Verifier) Next(e core.AuditEntry) *Break {
	v.init()
	wantSeq, wantPrev := int64(1), Genesis
	if v.prev != nil {
		wantSeq, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	keyed, rekey := v.anchor != nil, IsRekey(e)
	switch {
	case e.Seq > wantSeq:
		return &Break{Seq: wantSeq, Reason: fmt.Sprintf("missing: entries %d to %d were deleted", wantSeq, e.Seq-1)}
	case e.Seq < wantSeq:
		return &Break{Seq: e.Seq, Reason: "out of order or duplicated"}
	case e.PrevHash != wantPrev:
		return &Break{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it"}
	}
	if want, ok := v.anchors[e.Seq]; ok && !keyed && (!rekey || e.Hash != want) {
		return &Break{Seq: e.Seq, Reason: "rebuilt: this is not the entry the published checkpoints name as the first keyed entry"}
	}
	if rekey && !keyed && len(v.anchors) > 0 {
		if _, ok := v.anchors[e.Seq]; !ok {
			return &Break{Seq: e.Seq, Reason: "rebuilt: the chain is re-sealed here, but the published checkpoints say it was sealed at another entry"}
		}
	}
	switch {
	case !keyed && rekey && v.Key == nil:
		return &Break{Seq: e.Seq, Reason: "sealed with the audit key from here on: verify with audit.key_file"}
	case !keyed && rekey && v.Key.MAC(e) != e.Hash:
		return &Break{Seq: e.Seq, Reason: "forged rekey checkpoint: its seal does not match the audit key (or the key is not the one that sealed the chain)"}
	case !keyed && !rekey && Hash(e) != e.Hash:
		return &Break{Seq: e.Seq, Reason: fmt.Sprintf("modified: content does not match its hash (action %s on %s)", e.Action, e.Entity)}
	case keyed && v.Key.MAC(e) != e.Hash:
		return &Break{Seq: e.Seq, Reason: fmt.Sprintf("modified or forged: its seal does not match the audit key (action %s on %s by %s)", e.Action, e.Entity, e.Actor)}
	}
	if c, ok := v.bySeq[e.Seq]; ok {
		if c.Hash != e.Hash {
			return &Break{Seq: e.Seq, Reason: fmt.Sprintf("replaced: does not match the checkpoint of %s; entries after %d (the last checkpoint that matches) were rewritten",
				c.At.UTC().Format(time.RFC3339), v.matched)}
		}
		v.matched = e.Seq
	}
	ee := e
	if rekey && !keyed {
		v.anchor = &ee
	}
	v.prev = &ee
	v.count++
	return nil
}

// Finish checks the end of the chain against the published checkpoints
// and the head record (the last sequence number and hash stored at each
// append). headSeq 0 means an empty log.
func (v *Verifier) Finish(headSeq int64, headHash string) *Break {
	v.init()
	last := int64(0)
	lastHash := Genesis
	if v.prev != nil {
		last, lastHash = v.prev.Seq, v.prev.Hash
	}
	for _, c := range v.Checkpoints {
		if c.Seq > last {
			return &Break{Seq: last + 1, Reason: fmt.Sprintf("missing: the chain ends at entry %d but the checkpoint of %s vouches for entries up to %d",
				last, c.At.UTC().Format(time.RFC3339), c.Seq)}
		}
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
	if v.Key != nil && v.anchor == nil && last > 0 {
		return &Break{Seq: last + 1, Reason: fmt.Sprintf("not sealed: none of the %d entries is sealed with the audit key (opsbot seals the chain at its first change with audit.key_file)", last)}
	}
	return nil
}

// Count returns how many entries verified so far.
func (v *Verifier) Count() int64 { return v.count }

// Head returns the last verified entry's seq and seal (0 and Genesis for none).
func (v *Verifier) Head() (int64, string) {
	if v.prev == nil {
		return 0, Genesis
	}
	return v.prev.Seq, v.prev.Hash
}

// Anchor returns the first keyed entry's seq and seal (0, "" when the
// chain is not keyed).
func (v *Verifier) Anchor() (int64, string) {
	if v.anchor == nil {
		return 0, ""
	}
	return v.anchor.Seq, v.anchor.Hash
}
