package alerts

import (
	"context"
	"errors"

	"opsbot/core"
	"opsbot/core/alert"
)

// BatchIngester applies several notifications in one transaction, each
// failing alone (the alert service).
type BatchIngester interface {
	IngestBatch(ctx context.Context, gs []alert.Group) ([]alert.IngestResult, []error)
}

// Batcher applies Alertmanager notifications in small batches, one
// transaction each, so concurrent webhooks share their transaction's
// begin, commit and WAL flush. A notification waits for no timer: a
// worker takes whatever is queued when it is free, so at low load every
// batch has one notification and under load they grow to max.
type Batcher struct {
	s       BatchIngester
	jobs    chan *batchJob
	max     int
	workers int
	retried func(outcome string)
}

// OnRetry sets what counts a notification applied again, alone, after
// its transaction was given up to break a deadlock or a serialization
// conflict (core.ErrRetry); outcome is "ok" or "failed".
func (b *Batcher) OnRetry(count func(outcome string)) { b.retried = count }

type batchJob struct {
	ctx  context.Context
	g    alert.Group
	res  alert.IngestResult
	err  error
	done chan struct{}
}

// NewBatcher returns a batcher over s with workers concurrent batches of
// at most max notifications. Start it before use.
func NewBatcher(s BatchIngester, workers, max int) *Batcher {
	if workers < 1 {
		workers = 1
	}
	if max < 1 {
		max = 1
	}
	return &Batcher{s: s, jobs: make(chan *batchJob, workers*max), max: max, workers: workers}
}

// Start runs the workers until ctx ends.
func (b *Batcher) Start(ctx context.Context) {
	for range b.workers {
		go b.work(ctx)
	}
}

func (b *Batcher) work(ctx context.Context) {
	batch := make([]*batchJob, 0, b.max)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case j := <-b.jobs:
			batch = append(batch, j)
		}
	fill:
		for len(batch) < b.max {
			select {
			case j := <-b.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		live := batch[:0:0]
		gs := make([]alert.Group, 0, len(batch))
		for _, j := range batch {
			if j.ctx.Err() != nil { // the caller gave up: it was not acknowledged
				j.err = j.ctx.Err()
				close(j.done)
				continue
			}
			live = append(live, j)
			gs = append(gs, j.g)
		}
		if len(live) == 0 {
			continue
		}
		res, errs := b.s.IngestBatch(ctx, gs)
		for i := range live {
			if errors.Is(errs[i], core.ErrRetry) {
				// Once, alone: a conflict that lasts gets 503 (ServeHTTP).
				r, e := b.s.IngestBatch(ctx, gs[i:i+1])
				res[i], errs[i] = r[0], e[0]
				if b.retried != nil {
					outcome := "ok"
					if e[0] != nil {
						outcome = "failed"
					}
					b.retried(outcome)
				}
			}
		}
		for i, j := range live {
			j.res, j.err = res[i], errs[i]
			close(j.done)
		}
	}
}

// Ingest queues one notification and waits for its batch to commit.
func (b *Batcher) Ingest(ctx context.Context, g alert.Group) (alert.IngestResult, error) {
	j := &batchJob{ctx: ctx, g: g, done: make(chan struct{})}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		return alert.IngestResult{}, ctx.Err()
	}
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
		return alert.IngestResult{}, ctx.Err()
	}
}
