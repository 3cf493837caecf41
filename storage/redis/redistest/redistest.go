// Package redistest gives tests a real Redis client.
//
// Test packages share one Redis server, so each uses its own database
// index and, inside it, its own asynq queue names:
//
//	1 main (end-to-end)   2 tasks   3 storage/redis   4, 5 tasks (flush tests, exclusive)   6 core/access
//	8 adapters/wecom   9 adapters/slack   7 manual walks   11 bench
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultURL is used when TEST_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379"

// URL returns the Redis URL for database db.
func URL(db int) string {
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = DefaultURL
	}
	return fmt.Sprintf("%s/%d", strings.TrimRight(u, "/"), db)
}

// Client returns a client on database db, closed at cleanup.
func Client(t testing.TB, db int) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(URL(db))
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := goredis.NewClient(opts)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: ping %s (run `make test`, or set TEST_REDIS_URL): %v", URL(db), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Name returns a unique name with prefix, for queues and key prefixes.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
