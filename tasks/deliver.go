package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"opsbot/bot"
	"opsbot/core"
)

// Outbox is the delivery side of the outbox, implemented by storage.
type Outbox interface {
	Claim(ctx context.Context, id int64, fn func(d core.Delivery) (delivered []string, err error)) (found bool, err error)
	Reschedule(ctx context.Context, id int64, delay time.Duration, giveUp bool) error
	MarkSent(ctx context.Context, id int64, platform string) error
	RecordFailure(ctx context.Context, id int64, platform string, cause error) error
	Due(ctx context.Context, limit int) ([]core.Delivery, error)
	// Next is the next pending notice to the recipient of row id (0: none).
	Next(ctx context.Context, id int64) (int64, error)
}

// Renderer turns a notice into a message.
type Renderer interface {
	Render(ctx context.Context, n core.StoredNotice) (bot.Message, error)
}

// Addresses finds where a user can be reached: platform → platform user id.
type Addresses func(ctx context.Context, userID string) (map[string]string, error)

// DeliveryConfig tunes delivery.
type DeliveryConfig struct {
	Platforms   []string      // order of preference for users
	RetryBase   time.Duration // first retry delay
	RetryMax    time.Duration // longest retry delay
	MaxAttempts int           // after this many failures a row is reported stuck (and still retried)
	// Channels maps a channel name to its address per platform.
	Channels map[string]map[string]string
}

// Deliverer sends outbox notices through the platform senders.
type Deliverer struct {
	cfg       DeliveryConfig
	outbox    Outbox
	render    Renderer
	senders   map[string]bot.Sender
	addresses Addresses
	queue     *Queue
	log       *slog.Logger
	observe   func(platform, outcome string)
	dropped   atomic.Int64 // notices to core.SystemUser dropped since start
}

// NewDeliverer returns a deliverer. observe (may be nil) counts sends by
// platform and outcome.
func NewDeliverer(cfg DeliveryConfig, outbox Outbox, render Renderer, senders []bot.Sender, addresses Addresses, queue *Queue, logger *slog.Logger, observe func(platform, outcome string)) *Deliverer {
	if observe == nil {
		observe = func(string, string) {}
	}
	m := map[string]bot.Sender{}
	for _, s := range senders {
		m[s.Platform()] = s
	}
	return &Deliverer{cfg: cfg, outbox: outbox, render: render, senders: m, addresses: addresses, queue: queue,
		log: logger.With("component", "deliver"), observe: observe}
}

// targets lists where a notice goes: (platform, address) pairs. A
// channel goes to every platform it is configured on; a user to the
// first of theirs that takes it, in order of preference, webchat last
// when it is enabled but not listed (the fallback of last resort).
func (d *Deliverer) targets(ctx context.Context, to core.Recipient) ([][2]string, error) {
	var out [][2]string
	if to.Channel != "" {
		for _, p := range d.cfg.Platforms {
			if addr, ok := d.cfg.Channels[to.Channel][p]; ok && d.senders[p] != nil {
				out = append(out, [2]string{p, addr})
			}
		}
		if len(out) == 0 {
			return nil, bot.Permanent(fmt.Errorf("channel %q is not configured on any enabled platform", to.Channel))
		}
		return out, nil
	}
	addrs, err := d.addresses(ctx, to.User)
	if err != nil {
		return nil, err
	}
	platforms := d.cfg.Platforms
	if !slices.Contains(platforms, core.PlatformWebchat) {
		platforms = append(slices.Clone(platforms), core.PlatformWebchat)
	}
	for _, p := range platforms {
		if addr, ok := addrs[p]; ok && d.senders[p] != nil {
			out = append(out, [2]string{p, addr})
		}
	}
	if len(out) == 0 {
		return nil, bot.Permanent(fmt.Errorf("user %q is not reachable on any enabled platform", to.User))
	}
	return out, nil
}

// failedMark is the mark in an outbox row's delivered platforms of a
// platform the notice failed on for good: no later attempt tries it again
// (nor counts the failure twice).
func failedMark(platform string) string { return "failed:" + platform }

// errAllFailed says every platform a notice could go to failed for good
// (each failure is recorded already).
var errAllFailed = errors.New("failed for good on every platform")

// Deliver sends one outbox row. Platforms that already got it are skipped,
// so a retry never sends twice where it went through. A platform that
// fails for good is recorded (for the sys admins' hourly count) and, for a
// user, the notice goes to their next platform.
//
// Notices to one person or channel go out in the order they were written
// (the outbox makes a later one wait for an earlier one): once a notice is
// out, the same task goes on with the next one to its recipient, up to
// drainMax, so a backlog does not wait for a queue round trip per notice.
func (d *Deliverer) Deliver(ctx context.Context, id int64) error {
	for range drainMax {
		sent, err := d.deliverOne(ctx, id)
		if err != nil || !sent || ctx.Err() != nil {
			return err
		}
		next, err := d.outbox.Next(ctx, id)
		if err != nil || next == 0 {
			return nil // the sweep or the next kick finds it
		}
		id = next
	}
	if d.queue != nil { // hand the rest of the line to another task
		return d.queue.EnqueueWait(ctx, id, time.Now())
	}
	return nil
}

// drainMax bounds how many notices of one recipient's backlog one task
// delivers in a row, so one long backlog does not hold a worker forever.
const drainMax = 64

// deliverOne sends row id; sent says it went out (or was done with).
func (d *Deliverer) deliverOne(ctx context.Context, id int64) (sent bool, err error) {
	var attempts int
	sctx := bot.WithOutbox(ctx, id) // platforms with a key store it once
	found, err := d.outbox.Claim(ctx, id, func(del core.Delivery) ([]string, error) {
		attempts = del.Attempts + 1
		done := slices.Clone(del.DeliveredPlatforms)
		if del.Notice.To.User == core.SystemUser && del.Notice.To.Channel == "" && !core.IsUpdate(del.Notice.Type) {
			// The pseudo-user "system" (alert incidents' declarer, the
			// overdue sweeps…) has no address: the notice is done, not
			// retried forever with user_not_found. This is the one place
			// it is dropped, whoever wrote it.
			d.log.Info("notice to the system user dropped", "outbox_id", id, "type", del.Notice.Type,
				"ref", del.Notice.Ref, "dropped_total", d.dropped.Add(1))
			return done, nil
		}
		msg, err := d.render.Render(ctx, del.Notice)
		if err != nil {
			return done, bot.Permanent(err)
		}
		if core.IsUpdate(del.Notice.Type) {
			// The outbox id travels along: a platform updates only what
			// earlier notices posted, never a card a later one sent.
			return d.update(sctx, id, del.Notice.Ref, msg, done)
		}
		targets, err := d.targets(ctx, del.Notice.To)
		if err != nil {
			return done, err
		}
		toUser := del.Notice.To.Channel == ""
		sent, failed := 0, 0
		for _, t := range targets {
			if slices.Contains(done, t[0]) {
				sent++
			}
		}
		for _, t := range targets {
			if toUser && sent > 0 {
				break // a user gets a notice once, on one platform
			}
			if slices.Contains(done, t[0]) {
				continue
			}
			if slices.Contains(done, failedMark(t[0])) {
				failed++
				continue
			}
			err := d.senders[t[0]].Send(sctx, bot.Address(del.Notice.To, t[1]), msg)
			var perm *bot.PermanentError
			switch {
			case err == nil:
				d.observe(t[0], "ok")
				done = append(done, t[0])
				d.markSent(ctx, id, t[0])
				sent++
			case errors.As(err, &perm):
				d.observe(t[0], "failed")
				d.log.Warn("delivery failed for good on a platform; trying the next", "outbox_id", id, "platform", t[0], "err", err)
				done = append(done, failedMark(t[0]))
				d.markSent(ctx, id, failedMark(t[0]))
				d.recordFailure(ctx, id, t[0], err)
				failed++
			default:
				d.observe(t[0], "error")
				return done, fmt.Errorf("%s: %w", t[0], err)
			}
		}
		if sent == 0 && failed > 0 {
			return done, bot.Permanent(errAllFailed)
		}
		return done, nil
	})
	if !found || err == nil {
		return found && err == nil, err
	}
	if errors.Is(err, core.ErrNotReady) {
		// Waiting for an earlier notice about the same ref: look again soon.
		if qerr := d.queue.EnqueueWait(ctx, id, time.Now().Add(300*time.Millisecond)); qerr != nil {
			// The task fails, so asynq runs it again (and the sweep finds the row).
			d.log.Warn("enqueue wait failed; the task is retried", "outbox_id", id, "err", qerr)
			return false, fmt.Errorf("outbox %d: enqueue another look: %w", id, qerr)
		}
		return false, nil
	}
	// Record the failure even when the task's context is ending (shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var perm *bot.PermanentError
	if errors.As(err, &perm) {
		d.log.Error("delivery failed for good", "outbox_id", id, "err", err)
		if !errors.Is(err, errAllFailed) { // per-platform failures are recorded already
			d.recordFailure(ctx, id, "", err)
		}
		// Given up: the next notice to the recipient need not wait for it.
		if rerr := d.outbox.Reschedule(ctx, id, 0, true); rerr != nil {
			return false, rerr
		}
		return true, nil
	}
	delay := d.backoff(attempts, err)
	level := slog.LevelWarn
	if attempts >= d.cfg.MaxAttempts {
		level = slog.LevelError
	}
	d.log.Log(ctx, level, "delivery failed; will retry", "outbox_id", id, "attempt", attempts, "retry_in", delay.String(), "err", err)
	if rerr := d.outbox.Reschedule(ctx, id, delay, false); rerr != nil {
		return false, rerr
	}
	if d.queue != nil {
		if qerr := d.queue.EnqueueDelivery(ctx, id, attempts, time.Now().Add(delay)); qerr != nil {
			d.log.Warn("enqueue retry failed; the sweeper will retry", "outbox_id", id, "err", qerr)
		}
		d.lookAtNext(ctx, id)
	}
	return false, nil
}

// lookAtNext gives the next notice to the recipient of row id, which just
// failed, a look of its own. That notice may have been deep in line when it
// was written (not looked at again until first in line, and it was to go
// out after row id, in the same task); now it waits for row id alone, and
// its looks take it out once row id is stuck, without waiting for the sweep.
func (d *Deliverer) lookAtNext(ctx context.Context, id int64) {
	next, err := d.outbox.Next(ctx, id)
	if err == nil && next != 0 {
		err = d.queue.EnqueueWait(ctx, next, time.Now().Add(300*time.Millisecond))
	}
	if err != nil {
		d.log.Warn("look at the next notice not enqueued; the sweep finds it", "outbox_id", id, "err", err)
	}
}

// update replaces the cards about ref on every platform that can.
func (d *Deliverer) update(ctx context.Context, id int64, ref string, msg bot.Message, done []string) ([]string, error) {
	for _, p := range d.cfg.Platforms {
		u, ok := d.senders[p].(bot.Updater)
		if !ok || slices.Contains(done, p) {
			continue
		}
		if err := u.Update(ctx, ref, msg); err != nil {
			d.observe(p, "error")
			return done, fmt.Errorf("%s: update %s: %w", p, ref, err)
		}
		d.observe(p, "ok")
		done = append(done, p)
		d.markSent(ctx, id, p)
	}
	return done, nil
}

// markSent records at once that a notice went out on platform, so an
// attempt after a crash skips it (the attempt's end records it too).
func (d *Deliverer) markSent(ctx context.Context, id int64, platform string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.outbox.MarkSent(ctx, id, platform); err != nil {
		d.log.Warn("sent mark not written; the attempt's end records it", "outbox_id", id, "platform", platform, "err", err)
	}
}

// recordFailure records a notice that failed for good on platform ("":
// on none), for the sys admins' hourly count.
func (d *Deliverer) recordFailure(ctx context.Context, id int64, platform string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.outbox.RecordFailure(ctx, id, platform, cause); err != nil {
		d.log.Warn("delivery failure not recorded; the hourly count misses it", "outbox_id", id, "platform", platform, "err", err)
	}
}

// backoff is exponential from RetryBase to RetryMax, or what the platform
// asked for (a 429's Retry-After) when that is longer.
func (d *Deliverer) backoff(attempt int, err error) time.Duration {
	delay := time.Duration(float64(d.cfg.RetryBase) * math.Pow(2, float64(attempt-1)))
	if delay > d.cfg.RetryMax || delay <= 0 {
		delay = d.cfg.RetryMax
	}
	var rl *bot.RetryAfterError
	if errors.As(err, &rl) && rl.After > delay {
		delay = rl.After
	}
	return delay
}

// HandleDeliver is the notify:deliver handler. It fails only on a bad
// payload: any other error (the database is down, the outcome could not
// be recorded) is logged and the task ends, because the outbox row is
// still pending in Postgres and the sweep enqueues it again. asynq thus
// never retries a delivery task until it archives it, which made a long
// outage lose notices (issue 21).
func (d *Deliverer) HandleDeliver(ctx context.Context, t *asynq.Task) error {
	var p DeliverPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.OutboxID <= 0 {
		return fmt.Errorf("notify:deliver: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	if err := d.Deliver(ctx, p.OutboxID); err != nil {
		d.log.Warn("delivery not done; the sweep retries it", "outbox_id", p.OutboxID, "err", err)
	}
	return nil
}

// Sweep enqueues every due outbox row again. A row whose task is still
// queued or running is left to it (same task id); one whose task asynq
// archived, or holds for a later retry, is run now (Queue.Revive).
func (d *Deliverer) Sweep(ctx context.Context) (int, error) {
	// A page at a time: the rest are picked up on the next sweep, once
	// these have been claimed, so a sweep cannot spin on the same rows.
	due, err := d.outbox.Due(ctx, 500)
	if err != nil {
		return 0, err
	}
	for _, r := range due {
		t, _ := NewDeliverTask(r.ID, r.Attempts)
		if err := d.queue.Revive(ctx, t, deliverTaskID(r.ID, r.Attempts), asynq.MaxRetry(3)); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}
