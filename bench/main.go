// Command bench is opsbot's load benchmark (make bench). It builds opsbot,
// starts it on a fresh database (or uses --target), and posts realistic
// Alertmanager v4 webhooks:
//
//	(a) ingest: c = 1, 4, 16, 64, 256 concurrent senders (--senders), 200
//	    groups of 1–5 alerts (about 3), about 25 % resolved, about 2.4 KB a
//	    body, each c run against a floor (decode + one INSERT a request,
//	    inside the bench) and then opsbot, --rounds times (see ingest.go);
//	    afterwards the database is checked: one incident per group, every
//	    acknowledged alert row stored;
//	(b) storm: 10,000 alerts across 200 groups within 60 s;
//	(c) webchat command round trip: 200 concurrent virtual users (spread over
//	    the demo org's 13 users) each posting "/incident list" and "/org tree"
//	    in turn to POST /webchat/api/messages for 20 s (after the storm has
//	    drained; opsbot's peak RSS is reset before it, where the kernel allows),
//	    with no pause between commands; an error is a non-200 answer or a
//	    reply with status "error";
//	(d) timers: 100,000 timers due evenly over 60 s, fired by the real timer
//	    machinery in-process, not through the opsbot binary: a fresh database
//	    opsbot_bench_timers, Redis DB 12 (flushed: it is the bench's alone),
//	    Tx.Schedule in transactions of 1,000 whose commits kick asynq
//	    (Store.OnTimers(Queue.KickTimers)), an asynq worker of concurrency 10
//	    (production's default) whose tasks.TimerHandler claims each timer in a
//	    transaction, and the timers:sweep task enqueued every second by
//	    tasks.Scheduler running tasks.SweepTimers; the bench's pool has 20
//	    connections and schedules 4 transactions at a time. Lateness is the
//	    claim's time minus the due time; opsbot is stopped first.
//	(e) console: a generated year of the demo city (50,000 incidents,
//	    20,000 tickets, 7,300 backup reports, 12,045 inspection runs, 5,000
//	    requests) in a fresh database opsbot_bench_console, and every GET
//	    page of the console's page table rendered --console-rounds times as
//	    the sys admin and a district admin (see console.go).
//
// Each run's client closes its connections when the run ends, as senders
// that go away do: otherwise opsbot would hold every earlier run's idle
// keep-alive connections (a goroutine and two buffers each, until the
// server's 120 s idle timeout), over a thousand after (a), and its RSS
// would count them.
//
// It prints requests/s, p50/p99 latency, errors, peak RSS, and for the
// storm the incidents created and chat messages sent, as a table; for the
// timers, how many fired, how many twice, and how late (p50/p99/max).
//
// Flags size the phases (--steady, --senders, --rounds, --storm, --webchat, --webchat-users,
// --timers, --timers-spread, --timers-lead, --timer-workers, --console-rounds;
// --console-db and --console-listen move the console phase's database and
// address, --db and --listen opsbot's of (a)–(c), so two worktrees can run
// the bench at once) and pick them:
// --only=c,d runs the webchat round trip and the timers only; --only=e
// the console alone.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

type result struct {
	name      string
	requests  int64
	errors    int64
	elapsed   time.Duration
	latencies []time.Duration
}

func (r result) pct(p float64) time.Duration { return quantile(r.latencies, p) }

// alertsSince is when the bench's alerts started firing: an alert keeps
// its startsAt in every post, as Alertmanager's do (the bench once took
// now each post, so every repeat looked like a changed alert).
var alertsSince = time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)

// body builds one notification for group g with n alerts, resolved ones marked.
func body(name string, g, n int, resolvedShare float64, rng *rand.Rand) []byte {
	alertname := fmt.Sprintf("%s%03d", name, g)
	alerts := make([]map[string]any, n)
	allResolved := true
	for i := range alerts {
		status := "firing"
		if rng.Float64() < resolvedShare {
			status = "resolved"
		} else {
			allResolved = false
		}
		alerts[i] = map[string]any{
			"status": status, "fingerprint": fmt.Sprintf("%08x%08x", g, i),
			"labels": map[string]string{"alertname": alertname, "instance": fmt.Sprintf("10.0.%d.%d:9100", g%250, i),
				"job": "node", "severity": []string{"critical", "warning", "info"}[g%3], "app": "sjsj", "region": "dongcheng"},
			"annotations": map[string]string{"summary": fmt.Sprintf("节点 10.0.%d.%d 资源告警", g%250, i),
				"description": strings.Repeat("主机资源使用率持续超过阈值，请值班人员检查进程与磁盘。", 3),
				"runbook_url": "https://wiki.example.gov.cn/runbooks/node-resources"},
			"startsAt": alertsSince.Format(time.RFC3339), "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example.gov.cn/graph?g0.expr=node_load1",
		}
	}
	status := "firing"
	if allResolved {
		status = "resolved"
	}
	b, _ := json.Marshal(map[string]any{"version": "4", "groupKey": `{}:{alertname="` + alertname + `"}`,
		"truncatedAlerts": 0, "status": status, "receiver": "opsbot",
		"groupLabels":       map[string]string{"alertname": alertname},
		"commonLabels":      map[string]string{"alertname": alertname, "job": "node"},
		"commonAnnotations": map[string]string{"summary": alertname + " 主机资源告警"},
		"externalURL":       "http://alertmanager.example.gov.cn:9093", "alerts": alerts})
	return b
}

// post delivers b: a 503 is sent again after its Retry-After, as
// Alertmanager retries a 5xx; the latency runs from the first attempt.
func post(c *http.Client, url, token string, b []byte) (time.Duration, error) {
	start := time.Now()
	for {
		code, wait, _, err := attempt(c, url, token, b)
		if err != nil {
			return 0, err
		}
		switch code {
		case 200:
			return time.Since(start), nil
		case 503:
			time.Sleep(wait)
		default:
			return 0, fmt.Errorf("status %d", code)
		}
	}
}

// storm posts 10,000 alerts across 200 groups spread over d: each post
// carries a group's current alerts (5), as Alertmanager does.
func storm(url, token string, d time.Duration) result {
	const groups, perPost, total = 200, 5, 10000
	posts := total / perPost
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections() // its senders go away with the run (package doc)
	res := result{name: fmt.Sprintf("(b) storm, %d alerts / %d groups / %s", total, groups, d)}
	var mu sync.Mutex
	var errs atomic.Int64
	interval := d / time.Duration(posts)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start := time.Now()
	for p := 0; p < posts; p++ {
		time.Sleep(time.Until(start.Add(time.Duration(p) * interval)))
		sem <- struct{}{}
		wg.Add(1)
		go func(p int) {
			defer func() { <-sem; wg.Done() }()
			rng := rand.New(rand.NewPCG(uint64(p), 11))
			l, err := post(c, url, token, body("StormAlert", p%groups, perPost, 0, rng))
			if err != nil {
				errs.Add(1)
				return
			}
			mu.Lock()
			res.latencies = append(res.latencies, l)
			mu.Unlock()
		}(p)
	}
	wg.Wait()
	res.elapsed, res.requests, res.errors = time.Since(start), int64(posts), errs.Load()
	return res
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "-"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%d MB", kb/1024)
		}
	}
	return "-"
}

func main() {
	target := flag.String("target", "", "base URL of a running opsbot (default: start one)")
	token := flag.String("token", "dev-token", "bearer token of alerts.receivers")
	steadyFor := flag.Duration("steady", 10*time.Second, "duration of each ingest run (a), floor and opsbot alike")
	sendersList := flag.String("senders", "1,4,16,64,256", "numbers of concurrent senders of (a), comma-separated")
	rounds := flag.Int("rounds", 3, "rounds of (a); each figure is the median over them")
	benchDB := flag.String("db", "opsbot_bench", "database (a)–(c) drop, create and use")
	listen := flag.String("listen", "127.0.0.1:18080", "address opsbot listens on in (a)–(c)")
	stormFor := flag.Duration("storm", 60*time.Second, "duration of the storm")
	webchatFor := flag.Duration("webchat", 20*time.Second, "duration of the webchat round trip run (c)")
	webchatUsers := flag.Int("webchat-users", 200, "concurrent webchat users (c)")
	timers := flag.Int("timers", 100000, "timers scheduled (d)")
	timersSpread := flag.Duration("timers-spread", 60*time.Second, "window the timers' due times are spread over (d)")
	timersLead := flag.Duration("timers-lead", 30*time.Second, "first due time, counted from the start of scheduling (d)")
	timerWorkers := flag.Int("timer-workers", 10, "asynq worker concurrency for the timers (d); production's default is 10")
	only := flag.String("only", "a,b,c,d,e", "phases to run, comma-separated: a ingest, b storm, c webchat, d timers, e console")
	consoleRounds := flag.Int("console-rounds", 20, "timed renders of each console page per user (e)")
	consoleDB := flag.String("console-db", "opsbot_bench_console", "database the console phase drops, creates and fills (e)")
	consoleListen := flag.String("console-listen", "127.0.0.1:18081", "address opsbot listens on in the console phase (e)")
	flag.Parse()
	phases := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		p = strings.TrimSpace(p)
		if p != "a" && p != "b" && p != "c" && p != "d" && p != "e" {
			fmt.Fprintf(os.Stderr, "bench: --only: unknown phase %q (want a, b, c, d, e)\n", p)
			os.Exit(2)
		}
		phases[p] = true
	}
	if *webchatUsers < 1 || *timers < 1 || *timerWorkers < 1 || *timersSpread <= 0 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: --webchat-users, --timers, --timer-workers, --timers-spread and --rounds must be positive")
		os.Exit(2)
	}
	ic := ingestConfig{steady: *steadyFor, rounds: *rounds, db: *benchDB, listen: *listen}
	for _, f := range strings.Split(*sendersList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: --senders: %q is not a positive number\n", f)
			os.Exit(2)
		}
		ic.senders = append(ic.senders, n)
	}
	tc := timerConfig{count: *timers, lead: *timersLead, spread: *timersSpread, workers: *timerWorkers,
		dbConns: 20, writers: 4, batch: 1000}
	if err := run(*target, *token, ic, *stormFor, *webchatFor, *webchatUsers, tc, phases); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if phases["e"] {
		if err := consolePhase(context.Background(), consoleConfig{rounds: max(*consoleRounds, 1), size: demoYear, db: *consoleDB, listen: *consoleListen}); err != nil {
			fmt.Fprintln(os.Stderr, "bench: console:", err)
			os.Exit(1)
		}
	}
}

// ingestConfig sizes (a) and places opsbot.
type ingestConfig struct {
	steady     time.Duration
	senders    []int
	rounds     int
	db, listen string
}

// opsbotConns is opsbot's pool in the bench, and the floor's.
const opsbotConns = 40

func run(target, token string, ic ingestConfig, stormFor, webchatFor time.Duration, webchatUsers int, tc timerConfig, phases map[string]bool) error {
	ctx := context.Background()
	pid := 0
	var dbURL string
	stopOpsbot := func() {}
	if target == "" && (phases["a"] || phases["b"] || phases["c"]) {
		// A fresh database and Redis index, and the built binary (not go run) so RSS is opsbot's own.
		var err error
		if dbURL, err = freshDatabase(ctx, ic.db); err != nil {
			return err
		}
		redisURL := redisIndex(11)
		bin, err := buildOpsbot(ic.db)
		if err != nil {
			return err
		}
		_, auditEnv, done, err := auditFiles("ingest")
		if err != nil {
			return err
		}
		defer done()
		cmd := exec.Command(bin, "all", "--config", "configs/dev.yaml")
		cmd.Env = append(append(os.Environ(), "OPSBOT_DATABASE_URL="+dbURL, "OPSBOT_REDIS_URL="+redisURL,
			"OPSBOT_SERVER_LISTEN="+ic.listen, "OPSBOT_LOG_LEVEL=error", fmt.Sprintf("OPSBOT_DATABASE_MAX_CONNS=%d", opsbotConns),
			"OPSBOT_WORKER_QUEUE=bench", "OPSBOT_SERVER_PPROF=true"), auditEnv...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		var stopOnce sync.Once
		stopOpsbot = func() { stopOnce.Do(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }) }
		defer stopOpsbot()
		pid = cmd.Process.Pid
		target = "http://" + ic.listen
		if !waitReady(target) {
			return fmt.Errorf("opsbot did not become ready")
		}
	}
	if target == "" {
		// Phase (d) alone: no opsbot.
		return timerPhase(ctx, tc, phases)
	}
	type row struct {
		result
		rss string
		key string // its bench: line's name
		// floor is the same-run floor it is compared with (nil: none yet).
		floor *result
	}
	var rows []row
	url := target + "/alerts/alertmanager"
	ack := &acked{n: map[int]int{}}
	if phases["a"] {
		floorDB := dbURL
		if floorDB == "" {
			floorDB = os.Getenv("DATABASE_URL") // --target: the floor's table goes there
		}
		irows, err := ingestSweep(ctx, url, token, floorDB, opsbotConns, ic.senders, ic.rounds, ic.steady, ack)
		if err != nil {
			return err
		}
		printIngest(irows, ic.rounds, ic.steady)
		if pid > 0 {
			fmt.Printf("| opsbot peak RSS after (a) | %s |\n", peakRSS(pid))
		}
	}
	// The storm starts on a clean slate of groups: count what it adds.
	var before struct{ incidents, messages int }
	var conn *pgx.Conn
	if dbURL != "" && (phases["a"] || phases["b"]) {
		var err error
		if conn, err = pgx.Connect(ctx, dbURL); err != nil {
			return err
		}
		defer conn.Close(ctx)
		if phases["a"] {
			if err := checkStored(ctx, conn, ack); err != nil {
				return err
			}
		}
		_ = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM webchat_messages)`).Scan(&before.incidents, &before.messages)
	}
	if phases["b"] {
		b := storm(url, token, stormFor)
		// Let deliveries and coalesced updates drain.
		time.Sleep(35 * time.Second)
		rows = append(rows, row{b, peakRSS(pid), "storm", nil})
	}
	// Counted before (c), whose replies are webchat messages too.
	var incidents, messages, updates, pending, alerts int
	if conn != nil {
		_ = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM webchat_messages),
			(SELECT coalesce(sum(revision - 1), 0) FROM webchat_messages), (SELECT count(*) FROM outbox WHERE state = 'pending')`).
			Scan(&incidents, &messages, &updates, &pending)
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE group_key LIKE '%Alert%'`).Scan(&alerts)
	}
	if phases["c"] {
		rss := "-"
		reset := pid > 0 && resetPeakRSS(pid)
		floor := webchatFloor(target, webchatUsers, webchatFor)
		c := webchat(target, webchatUsers, webchatFor, 0)
		paced := webchat(target, webchatUsers, webchatFor, time.Second)
		if pid > 0 {
			rss = peakRSS(pid)
			if !reset {
				rss += " (since start)"
			}
		}
		rows = append(rows, row{floor, "-", "webchat_floor", nil}, row{c, rss, "webchat", &floor}, row{paced, rss, "webchat_paced", &floor})
	}
	stopOpsbot() // before (d): the timers get the machine to themselves
	if len(rows) > 0 {
		fmt.Println()
		fmt.Println("| run | requests | req/s | p50 | p99 | errors | peak RSS |")
		fmt.Println("|---|---|---|---|---|---|---|")
	}
	for _, r := range rows {
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d | %s |\n", r.name, r.requests, float64(r.requests)/r.elapsed.Seconds(),
			r.pct(0.5).Round(100*time.Microsecond), r.pct(0.99).Round(100*time.Microsecond), r.errors, r.rss)
	}
	for _, r := range rows {
		rate := float64(r.requests) / r.elapsed.Seconds()
		if f := r.floor; f != nil {
			fr := float64(f.requests) / f.elapsed.Seconds()
			fmt.Printf("bench: %s %.0f req/s floor %.0f ratio %.2f\n", r.key, rate, fr, rateRatio(rate, fr))
			fmt.Printf("bench: %s_p99 %.1f ms floor %.1f ratio %.2f\n", r.key, ms(r.pct(0.99)), ms(f.pct(0.99)), rateRatio(ms(r.pct(0.99)), ms(f.pct(0.99))))
		} else { // no floor measured for this row
			fmt.Printf("bench: %s %.0f req/s floor - ratio -\n", r.key, rate)
			fmt.Printf("bench: %s_p99 %.1f ms floor - ratio -\n", r.key, ms(r.pct(0.99)))
		}
		fmt.Printf("bench: %s_errors %d requests floor - ratio -\n", r.key, r.errors)
	}
	if conn != nil {
		fmt.Println()
		fmt.Println("| after both runs | value |")
		fmt.Println("|---|---|")
		fmt.Printf("| incidents opened by the storm (200 groups) | %d |\n", incidents-before.incidents)
		fmt.Printf("| incidents in all (steady groups flap: resolved groups that fire again reopen) | %d |\n", incidents)
		fmt.Printf("| alerts stored | %d |\n", alerts)
		fmt.Printf("| chat messages posted during the storm (webchat) | %d |\n", messages-before.messages)
		fmt.Printf("| card updates applied in place (all runs) | %d |\n", updates)
		fmt.Printf("| notices still pending delivery | %d |\n", pending)
	}
	return timerPhase(ctx, tc, phases)
}

// timerPhase runs (d) when asked and prints its tables.
func timerPhase(ctx context.Context, tc timerConfig, phases map[string]bool) error {
	if !phases["d"] {
		return nil
	}
	r, err := timerBench(ctx, tc)
	if err != nil {
		return fmt.Errorf("timers: %w", err)
	}
	printTimers(r)
	fmt.Printf("bench: timers_p99_late %.0f ms floor - ratio -\n", ms(r.pct(0.99)))
	fmt.Printf("bench: timers_fired_twice %d timers floor - ratio -\n", r.firedTwice)
	return nil
}
