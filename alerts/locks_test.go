package alerts_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"opsbot/alerts"
	"opsbot/core/alert"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/storage/postgres/pgtest"
)

// stressFor is how long TestNoDeadlocks runs (make bench: 60s).
var stressFor = flag.Duration("stress", 8*time.Second, "how long TestNoDeadlocks posts webhooks while timers fire")

// fastClock runs the app's time factor times faster than real time, so
// escalation steps and coalesced updates come due within the test.
type fastClock struct {
	start  time.Time
	factor int64
}

func (c fastClock) Now() time.Time { return c.start.Add(time.Since(c.start) * time.Duration(c.factor)) }

// webhook is an Alertmanager notification for group key: two alerts, one
// of them an HTTP-availability alert, firing or resolved.
func webhook(key, status string, startsAt time.Time) string {
	var as []string
	for i, kind := range []string{"http_status", "cpu"} {
		as = append(as, fmt.Sprintf(`{"status":%q,"labels":{"alertname":%q,"kind":%q,"instance":"i%d"},"annotations":{},
			"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom","fingerprint":"%s-%d"}`,
			status, key, kind, i, startsAt.Format(time.RFC3339Nano), key, i))
	}
	return fmt.Sprintf(`{"version":"4","groupKey":%q,"truncatedAlerts":0,"status":%q,"receiver":"opsbot",
		"groupLabels":{"alertname":%q},"commonLabels":{"alertname":%q,"severity":"critical"},"commonAnnotations":{},
		"externalURL":"http://am:9093","alerts":[%s]}`, key, status, key, key, strings.Join(as, ","))
}

// TestNoDeadlocks posts webhooks for a few groups from many goroutines
// through the real receiver and batcher while the alert and incident
// timers (coalesced updates, the non-200 rule, escalation) come due and
// are fired concurrently by their real handlers, several firers racing
// for each. Postgres must count no deadlock in the test's own database,
// and every post must be acknowledged (no 5xx) and every timer handled.
func TestNoDeadlocks(t *testing.T) {
	ctx := context.Background()
	store, db := pgtest.Database(t, 16, "log_lock_waits = on", "deadlock_timeout = '50ms'")
	clock := fastClock{start: time.Now(), factor: 120}
	orgs := org.NewService(store.Org(), clock)
	_, err := orgs.Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	cal := calendar.New(time.UTC, nil)
	rotations := duty.NewService(store.Duty(), clock, cal)
	incidents := incident.NewService(store.Incidents(), clock, cal, incident.Config{Policy: incident.DefaultPolicy()},
		incident.Deps{Roster: rotations, Coverer: rotations})
	svc := alert.NewService(store.Alerts(), clock, cal, alert.Config{SeverityLevels: map[string]int{"critical": 2},
		ReopenWindow: 30 * time.Minute, UpdateEvery: 30 * time.Second, HTTPKindLabel: "kind", HTTPKindValue: "http_status",
		Non200After: time.Minute}, incidents)
	batcher := alerts.NewBatcher(svc, 4, 16)
	h := alerts.New(alerts.Config{Receivers: []alerts.Receiver{{Name: "opsbot", BearerToken: "tok"}}}, batcher,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h.Routes(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	var posts, failed atomic.Int64
	keys := []string{"g0", "g1", "g2", "g3"}
	start := time.Now()
	deadline := start.Add(*stressFor)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				key, status := keys[rand.IntN(len(keys))], "firing"
				if key >= "g2" && rand.IntN(5) == 0 { // g0 and g1 stay firing: they escalate
					status = "resolved"
				}
				if rand.IntN(4) == 0 {
					// New groups all along, sorting between g1 and g2: a batch
					// meets a key not stored yet before keys that are, while
					// other batches store it (the preload must not lock g2
					// before that key).
					key = fmt.Sprintf("g1-%05d", int(time.Since(start)/(100*time.Millisecond))+rand.IntN(3))
				}
				req, err := http.NewRequest("POST", ts.URL+"/alerts/alertmanager", strings.NewReader(webhook(key, status, clock.start)))
				if err != nil {
					panic(err)
				}
				req.Header.Set("Authorization", "Bearer tok")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					problem("post: %v", err)
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				posts.Add(1)
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					problem("post %s %s: %d %s", key, status, resp.StatusCode, body)
				}
			}
		})
	}
	due := store.Timers()
	for range 3 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				timers, err := due.Due(ctx, clock.Now(), 200)
				if err != nil {
					problem("due timers: %v", err)
					continue
				}
				rand.Shuffle(len(timers), func(i, j int) { timers[i], timers[j] = timers[j], timers[i] })
				for _, tm := range timers {
					var err error
					switch tm.Kind {
					case alert.TimerFlush, alert.TimerNon200:
						err = svc.HandleTimer(ctx, tm.ID)
					case incident.TimerEscalation, incident.TimerProgress:
						err = incidents.HandleTimer(ctx, tm.ID)
					}
					if err != nil {
						failed.Add(1)
						problem("timer %d (%s): %v", tm.ID, tm.Kind, err)
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()

	fired := map[string]int{}
	rows, err := store.Pool().Query(ctx, `SELECT kind || ' ' || state, count(*) FROM timers GROUP BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var kind string
		var n int
		require.NoError(t, rows.Scan(&kind, &n))
		fired[kind] = n
	}
	require.NoError(t, rows.Err())
	t.Logf("%d posts in %s; timers: %v; %d failures: %s", posts.Load(), *stressFor, fired, failed.Load(), strings.Join(problems, "\n"))

	// A backend reports its counters when it exits: close the pool first.
	store.Close()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var deadlocks int64
	for range 20 { // the counters reach pg_stat_database shortly after
		time.Sleep(100 * time.Millisecond)
		_, err = conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		require.NoError(t, err)
		require.NoError(t, conn.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = $1`, db).Scan(&deadlocks))
		var live int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, db).Scan(&live))
		if live == 0 {
			break
		}
	}
	require.Zero(t, deadlocks, "Postgres detected deadlocks between alert ingest and the timers")
	require.Zero(t, failed.Load(), "failures: %s", strings.Join(problems, "\n"))
	require.Positive(t, posts.Load())
	for _, kind := range []string{alert.TimerFlush, alert.TimerNon200, incident.TimerEscalation} {
		require.Positive(t, fired[kind+" fired"], "no %s timer fired: the test did not exercise it", kind)
	}
}
