package redis_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis starts a private redis-server (or Sentinel) with the config
// lines, killed at cleanup, and waits until it answers.
func startRedis(t *testing.T, port int, sentinel bool, lines ...string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n%s\n", port, dir, strings.Join(lines, "\n"))
	require.NoError(t, os.WriteFile(conf, []byte(body), 0o600))
	args := []string{conf}
	if sentinel {
		args = append(args, "--sentinel")
	}
	cmd := exec.Command(bin, args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	require.Eventually(t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 50*time.Millisecond)
}

// roundTrip checks that c reads its own writes and that asynq runs on it.
func roundTrip(t *testing.T, c goredis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	key := redistest.Name("mode:")
	require.NoError(t, c.Set(ctx, key, "v", time.Minute).Err())
	got, err := c.Get(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, "v", got)
	queue := redistest.Name("mode-q")
	info, err := asynq.NewClientFromRedisClient(c).EnqueueContext(ctx, asynq.NewTask("mode:test", nil), asynq.Queue(queue))
	require.NoError(t, err)
	n, err := asynq.NewInspectorFromRedisClient(c).GetTaskInfo(queue, info.ID)
	require.NoError(t, err)
	require.Equal(t, info.ID, n.ID)
}

func TestConnectSingle(t *testing.T) {
	t.Parallel()
	c, err := redis.Connect(context.Background(), redis.Options{Mode: "single", URL: redistest.URL(3)})
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c)
}

func TestConnectSentinel(t *testing.T) {
	t.Parallel()
	u, err := goredis.ParseURL(redistest.URL(3))
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(u.Addr)
	require.NoError(t, err)
	if host == "localhost" {
		host = "127.0.0.1"
	}
	sport := freePort(t)
	master := redistest.Name("m")
	startRedis(t, sport, true, fmt.Sprintf("sentinel monitor %s %s %s 1", master, host, port))
	c, err := redis.Connect(context.Background(), redis.Options{Mode: "sentinel", MasterName: master,
		Addrs: []string{fmt.Sprintf("127.0.0.1:%d", sport)}, Password: u.Password, DB: 3})
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c)

	_, err = redis.Connect(context.Background(), redis.Options{Mode: "sentinel", MasterName: "no-such-master",
		Addrs: []string{fmt.Sprintf("127.0.0.1:%d", sport)}})
	require.ErrorContains(t, err, "redis: ping")
}

func TestConnectCluster(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	startRedis(t, port, false, "cluster-enabled yes", "cluster-config-file nodes.conf")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	admin := goredis.NewClient(&goredis.Options{Addr: addr})
	defer admin.Close()
	ctx := context.Background()
	require.NoError(t, admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err())
	require.Eventually(t, func() bool {
		s, err := admin.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(s, "cluster_state:ok")
	}, 10*time.Second, 50*time.Millisecond)
	c, err := redis.Connect(ctx, redis.Options{Mode: "cluster", Addrs: []string{addr}})
	require.NoError(t, err)
	defer c.Close()
	_, isCluster := c.(*goredis.ClusterClient)
	require.True(t, isCluster)
	roundTrip(t, c)
}

func TestConnectErrors(t *testing.T) {
	t.Parallel()
	_, err := redis.Connect(context.Background(), redis.Options{Mode: "ring"})
	require.ErrorContains(t, err, `redis: unknown mode "ring"`)
	_, err = redis.Connect(context.Background(), redis.Options{Mode: "single", URL: "http://nope"})
	require.ErrorContains(t, err, "redis: parse url")
	_, err = redis.Connect(context.Background(), redis.Options{Mode: "cluster", Addrs: []string{"127.0.0.1:1"}, TLS: true, TLSCAFile: "/nonexistent"})
	require.ErrorContains(t, err, "redis: tls ca")
}
