package tasks_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"opsbot/storage/redis/redistest"
	"opsbot/tasks"
)

// drainRig is a queue and a way to start workers on it.
type drainRig struct {
	queue *tasks.Queue
	start func(shutdown time.Duration, fn func(ctx context.Context, t *asynq.Task) error) (stop func() time.Duration)
}

func newDrainRig(t *testing.T) drainRig {
	t.Helper()
	rdb := redistest.Client(t, 3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := tasks.NewQueue(rdb, redistest.Name("drain"), log)
	start := func(shutdown time.Duration, fn func(ctx context.Context, t *asynq.Task) error) func() time.Duration {
		w := tasks.NewWorker(rdb, tasks.WorkerConfig{Queue: q.Name(), Concurrency: 1, ShutdownTimeout: shutdown}, log, nil)
		w.Handle("drain:job", fn)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		return func() time.Duration {
			began := time.Now()
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(shutdown + 10*time.Second):
				t.Fatal("the worker did not stop")
			}
			return time.Since(began)
		}
	}
	return drainRig{queue: q, start: start}
}

// A task that ends within worker shutdown_timeout finishes on the worker
// being stopped.
func TestWorkerFinishesTaskInFlightOnShutdown(t *testing.T) {
	t.Parallel()
	r := newDrainRig(t)
	running := make(chan struct{}, 1)
	var done atomic.Int32
	stop := r.start(5*time.Second, func(ctx context.Context, _ *asynq.Task) error {
		running <- struct{}{}
		time.Sleep(500 * time.Millisecond)
		done.Add(1)
		return nil
	})
	require.NoError(t, r.queue.Enqueue(context.Background(), asynq.NewTask("drain:job", nil)))
	select {
	case <-running:
	case <-time.After(10 * time.Second):
		t.Fatal("the task did not start")
	}
	stop()
	require.Equal(t, int32(1), done.Load(), "the task in flight was not finished")
}

// A task still running at shutdown_timeout is handed back: the worker stops
// within the timeout and another worker runs the task to the end.
func TestWorkerHandsBackTaskAtShutdownTimeout(t *testing.T) {
	t.Parallel()
	r := newDrainRig(t)
	running := make(chan struct{}, 1)
	stop := r.start(500*time.Millisecond, func(ctx context.Context, _ *asynq.Task) error {
		running <- struct{}{}
		<-ctx.Done() // longer than the shutdown timeout
		return ctx.Err()
	})
	require.NoError(t, r.queue.Enqueue(context.Background(), asynq.NewTask("drain:job", nil)))
	select {
	case <-running:
	case <-time.After(10 * time.Second):
		t.Fatal("the task did not start")
	}
	took := stop()
	require.Less(t, took, 3*time.Second, "the worker did not stop at its shutdown timeout")

	finished := make(chan struct{}, 1)
	stop2 := r.start(time.Second, func(ctx context.Context, _ *asynq.Task) error {
		finished <- struct{}{}
		return nil
	})
	defer stop2()
	select {
	case <-finished:
	case <-time.After(15 * time.Second):
		t.Fatal("the handed-back task never ran on the next worker")
	}
}
