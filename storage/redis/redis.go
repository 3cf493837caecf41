// Package redis is opsbot's Redis access: one go-redis client shared with
// asynq, and the small Redis-backed helpers the adapters need (Shared:
// inbound de-duplication, rate limiters, a key-value cache).
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

// Shared is the state the chat adapters share with every replica through
// Redis: request ids already handled (First), send slots of rate limits
// (Reserve, Take) and small cached values (Get, Set, Exists, Delete: the
// WeCom access token, Slack's e-mail link outcomes). Keys are the
// caller's, prefix included; the adapters declare the few methods they use.
type Shared struct {
	c goredis.UniversalClient
}

// NewShared returns the shared adapter state on c.
func NewShared(c goredis.UniversalClient) *Shared { return &Shared{c: c} }
