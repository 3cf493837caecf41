// Package tasks holds opsbot's asynq task types, their payloads and
// handlers (thin: they call core or the deliverer), the periodic
// scheduler and the outbox relay.
//
// Postgres is the source of truth for everything due: outbox rows and
// timers. Redis (asynq) is only the trigger, so a task lost with Redis is
// enqueued again by the timers:sweep task.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Task types.
const (
	TypeNotifyDeliver = "notify:deliver"
	TypeTimersSweep   = "timers:sweep"
)

// DeliverPayload is the payload of notify:deliver.
type DeliverPayload struct {
	OutboxID int64 `json:"outbox_id"`
}

// NewDeliverTask returns the task that delivers one outbox row. Its id is
// unique per row and attempt, so enqueuing it twice is a no-op.
func NewDeliverTask(outboxID int64, attempt int) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(DeliverPayload{OutboxID: outboxID})
	return asynq.NewTask(TypeNotifyDeliver, b), []asynq.Option{
		asynq.TaskID(deliverTaskID(outboxID, attempt)),
		asynq.MaxRetry(3),
	}
}

// deliverTaskID is the id of the task delivering an outbox row's attempt.
func deliverTaskID(outboxID int64, attempt int) string {
	return fmt.Sprintf("notify:%d:%d", outboxID, attempt)
}

// Queue enqueues opsbot tasks on one asynq queue.
type Queue struct {
	client  *asynq.Client
	inspect *asynq.Inspector
	name    string
	log     *slog.Logger
	kicks   chan func(ctx context.Context) error // after-commit enqueues, run off the request path
	stop    chan struct{}
	stopped chan struct{}
}

// kickBacklog is how many commits' kicks may wait for Redis; beyond it a
// kick is dropped (the sweep enqueues what is due).
const kickBacklog = 1024

// kickTimeout bounds one kick's enqueues.
const kickTimeout = 2 * time.Second

// NewQueue returns a queue over a shared Redis client. Close stops its
// kicker.
func NewQueue(rdb redis.UniversalClient, name string, logger *slog.Logger) *Queue {
	q := &Queue{client: asynq.NewClientFromRedisClient(rdb), inspect: asynq.NewInspectorFromRedisClient(rdb),
		name: name, log: logger.With("component", "queue"),
		kicks: make(chan func(context.Context) error, kickBacklog), stop: make(chan struct{}), stopped: make(chan struct{})}
	go q.kicker()
	return q
}

// kicker runs kicks one at a time until Close.
func (q *Queue) kicker() {
	defer close(q.stopped)
	for {
		select {
		case <-q.stop:
			return
		case kick := <-q.kicks:
			ctx, cancel := context.WithTimeout(context.Background(), kickTimeout)
			if err := kick(ctx); err != nil {
				q.log.Warn("enqueue after commit failed; the sweep will enqueue it", "err", err)
			}
			cancel()
		}
	}
}

// kick queues an after-commit enqueue without waiting: Postgres is the
// record, and whatever is dropped or fails here the sweep finds.
func (q *Queue) kick(fn func(ctx context.Context) error) {
	select {
	case q.kicks <- fn:
	default:
		q.log.Warn("enqueue backlog full (Redis slow or down?); the sweep will enqueue the work")
	}
}

// Name returns the asynq queue name.
func (q *Queue) Name() string { return q.name }

// Enqueue enqueues a task; an existing task with the same id counts as success.
func (q *Queue) Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) error {
	opts = append(opts, asynq.Queue(q.name))
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	return err
}

// Revive enqueues a task the sweep owns (the row or timer behind it is
// due in Postgres) so that it runs now. When a task with the same id
// exists and is archived (asynq gave up on it: an older release, or a
// task whose lease ran out while Redis was frozen), retrying or scheduled
// for later, it is moved to pending; one pending or running is left as it
// is. So whatever asynq did with a task, the sweep brings it back.
func (q *Queue) Revive(ctx context.Context, t *asynq.Task, id string, opts ...asynq.Option) error {
	opts = append(opts, asynq.Queue(q.name), asynq.TaskID(id))
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	info, err := q.inspect.GetTaskInfo(q.name, id)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		// Gone meanwhile (it ran, or was deleted): enqueue it afresh.
		return q.Enqueue(ctx, t, opts...)
	}
	if err != nil {
		return fmt.Errorf("queue: inspect task %s: %w", id, err)
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateRetry, asynq.TaskStateScheduled:
		if err := q.inspect.RunTask(q.name, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return fmt.Errorf("queue: run task %s: %w", id, err)
		}
		q.log.Info("sweep revived a task", "task_id", id, "was", info.State.String())
	case asynq.TaskStateActive:
		// Running by asynq's books, yet its row or timer is due and not
		// leased in Postgres: the worker running it died (kill -9) and
		// asynq recovers such a task only after its own lease and a
		// retry delay. Run a twin now; the claim lets one of them act.
		twin := fmt.Sprintf("%s:r%d", id, time.Now().UnixNano())
		opts[len(opts)-1] = asynq.TaskID(twin)
		q.log.Info("sweep runs a twin of an orphaned task", "task_id", id, "twin", twin)
		return q.Enqueue(ctx, t, opts...)
	case asynq.TaskStateCompleted:
		if err := q.inspect.DeleteTask(q.name, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return fmt.Errorf("queue: delete task %s: %w", id, err)
		}
		return q.Enqueue(ctx, t, opts...)
	}
	return nil
}

// Queued reports whether the task with this id waits in the queue to
// run now (pending: not scheduled for later, retrying, running or done).
// A failed look is false: the caller then does what it would without it.
func (q *Queue) Queued(id string) bool {
	info, err := q.inspect.GetTaskInfo(q.name, id)
	return err == nil && info.State == asynq.TaskStatePending
}

// EnqueueDelivery enqueues the delivery of an outbox row, at once or at a time.
func (q *Queue) EnqueueDelivery(ctx context.Context, outboxID int64, attempt int, at time.Time) error {
	t, opts := NewDeliverTask(outboxID, attempt)
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	return q.Enqueue(ctx, t, opts...)
}

// EnqueueWait enqueues another look at an outbox row that had to wait for
// an earlier notice, at the next whole second from at (asynq moves
// scheduled tasks about once a second anyway). The task id is the row's
// and the second's: several looks at one row (a kick, a sweep, a retry)
// that all find it waiting merge into one, instead of each going on.
func (q *Queue) EnqueueWait(ctx context.Context, outboxID int64, at time.Time) error {
	if s := at.Truncate(time.Second); !s.Equal(at) {
		at = s.Add(time.Second)
	}
	t, _ := NewDeliverTask(outboxID, 0)
	return q.Enqueue(ctx, t, asynq.TaskID(fmt.Sprintf("notify:%d:wait:%d", outboxID, at.UnixNano())), asynq.ProcessAt(at), asynq.MaxRetry(3))
}

// Kick enqueues fresh outbox rows after their commit, off the caller's
// path: a commit never waits for Redis (a frozen Redis froze every
// webhook and command, issue 21). A failure is only logged: the sweep
// finds the rows.
func (q *Queue) Kick(ids []int64) {
	ids = slices.Clone(ids)
	q.kick(func(ctx context.Context) error {
		for _, id := range ids {
			if err := q.EnqueueDelivery(ctx, id, 0, time.Time{}); err != nil {
				return fmt.Errorf("outbox %d: %w", id, err)
			}
		}
		return nil
	})
}

// Close stops the kicker (kicks still waiting are left to the sweep) and
// closes the asynq client and inspector (not the shared Redis client).
func (q *Queue) Close() error {
	select {
	case <-q.stop:
	default:
		close(q.stop)
	}
	<-q.stopped
	return errors.Join(q.client.Close(), q.inspect.Close())
}
