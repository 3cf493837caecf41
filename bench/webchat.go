package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// demoUsers are the demo org's user ids (configs/dev.yaml, demo.enabled).
var demoUsers = []string{"admin", "liqiang", "wangfang", "zhangwei", "liuyang", "chenjing", "zhaolei",
	"sunli", "zhoujie", "wuhao", "zhengmin", "huangyu", "maxin"}

// webchatCommands alternate in each virtual user's loop.
var webchatCommands = []string{"/incident list", "/org tree"}

// webchatProfileDir is where phase (c) saves opsbot's profiles.
const webchatProfileDir = "bench/out"

// webchat is phase (c): users virtual users (spread over the demo users)
// each send commands in a loop for d through POST /webchat/api/messages,
// back to back (pace 0: the most the machine serves) or one every pace (a
// person reading the answer before the next command). A round trip is timed
// until the reply body is read; an error is a transport error, a non-200
// answer, or a reply with status "error".
//
// Back to back, it also saves opsbot's CPU, mutex and block profiles over
// the run (from /debug/pprof, served with server.pprof) next to the table:
// bench/out/webchat.{cpu,mutex,block}.pprof, for go tool pprof -top.
func webchat(target string, users int, d, pace time.Duration) result {
	if pace == 0 {
		done := profile(target, "webchat", d)
		defer done()
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConns: users, MaxIdleConnsPerHost: users, MaxConnsPerHost: 0},
		Timeout: 10 * time.Second}
	defer c.CloseIdleConnections() // its senders go away with the run (package doc)
	url := target + "/webchat/api/messages"
	res := result{name: fmt.Sprintf("(c) webchat round trip, %d users back to back, %s", users, d)}
	if pace > 0 {
		res.name = fmt.Sprintf("(c) webchat round trip, %d users, one command each per %s, %s", users, pace, d)
	}
	var mu sync.Mutex
	var reqs, errs atomic.Int64
	var firstErr sync.Once
	report := func(err error) {
		errs.Add(1)
		firstErr.Do(func() { fmt.Fprintln(os.Stderr, "bench: (c) first error:", err) })
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			user := demoUsers[u%len(demoUsers)]
			bodies := make([][]byte, len(webchatCommands))
			for i, text := range webchatCommands {
				bodies[i], _ = json.Marshal(map[string]string{"user": user, "channel": "", "text": text})
			}
			var lat []time.Duration
			if pace > 0 { // spread the users over the first interval
				time.Sleep(time.Duration(u) * pace / time.Duration(users))
			}
			for i := u; time.Now().Before(deadline); i++ {
				sent := time.Now()
				l, err := command(c, url, bodies[i%len(bodies)])
				if pace > 0 {
					time.Sleep(time.Until(sent.Add(pace)))
				}
				reqs.Add(1)
				if err != nil {
					report(fmt.Errorf("%s %q: %w", user, webchatCommands[i%len(bodies)], err))
					continue
				}
				lat = append(lat, l)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}(u)
	}
	wg.Wait()
	res.elapsed, res.requests, res.errors = time.Since(start), reqs.Load(), errs.Load()
	return res
}

// webchatFloor is (c)'s no-op floor, measured in the same run: the same
// users, client and loop as webchat back to back, each round trip a GET
// /healthz of the same opsbot (the HTTP server, its middleware and the
// loopback with no bot behind; a command that touches nothing does not
// exist, since every command resolves its actor in Postgres).
func webchatFloor(target string, users int, d time.Duration) result {
	c := &http.Client{Transport: &http.Transport{MaxIdleConns: users, MaxIdleConnsPerHost: users}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections() // its senders go away with the run (package doc)
	res := result{name: fmt.Sprintf("(c) floor: GET /healthz, %d users back to back, %s", users, d)}
	var mu sync.Mutex
	var reqs, errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for time.Now().Before(deadline) {
				sent := time.Now()
				resp, err := c.Get(target + "/healthz")
				reqs.Add(1)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(sent))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed, res.requests, res.errors = time.Since(start), reqs.Load(), errs.Load()
	return res
}

// profile starts fetching opsbot's CPU, mutex and block profiles over the
// next d (less a second, so they end within the run) into
// bench/out/<name>.<kind>.pprof; the returned func waits for them. A
// profile opsbot does not serve (server.pprof off) is reported, not fatal.
func profile(target, name string, d time.Duration) (wait func()) {
	secs := max(1, int((d-time.Second)/time.Second))
	if err := os.MkdirAll(webchatProfileDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench: profiles:", err)
		return func() {}
	}
	var wg sync.WaitGroup
	for _, kind := range []string{"cpu", "mutex", "block"} {
		path := kind
		if kind == "cpu" {
			path = "profile"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: d + 30*time.Second}
			resp, err := c.Get(fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", target, path, secs))
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench: profile", kind+":", err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				fmt.Fprintf(os.Stderr, "bench: profile %s: status %d %v (opsbot serves profiles with server.pprof, to loopback only)\n", kind, resp.StatusCode, err)
				return
			}
			file := fmt.Sprintf("%s/%s.%s.pprof", webchatProfileDir, name, kind)
			if err := os.WriteFile(file, b, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "bench: profile", kind+":", err)
				return
			}
			fmt.Fprintf(os.Stderr, "bench: saved %s (go tool pprof -top %s)\n", file, file)
		}()
	}
	return wg.Wait
}

// command posts one webchat message and checks the replies.
func command(c *http.Client, url string, b []byte) (time.Duration, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	l := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, out)
	}
	// The reply's shape is checked without decoding it (the load
	// generator shares the cores with what it measures: decoding every
	// reply into strings cost it about 0.05 of a core): at least one
	// reply, none with status "error". opsbot's encoder writes these keys
	// exactly so, and a text quoting them has its quotes escaped.
	if !bytes.HasPrefix(out, []byte(`{"replies":[{`)) {
		return 0, fmt.Errorf("no reply: %.200s", out)
	}
	if i := bytes.Index(out, []byte(`"status":"error"`)); i >= 0 {
		return 0, fmt.Errorf("error reply: %.200s", out[i:])
	}
	return l, nil
}

// resetPeakRSS resets the process's peak RSS (VmHWM) so the next reading
// covers one phase only; false when the kernel refuses.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}
