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

func TestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redis.NewShared(redistest.Client(t, 3))
	p := redistest.Name("dd:")
	first, err := s.First(ctx, p+"msg-1", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	again, err := s.First(ctx, p+"msg-1", time.Minute)
	require.NoError(t, err)
	require.False(t, again, "a retried request is seen as a repeat")
	other, err := s.First(ctx, p+"msg-2", time.Minute)
	require.NoError(t, err)
	require.True(t, other)
}

func TestReserveSpacesUses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redis.NewShared(redistest.Client(t, 3))
	key := redistest.Name("rate:")
	wait, ok, err := s.Reserve(ctx, key, time.Minute, time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Zero(t, wait, "the first use goes now")
	wait, ok, err = s.Reserve(ctx, key, time.Minute, time.Second)
	require.NoError(t, err)
	require.False(t, ok, "the next slot is a minute away, beyond the wait allowed")
	require.Greater(t, wait, 50*time.Second)
	wait, ok, err = s.Reserve(ctx, key, time.Minute, 2*time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "a caller willing to wait takes the slot")
	require.Greater(t, wait, 50*time.Second)
}

func TestTakeKeepsBothWindows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redis.NewShared(redistest.Client(t, 3))
	key := redistest.Name("rl:")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Duration
		want int
		got  int
	}{
		{name: "within the minute quota", want: 2, got: 2},
		{name: "the minute is full", at: time.Second, want: 3, got: 1},
		{name: "nothing wanted", at: 2 * time.Second, want: 0, got: 0},
		{name: "the next minute frees", at: 61 * time.Second, want: 3, got: 2},
		{name: "the hour is full", at: 3 * time.Minute, want: 3, got: 0},
		{name: "the hour frees", at: 61 * time.Minute, want: 1, got: 1},
	}
	for _, tt := range tests {
		n, err := s.Take(ctx, key, now.Add(tt.at), 3, 5, tt.want)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.got, n, tt.name)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redis.NewShared(redistest.Client(t, 3))
	key := redistest.Name("token:")
	_, ok, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.Set(ctx, key, "abc", time.Minute))
	v, ok, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "abc", v)
	exists, err := s.Exists(ctx, key)
	require.NoError(t, err)
	require.True(t, exists)
	require.NoError(t, s.Delete(ctx, key))
	exists, err = s.Exists(ctx, key)
	require.NoError(t, err)
	require.False(t, exists)
}
