package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"opsbot/core"
	"opsbot/storage/postgres"
	"opsbot/tasks"
)

// timerKind is the task type of the bench's timers.
const timerKind = "bench:timer"

// timerConfig sizes phase (d).
type timerConfig struct {
	count   int           // timers scheduled
	lead    time.Duration // first due time, after scheduling starts
	spread  time.Duration // due times spread evenly over this window
	workers int           // asynq worker concurrency
	dbConns int32         // Postgres pool size of the bench's store
	writers int           // concurrent scheduling transactions
	batch   int           // timers per scheduling transaction
}

type timerResult struct {
	cfg          timerConfig
	scheduleTook time.Duration // scheduling all timers (inserts + kicks)
	slack        time.Duration // first due time minus the end of scheduling (< 0: overran)
	fired        int           // distinct timers claimed
	firedTwice   int           // timers claimed successfully more than once
	dupClaims    int64         // claims that found the timer already fired (a duplicate task absorbed)
	earlyClaims  int64         // claims that found the timer pending but not yet due
	claimErrors  int64         // handler errors (asynq retries them)
	sweeps       int64         // sweep tasks run
	swept        int64         // timers the sweeps re-enqueued
	late         []time.Duration
	dbFired      int // state = 'fired' in Postgres at the end
	dbPending    int // still pending at the end
}

func (r timerResult) pct(p float64) time.Duration {
	if len(r.late) == 0 {
		return 0
	}
	return r.late[int(float64(len(r.late)-1)*p)]
}

// timerBench is phase (d): cfg.count timers in a fresh database and Redis DB
// 12, fired by the real machinery (Schedule + OnTimers kick, asynq worker
// with TimerHandler claiming in a transaction, the 1 s sweep), in-process.
func timerBench(ctx context.Context, cfg timerConfig) (timerResult, error) {
	res := timerResult{cfg: cfg}
	dbURL, err := freshDatabase(ctx, "opsbot_bench_timers")
	if err != nil {
		return res, err
	}
	store, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: cfg.dbConns})
	if err != nil {
		return res, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return res, err
	}

	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	opts, err := goredis.ParseURL(redisURL[:strings.LastIndex(redisURL, "/")] + "/12")
	if err != nil {
		return res, err
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	// DB 12 is the bench's alone: a previous run's tasks (same timer ids) must not fire here.
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return res, fmt.Errorf("redis db 12: %w", err)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	queue := tasks.NewQueue(rdb, "bench-timers", log)
	defer queue.Close()
	// Observe each commit's timers (their ids and due times), then kick
	// them as production does.
	var dueMu sync.Mutex
	dues := make(map[int64]time.Time, cfg.count)
	store.OnTimers(func(ts []core.Timer) {
		dueMu.Lock()
		for _, t := range ts {
			dues[t.ID] = t.DueAt
		}
		dueMu.Unlock()
		queue.KickTimers(ts)
	})

	// The handler claims the timer in a transaction, as core's timer handlers do.
	var mu sync.Mutex
	claims := make(map[int64]int, cfg.count)
	late := make([]time.Duration, 0, cfg.count)
	var dup, early, claimErrs, sweeps, swept atomic.Int64
	handle := func(ctx context.Context, id int64) error {
		var tm core.Timer
		var ok bool
		var now time.Time
		err := store.WithTx(ctx, func(tx *postgres.Tx) error {
			now = time.Now()
			var err error
			tm, ok, err = tx.ClaimTimer(ctx, id, now)
			return err
		})
		if err != nil {
			claimErrs.Add(1)
			return err
		}
		if !ok {
			// Not claimed: not due yet (ClaimTimer never claims early:
			// tasks.TimerHandler holds a task asynq hands over before its
			// time), or already fired (a duplicate task). Nothing here
			// cancels timers.
			dueMu.Lock()
			due, known := dues[id]
			dueMu.Unlock()
			if known && due.After(now) {
				early.Add(1)
			} else {
				dup.Add(1)
			}
			return nil
		}
		mu.Lock()
		claims[tm.ID]++
		if claims[tm.ID] == 1 {
			late = append(late, now.Sub(tm.DueAt))
		}
		mu.Unlock()
		return nil
	}

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := tasks.NewWorker(rdb, tasks.WorkerConfig{Queue: queue.Name(), Concurrency: cfg.workers, ShutdownTimeout: 5 * time.Second}, log, nil)
	w.Handle(timerKind, tasks.TimerHandler(handle, log))
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error {
		n, err := tasks.SweepTimers(ctx, store.Timers(), queue, time.Now())
		sweeps.Add(1)
		swept.Add(int64(n))
		return err
	})
	done := make(chan struct{})
	go func() { _ = w.Run(wctx); close(done) }()
	s := tasks.NewScheduler(queue, []tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: time.Second}}, time.Now, log)
	go func() { _ = s.Run(wctx) }()

	// Schedule: batches of cfg.batch timers a transaction, cfg.writers at a
	// time; each commit kicks its timers into asynq (OnTimers).
	start := time.Now()
	first := start.Add(cfg.lead)
	dueOf := func(i int) time.Time {
		return first.Add(time.Duration(int64(cfg.spread) * int64(i) / int64(cfg.count)))
	}
	batches := make(chan int)
	errc := make(chan error, cfg.writers)
	var wg sync.WaitGroup
	for g := 0; g < cfg.writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				err := store.WithTx(ctx, func(tx *postgres.Tx) error {
					for i := b; i < b+cfg.batch && i < cfg.count; i++ {
						if err := tx.Schedule(ctx, core.Timer{Kind: timerKind, Ref: fmt.Sprintf("bench:%d", i), DueAt: dueOf(i)}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for b := 0; b < cfg.count; b += cfg.batch {
		select {
		case batches <- b:
		case err := <-errc:
			close(batches)
			wg.Wait()
			return res, fmt.Errorf("schedule: %w", err)
		}
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errc:
		return res, fmt.Errorf("schedule: %w", err)
	default:
	}
	res.scheduleTook = time.Since(start)
	res.slack = time.Until(first)
	fmt.Fprintf(os.Stderr, "bench: (d) scheduled %d timers in %s; first due in %s, last in %s\n", cfg.count,
		res.scheduleTook.Round(time.Millisecond), res.slack.Round(time.Millisecond), time.Until(dueOf(cfg.count)).Round(time.Millisecond))

	// Wait for every timer (or 30 s past the last due time), then a few
	// more sweeps so a second firing would show.
	deadline := dueOf(cfg.count).Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(claims)
		mu.Unlock()
		if n >= cfg.count {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	stop()
	<-done

	mu.Lock()
	defer mu.Unlock()
	res.fired = len(claims)
	for _, c := range claims {
		if c > 1 {
			res.firedTwice++
		}
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	res.late = late
	res.dupClaims, res.earlyClaims, res.claimErrors = dup.Load(), early.Load(), claimErrs.Load()
	res.sweeps, res.swept = sweeps.Load(), swept.Load()
	_ = store.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'fired'), count(*) FILTER (WHERE state = 'pending') FROM timers`).
		Scan(&res.dbFired, &res.dbPending)
	return res, nil
}

func printTimers(r timerResult) {
	c := r.cfg
	ok := "no"
	if r.fired == c.count && r.firedTwice == 0 && len(r.late) > 0 && r.late[len(r.late)-1] <= 2*time.Second {
		ok = "yes"
	}
	max := time.Duration(0)
	if len(r.late) > 0 {
		max = r.late[len(r.late)-1]
	}
	fmt.Println()
	fmt.Println("| run | timers | fired | fired twice | p50 late | p99 late | max late | all fired ≤ 2 s late, none twice |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	fmt.Printf("| (d) timers, due over %s, %d workers | %d | %d | %d | %s | %s | %s | %s |\n", c.spread, c.workers, c.count, r.fired,
		r.firedTwice, r.pct(0.5).Round(time.Millisecond), r.pct(0.99).Round(time.Millisecond), max.Round(time.Millisecond), ok)
	fmt.Println()
	fmt.Println("| timers detail | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| scheduling (%d a transaction, %d transactions at a time, each commit kicks asynq) | %s |\n", c.batch, c.writers, r.scheduleTook.Round(time.Millisecond))
	fmt.Printf("| first due time after scheduling finished | %s |\n", r.slack.Round(time.Millisecond))
	if len(r.late) > 0 {
		fmt.Printf("| earliest claim (negative would be before its due time: never) | %s |\n", r.late[0].Round(time.Millisecond))
	}
	fmt.Printf("| fired > 2 s late | %d |\n", countOver(r.late, 2*time.Second))
	fmt.Printf("| duplicate tasks absorbed by the claim (timer already fired) | %d |\n", r.dupClaims)
	fmt.Printf("| claims refused as not yet due | %d |\n", r.earlyClaims)
	fmt.Printf("| handler errors (retried by asynq) | %d |\n", r.claimErrors)
	fmt.Printf("| sweeps run / timers they re-enqueued | %d / %d |\n", r.sweeps, r.swept)
	fmt.Printf("| Postgres at the end: fired / still pending | %d / %d |\n", r.dbFired, r.dbPending)
	fmt.Printf("| Postgres pool of the bench's store | %d conns |\n", c.dbConns)
}

func countOver(sorted []time.Duration, limit time.Duration) int {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i] > limit })
	return len(sorted) - i
}
