// Package redistest gives tests a real Redis client.
//
// Test packages share one Redis server, so each uses its own database
// index and, inside it, its own asynq queue names:
//
//	1 main (end-to-end)   2 tasks   3 storage/redis   4, 5 tasks (flush tests, exclusive)   6 core/access
//	0 adapters/auth   8 adapters/wecom   9 adapters/slack   7 manual walks   10 storage/postgres   11 bench
//
// Two checkouts can test on one Redis server: give one of them
// OPSBOT_TEST_REDIS_DB_BASE=4 (default 0), which is added to every index
// above, so it uses databases 4..15. A Redis server has databases 0..15, so
// the base can be 0..15-MaxIndex; a larger one fails with a clear message.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultURL is used when TEST_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379"

// BaseEnv names the environment variable added to every database index.
const BaseEnv = "OPSBOT_TEST_REDIS_DB_BASE"

// MaxIndex is the largest index the table above hands out.
const MaxIndex = 11

// databases is how many databases a Redis server has by default.
const databases = 16

// DB returns the Redis database for index n: n plus $OPSBOT_TEST_REDIS_DB_BASE.
func DB(n int) (int, error) {
	maxBase := databases - 1 - MaxIndex
	if n < 0 || n > MaxIndex {
		return 0, fmt.Errorf("redistest: index %d is outside 0..%d; add it to the table in redistest.go and raise MaxIndex", n, MaxIndex)
	}
	base := 0
	if v := strings.TrimSpace(os.Getenv(BaseEnv)); v != "" {
		b, err := strconv.Atoi(v)
		if err != nil || b < 0 || b > maxBase {
			if err == nil && b > maxBase {
				return 0, fmt.Errorf("redistest: %s=%d puts index %d on Redis database %d; Redis has 0..%d, so the base must be 0..%d",
					BaseEnv, b, MaxIndex, MaxIndex+b, databases-1, maxBase)
			}
			return 0, fmt.Errorf("redistest: %s=%q is not a whole number from 0 to %d", BaseEnv, v, maxBase)
		}
		base = b
	}
	return n + base, nil
}

// URL returns the Redis URL for index n (see DB); a bad
// $OPSBOT_TEST_REDIS_DB_BASE panics with DB's message.
func URL(n int) string {
	db, err := DB(n)
	if err != nil {
		panic(err.Error())
	}
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = DefaultURL
	}
	return fmt.Sprintf("%s/%d", strings.TrimRight(u, "/"), db)
}

// Client returns a client on index db (see DB), closed at cleanup.
func Client(t testing.TB, db int) *goredis.Client {
	t.Helper()
	if _, err := DB(db); err != nil {
		t.Fatal(err)
	}
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
