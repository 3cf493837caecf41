package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/tasks"
)

// orderSender stands in for a chat platform that answers after a few
// random milliseconds, fails the first attempt of some notices and keeps,
// per recipient, the numbers of the notices it took in the order it took
// them.
type orderSender struct {
	mu        sync.Mutex
	got       map[string][]int
	tried     map[int]bool
	failFirst func(n int) bool
	refuse    atomic.Int32 // a notice numbered this fails until it is 0
	slow      atomic.Int32 // a notice numbered this takes slowFor to send
	slowFor   time.Duration
}

var noticeNo = regexp.MustCompile(`\bn(\d+)\b`)

func (s *orderSender) Platform() string { return core.PlatformWebchat }

func (s *orderSender) Send(_ context.Context, to core.Recipient, m bot.Message) error {
	time.Sleep(time.Duration(1+rand.IntN(8)) * time.Millisecond)
	n := -1
	if g := noticeNo.FindStringSubmatch(m.Text); g != nil {
		_, _ = fmt.Sscan(g[1], &n)
	}
	if n >= 0 && int32(n) == s.slow.Load() {
		time.Sleep(s.slowFor)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= 0 && int32(n) == s.refuse.Load() {
		return errors.New("platform 502")
	}
	if n >= 0 && s.failFirst != nil && s.failFirst(n) && !s.tried[n] {
		s.tried[n] = true
		return errors.New("platform 503")
	}
	if n >= 0 {
		s.got[to.String()] = append(s.got[to.String()], n)
	}
	return nil
}

func (s *orderSender) of(to string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[to])
}

// orderRig is a bundle whose deliverer sends through an orderSender, run
// by two workers of four goroutines each.
// A stuck time of 0 keeps the outbox's default.
func orderRig(t *testing.T, stuck time.Duration, failFirst func(n int) bool) (*bundle, *orderSender) {
	t.Helper()
	b := setup(t, 2)
	s := &orderSender{got: map[string][]int{}, tried: map[int]bool{}, failFirst: failFirst}
	s.refuse.Store(-1)
	s.slow.Store(-1)
	outbox := b.store.Outbox()
	if stuck > 0 {
		outbox = outbox.WithStuckAfter(stuck)
	}
	b.del = tasks.NewDeliverer(tasks.DeliveryConfig{
		Platforms: []string{core.PlatformWebchat}, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		MaxAttempts: 5, Channels: map[string]map[string]string{"ops": {core.PlatformWebchat: "ops"}},
	}, outbox, b.renderer, []bot.Sender{s}, b.orgs.Addresses, b.queue, b.log, nil)
	b.startWorker(t, false)
	b.startWorker(t, false)
	return b, s
}

// write commits notice number n to to, alone in its transaction (each
// commit enqueues its delivery at once).
func write(t *testing.T, b *bundle, to core.Recipient, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.store.WithTx(ctx, func(tx *postgres.Tx) error {
		return tx.Notify(ctx, core.Notice{To: to, Body: org.UserAdded{ByName: fmt.Sprintf("n%d", n), UnitName: "y"}})
	}))
}

func TestNoticesToOnePersonArriveInOrder(t *testing.T) {
	t.Parallel()
	b, s := orderRig(t, 0, func(n int) bool { return n%3 == 0 })
	addUser(t, b, "o1")
	addUser(t, b, "o2")
	to := []core.Recipient{{User: "o1"}, {User: "o2"}, {Channel: "ops"}}
	const each = 12
	for i := range each * len(to) {
		write(t, b, to[i%len(to)], i)
	}
	for k, r := range to {
		want := make([]int, 0, each)
		for i := k; i < each*len(to); i += len(to) {
			want = append(want, i)
		}
		require.Eventually(t, func() bool { return len(s.of(r.String())) >= each }, 30*time.Second, 20*time.Millisecond, "%s got %v", r, s.of(r.String()))
		require.Equal(t, want, s.of(r.String()), "%s got its notices out of order", r)
	}
}

// TestOnePersonsBacklogDoesNotHoldUpAnother: order is per recipient. While
// o1's first notice keeps failing, o1's second waits, and o2's go out.
func TestOnePersonsBacklogDoesNotHoldUpAnother(t *testing.T) {
	t.Parallel()
	b, s := orderRig(t, 0, nil)
	addUser(t, b, "p1")
	addUser(t, b, "p2")
	s.refuse.Store(1)
	write(t, b, core.Recipient{User: "p1"}, 1)
	write(t, b, core.Recipient{User: "p1"}, 2)
	write(t, b, core.Recipient{User: "p2"}, 3)
	write(t, b, core.Recipient{User: "p2"}, 4)
	require.Eventually(t, func() bool { return len(s.of("user:p2")) == 2 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, []int{3, 4}, s.of("user:p2"))
	time.Sleep(time.Second) // p1's first is retried meanwhile, and fails
	require.Empty(t, s.of("user:p1"), "p1's second overtook the first")
	s.refuse.Store(-1)
	require.Eventually(t, func() bool { return len(s.of("user:p1")) == 2 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, []int{1, 2}, s.of("user:p1"))
}

// TestStuckNoticeStopsHoldingBackLaterOnes: a notice that keeps failing
// holds the later ones to its recipient back for the stuck time only;
// then they go by it, and it is still retried.
func TestStuckNoticeStopsHoldingBackLaterOnes(t *testing.T) {
	t.Parallel()
	const stuck = 1500 * time.Millisecond
	b, s := orderRig(t, stuck, nil)
	addUser(t, b, "s1")
	s.refuse.Store(1)
	began := time.Now()
	write(t, b, core.Recipient{User: "s1"}, 1)
	write(t, b, core.Recipient{User: "s1"}, 2)
	require.Eventually(t, func() bool { return len(s.of("user:s1")) == 1 }, 20*time.Second, 20*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(began), stuck, "the second went by the first before it was stuck")
	require.Equal(t, []int{2}, s.of("user:s1"))
	var first int64
	require.NoError(t, b.store.Pool().QueryRow(context.Background(),
		`SELECT min(id) FROM outbox WHERE to_user = 's1' AND data::text LIKE '%"n1"%'`).Scan(&first))
	state, attempts, err := b.store.Outbox().State(context.Background(), first)
	require.NoError(t, err)
	require.Equal(t, "pending", state)
	require.Positive(t, attempts)
	s.refuse.Store(-1)
	require.Eventually(t, func() bool { return len(s.of("user:s1")) == 2 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, []int{2, 1}, s.of("user:s1"), "the stuck notice is still delivered, once")
}

// TestNoticeBehindAFailingOneIsNotLeftToTheSweep: a notice that was deep
// in its recipient's line when it was written (two earlier ones pending)
// is not looked at until it is first in line. When the one before it then
// fails, and keeps failing, the later one still goes out once that one is
// stuck, without the sweep (none runs here): CI once waited for it in
// vain, when the welcome notice of TestStuckNoticeStopsHoldingBackLaterOnes
// was still on its way as its two notices were written.
func TestNoticeBehindAFailingOneIsNotLeftToTheSweep(t *testing.T) {
	t.Parallel()
	const stuck = 1500 * time.Millisecond
	b, s := orderRig(t, stuck, nil)
	addUser(t, b, "d1")
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM outbox WHERE to_user = 'd1' AND state = 'pending'`).Scan(&n))
		return n == 0
	}, 20*time.Second, 20*time.Millisecond, "the welcome notice went out")
	s.slowFor = 1500 * time.Millisecond // written before slow: the sender reads it after
	s.slow.Store(0)
	s.refuse.Store(1)
	write(t, b, core.Recipient{User: "d1"}, 0)
	time.Sleep(300 * time.Millisecond) // n0 is on its way, and slow
	write(t, b, core.Recipient{User: "d1"}, 1)
	write(t, b, core.Recipient{User: "d1"}, 2) // deep in line: behind n0 and n1
	require.Eventually(t, func() bool { return len(s.of("user:d1")) == 2 }, 20*time.Second, 20*time.Millisecond,
		"n2 waited for the sweep")
	require.Equal(t, []int{0, 2}, s.of("user:d1"))
	s.refuse.Store(-1)
	require.Eventually(t, func() bool { return len(s.of("user:d1")) == 3 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, []int{0, 2, 1}, s.of("user:d1"))
}
