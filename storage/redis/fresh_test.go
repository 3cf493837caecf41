package redis

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A caller arriving while a read is under way is not answered by it: the
// value it gets was read after it asked.
func TestFreshReadsNeverAnswerWithAnOlderRead(t *testing.T) {
	var value atomic.Int64
	started, release := make(chan struct{}, 10), make(chan struct{})
	f := &freshReads{read: func(context.Context) (string, error) {
		v := value.Load() // what Redis holds when the read reaches it
		started <- struct{}{}
		<-release
		return strconv.FormatInt(v, 10), nil
	}}
	ctx := context.Background()
	first := make(chan string)
	go func() { v, _ := f.get(ctx); first <- v }()
	<-started // the first read has read 0 and not answered yet
	value.Store(1)
	second := make(chan string)
	go func() { v, _ := f.get(ctx); second <- v }()
	time.Sleep(20 * time.Millisecond) // the second caller is waiting
	release <- struct{}{}
	require.Equal(t, "0", <-first)
	<-started // the second caller's own read
	release <- struct{}{}
	require.Equal(t, "1", <-second, "a read begun before the call must not answer it")
}

// Callers arriving during one read share the next: many concurrent
// callers cost a few reads, not one each.
func TestFreshReadsAreShared(t *testing.T) {
	var reads atomic.Int64
	f := &freshReads{read: func(context.Context) (string, error) {
		reads.Add(1)
		time.Sleep(5 * time.Millisecond)
		return "v", nil
	}}
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := f.get(context.Background())
			require.NoError(t, err)
			require.Equal(t, "v", v)
		}()
	}
	wg.Wait()
	require.LessOrEqual(t, reads.Load(), int64(20), "200 callers within a few reads' time")
}

// A caller whose context ends stops waiting; the read goes on for the
// others, and its error reaches them.
func TestFreshReadsCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	f := &freshReads{read: func(context.Context) (string, error) {
		<-release
		return "", context.DeadlineExceeded
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.get(ctx)
	require.ErrorIs(t, err, context.Canceled)
	done := make(chan error)
	go func() { _, err := f.get(context.Background()); done <- err }()
	close(release)
	require.ErrorIs(t, <-done, context.DeadlineExceeded)
}
