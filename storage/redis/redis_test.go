package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	c, err := redis.Open(context.Background(), redistest.URL(3))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = redis.Open(context.Background(), "http://nope")
	require.ErrorContains(t, err, "redis: parse url")
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := redis.NewDedupe(redistest.Client(t, 3), redistest.Name("dd:"), time.Minute)
	first, err := d.First(ctx, "msg-1")
	require.NoError(t, err)
	require.True(t, first)
	again, err := d.First(ctx, "msg-1")
	require.NoError(t, err)
	require.False(t, again, "a retried request is seen as a repeat")
	other, err := d.First(ctx, "msg-2")
	require.NoError(t, err)
	require.True(t, other)
}
