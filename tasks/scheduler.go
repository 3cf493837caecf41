package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// Periodic is a task enqueued once per slot.
type Periodic struct {
	Type  string
	Every time.Duration
}

// Scheduler enqueues periodic tasks. Each enqueue carries a task id made of
// the type and the slot start ("timers:sweep:1764000000"), kept for two
// slots, so any number of schedulers enqueue each slot once (asynq #1013).
type Scheduler struct {
	queue   *Queue
	entries []Periodic
	now     func() time.Time
	log     *slog.Logger
}

// NewScheduler returns a scheduler for entries.
func NewScheduler(q *Queue, entries []Periodic, now func() time.Time, logger *slog.Logger) *Scheduler {
	return &Scheduler{queue: q, entries: entries, now: now, log: logger.With("component", "scheduler")}
}

// Tick enqueues every entry whose current slot has not been enqueued yet.
// It returns how many new slots it enqueued (conflicts with another
// scheduler's enqueue count as done, not new).
func (s *Scheduler) Tick(ctx context.Context, last map[string]int64) int {
	n := 0
	now := s.now()
	for _, e := range s.entries {
		slot := now.Truncate(e.Every).Unix()
		if last[e.Type] == slot {
			continue
		}
		t := asynq.NewTask(e.Type, nil)
		_, err := s.queue.client.EnqueueContext(ctx, t, asynq.Queue(s.queue.name),
			asynq.TaskID(fmt.Sprintf("%s:%d", e.Type, slot)), asynq.Retention(2*e.Every), asynq.MaxRetry(0),
			asynq.Timeout(e.Every+time.Minute))
		switch {
		case err == nil:
			n++
			last[e.Type] = slot
		case errors.Is(err, asynq.ErrTaskIDConflict):
			last[e.Type] = slot
		default:
			s.log.Warn("periodic enqueue failed; retrying next tick", "type", e.Type, "err", err)
		}
	}
	return n
}

// Run ticks every second until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	last := map[string]int64{}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	s.Tick(ctx, last)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Tick(ctx, last)
		}
	}
}
