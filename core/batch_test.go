package core_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"opsbot/core"
)

// Concurrent callers share batches of at most max items; each gets its
// own answer, and no more than workers batches run at once.
func TestBatcherSharesBatches(t *testing.T) {
	var batches, running, most atomic.Int64
	b := core.NewBatcher(2, 8, func(_ context.Context, in []int) ([]int, []error) {
		if n := running.Add(1); n > most.Load() {
			most.Store(n)
		}
		defer running.Add(-1)
		batches.Add(1)
		if len(in) > 8 {
			t.Errorf("batch of %d, max 8", len(in))
		}
		time.Sleep(2 * time.Millisecond)
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v * 2
		}
		return out, make([]error, len(in))
	})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := b.Do(context.Background(), i)
			if err != nil || v != 2*i {
				t.Errorf("item %d: %d, %v", i, v, err)
			}
		}()
	}
	wg.Wait()
	if n := batches.Load(); n >= 200 || n < 25 {
		t.Fatalf("%d batches for 200 items of at most 8 each", n)
	}
	if most.Load() > 2 {
		t.Fatalf("%d batches at once, workers 2", most.Load())
	}
}

// One item alone goes at once, and an item's error is its own.
func TestBatcherAnswersEachItem(t *testing.T) {
	bad := errors.New("bad")
	b := core.NewBatcher(1, 4, func(_ context.Context, in []string) ([]string, []error) {
		errs := make([]error, len(in))
		for i, v := range in {
			if v == "x" {
				errs[i] = bad
			}
		}
		return in, errs
	})
	v, err := b.Do(context.Background(), "a")
	if v != "a" || err != nil {
		t.Fatalf("got %q, %v", v, err)
	}
	if _, err := b.Do(context.Background(), "x"); !errors.Is(err, bad) {
		t.Fatalf("got %v, want bad", err)
	}
}

// A caller that gave up before its batch started is not run; a panic in a
// batch fails its items, not the process.
func TestBatcherDropsGoneCallersAndSurvivesPanics(t *testing.T) {
	release := make(chan struct{})
	var ran []string
	var mu sync.Mutex
	b := core.NewBatcher(1, 4, func(_ context.Context, in []string) ([]string, []error) {
		mu.Lock()
		ran = append(ran, in...)
		mu.Unlock()
		if in[0] == "block" {
			<-release
		}
		if in[0] == "panic" {
			panic("boom")
		}
		return in, make([]error, len(in))
	})
	go func() { _, _ = b.Do(context.Background(), "block") }()
	time.Sleep(10 * time.Millisecond) // "block" holds the one worker
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error)
	go func() { _, err := b.Do(ctx, "gone"); gone <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	close(release)
	if _, err := b.Do(context.Background(), "panic"); err == nil {
		t.Fatal("a panicking batch must fail its items")
	}
	if v, err := b.Do(context.Background(), "after"); v != "after" || err != nil {
		t.Fatalf("after a panic: %q, %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range ran {
		if r == "gone" {
			t.Fatal("an item whose caller gave up before its batch was run")
		}
	}
}
