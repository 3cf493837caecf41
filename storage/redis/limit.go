package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// reserveScript keeps, per key, the time its next use may happen (Redis
// server time, so workers on different machines agree). A caller whose
// slot is at most ARGV[2] ms away takes it and moves the next slot ARGV[1]
// ms further; otherwise nothing changes and it learns the wait.
// Returns {taken (0|1), wait ms}.
var reserveScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local maxwait = tonumber(ARGV[2])
local nextfree = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextfree < now then nextfree = now end
local wait = nextfree - now
if wait > maxwait then return {0, wait} end
redis.call('SET', KEYS[1], nextfree + interval, 'PX', wait + interval + 1000)
return {1, wait}
`)

// Reserve spaces uses of key by interval across every replica (Slack's
// one post a second per channel). It takes the key's next slot if it is
// at most maxWait away and says how long to wait for it; when it is
// further, ok is false and wait is how long until it frees.
func (s *Shared) Reserve(ctx context.Context, key string, interval, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	res, err := reserveScript.Run(ctx, s.c, []string{key}, interval.Milliseconds(), maxWait.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("redis: reserve: %w", err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("redis: reserve: unexpected reply %v", res)
	}
	return time.Duration(res[1]) * time.Millisecond, res[0] == 1, nil
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

// Take enforces a per-minute and per-hour quota (perHour 0 = none) with a
// sliding log in a sorted set under key (score = use time in ms), shared
// by every replica (WeCom's per-recipient quotas). It reserves up to want
// slots at now and returns how many it got (0 when the window is full).
func (s *Shared) Take(ctx context.Context, key string, now time.Time, perMinute, perHour, want int) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	n, err := takeScript.Run(ctx, s.c, []string{key}, now.UnixMilli(), want, perMinute, perHour, hex.EncodeToString(id[:])).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: take: %w", err)
	}
	return n, nil
}
