package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"opsbot/core"
)

// TimerPayload is the payload of every timer task; the task type is the
// timer's kind (e.g. "approval:remind").
type TimerPayload struct {
	TimerID int64 `json:"timer_id"`
	// DueAt is the timer's due time (absent in tasks queued before it
	// was carried: those run when asynq hands them over).
	DueAt time.Time `json:"due_at,omitzero"`
}

// NewTimerTask returns the task that fires a timer at its due time. Its id
// is unique per timer, so the sweeper may enqueue it again safely.
func NewTimerTask(t core.Timer) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(TimerPayload{TimerID: t.ID, DueAt: t.DueAt})
	opts := []asynq.Option{asynq.TaskID(timerTaskID(t.ID)), asynq.MaxRetry(5)}
	if t.DueAt.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(t.DueAt))
	}
	return asynq.NewTask(t.Kind, b), opts
}

// timerTaskID is the id of a timer's task from scheduling (the sweep's
// own is this plus ":due").
func timerTaskID(id int64) string { return fmt.Sprintf("timer:%d", id) }

// KickTimers enqueues freshly committed timers, off the caller's path
// (see Kick). A failure is only logged: the sweep finds due timers in
// Postgres.
func (q *Queue) KickTimers(timers []core.Timer) {
	timers = slices.Clone(timers)
	q.kick(func(ctx context.Context) error {
		for _, t := range timers {
			task, opts := NewTimerTask(t)
			if err := q.Enqueue(ctx, task, opts...); err != nil {
				return fmt.Errorf("timer %d (%s): %w", t.ID, t.Kind, err)
			}
		}
		return nil
	})
}

// DueTimers lists timers that are due by now (implemented by storage).
type DueTimers interface {
	Due(ctx context.Context, now time.Time, limit int) ([]core.Timer, error)
}

// SweepTimers enqueues every timer due by now again (same task id: a timer
// still queued is not duplicated; one lost with Redis, or archived by
// asynq, comes back: Queue.Revive). A timer whose task from scheduling
// waits in the queue to run is left to it: when the workers are behind,
// a second task would only add a claim that finds nothing. It returns
// how many it handed to Queue.Revive.
func SweepTimers(ctx context.Context, due DueTimers, q *Queue, now time.Time) (int, error) {
	ts, err := due.Due(ctx, now, 1000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		if q.Queued(timerTaskID(t.ID)) {
			continue
		}
		// Due by the app's clock: run now, under an id of its own, even if
		// the task enqueued at scheduling time waits for a later real time.
		task, _ := NewTimerTask(t)
		if err := q.Revive(ctx, task, timerTaskID(t.ID)+":due", asynq.MaxRetry(5)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// maxHold is the most a timer's task may come before its due time and
// be held for it (asynq keeps due times in whole seconds and hands a task
// over on a check every 200 ms: up to a second early). A task earlier than
// that (clocks far apart) runs at once, and the claim by the app's clock
// refuses a timer not due yet; the sweep enqueues it again once due.
const maxHold = 2 * time.Second

// TimerHandler adapts a core timer handler (which claims the timer in its
// own transaction) to an asynq handler that fails only on a bad payload.
//
// A task handed over before its timer's due time is held until then, off
// the worker (a worker asleep for the rest of a second would stall every
// timer behind it), so a timer never fires early: a deadline's handler
// never stamps a breach before the deadline. The task is done for asynq
// while it is held; the timer is still pending in Postgres, so a process
// ending in that second loses nothing: the sweep enqueues it once due.
func TimerHandler(fn func(ctx context.Context, timerID int64) error, log *slog.Logger) func(context.Context, *asynq.Task) error {
	return func(ctx context.Context, t *asynq.Task) error {
		var p TimerPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.TimerID <= 0 {
			return fmt.Errorf("%s: bad payload %q: %w", t.Type(), t.Payload(), asynq.SkipRetry)
		}
		fire := func(ctx context.Context) {
			// A failure ends the task: the timer is still pending in
			// Postgres and the sweep enqueues it again, so asynq never
			// archives a timer after its retries (issue 21).
			if err := fn(ctx, p.TimerID); err != nil {
				log.Warn("timer failed; the sweep retries it", "type", t.Type(), "timer_id", p.TimerID, "err", err)
			}
		}
		if wait := time.Until(p.DueAt); wait > 0 && wait <= maxHold {
			held := context.WithoutCancel(ctx) // asynq cancels ctx when the handler returns
			time.AfterFunc(wait, func() {
				ctx, cancel := context.WithTimeout(held, time.Minute)
				defer cancel()
				fire(ctx)
			})
			return nil
		}
		fire(ctx)
		return nil
	}
}
