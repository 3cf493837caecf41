package slack

import (
	"context"
	"fmt"
	"time"
)

// limiter spaces posts to one channel by interval, across every worker
// sharing the Redis.
type limiter struct {
	shared   Shared
	prefix   string
	interval time.Duration
}

// reserve takes the channel's next slot if it is at most maxWait away and
// says how long to wait for it; when it is further, ok is false and wait is
// how long until it frees.
func (l *limiter) reserve(ctx context.Context, channel string, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	wait, ok, err = l.shared.Reserve(ctx, l.prefix+channel, l.interval, maxWait)
	if err != nil {
		return 0, false, fmt.Errorf("slack: rate limiter: %w", err)
	}
	return wait, ok, nil
}
