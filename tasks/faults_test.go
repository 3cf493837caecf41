package tasks_test

// The fault suite (issue 21): real Postgres and Redis servers of the
// test's own, stopped, frozen and killed. `make faults` runs every
// TestFault* test with -v and prints the FAULT lines.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/tasks"
	"opsbot/tasks/faulttest"
)

// private starts a private Postgres (migrated) and Redis for one test.
func private(t *testing.T) (*faulttest.Postgres, *faulttest.Redis, *bundle) {
	t.Helper()
	pg := faulttest.StartPostgres(t)
	rs := faulttest.StartRedis(t)
	store := pg.Store(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr(), ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	b := setupOn(t, store, rdb)
	b.store.OnTimers(b.queue.KickTimers)
	return pg, rs, b
}

// runAll runs a worker for deliveries, test timers and the sweep (of the
// outbox and timers), with asynq retries retryDelay apart, and a
// scheduler sweeping every sweep; it stops when the test ends.
func (b *bundle) runAll(t *testing.T, c *timerCounter, retryDelay, sweep time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := tasks.NewWorker(b.rdb, tasks.WorkerConfig{Queue: b.queue.Name(), Concurrency: 4, ShutdownTimeout: time.Second,
		RetryDelay: retryDelay}, b.log, nil)
	w.Handle(tasks.TypeNotifyDeliver, b.del.HandleDeliver)
	w.Handle("test:timer", tasks.TimerHandler(c.handle(b.store), b.log))
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error {
		if _, err := b.del.Sweep(ctx); err != nil {
			return err
		}
		_, err := tasks.SweepTimers(ctx, b.store.Timers(), b.queue, time.Now())
		return err
	})
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	s := tasks.NewScheduler(b.queue, []tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: sweep}}, time.Now, b.log)
	go func() { _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// within fails the test unless cond holds within d; state says where
// things stand when it does not.
func within(t *testing.T, d time.Duration, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not done after %s: %s", d, state())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lostAndDuplicated compares what was sent with what was wanted.
func lostAndDuplicated(want []string, got []string) (lost, dup int) {
	n := map[string]int{}
	for _, g := range got {
		n[g]++
	}
	for _, w := range want {
		switch c := n[w]; {
		case c == 0:
			lost++
		case c > 1:
			dup += c - 1
		}
	}
	return lost, dup
}

// TestFaultLongPostgresOutage (issue 21 item 1): notices and timers are
// due while Postgres is down long enough for asynq to give up on every
// task (a 15-minute outage, lived through in seconds by retrying 50 ms
// apart); once Postgres is back, every notice is delivered and every
// timer fired within one sweep interval, none twice.
func TestFaultLongPostgresOutage(t *testing.T) {
	pg, _, b := private(t)
	var want []string
	for i := range 20 {
		id := fmt.Sprintf("lo%02d", i)
		addUser(t, b, id)
		want = append(want, "user:"+id)
	}
	for range 10 {
		scheduleTimer(t, b, time.Now().Add(-time.Second))
	}
	// A sweep ran just before the outage: the due timers are queued too.
	ctx := context.Background()
	_, err := tasks.SweepTimers(ctx, b.store.Timers(), b.queue, time.Now())
	require.NoError(t, err)
	info, err := asynq.NewInspectorFromRedisClient(b.rdb).GetQueueInfo(b.queue.Name())
	require.NoError(t, err)
	t.Logf("queued before the outage: %d pending, %d scheduled", info.Pending, info.Scheduled)
	pg.Stop(t)
	c := &timerCounter{}
	const sweep = 2 * time.Second
	b.runAll(t, c, 50*time.Millisecond, sweep)
	// Every task is tried while the database is down, retried 50 ms apart,
	// until asynq gives up on it (as it did after 5 and 14 minutes of its
	// own backoff): the outage lasts until no notice or timer task is
	// left to run.
	waitTasksSettled(t, b)
	pg.Start(t)
	back := time.Now()
	deadline := sweep + 3*time.Second // one sweep interval, plus the sweep's own work
	within(t, deadline, func() bool { return len(b.rec.sent()) >= len(want) && c.count() >= 10 },
		func() string {
			return fmt.Sprintf("%d of %d notices, %d of 10 timers", len(b.rec.sent()), len(want), c.count())
		})
	t.Logf("all delivered and fired %s after Postgres came back", time.Since(back).Round(time.Millisecond))
	time.Sleep(2 * sweep) // two more sweeps: nothing goes out twice
	lost, dup := lostAndDuplicated(want, recipients(b.rec.sent()))
	faulttest.Report(t, "postgres-down-15min/notices", lost, dup)
	faulttest.Report(t, "postgres-down-15min/timers", 10-min(c.count(), 10), max(c.count()-10, 0))
}

// waitTasksSettled waits until asynq has run or given up on every task
// but sweeps: nothing scheduled or retrying, at most a sweep pending or
// running, twice in a row (a task moving between lists is not missed).
func waitTasksSettled(t *testing.T, b *bundle) {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	settled := func() bool {
		qi, err := insp.GetQueueInfo(b.queue.Name())
		return err == nil && qi.Retry == 0 && qi.Scheduled == 0 && qi.Pending+qi.Active <= 1
	}
	require.Eventually(t, func() bool {
		if !settled() {
			return false
		}
		time.Sleep(300 * time.Millisecond)
		return settled()
	}, 30*time.Second, 100*time.Millisecond, "tasks still live")
	archived, _ := insp.ListArchivedTasks(b.queue.Name(), asynq.PageSize(1000))
	n := 0
	for _, ti := range archived {
		if ti.Type != tasks.TypeTimersSweep {
			n++
		}
	}
	t.Logf("asynq settled: %d notice and timer tasks archived", n)
}

// TestFaultSweepRevivesArchivedTasks: tasks asynq archived before this
// release (or that ran out of their lease while Redis was frozen and wait
// for a late retry) hold the ids the sweep enqueues under; the sweep runs
// them now instead of taking the id conflict for success.
func TestFaultSweepRevivesArchivedTasks(t *testing.T) {
	_, _, b := private(t)
	ctx := context.Background()
	addUser(t, b, "ar1")
	scheduleTimer(t, b, time.Now().Add(-time.Second))
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	archiveAll := func(want int, what string) {
		var pending []*asynq.TaskInfo
		require.Eventually(t, func() bool {
			pending, _ = insp.ListPendingTasks(b.queue.Name())
			return len(pending) == want
		}, 5*time.Second, 20*time.Millisecond, what)
		for _, ti := range pending {
			require.NoError(t, insp.ArchiveTask(b.queue.Name(), ti.ID))
		}
	}
	archiveAll(2, "the kicks of the notice and the timer")
	_, err := tasks.SweepTimers(ctx, b.store.Timers(), b.queue, time.Now())
	require.NoError(t, err)
	archiveAll(1, "the timer's sweep task")
	c := &timerCounter{}
	b.runAll(t, c, 50*time.Millisecond, time.Second)
	within(t, 3*time.Second, func() bool { return len(b.rec.sent()) == 1 && c.count() == 1 },
		func() string { return fmt.Sprintf("%d of 1 notices, %d of 1 timers", len(b.rec.sent()), c.count()) })
	time.Sleep(2 * time.Second) // two more sweeps
	lost, dup := lostAndDuplicated([]string{"user:ar1"}, recipients(b.rec.sent()))
	faulttest.Report(t, "asynq-archived-tasks/notices", lost, dup)
	faulttest.Report(t, "asynq-archived-tasks/timers", 1-min(c.count(), 1), max(c.count()-1, 0))
}

// TestFaultRedisFreeze (issue 21 item 5): while Redis is frozen (SIGSTOP),
// commits that write notices answer as soon as Postgres commits (the
// queue kick is off the request path), and once Redis is back the outbox
// drains within one sweep interval.
func TestFaultRedisFreeze(t *testing.T) {
	t.Parallel()
	rs := faulttest.StartRedis(t)
	opts, err := goredis.ParseURL(rs.URL()) // the client's defaults, as in production
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	b := setupOn(t, faulttest.StartPostgres(t).Store(t), rdb)
	const sweep = time.Second
	b.runAll(t, &timerCounter{}, 0, sweep)
	addUser(t, b, "fz00")
	within(t, 5*time.Second, func() bool { return len(b.rec.sent()) == 1 }, func() string { return "warm-up notice not delivered" })

	rs.Freeze(t)
	frozen := time.Now()
	want := []string{"user:fz00"}
	var mu sync.Mutex
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := 1; i <= 30; i++ {
		id := fmt.Sprintf("fz%02d", i)
		want = append(want, "user:"+id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			addUser(t, b, id)
			d := time.Since(start)
			mu.Lock()
			slowest = max(slowest, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	time.Sleep(5*time.Second - time.Since(frozen))
	rs.Thaw(t)
	back := time.Now()
	within(t, sweep+4*time.Second, func() bool { return len(b.rec.sent()) >= len(want) },
		func() string { return fmt.Sprintf("%d of %d notices", len(b.rec.sent()), len(want)) })
	t.Logf("slowest commit while Redis was frozen: %s; all delivered %s after Redis came back",
		slowest.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	time.Sleep(2 * sweep)
	lost, dup := lostAndDuplicated(want, recipients(b.rec.sent()))
	faulttest.Report(t, "redis-freeze-5s/notices", lost, dup)
	require.Less(t, slowest, time.Second, "a commit waited for the frozen Redis")
}
