package wecom

import (
	"context"
	"fmt"
	"time"
)

// limiter enforces WeCom's per-recipient quotas with a sliding log per
// address in Redis (Shared.Take), shared by every replica. WeCom silently
// drops what exceeds its quotas, so a send must take a slot here first.
type limiter struct {
	shared Shared
	prefix string
	now    func() time.Time
}

// quota is a per-minute and per-hour bound (0 hour = none).
type quota struct {
	PerMinute int
	PerHour   int
}

// take reserves up to want send slots for address and returns how many it
// got (0 when the window is full).
func (l *limiter) take(ctx context.Context, address string, q quota, want int) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	n, err := l.shared.Take(ctx, l.prefix+"rl:"+address, l.now(), q.PerMinute, q.PerHour, want)
	if err != nil {
		return 0, fmt.Errorf("wecom: rate limit: %w", err)
	}
	return n, nil
}
