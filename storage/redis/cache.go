package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Get returns the string cached under key; ok is false when there is none.
func (s *Shared) Get(ctx context.Context, key string) (v string, ok bool, err error) {
	v, err = s.c.Get(ctx, key).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("redis: get: %w", err)
	}
	return v, true, nil
}

// Set caches v under key for ttl.
func (s *Shared) Set(ctx context.Context, key, v string, ttl time.Duration) error {
	if err := s.c.Set(ctx, key, v, ttl).Err(); err != nil {
		return fmt.Errorf("redis: set: %w", err)
	}
	return nil
}

// Exists reports whether key is cached.
func (s *Shared) Exists(ctx context.Context, key string) (bool, error) {
	n, err := s.c.Exists(ctx, key).Result()
	if err != nil {
		return false, fmt.Errorf("redis: exists: %w", err)
	}
	return n > 0, nil
}

// Delete drops key.
func (s *Shared) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("redis: delete: %w", err)
	}
	return nil
}
