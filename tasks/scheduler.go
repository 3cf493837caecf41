package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"opsbot/bot"
)

// Periodic is a task enqueued once per slot: every Every, or, when At is
// set, once a day at At ("HH:MM") in Loc, up to CatchUp late (a scheduler
// that was down at At still enqueues the day's slot within that time).
type Periodic struct {
	Type    string
	Every   time.Duration
	At      string
	Loc     *time.Location
	CatchUp time.Duration    // default 3h
	Now     func() time.Time // the clock of At slots (default the scheduler's)
}

// slot returns the entry's current slot (0 when none is due) and how long
// its task id is kept.
func (e Periodic) slot(now time.Time) (int64, time.Duration) {
	if e.At == "" {
		return now.Truncate(e.Every).Unix(), 2 * e.Every
	}
	if e.Now != nil {
		now = e.Now()
	}
	loc := e.Loc
	if loc == nil {
		loc = time.UTC
	}
	hm, err := time.Parse("15:04", e.At)
	if err != nil {
		return 0, 0
	}
	now = now.In(loc)
	at := time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	catchUp := e.CatchUp
	if catchUp <= 0 {
		catchUp = 3 * time.Hour
	}
	if now.Before(at) || now.After(at.Add(catchUp)) {
		return 0, 0
	}
	return at.Unix(), 48 * time.Hour
}

// payload of an At slot: the slot's time, so handlers act on the day it
// was due even when they run late.
type slotPayload struct {
	Slot int64 `json:"slot"`
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
		slot, keep := e.slot(now)
		if slot == 0 || last[e.Type] == slot {
			continue
		}
		var payload []byte
		timeout := e.Every + time.Minute
		retries := 0
		if e.At != "" {
			payload, _ = json.Marshal(slotPayload{Slot: slot})
			timeout, retries = 10*time.Minute, 5
		}
		t := asynq.NewTask(e.Type, payload)
		_, err := s.queue.client.EnqueueContext(ctx, t, asynq.Queue(s.queue.name),
			asynq.TaskID(fmt.Sprintf("%s:%d", e.Type, slot)), asynq.Retention(keep), asynq.MaxRetry(retries),
			asynq.Timeout(timeout))
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

// SlotTime returns the time an At slot task was due (zero for other tasks).
func SlotTime(t *asynq.Task) time.Time {
	var p slotPayload
	if json.Unmarshal(t.Payload(), &p) != nil || p.Slot == 0 {
		return time.Time{}
	}
	return time.Unix(p.Slot, 0)
}

// JobHandler runs a module's periodic job with the slot it was enqueued for.
func JobHandler(j bot.Job) func(context.Context, *asynq.Task) error {
	return func(ctx context.Context, t *asynq.Task) error { return j.Run(ctx, SlotTime(t)) }
}

// JobEntries turns modules' jobs into scheduler entries; daily slots are
// in loc on the now clock.
func JobEntries(jobs []bot.Job, loc *time.Location, now func() time.Time) []Periodic {
	out := make([]Periodic, len(jobs))
	for i, j := range jobs {
		out[i] = Periodic{Type: j.Type, Every: j.Every, At: j.At, CatchUp: j.CatchUp}
		if j.At != "" {
			out[i].Loc, out[i].Now = loc, now
		}
	}
	return out
}
