package duty

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Feed is an iCal subscription feed of duty shifts as stored: only the
// SHA-256 of its secret and a non-secret display prefix. Rotation "" is
// the owner's own shifts on every rotation; a name is that rotation's
// shifts, whoever takes them.
type Feed struct {
	ID        int64     `json:"id"`
	Hash      string    `json:"-"`
	Prefix    string    `json:"prefix"`
	UserID    string    `json:"user"`
	Rotation  string    `json:"rotation,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Ref is the feed's entity reference in the audit log.
func (f Feed) Ref() string { return "ical_feed:" + strconv.FormatInt(f.ID, 10) }

// Mine reports whether the feed lists its owner's own shifts.
func (f Feed) Mine() bool { return f.Rotation == "" }

// FeedSecretLen is the length of a feed secret: 32 random bytes in
// lower-case base32 without padding, safe in a URL path.
const FeedSecretLen = 52

var feedEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newFeedSecret returns a fresh feed secret.
func newFeedSecret() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("duty: feed secret: %w", err)
	}
	return feedEncoding.EncodeToString(raw[:]), nil
}

// validFeedSecret reports whether s looks like a feed secret.
func validFeedSecret(s string) bool {
	if len(s) != FeedSecretLen {
		return false
	}
	_, err := feedEncoding.DecodeString(s)
	return err == nil
}

// FeedTx is one transaction of the feed store: the feeds, the rotations
// they list, when shifts last changed, the owners, and the audit log.
type FeedTx interface {
	core.Recorder
	paging.Users
	Rotation(ctx context.Context, name string) (Rotation, error)
	Rotations(ctx context.Context) ([]Rotation, error)
	Overrides(ctx context.Context, rotation string) (map[string]string, error)
	// ShiftChanges tells when a rotation's settings last changed and when
	// each day's swap ("2006-01-02") was made.
	ShiftChanges(ctx context.Context, rotation string) (time.Time, map[string]time.Time, error)
	// InsertFeed stores a feed and returns its id.
	InsertFeed(ctx context.Context, f Feed) (int64, error)
	// FeedByHash returns the feed with a secret's hash (core.ErrNotFound).
	FeedByHash(ctx context.Context, hash string) (Feed, error)
	// Feeds lists a user's live feeds, newest first.
	Feeds(ctx context.Context, user string) ([]Feed, error)
	// RevokeFeed marks a feed revoked at f.RevokedAt by f.RevokedBy.
	RevokeFeed(ctx context.Context, f Feed) error
}

// FeedStore runs feed work in transactions.
type FeedStore interface {
	InTx(ctx context.Context, fn func(tx FeedTx) error) error
}

// FeedConfig is the window of shifts a feed lists.
type FeedConfig struct {
	// Back is how far into the past a feed lists shifts (default 30 days).
	Back time.Duration
	// Ahead is how far into the future (default 90 days).
	Ahead time.Duration
}

// Feeds issues, lists and revokes iCal feeds of duty shifts and reads
// the shifts a feed's secret stands for.
type Feeds struct {
	store FeedStore
	clock core.Clock
	cal   *calendar.Calendar
	cfg   FeedConfig
}

// NewFeeds returns the feed service.
func NewFeeds(store FeedStore, clock core.Clock, cal *calendar.Calendar, cfg FeedConfig) *Feeds {
	if cfg.Back <= 0 {
		cfg.Back = 30 * 24 * time.Hour
	}
	if cfg.Ahead <= 0 {
		cfg.Ahead = 90 * 24 * time.Hour
	}
	return &Feeds{store: store, clock: clock, cal: cal, cfg: cfg}
}

// revoke ends a live feed as actor's audited action.
func (s *Feeds) revoke(ctx context.Context, tx FeedTx, actor core.Actor, f Feed) (Feed, error) {
	after := f
	after.RevokedAt, after.RevokedBy = s.clock.Now(), actor.UserID
	if err := tx.RevokeFeed(ctx, after); err != nil {
		return f, err
	}
	return after, core.Record(ctx, tx, after.RevokedAt, actor, "duty.feed.revoke", f.Ref(), f, after)
}

// Create makes the actor a feed of their own shifts (rotation "") or of
// a rotation's shifts (anyone who may see /duty now for it may). It
// replaces the actor's live feed of the same kind, whose URL stops
// working at once. The secret is returned once; only its hash is kept.
func (s *Feeds) Create(ctx context.Context, actor core.Actor, rotation string) (string, Feed, error) {
	secret, err := newFeedSecret()
	if err != nil {
		return "", Feed{}, err
	}
	var f Feed
	err = s.store.InTx(ctx, func(tx FeedTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		if rotation != "" {
			if _, err := tx.Rotation(ctx, rotation); errors.Is(err, core.ErrNotFound) {
				return core.NotFound("rotation_not_found", "name", rotation)
			} else if err != nil {
				return err
			}
		}
		live, err := tx.Feeds(ctx, actor.UserID)
		if err != nil {
			return err
		}
		for _, old := range live {
			if old.Rotation == rotation {
				if _, err := s.revoke(ctx, tx, actor, old); err != nil {
					return err
				}
			}
		}
		f = Feed{Hash: core.HashSecret(secret), Prefix: secret[:6] + "…", UserID: actor.UserID, Rotation: rotation, CreatedAt: s.clock.Now()}
		if f.ID, err = tx.InsertFeed(ctx, f); err != nil {
			return err
		}
		return core.Record(ctx, tx, f.CreatedAt, actor, "duty.feed.create", f.Ref(), nil, f)
	})
	if err != nil {
		return "", Feed{}, err
	}
	return secret, f, nil
}

// List returns the actor's live feeds, newest first.
func (s *Feeds) List(ctx context.Context, actor core.Actor) ([]Feed, error) {
	var out []Feed
	err := s.store.InTx(ctx, func(tx FeedTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		out, err = tx.Feeds(ctx, actor.UserID)
		return err
	})
	return out, err
}

// Revoke ends one of the actor's live feeds at once (id), or all of them
// (id 0), and returns those it ended.
func (s *Feeds) Revoke(ctx context.Context, actor core.Actor, id int64) ([]Feed, error) {
	var out []Feed
	err := s.store.InTx(ctx, func(tx FeedTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		live, err := tx.Feeds(ctx, actor.UserID)
		if err != nil {
			return err
		}
		for _, f := range live {
			if id != 0 && f.ID != id {
				continue
			}
			after, err := s.revoke(ctx, tx, actor, f)
			if err != nil {
				return err
			}
			out = append(out, after)
		}
		if id != 0 && len(out) == 0 {
			return core.NotFound("feed_not_found", "id", strconv.FormatInt(id, 10))
		}
		return nil
	})
	return out, err
}

// FeedShift is one shift a feed lists, with its people's names and when
// it last changed (a swap, or the rotation's settings).
type FeedShift struct {
	Rotation      string
	Shift         Shift
	PrimaryName   string
	SecondaryName string
	Modified      time.Time
}

// FeedCalendar is what a feed's secret stands for now: its owner, the
// window of time and the shifts in it, in order of start.
type FeedCalendar struct {
	Feed     Feed
	Owner    org.User
	From, To time.Time
	Shifts   []FeedShift
}

// Calendar reads the shifts a feed secret stands for: every shift on
// duty at some time in the window (FeedConfig, around now) of the feed's
// rotation, or of every rotation where its owner is on duty. An unknown
// or revoked secret, a removed owner or a removed rotation is
// core.NotFound feed_not_found at once: nothing is cached.
func (s *Feeds) Calendar(ctx context.Context, secret string) (FeedCalendar, error) {
	gone := core.NotFound("feed_not_found", "id", "")
	if !validFeedSecret(secret) {
		return FeedCalendar{}, gone
	}
	var out FeedCalendar
	err := s.store.InTx(ctx, func(tx FeedTx) error {
		f, err := tx.FeedByHash(ctx, core.HashSecret(secret))
		if errors.Is(err, core.ErrNotFound) || err == nil && !f.RevokedAt.IsZero() {
			return gone
		} else if err != nil {
			return err
		}
		owner, err := paging.ActiveUser(ctx, tx, f.UserID)
		if err != nil {
			return gone
		}
		var rotations []Rotation
		if f.Mine() {
			if rotations, err = tx.Rotations(ctx); err != nil {
				return err
			}
		} else {
			r, err := tx.Rotation(ctx, f.Rotation)
			if errors.Is(err, core.ErrNotFound) {
				return gone
			} else if err != nil {
				return err
			}
			rotations = []Rotation{r}
		}
		now := s.clock.Now()
		out = FeedCalendar{Feed: f, Owner: owner, From: now.Add(-s.cfg.Back), To: now.Add(s.cfg.Ahead)}
		nm := names{ctx: ctx, tx: tx, m: map[string]string{}}
		for _, r := range rotations {
			over, err := tx.Overrides(ctx, r.Name)
			if err != nil {
				return err
			}
			changed, swapped, err := tx.ShiftChanges(ctx, r.Name)
			if err != nil {
				return err
			}
			if changed.IsZero() {
				changed = r.First(s.cal.Location())
			}
			for _, sh := range r.ShiftsBetween(out.From, out.To, s.cal, over) {
				if f.Mine() && sh.Primary != f.UserID {
					continue
				}
				mod := changed
				if at, ok := swapped[sh.Start.In(s.cal.Location()).Format("2006-01-02")]; ok && sh.Override && at.After(mod) {
					mod = at
				}
				out.Shifts = append(out.Shifts, FeedShift{Rotation: r.Name, Shift: sh, PrimaryName: nm.of(sh.Primary),
					SecondaryName: nm.of(sh.Secondary), Modified: mod})
			}
		}
		sortShifts(out.Shifts)
		return nil
	})
	return out, err
}

// sortShifts orders shifts by start, then rotation.
func sortShifts(s []FeedShift) {
	slices.SortStableFunc(s, func(a, b FeedShift) int {
		if c := a.Shift.Start.Compare(b.Shift.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Rotation, b.Rotation)
	})
}
