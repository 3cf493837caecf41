// Package redis is opsbot's Redis access: one go-redis client shared with
// asynq, and the small Redis-backed helpers the adapters need.
package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Open parses a redis:// URL, connects and pings.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	c := goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", opts.Addr, err)
	}
	return c, nil
}

// Dedupe remembers keys for a while: First reports whether a key is seen
// for the first time, so a retried platform request is handled once.
type Dedupe struct {
	c      goredis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewDedupe returns a deduplicator whose keys live ttl under prefix.
func NewDedupe(c goredis.UniversalClient, prefix string, ttl time.Duration) *Dedupe {
	return &Dedupe{c: c, prefix: prefix, ttl: ttl}
}

// First reports whether key is new (and marks it seen).
func (d *Dedupe) First(ctx context.Context, key string) (bool, error) {
	ok, err := d.c.SetNX(ctx, d.prefix+key, 1, d.ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis: dedupe: %w", err)
	}
	return ok, nil
}
