// Package delivery tells the sys admins, once an hour, how many notices
// failed for good on a platform (and went to the user's next platform,
// or nowhere). The deliverer records each such failure; Report counts the
// ones not reported yet, marks them reported and notifies, in one
// transaction, so replicas running it together count each failure once.
package delivery

import (
	"context"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// PlatformCount is how many notices failed for good on one platform.
type PlatformCount struct {
	Platform string `json:"platform"` // "" when no platform could take it
	Count    int    `json:"count"`
}

// Failures tells a sys admin how many notices failed for good since the
// last report.
type Failures struct {
	Total     int             `json:"total"`
	Platforms []PlatformCount `json:"platforms"` // by platform, most first
	Since     time.Time       `json:"since"`     // the oldest failure counted
}

// NoticeType names the notice.
func (Failures) NoticeType() string { return "delivery.failures" }

// Tx is what Report needs inside its transaction.
type Tx interface {
	// TakeFailures marks every unreported failure reported and returns
	// their counts by platform and the time of the oldest.
	TakeFailures(ctx context.Context) ([]PlatformCount, time.Time, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
	Notify(ctx context.Context, n core.Notice) error
}

// Store runs Report's transaction.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Service reports delivery failures.
type Service struct {
	store Store
	clock core.Clock
}

// NewService returns the service.
func NewService(store Store, clock core.Clock) *Service {
	return &Service{store: store, clock: clock}
}

// Report notifies every sys admin of the failures not reported yet and
// returns how many there were (0: nothing is sent).
func (s *Service) Report(ctx context.Context) (int, error) {
	total := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		counts, since, err := tx.TakeFailures(ctx)
		if err != nil {
			return err
		}
		for _, c := range counts {
			total += c.Count
		}
		if total == 0 {
			return nil
		}
		admins, err := tx.Holders(ctx, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		ref := "delivery:failures:" + s.clock.Now().UTC().Format("2006010215")
		for _, g := range admins {
			n := core.Notice{Ref: ref, To: core.Recipient{User: g.UserID},
				Body: Failures{Total: total, Platforms: counts, Since: since}}
			if err := tx.Notify(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}
