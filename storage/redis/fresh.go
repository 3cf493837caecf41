package redis

import (
	"context"
	"sync"
	"time"
)

// freshReads shares reads of one value among concurrent callers without
// ever answering a caller with a value read before it asked: a caller
// joins the next read, the one that starts after it arrived, never the
// one already under way. So what a write completed before the call is in
// the answer (a command's org version stays exact),
// yet under load one Redis round trip answers every caller that arrived
// during the one before it, instead of one round trip each.
type freshReads struct {
	read func(ctx context.Context) (string, error)
	mu   sync.Mutex
	busy bool       // a read is under way
	next *freshRead // the read the callers arriving now wait for
}

// freshRead is one read and the callers waiting for it.
type freshRead struct {
	done chan struct{}
	v    string
	err  error
}

// freshReadTimeout bounds one shared read: it runs for every caller
// waiting, so no one caller's context may end it.
const freshReadTimeout = 5 * time.Second

// get returns a value read after the call began.
func (f *freshReads) get(ctx context.Context) (string, error) {
	f.mu.Lock()
	if f.next == nil {
		f.next = &freshRead{done: make(chan struct{})}
	}
	r := f.next
	if !f.busy {
		f.busy, f.next = true, nil
		go f.run(r)
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// run reads for r's callers, then for those who arrived meanwhile, until
// none are waiting.
func (f *freshReads) run(r *freshRead) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), freshReadTimeout)
		r.v, r.err = f.read(ctx)
		cancel()
		close(r.done)
		f.mu.Lock()
		r, f.next = f.next, nil
		f.busy = r != nil
		f.mu.Unlock()
	}
}
