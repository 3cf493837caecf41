package alerts

import (
	"context"
	"errors"
	"hash/fnv"

	"opsbot/core"
	"opsbot/core/alert"
)

// BatchIngester applies several notifications in one transaction, each
// failing alone (the alert service).
type BatchIngester interface {
	IngestBatch(ctx context.Context, gs []alert.Group) ([]alert.IngestResult, []error)
}

// Batcher applies Alertmanager notifications in small batches, one
// transaction each (core.Batcher), so concurrent webhooks share their
// transaction's round trips, commit and WAL flush. A notification waits
// for no timer: at low load every batch has one notification and under
// load they grow to max.
//
// Notifications are split by group key among partitions, each applying
// one batch at a time: two batches at once never hold the same groups, so
// one never waits for the other's row locks to be let go at its commit
// (with one shared queue, every batch of a 200-group load shared a group
// with the one before it and waited for it).
type Batcher struct {
	s       BatchIngester
	parts   []*core.Batcher[alert.Group, alert.IngestResult]
	retried func(outcome string)
}

// OnRetry sets what counts a notification applied again, alone, after
// its transaction was given up to break a deadlock or a serialization
// conflict (core.ErrRetry); outcome is "ok" or "failed".
func (b *Batcher) OnRetry(count func(outcome string)) { b.retried = count }

// NewBatcher returns a batcher over s with partitions batches at once, of
// at most size notifications each.
func NewBatcher(s BatchIngester, partitions, size int) *Batcher {
	b := &Batcher{s: s}
	for range max(partitions, 1) {
		b.parts = append(b.parts, core.NewBatcher(1, size, b.apply))
	}
	return b
}

// apply applies one batch; a notification whose transaction was given up
// for a conflict is applied again, once, alone (one that still conflicts
// gets 503: ServeHTTP).
func (b *Batcher) apply(ctx context.Context, gs []alert.Group) ([]alert.IngestResult, []error) {
	res, errs := b.s.IngestBatch(ctx, gs)
	for i := range gs {
		if !errors.Is(errs[i], core.ErrRetry) {
			continue
		}
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
	return res, errs
}

// Ingest queues one notification in its group's partition and waits for
// its batch to commit. A caller that gives up before its batch starts is
// not applied (it was not acknowledged).
func (b *Batcher) Ingest(ctx context.Context, g alert.Group) (alert.IngestResult, error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(g.GroupKey))
	return b.parts[h.Sum32()%uint32(len(b.parts))].Do(ctx, g)
}
