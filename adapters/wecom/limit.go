package wecom

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// limiter enforces WeCom's per-recipient quotas with a sliding log in a
// Redis sorted set per address (score = send time in ms), shared by every
// replica. WeCom silently drops what exceeds its quotas, so a send must
// take a slot here first.
type limiter struct {
	rdb    goredis.UniversalClient
	prefix string
	now    func() time.Time
}

// quota is a per-minute and per-hour bound (0 hour = none).
type quota struct {
	PerMinute int
	PerHour   int
}

// takeScript trims entries older than the longest window, counts the
// slots free in both windows and takes up to ARGV[2] of them.
//
// KEYS[1] log; ARGV: now_ms, want, per_minute, per_hour (0 = none), id.
// Returns the number of slots taken.
var takeScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local perMin = tonumber(ARGV[3])
local perHour = tonumber(ARGV[4])
local horizon = 60000
if perHour > 0 then horizon = 3600000 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - horizon)
local free = perMin - redis.call('ZCOUNT', KEYS[1], '(' .. (now - 60000), '+inf')
if perHour > 0 then
  local hourFree = perHour - redis.call('ZCARD', KEYS[1])
  if hourFree < free then free = hourFree end
end
if free < 0 then free = 0 end
local n = want
if free < n then n = free end
for i = 1, n do
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], horizon)
return n
`)

// take reserves up to want send slots for address and returns how many it
// got (0 when the window is full).
func (l *limiter) take(ctx context.Context, address string, q quota, want int) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	n, err := takeScript.Run(ctx, l.rdb, []string{l.prefix + "rl:" + address},
		l.now().UnixMilli(), want, q.PerMinute, q.PerHour, hex.EncodeToString(id[:])).Int()
	if err != nil {
		return 0, fmt.Errorf("wecom: rate limit script: %w", err)
	}
	return n, nil
}
