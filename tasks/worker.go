package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// WorkerConfig tunes the asynq server.
type WorkerConfig struct {
	Queue           string
	Concurrency     int
	ShutdownTimeout time.Duration
	// RetryDelay, when set, is the delay before every asynq retry (tests
	// and the fault suite use a short one to live through a long outage
	// in seconds); zero keeps asynq's exponential default.
	RetryDelay time.Duration
}

// Worker runs task handlers.
type Worker struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// NewWorker returns a worker over the shared Redis client. observe (may be
// nil) is told each task's type and outcome.
func NewWorker(rdb redis.UniversalClient, cfg WorkerConfig, logger *slog.Logger, observe func(taskType, outcome string)) *Worker {
	log := logger.With("component", "worker")
	var retryDelay asynq.RetryDelayFunc
	if cfg.RetryDelay > 0 {
		retryDelay = func(int, error, *asynq.Task) time.Duration { return cfg.RetryDelay }
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: cfg.Concurrency,
		Queues:      map[string]int{cfg.Queue: 1},
		// A timer's task waits in asynq's scheduled set until a check moves
		// it to the queue: checking each second made timers up to a second
		// late on that alone (p99 0.8–1.05 s in make bench); a check is one
		// small Redis script.
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		// An idle worker looks for work every 100 ms (default 1 s, which made
		// timers up to 2 s late on top of the delayed-task check).
		TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		RetryDelayFunc:    retryDelay,
		Logger:            slogAdapter{log},
		LogLevel:          asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			log.Warn("task failed", "type", t.Type(), "err", err)
		}),
	})
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("task panicked", "type", t.Type(), "panic", r)
					err = fmt.Errorf("panic: %v", r)
				}
				if observe != nil {
					outcome := "ok"
					if err != nil {
						outcome = "error"
					}
					observe(t.Type(), outcome)
				}
			}()
			return next.ProcessTask(ctx, t)
		})
	})
	return &Worker{srv: srv, mux: mux}
}

// Handle registers a handler for a task type.
func (w *Worker) Handle(taskType string, fn func(ctx context.Context, t *asynq.Task) error) {
	w.mux.HandleFunc(taskType, fn)
}

// Run processes tasks until ctx ends, then shuts down gracefully.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	<-ctx.Done()
	w.srv.Shutdown()
	return nil
}

// slogAdapter is asynq's Logger on slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
