package core_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"opsbot/core"
)

// A caller arriving while a read is under way is not answered by it: the
// value it gets was read after it asked.
func TestSharedReadsNeverAnswerWithAnOlderRead(t *testing.T) {
	var value atomic.Int64
	started, release := make(chan struct{}, 10), make(chan struct{})
	f := core.NewSharedReads(func(context.Context, string) (string, error) {
		v := value.Load() // what the store holds when the read reaches it
		started <- struct{}{}
		<-release
		return strconv.FormatInt(v, 10), nil
	})
	ctx := context.Background()
	first := make(chan string)
	go func() { v, _ := f.Do(ctx, "k"); first <- v }()
	<-started // the first read has read 0 and not answered yet
	value.Store(1)
	second := make(chan string)
	go func() { v, _ := f.Do(ctx, "k"); second <- v }()
	time.Sleep(20 * time.Millisecond) // the second caller is waiting
	release <- struct{}{}
	if v := <-first; v != "0" {
		t.Fatalf("first = %q, want 0", v)
	}
	<-started // the second caller's own read
	release <- struct{}{}
	if v := <-second; v != "1" {
		t.Fatalf("second = %q, want 1: a read begun before the call must not answer it", v)
	}
}

// Callers arriving during one read share the next: many concurrent
// callers cost a few reads, not one each; each key is read on its own.
func TestSharedReadsAreSharedPerKey(t *testing.T) {
	var reads atomic.Int64
	f := core.NewSharedReads(func(_ context.Context, key int) (string, error) {
		reads.Add(1)
		time.Sleep(5 * time.Millisecond)
		return "v" + strconv.Itoa(key), nil
	})
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for n := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := f.Do(context.Background(), n%2)
			if err != nil || v != "v"+strconv.Itoa(n%2) {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d callers got another key's value or an error", wrong.Load())
	}
	if r := reads.Load(); r < 2 || r > 40 {
		t.Fatalf("%d reads for 400 callers of 2 keys within a few reads' time", r)
	}
}

// A caller whose context ends stops waiting; the read goes on for the
// others, and its error reaches them.
func TestSharedReadsCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	f := core.NewSharedReads(func(context.Context, struct{}) (string, error) {
		<-release
		return "", context.DeadlineExceeded
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Do(ctx, struct{}{}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	done := make(chan error)
	go func() { _, err := f.Do(context.Background(), struct{}{}); done <- err }()
	close(release)
	if err := <-done; err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want the read's error", err)
	}
}
