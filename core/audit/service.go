package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Store is what the audit service needs from storage.
type Store interface {
	// Walk calls fn with every entry in sequence order, from one snapshot,
	// and returns the head record kept beside the log (seq, hash).
	Walk(ctx context.Context, fn func(core.AuditEntry) error) (headSeq int64, headHash string, err error)
	// InTx runs fn in one transaction.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// LastVerification is the newest walk recorded; false when none was.
	LastVerification(ctx context.Context) (Verification, bool, error)
}

// Tx is the transaction checkpoint notices are written in.
type Tx interface {
	core.Recorder
	org.HolderLister
	// RecordVerification keeps the outcome of a walk of the chain.
	RecordVerification(ctx context.Context, v Verification) error
}

// Verification is the outcome of one walk of the whole chain (a
// checkpoint, hourly or asked for), kept so the console can show the
// chain's status without walking it on every page view.
type Verification struct {
	At        time.Time     `json:"at"`
	By        string        `json:"by"`    // who asked; "system" for the hourly checkpoint
	Count     int64         `json:"count"` // entries that verified
	Seq       int64         `json:"seq"`   // the last verified entry
	BrokenSeq int64         `json:"broken_seq,omitempty"`
	Broken    string        `json:"broken,omitempty"` // what is wrong at BrokenSeq; "" when whole
	Signed    bool          `json:"signed"`           // a checkpoint of the head was signed
	Took      time.Duration `json:"took"`
}

// Whole reports whether the walk found the chain whole.
func (v Verification) Whole() bool { return v.Broken == "" }

// Service verifies the chain, publishes signed checkpoints of its head
// and exports it, for the sys admins and the console.
type Service struct {
	store Store
	key   *Key
	clock core.Clock
	pubs  []Publisher
}

// NewService returns the audit service. key nil means opsbot runs unkeyed
// (audit.unkeyed): verify still checks the hashes, checkpoints are refused.
func NewService(store Store, key *Key, clock core.Clock, pubs ...Publisher) *Service {
	return &Service{store: store, key: key, clock: clock, pubs: pubs}
}

// Result is the outcome of walking the chain.
type Result struct {
	Count      int64  // entries that verified
	Break      *Break // the first fault, nil when whole
	Seq        int64  // the last verified entry
	Hash       string
	AnchorSeq  int64 // the first keyed entry (0: not keyed)
	AnchorHash string
}

// Verify walks the whole chain against the key and the given checkpoints
// (their signatures checked already, see ReadCheckpoints).
func (s *Service) Verify(ctx context.Context, checkpoints []Checkpoint) (Result, error) {
	return s.walk(ctx, checkpoints, nil)
}

// errStop ends a walk at the first break.
var errStop = errors.New("stop")

func (s *Service) walk(ctx context.Context, checkpoints []Checkpoint, fn func(core.AuditEntry) error) (Result, error) {
	v := &Verifier{Key: s.key, Checkpoints: checkpoints}
	var brk *Break
	headSeq, headHash, err := s.store.Walk(ctx, func(e core.AuditEntry) error {
		if brk = v.Next(e); brk != nil {
			return errStop
		}
		if fn != nil {
			return fn(e)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Result{}, fmt.Errorf("audit: %w", err)
	}
	if brk == nil {
		brk = v.Finish(headSeq, headHash)
	}
	r := Result{Count: v.Count(), Break: brk}
	r.Seq, r.Hash = v.Head()
	r.AnchorSeq, r.AnchorHash = v.Anchor()
	return r, nil
}

// Checkpointed is the notice to the sys admins that a checkpoint of the
// chain head was signed and published, or that the chain is broken and
// nothing was signed.
type Checkpointed struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	Sig       string    `json:"sig"`
	By        string    `json:"by"`                   // who asked; "system" for the hourly one
	BrokenSeq int64     `json:"broken_seq,omitempty"` // the first bad entry, when broken
	Broken    string    `json:"broken,omitempty"`     // what is wrong with it
}

// NoticeType names the payload.
func (Checkpointed) NoticeType() string { return "audit.checkpoint" }

// Checkpoint verifies the whole chain (against the checkpoints published
// before, where a publisher can read them back), signs a checkpoint of its
// head and publishes it to every publisher and, as a notice, to the sys
// admins. A broken chain is not signed, so a truncated log is never
// vouched for: the sys admins hear where it breaks and
// the error says so. actor is a sys admin, or opsbot itself (hourly).
func (s *Service) Checkpoint(ctx context.Context, actor core.Actor) (Checkpoint, error) {
	if err := s.allowed(ctx, actor); err != nil {
		return Checkpoint{}, err
	}
	var published []Checkpoint
	for _, p := range s.pubs {
		if src, ok := p.(Source); ok {
			cps, err := src.Published(ctx, s.key)
			if err != nil {
				return Checkpoint{}, err
			}
			published = append(published, cps...)
		}
	}
	r, v, err := s.verify(ctx, actor, published)
	if err != nil {
		return Checkpoint{}, err
	}
	if r.Break != nil {
		n := Checkpointed{Seq: r.Seq, Hash: r.Hash, At: s.clock.Now(), By: actor.UserID, BrokenSeq: r.Break.Seq, Broken: r.Break.Reason}
		if err := s.notify(ctx, n, v); err != nil {
			return Checkpoint{}, err
		}
		return Checkpoint{}, brokenErr(r.Break)
	}
	v.Signed = true
	c := s.key.Sign(Checkpoint{Seq: r.Seq, Hash: r.Hash, At: s.clock.Now(), AnchorSeq: r.AnchorSeq, AnchorHash: r.AnchorHash})
	var errs []error
	for _, p := range s.pubs {
		if err := p.Publish(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.notify(ctx, Checkpointed{Seq: c.Seq, Hash: c.Hash, At: c.At, KeyID: c.KeyID, Sig: c.Sig, By: actor.UserID}, v); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("audit: checkpoint of entry %d signed but not published everywhere: %w", c.Seq, err)
	}
	return c, nil
}

// Export is the outcome of an export: how many entries went out, the
// signed checkpoint of the last of them (nil when the chain is broken or
// nothing matched), and the first fault of the chain if any.
type Export struct {
	Count      int64
	Checkpoint *Checkpoint
	Break      *Break
}

// Export verifies the whole chain and calls fn with every entry dated in
// [from, to) (zero times: unbounded), in sequence order, then signs a
// checkpoint of the last entry exported, so the export can be checked
// against the key later. Only sys admins (and the console) export.
func (s *Service) Export(ctx context.Context, actor core.Actor, from, to time.Time, fn func(core.AuditEntry) error) (Export, error) {
	if err := s.allowed(ctx, actor); err != nil {
		return Export{}, err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return Export{}, core.Invalid("audit_range", "from", from.Format(time.DateOnly), "to", to.Add(-time.Nanosecond).Format(time.DateOnly))
	}
	var out Export
	var last core.AuditEntry
	r, err := s.walk(ctx, nil, func(e core.AuditEntry) error {
		if (!from.IsZero() && e.At.Before(from)) || (!to.IsZero() && !e.At.Before(to)) {
			return nil
		}
		out.Count++
		last = e
		return fn(e)
	})
	if err != nil {
		return Export{}, err
	}
	out.Break = r.Break
	if r.Break == nil && out.Count > 0 && s.key != nil {
		c := s.key.Sign(Checkpoint{Seq: last.Seq, Hash: last.Hash, At: s.clock.Now(), AnchorSeq: r.AnchorSeq, AnchorHash: r.AnchorHash})
		out.Checkpoint = &c
	}
	return out, nil
}

// LastVerification is the newest recorded walk of the chain (false when
// none was recorded yet). The chain's status is no secret: anyone who may
// open the audit page may read it.
func (s *Service) LastVerification(ctx context.Context) (Verification, bool, error) {
	return s.store.LastVerification(ctx)
}

// VerifyNow walks the whole chain for a sys admin and records the
// outcome: with a key it is a checkpoint (signed and published when the
// chain is whole, Checkpoint); unkeyed, a plain verification. A broken
// chain is recorded and reported, not an error.
func (s *Service) VerifyNow(ctx context.Context, actor core.Actor) (Verification, error) {
	if s.key != nil {
		if _, err := s.Checkpoint(ctx, actor); err != nil && !errors.Is(err, core.ErrConflict) {
			return Verification{}, err
		}
		v, _, err := s.store.LastVerification(ctx)
		return v, err
	}
	if err := s.sysAdmin(ctx, actor); err != nil {
		return Verification{}, err
	}
	_, v, err := s.verify(ctx, actor, nil)
	if err != nil {
		return Verification{}, err
	}
	return v, s.store.InTx(ctx, func(tx Tx) error { return tx.RecordVerification(ctx, v) })
}

// verify walks the chain for actor and returns the result and the
// Verification to record.
func (s *Service) verify(ctx context.Context, actor core.Actor, checkpoints []Checkpoint) (Result, Verification, error) {
	started := s.clock.Now()
	r, err := s.Verify(ctx, checkpoints)
	if err != nil {
		return Result{}, Verification{}, err
	}
	v := Verification{At: s.clock.Now(), By: actor.UserID, Count: r.Count, Seq: r.Seq, Took: s.clock.Now().Sub(started)}
	if r.Break != nil {
		v.BrokenSeq, v.Broken = r.Break.Seq, r.Break.Reason
	}
	return r, v, nil
}

// Keyed reports whether the service has a key to sign checkpoints with.
func (s *Service) Keyed() bool { return s.key != nil }

// allowed checks that actor may checkpoint and export: opsbot itself or a
// sys admin; and that there is a key to sign with.
func (s *Service) allowed(ctx context.Context, actor core.Actor) error {
	if s.key == nil {
		return core.Invalid("audit_unkeyed")
	}
	return s.sysAdmin(ctx, actor)
}

// sysAdmin is nil for opsbot itself and for a sys admin.
func (s *Service) sysAdmin(ctx context.Context, actor core.Actor) error {
	if actor.UserID == core.SystemUser && actor.Platform == core.PlatformSystem {
		return nil
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		holders, err := org.HoldersOf(ctx, tx, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		if !slices.Contains(holders, actor.UserID) {
			return core.Forbidden("audit_sys_only")
		}
		return nil
	})
}

// notify tells the sys admins of a checkpoint and records the walk v.
func (s *Service) notify(ctx context.Context, n Checkpointed, v Verification) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RecordVerification(ctx, v); err != nil {
			return err
		}
		holders, err := org.HoldersOf(ctx, tx, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		for _, u := range holders {
			if err := tx.Notify(ctx, core.Notice{Ref: ChainEntity, To: core.Recipient{User: u}, Body: n}); err != nil {
				return err
			}
		}
		return nil
	})
}

// brokenErr is the error of a checkpoint refused on a broken chain.
func brokenErr(b *Break) error {
	return core.Conflict("audit_broken", "seq", strconv.FormatInt(b.Seq, 10), "reason", b.Reason)
}
