package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks"
)

// recorder stands in for a chat platform: it records what it is sent and
// fails as told.
type recorder struct {
	mu    sync.Mutex
	got   []string // "to|text"
	fails []error  // returned, in order, before succeeding
}

func (r *recorder) Platform() string { return core.PlatformWebchat }

func (r *recorder) Send(_ context.Context, to core.Recipient, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fails) > 0 {
		err := r.fails[0]
		r.fails = r.fails[1:]
		return err
	}
	r.got = append(r.got, to.String()+"|"+m.Text)
	return nil
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

type bundle struct {
	store *postgres.Store
	rdb   *goredis.Client
	queue *tasks.Queue
	orgs  *org.Service
	rec   *recorder
	del   *tasks.Deliverer
	log   *slog.Logger
	// renderer is the bot that renders notices.
	renderer *bot.Bot
}

func setup(t *testing.T, db int) *bundle {
	t.Helper()
	return setupOn(t, pgtest.New(t), redistest.Client(t, db))
}

// setupOn wires a bundle on a given store and Redis client (fault tests
// pass private servers they stop and freeze).
func setupOn(t *testing.T, store *postgres.Store, rdb *goredis.Client) *bundle {
	t.Helper()
	b := &bundle{store: store, rdb: rdb, rec: &recorder{},
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.queue = tasks.NewQueue(b.rdb, redistest.Name("q"), b.log)
	t.Cleanup(func() { _ = b.queue.Close() })
	b.store.OnOutbox(b.queue.Kick)
	b.orgs = org.NewService(b.store.Org(), core.SystemClock{})
	ctx := context.Background()
	_, err := b.orgs.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	renderer := bot.New(bot.Config{Language: bot.LangEN}, b.orgs, b.log, bot.Hooks{})
	b.renderer = renderer
	b.del = tasks.NewDeliverer(tasks.DeliveryConfig{
		Platforms: []string{core.PlatformWebchat}, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		MaxAttempts: 5, Channels: map[string]map[string]string{"ops": {core.PlatformWebchat: "ops"}},
	}, b.store.Outbox(), renderer, []bot.Sender{b.rec}, b.orgs.Addresses, b.queue, b.log, nil)
	return b
}

// startWorker runs a worker (and, with sweep, a scheduler sweeping every
// second) until the test ends.
func (b *bundle) startWorker(t *testing.T, sweep bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := tasks.NewWorker(b.rdb, tasks.WorkerConfig{Queue: b.queue.Name(), Concurrency: 4, ShutdownTimeout: time.Second}, b.log, nil)
	w.Handle(tasks.TypeNotifyDeliver, b.del.HandleDeliver)
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error { _, err := b.del.Sweep(ctx); return err })
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	if sweep {
		s := tasks.NewScheduler(b.queue, []tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: time.Second}}, time.Now, b.log)
		go func() { _ = s.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); <-done })
}

func addUser(t *testing.T, b *bundle, id string) {
	t.Helper()
	_, err := b.orgs.AddUser(context.Background(), core.SystemActor(), id, "用户"+id, "city")
	require.NoError(t, err)
}

func TestDeliveredAfterCommit(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	b.startWorker(t, false)
	addUser(t, b, "u1")
	require.Eventually(t, func() bool { return len(b.rec.sent()) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "user:u1|opsbot added you to 示范市. Type /help to see what you can do.", b.rec.sent()[0])
}

func TestRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	b.rec.fails = []error{errors.New("platform 502"), &bot.RetryAfterError{After: 300 * time.Millisecond, Err: errors.New("429")}}
	b.startWorker(t, false)
	addUser(t, b, "u2")
	require.Eventually(t, func() bool { return len(b.rec.sent()) == 1 }, 10*time.Second, 20*time.Millisecond)
	// The row is marked delivered just after the send returns.
	var state string
	var attempts int
	require.Eventually(t, func() bool {
		var err error
		state, attempts, err = b.store.Outbox().State(context.Background(), 1)
		return err == nil && state == "delivered"
	}, 5*time.Second, 20*time.Millisecond, "state %q", state)
	require.Equal(t, 3, attempts)
	time.Sleep(500 * time.Millisecond)
	require.Len(t, b.rec.sent(), 1, "delivered exactly once")
}

func TestPermanentFailureIsMarkedFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	err := b.store.WithTx(ctx, func(tx *postgres.Tx) error {
		return tx.Notify(ctx, core.Notice{To: core.Recipient{Channel: "nowhere"}, Body: org.UserAdded{ByName: "x", UnitName: "y"}})
	})
	require.NoError(t, err)
	require.NoError(t, b.del.Deliver(ctx, 1))
	state, _, err := b.store.Outbox().State(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "failed", state)
	require.Empty(t, b.rec.sent())
}

// TestRedisFlushLosesNothing: notices committed while no worker runs are
// enqueued in Redis; Redis is flushed; the sweeper still delivers each one
// exactly once.
func TestRedisFlushLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, 4) // database 4 is this test's alone: it is flushed
	ctx := context.Background()
	for _, id := range []string{"f1", "f2", "f3"} {
		addUser(t, b, id)
	}
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	require.Eventually(t, func() bool {
		info, err := insp.GetQueueInfo(b.queue.Name())
		return err == nil && info.Pending == 3
	}, 5*time.Second, 20*time.Millisecond, "the commits enqueued a delivery each (after the commit, off its path)")
	require.NoError(t, b.rdb.FlushDB(ctx).Err())
	b.startWorker(t, true)
	require.Eventually(t, func() bool { return len(b.rec.sent()) == 3 }, 15*time.Second, 50*time.Millisecond)
	require.ElementsMatch(t, []string{"user:f1", "user:f2", "user:f3"}, recipients(b.rec.sent()))
	// The delivered mark follows the send: wait for it, then for another
	// sweep, and nothing is sent twice.
	require.Eventually(t, func() bool {
		n, err := b.store.Outbox().Pending(ctx)
		return err == nil && n == 0
	}, 5*time.Second, 20*time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	require.Len(t, b.rec.sent(), 3)
}

func recipients(sent []string) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		for j := range s {
			if s[j] == '|' {
				out[i] = s[:j]
				break
			}
		}
	}
	return out
}

// TestTwoSchedulersEnqueueEachSlotOnce covers asynq #1013: two schedulers
// ticking in the same slot enqueue one task.
func TestTwoSchedulersEnqueueEachSlotOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	entries := []tasks.Periodic{{Type: "digest:daily", Every: time.Minute}}
	s1 := tasks.NewScheduler(b.queue, entries, clock, b.log)
	s2 := tasks.NewScheduler(b.queue, entries, clock, b.log)
	require.Equal(t, 1, s1.Tick(ctx, map[string]int64{}))
	require.Equal(t, 0, s2.Tick(ctx, map[string]int64{}))
	now = now.Add(time.Minute)
	require.Equal(t, 1, s2.Tick(ctx, map[string]int64{}))
	require.Equal(t, 0, s1.Tick(ctx, map[string]int64{}))
	info, err := asynq.NewInspectorFromRedisClient(b.rdb).GetQueueInfo(b.queue.Name())
	require.NoError(t, err)
	require.Equal(t, 2, info.Pending)
}

// TestDailySlotAtLocalTime: an At entry is enqueued once a day after its
// local time, within its catch-up window, by however many schedulers.
func TestDailySlotAtLocalTime(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	ctx := context.Background()
	sh := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 24, 8, 59, 0, 0, sh)
	clock := func() time.Time { return now }
	entries := []tasks.Periodic{{Type: "digest:daily", At: "09:00", Loc: sh, CatchUp: time.Hour}}
	s1 := tasks.NewScheduler(b.queue, entries, clock, b.log)
	s2 := tasks.NewScheduler(b.queue, entries, clock, b.log)
	require.Equal(t, 0, s1.Tick(ctx, map[string]int64{}), "not before 09:00")
	now = time.Date(2026, 11, 24, 9, 20, 0, 0, sh)
	require.Equal(t, 1, s1.Tick(ctx, map[string]int64{}))
	require.Equal(t, 0, s2.Tick(ctx, map[string]int64{}), "the second scheduler's enqueue is a conflict")
	now = time.Date(2026, 11, 24, 10, 30, 0, 0, sh)
	require.Equal(t, 0, s2.Tick(ctx, map[string]int64{}), "outside the catch-up window")
	now = time.Date(2026, 11, 25, 9, 0, 0, 0, sh)
	require.Equal(t, 1, s2.Tick(ctx, map[string]int64{}), "the next day")
	info, err := asynq.NewInspectorFromRedisClient(b.rdb).GetQueueInfo(b.queue.Name())
	require.NoError(t, err)
	require.Equal(t, 2, info.Pending)
	pending, err := asynq.NewInspectorFromRedisClient(b.rdb).ListPendingTasks(b.queue.Name())
	require.NoError(t, err)
	var days []string
	for _, p := range pending {
		days = append(days, tasks.SlotTime(asynq.NewTask(p.Type, p.Payload)).In(sh).Format("2006-01-02 15:04"))
	}
	require.ElementsMatch(t, []string{"2026-11-24 09:00", "2026-11-25 09:00"}, days)
}

func TestBadPayloadIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	err := b.del.HandleDeliver(context.Background(), asynq.NewTask(tasks.TypeNotifyDeliver, []byte("{")))
	require.ErrorIs(t, err, asynq.SkipRetry)
}

// timerCounter handles "test:timer" by claiming the timer in a transaction.
type timerCounter struct {
	mu    sync.Mutex
	fired []int64
	at    map[int64]claimed
}

// claimed is a fired timer's ref and when it was claimed (the real clock).
type claimed struct {
	ref string
	at  time.Time
}

func (c *timerCounter) handle(store *postgres.Store) func(ctx context.Context, id int64) error {
	return func(ctx context.Context, id int64) error {
		return store.WithTx(ctx, func(tx *postgres.Tx) error {
			tm, ok, err := tx.ClaimTimer(ctx, id, time.Now())
			if err != nil || !ok {
				return err
			}
			c.mu.Lock()
			c.fired = append(c.fired, tm.ID)
			if c.at == nil {
				c.at = map[int64]claimed{}
			}
			c.at[tm.ID] = claimed{ref: tm.Ref, at: time.Now()}
			c.mu.Unlock()
			return nil
		})
	}
}

func (c *timerCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fired)
}

func scheduleTimer(t *testing.T, b *bundle, due time.Time) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.store.WithTx(ctx, func(tx *postgres.Tx) error {
		return tx.Schedule(ctx, core.Timer{Kind: "test:timer", Ref: "test:1", DueAt: due})
	}))
}

func (b *bundle) startTimerWorker(t *testing.T, c *timerCounter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := tasks.NewWorker(b.rdb, tasks.WorkerConfig{Queue: b.queue.Name(), Concurrency: 2, ShutdownTimeout: time.Second}, b.log, nil)
	w.Handle("test:timer", tasks.TimerHandler(c.handle(b.store), b.log))
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error {
		_, err := tasks.SweepTimers(ctx, b.store.Timers(), b.queue, time.Now())
		return err
	})
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	s := tasks.NewScheduler(b.queue, []tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: time.Second}}, time.Now, b.log)
	go func() { _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// timerSetup is a bundle whose commits kick timers, with a worker firing
// them into a counter.
func timerSetup(t *testing.T) (*bundle, *timerCounter) {
	t.Helper()
	b := setup(t, 2)
	b.store.OnTimers(b.queue.KickTimers)
	c := &timerCounter{}
	b.startTimerWorker(t, c)
	return b, c
}

func TestTimerFiresOnceAtItsTime(t *testing.T) {
	t.Parallel()
	b, c := timerSetup(t)
	due := time.Now().Add(1500 * time.Millisecond)
	scheduleTimer(t, b, due)
	time.Sleep(time.Until(due) - 500*time.Millisecond)
	require.Zero(t, c.count(), "not before its time")
	require.Eventually(t, func() bool { return c.count() == 1 }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(2500 * time.Millisecond) // sweeps pass: it does not fire again
	require.Equal(t, 1, c.count())
	state, err := b.store.Timers().State(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, "fired", state)
}

// asynq keeps due times in whole seconds and may hand a timer's task over
// up to a second before its time; the timer still fires at or after it,
// never before (a deadline's handler must not stamp a breach early), and
// not much later. Due times spread over a second's fractions.
func TestTimerNeverFiresEarly(t *testing.T) {
	t.Parallel()
	b, c := timerSetup(t)
	ctx := context.Background()
	due := map[string]time.Time{} // by ref: ids need not be 1–10
	start := time.Now().Add(1200 * time.Millisecond)
	for n := range 10 {
		at := start.Add(time.Duration(n) * 97 * time.Millisecond)
		ref := fmt.Sprintf("test:%d", n)
		require.NoError(t, b.store.WithTx(ctx, func(tx *postgres.Tx) error {
			return tx.Schedule(ctx, core.Timer{Kind: "test:timer", Ref: ref, DueAt: at})
		}))
		due[ref] = at
	}
	require.Eventually(t, func() bool { return c.count() == len(due) }, 15*time.Second, 50*time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	fired := map[string]bool{}
	for id, cl := range c.at {
		ref, at := cl.ref, cl.at
		d, ok := due[ref]
		require.True(t, ok, "timer %d (%s) is one of the test's", id, ref)
		require.False(t, fired[ref], "timer %s fired once", ref)
		fired[ref] = true
		// By the wall clock, as the claim compares (the app's clock), not
		// by the monotonic readings time.Now keeps.
		at, d = at.Round(0), d.Round(0)
		require.False(t, at.Before(d), "timer %s fired %s before its time", ref, d.Sub(at))
		require.Less(t, at.Sub(d), 1500*time.Millisecond, "timer %s fired %s late", ref, at.Sub(d))
	}
}

func TestTimerSurvivesRedisFlush(t *testing.T) {
	t.Parallel()
	b := setup(t, 5) // database 5 is this test's alone: it is flushed
	b.store.OnTimers(b.queue.KickTimers)
	scheduleTimer(t, b, time.Now().Add(500*time.Millisecond))
	require.NoError(t, b.rdb.FlushDB(context.Background()).Err())
	c := &timerCounter{}
	b.startTimerWorker(t, c)
	require.Eventually(t, func() bool { return c.count() == 1 }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(2 * time.Second)
	require.Equal(t, 1, c.count())
}

func TestCancelledTimerDoesNotFire(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	b.store.OnTimers(b.queue.KickTimers)
	ctx := context.Background()
	scheduleTimer(t, b, time.Now().Add(300*time.Millisecond))
	require.NoError(t, b.store.WithTx(ctx, func(tx *postgres.Tx) error { return tx.CancelTimers(ctx, "test:1", "") }))
	c := &timerCounter{}
	b.startTimerWorker(t, c)
	time.Sleep(2 * time.Second)
	require.Zero(t, c.count())
}

// A timer whose kicked task waits in the queue (the workers are behind)
// is left to that task by the sweep: no second task for it, which would
// only add a claim that finds nothing to a queue already behind. The
// kicked task then fires it, once.
func TestSweepLeavesAQueuedTimerToItsTask(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	b.store.OnTimers(b.queue.KickTimers)
	ctx := context.Background()
	scheduleTimer(t, b, time.Now().Add(-time.Second))
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	pending := func() []string {
		ts, _ := insp.ListPendingTasks(b.queue.Name())
		var ids []string
		for _, ti := range ts {
			ids = append(ids, ti.ID)
		}
		return ids
	}
	require.Eventually(t, func() bool { return len(pending()) == 1 }, 5*time.Second, 20*time.Millisecond, "the kick")
	for range 2 {
		n, err := tasks.SweepTimers(ctx, b.store.Timers(), b.queue, time.Now())
		require.NoError(t, err)
		require.Zero(t, n, "the timer is due, and its task queued")
	}
	require.Equal(t, []string{"timer:1"}, pending(), "no second task for a timer whose task is queued")
	c := &timerCounter{}
	b.startTimerWorker(t, c)
	require.Eventually(t, func() bool { return c.count() == 1 }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // a sweep passes: it does not fire again
	require.Equal(t, 1, c.count())
}
