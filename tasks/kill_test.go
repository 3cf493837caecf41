package tasks_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/webchat"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/tasks"
	"opsbot/tasks/faulttest"
)

// Environment of the worker child process of TestFaultKillWorker.
const (
	envChild = "OPSBOT_FAULT_CHILD"
	envPG    = "OPSBOT_FAULT_PG"
	envRedis = "OPSBOT_FAULT_REDIS"
	envQueue = "OPSBOT_FAULT_QUEUE"
)

// childLease is the outbox lease of the child worker: what a kill may
// delay a notice by.
const childLease = 2 * time.Second

// slowAck is a platform that acknowledges a stored message a little
// late, as a real one on a real network does: a kill then often lands
// after the message is stored and before the outbox row is marked.
type slowAck struct{ bot.Sender }

func (s slowAck) Send(ctx context.Context, to core.Recipient, m bot.Message) error {
	err := s.Sender.Send(ctx, to, m)
	time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
	return err
}

// TestFaultWorkerChild is the worker process TestFaultKillWorker kills:
// the real webchat adapter on the real store, deliveries and the sweep.
// It runs only as that child.
func TestFaultWorkerChild(t *testing.T) {
	if os.Getenv(envChild) != "worker" {
		t.Skip("the worker child of TestFaultKillWorker")
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := postgres.Open(ctx, os.Getenv(envPG), postgres.Options{MaxConns: 8})
	require.NoError(t, err)
	opts, err := goredis.ParseURL(os.Getenv(envRedis))
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	queue := tasks.NewQueue(rdb, os.Getenv(envQueue), log)
	store.OnOutbox(queue.Kick) // as main does
	orgs := org.NewService(store.Org(), core.SystemClock{})
	renderer := bot.New(bot.Config{Language: bot.LangEN}, orgs, log, bot.Hooks{})
	sender := slowAck{webchat.New(webchat.Config{}, store.Webchat(), nil, nil, log)}
	del := tasks.NewDeliverer(tasks.DeliveryConfig{Platforms: []string{core.PlatformWebchat}, RetryBase: 50 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, MaxAttempts: 5}, store.Outbox().WithLease(childLease), renderer, []bot.Sender{sender},
		orgs.Addresses, queue, log, nil)
	w := tasks.NewWorker(rdb, tasks.WorkerConfig{Queue: queue.Name(), Concurrency: 4, ShutdownTimeout: time.Second}, log, nil)
	w.Handle(tasks.TypeNotifyDeliver, del.HandleDeliver)
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error { _, err := del.Sweep(ctx); return err })
	s := tasks.NewScheduler(queue, []tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: time.Second}}, time.Now, log)
	go func() { _ = s.Run(ctx) }()
	_ = w.Run(ctx) // until killed
}

// TestFaultKillWorker (issue 21 item 2): a worker process delivering a
// backlog to webchat is killed with SIGKILL at random points 20 times;
// every notice ends up stored exactly once, and a kill delays the notices
// it held by the short outbox lease, not 2 minutes.
func TestFaultKillWorker(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("not inside a child")
	}
	pg, rs, b := private(t)
	ctx := context.Background()
	store := b.store
	const users, each = 40, 35
	for u := range users {
		addUser(t, b, fmt.Sprintf("k%02d", u))
	}
	require.NoError(t, store.WithTx(ctx, func(tx *postgres.Tx) error {
		for u := range users {
			for i := range each {
				err := tx.Notify(ctx, core.Notice{To: core.Recipient{User: fmt.Sprintf("k%02d", u)},
					Body: org.UserAdded{ByName: "kill", UnitName: fmt.Sprintf("单元%d", i)}})
				if err != nil {
					return err
				}
			}
		}
		return nil
	}))
	want := users * (each + 1)

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultWorkerChild$")
		cmd.Env = append(os.Environ(), envChild+"=worker", envPG+"="+pg.URL(),
			envRedis+"="+rs.URL(), envQueue+"="+b.queue.Name())
		require.NoError(t, cmd.Start())
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	pending := func() int {
		n, err := store.Outbox().Pending(ctx)
		require.NoError(t, err)
		return n
	}
	for i := range 20 {
		cmd := start()
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		kill(cmd)
		t.Logf("kill %d: %d pending", i+1, pending())
	}
	cmd := start()
	defer kill(cmd)
	// The last kill's leases run out, then a sweep finds the rows.
	drain := childLease + 15*time.Second
	deadline := time.Now().Add(drain)
	for pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	var stored, distinct int
	require.NoError(t, store.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT (to_user, title, body))
		FROM webchat_messages WHERE to_user LIKE 'k%'`).Scan(&stored, &distinct))
	faulttest.Report(t, "worker-kill-9x20/webchat", want-distinct, stored-distinct)
	require.Zero(t, pending(), "all delivered within %s of the last kill", drain)
}

// TestLeaseRenewedWhileSending: with a lease shorter than a slow send,
// the lease is renewed meanwhile, so no second attempt claims the row and
// sends it again.
func TestLeaseRenewedWhileSending(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	addUser(t, b, "slow1")
	outbox := b.store.Outbox().WithLease(600 * time.Millisecond)
	var calls int
	_, err := outbox.Claim(ctx, 1, func(d core.Delivery) ([]string, error) {
		calls++
		time.Sleep(1500 * time.Millisecond) // 2.5 leases
		found, err := outbox.Claim(ctx, 1, func(core.Delivery) ([]string, error) { calls++; return nil, nil })
		require.NoError(t, err)
		require.False(t, found, "the row is still leased")
		return []string{core.PlatformWebchat}, nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
}
