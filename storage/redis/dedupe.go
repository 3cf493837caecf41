package redis

import (
	"context"
	"fmt"
	"time"
)

// First reports whether key is seen for the first time and marks it seen
// for ttl, so a retried platform request is handled once.
func (s *Shared) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.c.SetNX(ctx, key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis: dedupe: %w", err)
	}
	return ok, nil
}
