package wecom

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// tokenCache is silenceper's cache.Cache on our go-redis v9 client, so
// every replica shares one access token (WeCom invalidates older tokens
// only on expiry, but fetching one per replica wastes its gettoken quota).
type tokenCache struct {
	rdb    goredis.UniversalClient
	prefix string
}

var _ cache.ContextCache = (*tokenCache)(nil)

// cacheTimeout bounds the context-free calls the library makes.
const cacheTimeout = 5 * time.Second

func (c *tokenCache) bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cacheTimeout)
}

// Get returns the cached string, or nil when missing or unreadable.
func (c *tokenCache) Get(key string) any {
	ctx, cancel := c.bg()
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext returns the cached string, or nil when missing or unreadable.
func (c *tokenCache) GetContext(ctx context.Context, key string) any {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
}

// Set stores val (a string) for timeout.
func (c *tokenCache) Set(key string, val any, timeout time.Duration) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext stores val (a string) for timeout.
func (c *tokenCache) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	s, ok := val.(string)
	if !ok {
		return errors.New("wecom: token cache stores strings only")
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	return c.rdb.Set(ctx, c.prefix+key, s, timeout).Err()
}

// IsExist reports whether key is cached.
func (c *tokenCache) IsExist(key string) bool {
	ctx, cancel := c.bg()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext reports whether key is cached.
func (c *tokenCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

// Delete drops key.
func (c *tokenCache) Delete(key string) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext drops key.
func (c *tokenCache) DeleteContext(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, c.prefix+key).Err()
}
