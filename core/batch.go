package core

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Batcher shares work among concurrent callers (group commit): a caller's
// item waits for a free worker, which takes every item waiting (up to
// max) and runs them together, in one transaction where run writes, so
// they share its round trips, commit and WAL flush. Nothing waits for a
// timer: at low load every batch has one item, under load they grow.
// Workers are started as items arrive, at most workers at a time, and
// end when nothing is waiting.
type Batcher[In, Out any] struct {
	run     func(ctx context.Context, in []In) ([]Out, []error)
	workers int
	max     int
	mu      sync.Mutex
	queue   []*batchCall[In, Out]
	running int
}

type batchCall[In, Out any] struct {
	ctx  context.Context
	in   In
	out  Out
	err  error
	done chan struct{}
}

// NewBatcher returns a batcher running batches of at most size items, at
// most workers batches at a time, through run, which answers each item of
// its batch (an error for one item or for all).
func NewBatcher[In, Out any](workers, size int, run func(ctx context.Context, in []In) ([]Out, []error)) *Batcher[In, Out] {
	return &Batcher[In, Out]{run: run, workers: max(workers, 1), max: max(size, 1)}
}

// Do queues in and waits for its batch. A caller whose context ends
// before its batch starts is dropped from it; once the batch has started
// the caller still stops waiting when its context ends, but the batch
// goes on.
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := &batchCall[In, Out]{ctx: ctx, in: in, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.running < b.workers {
		b.running++
		go b.work()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// work runs batches until nothing is waiting.
func (b *Batcher[In, Out]) work() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.max)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		batch := make([]*batchCall[In, Out], n)
		copy(batch, b.queue)
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()
		live := batch[:0]
		for _, c := range batch {
			if c.ctx.Err() != nil { // the caller gave up before anything was done
				c.err = c.ctx.Err()
				close(c.done)
				continue
			}
			live = append(live, c)
		}
		if len(live) == 0 {
			continue
		}
		in := make([]In, len(live))
		for i, c := range live {
			in[i] = c.in
		}
		out, errs := b.runSafely(context.WithoutCancel(live[0].ctx), in)
		for i, c := range live {
			if i < len(out) {
				c.out = out[i]
			}
			if i < len(errs) {
				c.err = errs[i]
			}
			close(c.done)
		}
	}
}

// runSafely runs one batch; a panic fails the batch's items instead of
// the process (the worker goroutine has no caller to recover it).
func (b *Batcher[In, Out]) runSafely(ctx context.Context, in []In) (out []Out, errs []error) {
	defer func() {
		if r := recover(); r != nil {
			out, errs = nil, make([]error, len(in))
			for i := range errs {
				errs[i] = fmt.Errorf("batch: panic: %v", r)
			}
		}
	}()
	return b.run(ctx, in)
}

// sharedReadsSize bounds the callers one shared read answers (more wait
// for the next), and sharedReadTimeout one read: it runs for every
// caller waiting, so no one caller's context may end it.
const (
	sharedReadsSize   = 1024
	sharedReadTimeout = 5 * time.Second
)

// NewSharedReads returns a Batcher of one worker that reads each key of a
// batch once and answers every caller of it. A caller joins the next
// batch, which starts after it arrived, never the read under way: what a
// write completed before the call is in the answer, as with a read of its
// own, yet under load one read answers every caller of a key that arrived
// during the one before it. Callers share the value read: they must not
// change it (copy a slice before changing it).
func NewSharedReads[K comparable, V any](read func(ctx context.Context, key K) (V, error)) *Batcher[K, V] {
	return NewBatcher(1, sharedReadsSize, func(ctx context.Context, keys []K) ([]V, []error) {
		out, errs := make([]V, len(keys)), make([]error, len(keys))
		first := make(map[K]int, 1)
		for i, k := range keys {
			if j, ok := first[k]; ok {
				out[i], errs[i] = out[j], errs[j]
				continue
			}
			first[k] = i
			rctx, cancel := context.WithTimeout(ctx, sharedReadTimeout)
			out[i], errs[i] = read(rctx, k)
			cancel()
		}
		return out, errs
	})
}
