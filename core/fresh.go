package core

import (
	"context"
	"sync"
	"time"
)

// FreshReads shares reads of a value among concurrent callers without
// ever answering a caller with a value read before it asked: a caller
// joins the next read of its key, the one that starts after it arrived,
// never the one already under way. So what a write completed before the
// call is in the answer, as with a read of its own, yet under load one
// read answers every caller of a key that arrived during the one before
// it, instead of one read each. Callers share the value read: they must
// not change it (copy a slice before changing it).
type FreshReads[K comparable, V any] struct {
	read func(ctx context.Context, key K) (V, error)
	mu   sync.Mutex
	keys map[K]*freshKey[V]
}

// freshKey is a key's read under way and the read its callers arriving
// now wait for.
type freshKey[V any] struct {
	busy bool
	next *freshRead[V]
}

// freshRead is one read and the callers waiting for it.
type freshRead[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// FreshReadTimeout bounds one shared read: it runs for every caller
// waiting, so no one caller's context may end it.
const FreshReadTimeout = 5 * time.Second

// NewFreshReads returns reads by read shared as FreshReads says. read
// gets a context of its own (no caller's values, FreshReadTimeout).
func NewFreshReads[K comparable, V any](read func(ctx context.Context, key K) (V, error)) *FreshReads[K, V] {
	return &FreshReads[K, V]{read: read, keys: map[K]*freshKey[V]{}}
}

// Get returns key's value as read after the call began.
func (f *FreshReads[K, V]) Get(ctx context.Context, key K) (V, error) {
	f.mu.Lock()
	k := f.keys[key]
	if k == nil {
		k = &freshKey[V]{}
		f.keys[key] = k
	}
	if k.next == nil {
		k.next = &freshRead[V]{done: make(chan struct{})}
	}
	r := k.next
	if !k.busy {
		k.busy, k.next = true, nil
		go f.run(key, k, r)
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// run reads key for r's callers, then for those who arrived meanwhile,
// until none are waiting; then the key is forgotten.
func (f *FreshReads[K, V]) run(key K, k *freshKey[V], r *freshRead[V]) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), FreshReadTimeout)
		r.v, r.err = f.read(ctx, key)
		cancel()
		close(r.done)
		f.mu.Lock()
		r, k.next = k.next, nil
		k.busy = r != nil
		if !k.busy {
			delete(f.keys, key)
		}
		f.mu.Unlock()
	}
}
