package slack

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// reserveScript keeps, per channel, the time its next message may go out
// (Redis server time, so workers on different machines agree). A caller
// whose slot is at most ARGV[2] ms away takes it and moves the next slot
// ARGV[1] ms further; otherwise nothing changes and it learns the wait.
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

// limiter spaces posts to one channel by interval, across every worker
// sharing the Redis.
type limiter struct {
	rdb      goredis.UniversalClient
	prefix   string
	interval time.Duration
}

// reserve takes the channel's next slot if it is at most maxWait away and
// says how long to wait for it; when it is further, ok is false and wait is
// how long until it frees.
func (l *limiter) reserve(ctx context.Context, channel string, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	res, err := reserveScript.Run(ctx, l.rdb, []string{l.prefix + channel},
		l.interval.Milliseconds(), maxWait.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("slack: rate limiter: %w", err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("slack: rate limiter: unexpected reply %v", res)
	}
	return time.Duration(res[1]) * time.Millisecond, res[0] == 1, nil
}
