package wecom

import (
	"context"
	"errors"
	"time"

	"github.com/silenceper/wechat/v2/cache"
)

// tokenCache is silenceper's cache.Cache on the shared Redis state, so
// every replica shares one access token (WeCom invalidates older tokens
// only on expiry, but fetching one per replica wastes its gettoken quota).
type tokenCache struct {
	shared Shared
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
	v, ok, err := c.shared.Get(ctx, c.prefix+key)
	if err != nil || !ok {
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
	return c.shared.Set(ctx, c.prefix+key, s, timeout)
}

// IsExist reports whether key is cached.
func (c *tokenCache) IsExist(key string) bool {
	ctx, cancel := c.bg()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext reports whether key is cached.
func (c *tokenCache) IsExistContext(ctx context.Context, key string) bool {
	ok, err := c.shared.Exists(ctx, c.prefix+key)
	return err == nil && ok
}

// Delete drops key.
func (c *tokenCache) Delete(key string) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext drops key.
func (c *tokenCache) DeleteContext(ctx context.Context, key string) error {
	return c.shared.Delete(ctx, c.prefix+key)
}
