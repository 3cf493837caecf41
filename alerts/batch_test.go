package alerts_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/alerts"
	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/storage/postgres/pgtest"
)

func group(key string, status string, fps ...string) alert.Group {
	g := alert.Group{Receiver: "opsbot", GroupKey: key, Status: status,
		GroupLabels: map[string]string{"alertname": key}, CommonLabels: map[string]string{"alertname": key, "severity": "warning"}}
	for _, fp := range fps {
		g.Alerts = append(g.Alerts, alert.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": key, "instance": fp},
			StartsAt: time.Now().Add(-time.Minute)})
	}
	return g
}

// TestIngestBatch: one transaction applies a batch in which a group
// appears twice (the second post sees the first one's writes), and a
// batch that fails is applied item by item so only the bad one fails.
func TestIngestBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t)
	orgs := org.NewService(store.Org(), core.SystemClock{})
	_, err := orgs.Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	cal := calendar.New(time.UTC, nil)
	rotations := duty.NewService(store.Duty(), core.SystemClock{}, cal)
	incidents := incident.NewService(store.Incidents(), core.SystemClock{}, cal, incident.Config{Policy: incident.DefaultPolicy()},
		incident.Deps{Roster: rotations, Coverer: rotations})
	svc := alert.NewService(store.Alerts(), core.SystemClock{}, cal, alert.Config{SeverityLevels: map[string]int{"warning": 3}, LevelLabel: "level",
		ReopenWindow: 30 * time.Minute, UpdateEvery: 30 * time.Second}, incidents)

	res, errs := svc.IngestBatch(ctx, []alert.Group{
		group("disk", "firing", "a"), group("cpu", "firing", "x"), group("disk", "firing", "a", "b"),
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.True(t, res[0].Created)
	require.True(t, res[1].Created)
	require.False(t, res[2].Created, "the second post of disk updates the incident the first made")
	require.Equal(t, res[0].IncidentID, res[2].IncidentID)
	require.NotEqual(t, res[0].IncidentID, res[1].IncidentID)

	// A post the database refuses (one fingerprint twice) fails alone.
	bad := group("mem", "firing", "dup", "dup")
	res, errs = svc.IngestBatch(ctx, []alert.Group{group("cpu", "resolved", "x"), bad, group("net", "firing", "n")})
	require.NoError(t, errs[0])
	require.True(t, res[0].Resolved)
	require.Error(t, errs[1])
	require.NoError(t, errs[2])
	require.True(t, res[2].Created)

	// Stored groups are locked and their alerts saved for the whole batch
	// at once; a group's second post in the batch still sees the first's
	// alert, and each group gets its own counts.
	res, errs = svc.IngestBatch(ctx, []alert.Group{group("disk", "firing", "c"), group("net", "resolved", "n"),
		group("disk", "resolved", "a", "b", "c"), group("cpu", "resolved", "x")})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.False(t, res[0].Resolved, "disk's first post adds a firing alert")
	require.True(t, res[1].Resolved, "net's one alert resolved")
	require.True(t, res[2].Resolved, "disk's second post resolves a, b and the c its first post stored")
	require.False(t, res[3].Resolved, "cpu was resolved already")
	res, errs = svc.IngestBatch(ctx, []alert.Group{group("disk", "firing", "a"), group("net", "firing", "n")})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.True(t, res[0].Reopened)
	require.True(t, res[1].Reopened)

	// Rounds: a group posted three times in one batch is applied three
	// times in arrival order, each post on the state the one before left
	// (resolved, then firing again: reopened); a new group whose first
	// post was all resolved (ignored) is created by its firing second post,
	// applied on its own after the batch.
	res, errs = svc.IngestBatch(ctx, []alert.Group{group("disk", "firing", "d"), group("fresh", "resolved", "f"),
		group("disk", "resolved", "a", "b", "c", "d"), group("fresh", "firing", "f"), group("disk", "firing", "e")})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.False(t, res[0].Resolved || res[0].Reopened)
	require.True(t, res[1].Ignored, "fresh's first post is all resolved: nothing to make an incident of")
	require.True(t, res[2].Resolved, "disk's second post resolves a–d")
	require.True(t, res[3].Created, "fresh's firing post makes its incident")
	require.True(t, res[4].Reopened, "disk's third post fires again, right after the second resolved it")
	require.Equal(t, res[0].IncidentID, res[4].IncidentID)
	var firing, resolved int
	require.NoError(t, store.Pool().QueryRow(ctx, `SELECT firing, resolved FROM alert_groups WHERE group_key = 'disk'`).Scan(&firing, &resolved))
	require.Equal(t, 1, firing, "e fires")
	require.Equal(t, 4, resolved, "a–d resolved")

	// The batcher: many concurrent posts, each acknowledged once committed.
	b := alerts.NewBatcher(svc, 2, 8)
	var wg sync.WaitGroup
	ids := make([]int64, 40)
	for i := range 40 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := []string{"g1", "g2", "g3", "g4"}[i%4]
			r, err := b.Ingest(ctx, group(key, "firing", key+"-"+strings.Repeat("x", i%3)))
			require.NoError(t, err)
			ids[i] = r.IncidentID
		}(i)
	}
	wg.Wait()
	for i := range 40 {
		require.Equal(t, ids[i%4], ids[i], "one incident per group")
	}
	open, err := incidents.List(ctx, core.Actor{UserID: "admin"}, true, 50)
	require.NoError(t, err)
	require.Len(t, open, 7, "disk, net, fresh and g1–g4; cpu is resolved and mem was refused")
}

// keyWatch is an ingester that records the group keys of the batches
// being applied at once.
type keyWatch struct {
	mu      sync.Mutex
	active  map[string]int
	overlap []string
	batches int
}

func (k *keyWatch) IngestBatch(_ context.Context, gs []alert.Group) ([]alert.IngestResult, []error) {
	k.mu.Lock()
	k.batches++
	keys := map[string]bool{}
	for _, g := range gs {
		keys[g.GroupKey] = true
	}
	for key := range keys {
		if k.active[key] > 0 {
			k.overlap = append(k.overlap, key)
		}
		k.active[key]++
	}
	k.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	k.mu.Lock()
	for key := range keys {
		k.active[key]--
	}
	k.mu.Unlock()
	return make([]alert.IngestResult, len(gs)), make([]error, len(gs))
}

// TestBatchesAtOnceNeverShareAGroup: notifications are split among the
// partitions by group key, so two batches applied at once never hold the
// same group (one would wait for the other's row locks until it commits).
func TestBatchesAtOnceNeverShareAGroup(t *testing.T) {
	t.Parallel()
	k := &keyWatch{active: map[string]int{}}
	b := alerts.NewBatcher(k, 4, 8)
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.Ingest(context.Background(), group(fmt.Sprintf("g%02d", i%30), "firing", "x"))
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Empty(t, k.overlap, "groups in two batches at once")
	require.Less(t, k.batches, 400, "posts waiting together share a batch")
}
