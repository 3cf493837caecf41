package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"opsbot/alerts"
)

// Phase (a), ingest against its floor. For each number of senders (c = 1,
// 4, 16, 64, 256), the floor and opsbot are driven in turn by the same
// senders posting the same bodies for the same time, over --rounds
// rounds, and the median of each figure over the rounds is reported.
//
// The floor is a tiny handler inside the bench: it decodes the body with
// opsbot's own decoder (alerts.Decode) and does one INSERT per request
// into a table of its own (bench_floor) in the same database, through a
// pgx pool of the same size as opsbot's.
//
// A 503 is admission control telling the sender to come back: the bench
// sender does what Alertmanager does with a 5xx, it sends the same body
// again, after the Retry-After the answer gave. So a 503 is not an error;
// it is counted apart ("503s"). Two latencies are reported: per answer
// (what a sender's HTTP timeout sees; a fast 503 counts as a short answer)
// — the p50/p99 the targets are about — and per delivery (from the first
// attempt to the 200, the retries' waits included). Throughput counts
// deliveries (200s) a second. An error is any other answer or a transport
// error.

// sendStats is one run of senders against one URL.
type sendStats struct {
	delivered, busy, errors int64
	elapsed                 time.Duration
	answers                 []time.Duration // each answer, 200 or 503
	deliveries              []time.Duration // first attempt → 200
}

func (s sendStats) rate() float64 { return float64(s.delivered) / s.elapsed.Seconds() }

// acked records, per group, how many alerts (fingerprints 0..n-1) opsbot
// acknowledged: every one of them must be stored.
type acked struct {
	mu sync.Mutex
	n  map[int]int
}

func (a *acked) add(g, n int) {
	a.mu.Lock()
	if n > a.n[g] {
		a.n[g] = n
	}
	a.mu.Unlock()
}

// attempt posts b once: the status, the Retry-After asked for, the latency.
func attempt(c *http.Client, url, token string, b []byte) (int, time.Duration, time.Duration, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l := time.Since(start)
	wait := time.Second
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	}
	return resp.StatusCode, wait, l, nil
}

// send runs senders for d against url, each posting as soon as its last
// post was delivered; a 503 is sent again after its Retry-After (a post
// begun before the deadline is delivered after it too). Bodies are those
// of (a): 200 groups of 1–5 alerts, about 25 % resolved.
func send(url, token string, senders int, d time.Duration, seed uint64, ack *acked) sendStats {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections() // its senders go away with the run (package doc)
	var mu sync.Mutex
	var st sendStats
	var delivered, busy, errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(s)))
			var answers, deliveries []time.Duration
			for time.Now().Before(deadline) {
				g, n := rng.IntN(200), 1+rng.IntN(5)
				b := body("SteadyAlert", g, n, 0.25, rng)
				first := time.Now()
				for {
					code, wait, l, err := attempt(c, url, token, b)
					if err != nil || (code != 200 && code != 503) {
						errs.Add(1)
						break
					}
					answers = append(answers, l)
					if code == 200 {
						delivered.Add(1)
						deliveries = append(deliveries, time.Since(first))
						if ack != nil {
							ack.add(g, n)
						}
						break
					}
					busy.Add(1)
					time.Sleep(wait)
				}
			}
			mu.Lock()
			st.answers = append(st.answers, answers...)
			st.deliveries = append(st.deliveries, deliveries...)
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	st.elapsed, st.delivered, st.busy, st.errors = time.Since(start), delivered.Load(), busy.Load(), errs.Load()
	return st
}

// floorServer serves the floor on a free loopback port: decode, one INSERT.
// count says how many rows the floor stored.
func floorServer(ctx context.Context, dbURL string, conns int32) (url string, count func(context.Context) int64, stop func(), err error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return "", nil, nil, err
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", nil, nil, err
	}
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_floor;
		CREATE TABLE bench_floor (id bigserial PRIMARY KEY, group_key text NOT NULL, status text NOT NULL,
			alerts jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		pool.Close()
		return "", nil, nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g, err := alerts.Decode(b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		al, _ := json.Marshal(g.Alerts)
		if _, err := pool.Exec(r.Context(), `INSERT INTO bench_floor (group_key, status, alerts) VALUES ($1, $2, $3)`,
			g.GroupKey, g.Status, al); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	count = func(ctx context.Context) int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM bench_floor`).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	return "http://" + ln.Addr().String(), count, func() { _ = srv.Close(); pool.Close() }, nil
}

// ingestRow is one number of senders: the floor's runs and opsbot's.
type ingestRow struct {
	senders     int
	floor, bot  []sendStats
	floorStored int64 // rows the floor wrote, to compare with its 200s
}

// median is the middle of xs, the mean of the two middle values when
// their number is even; 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// med is the median over runs of f.
func med(runs []sendStats, f func(sendStats) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return median(xs)
}

func p(q float64, pick func(sendStats) []time.Duration) func(sendStats) float64 {
	return func(s sendStats) float64 { return ms(quantile(pick(s), q)) }
}

func answers(s sendStats) []time.Duration    { return s.answers }
func deliveries(s sendStats) []time.Duration { return s.deliveries }

// ingestSweep runs (a): for each c, rounds × (floor, then opsbot).
func ingestSweep(ctx context.Context, opsbotURL, token, dbURL string, conns int32, levels []int, rounds int, d time.Duration, ack *acked) ([]ingestRow, error) {
	floorURL, count, stop, err := floorServer(ctx, dbURL, conns)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	defer stop()
	var rows []ingestRow
	for _, c := range levels {
		row := ingestRow{senders: c}
		for r := 0; r < rounds; r++ {
			seed := uint64(c*1000 + r)
			row.floor = append(row.floor, send(floorURL+"/", token, c, d, seed, nil))
			wait := func() {}
			if c == 64 && r == 0 {
				// Where opsbot's time goes at the target's load:
				// bench/out/ingest_c64.{cpu,mutex,block}.pprof.
				if u, err := url.Parse(opsbotURL); err == nil {
					wait = profile(u.Scheme+"://"+u.Host, "ingest_c64", d)
				}
			}
			row.bot = append(row.bot, send(opsbotURL, token, c, d, seed, ack))
			wait()
		}
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		rows[0].floorStored = count(ctx)
	}
	return rows, nil
}

// printIngest prints (a)'s table and its bench: lines.
func printIngest(rows []ingestRow, rounds int, d time.Duration) {
	fmt.Println()
	fmt.Printf("(a) alert ingest against its floor (decode + one INSERT a request), %s a run, median of %d round(s)\n\n", d, rounds)
	fmt.Println("| senders | floor req/s | floor p50 | floor p99 | opsbot req/s | ratio | p50 | p99 | p99 ≤ target | 503s (retried) | delivery p99 | errors (floor / opsbot) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	var lines []string
	var floorDelivered int64
	var floorStored int64
	for _, r := range rows {
		fr, br := med(r.floor, sendStats.rate), med(r.bot, sendStats.rate)
		f50, f99 := med(r.floor, p(0.5, answers)), med(r.floor, p(0.99, answers))
		b50, b99 := med(r.bot, p(0.5, answers)), med(r.bot, p(0.99, answers))
		d99 := med(r.bot, p(0.99, deliveries))
		busy := med(r.bot, func(s sendStats) float64 { return float64(s.busy) })
		fe, be := med(r.floor, func(s sendStats) float64 { return float64(s.errors) }), med(r.bot, func(s sendStats) float64 { return float64(s.errors) })
		target := "-"
		switch r.senders {
		case 64:
			target = yes(b99 <= 50)
		case 256:
			target = yes(b99 <= 200)
		}
		fmt.Printf("| %d | %.0f | %.1f ms | %.1f ms | %.0f | %.2f | %.1f ms | %.1f ms | %s | %.0f | %.1f ms | %.0f / %.0f |\n",
			r.senders, fr, f50, f99, br, rateRatio(br, fr), b50, b99, target, busy, d99, fe, be)
		lines = append(lines,
			fmt.Sprintf("bench: ingest_c%d %.0f req/s floor %.0f ratio %.2f", r.senders, br, fr, rateRatio(br, fr)),
			fmt.Sprintf("bench: ingest_c%d_p99 %.1f ms floor %.1f ratio %.2f", r.senders, b99, f99, rateRatio(b99, f99)))
		for _, s := range r.floor {
			floorDelivered += s.delivered
		}
		floorStored += r.floorStored
	}
	fmt.Println()
	fmt.Printf("| floor check | value |\n|---|---|\n| floor 200s / rows it stored | %d / %d |\n", floorDelivered, floorStored)
	for _, l := range lines {
		fmt.Println(l)
	}
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// rateRatio is a / b, 0 when b is.
func rateRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// checkStored compares the database with what opsbot acknowledged in
// (a) and prints it: one incident per group, every acknowledged alert row
// stored (fingerprints 0..n-1 of each group, n the most a 200 covered).
func checkStored(ctx context.Context, conn *pgx.Conn, ack *acked) error {
	ack.mu.Lock()
	var keys, fps, groups []string
	for g, n := range ack.n {
		key := fmt.Sprintf(`{}:{alertname="SteadyAlert%03d"}`, g)
		groups = append(groups, key)
		for i := range n {
			keys, fps = append(keys, key), append(fps, fmt.Sprintf("%08x%08x", g, i))
		}
	}
	ack.mu.Unlock()
	var stored, groupRows, incidents, doubled int
	err := conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM alerts a JOIN unnest($1::text[], $2::text[]) AS x(k, f) ON a.group_key = x.k AND a.fingerprint = x.f),
		(SELECT count(*) FROM alert_groups WHERE group_key = ANY($3)),
		(SELECT count(DISTINCT incident_id) FROM alert_groups WHERE group_key = ANY($3)),
		(SELECT count(*) FROM (SELECT title FROM incidents WHERE source = 'alertmanager' AND title LIKE 'SteadyAlert%'
			GROUP BY title HAVING count(*) > 1) t)`, keys, fps, groups).Scan(&stored, &groupRows, &incidents, &doubled)
	if err != nil {
		return fmt.Errorf("checking what was stored: %w", err)
	}
	fmt.Println()
	fmt.Println("| (a) what opsbot acknowledged, checked in the database | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| groups acknowledged / stored / incidents of them | %d / %d / %d |\n", len(groups), groupRows, incidents)
	fmt.Printf("| groups with more than one incident | %d |\n", doubled)
	fmt.Printf("| alert rows acknowledged / stored / lost | %d / %d / %d |\n", len(keys), stored, len(keys)-stored)
	ok := groupRows == len(groups) && incidents == len(groups) && doubled == 0 && stored == len(keys)
	fmt.Printf("| one incident per group, nothing lost | %s |\n", yes(ok))
	fmt.Printf("bench: ingest_lost %d rows floor - ratio -\n", len(keys)-stored)
	return nil
}
