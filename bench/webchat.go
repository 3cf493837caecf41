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

// webchat is phase (c): users virtual users (spread over the demo users)
// each send commands in a loop for d through POST /webchat/api/messages,
// back to back (pace 0: the most the machine serves) or one every pace (a
// person reading the answer before the next command). A round trip is timed
// until the reply body is read; an error is a transport error, a non-200
// answer, or a reply with status "error".
func webchat(target string, users int, d, pace time.Duration) result {
	c := &http.Client{Transport: &http.Transport{MaxIdleConns: users, MaxIdleConnsPerHost: users, MaxConnsPerHost: 0},
		Timeout: 10 * time.Second}
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
	var r struct {
		Replies []struct {
			Status string `json:"status"`
			Title  string `json:"title"`
			Text   string `json:"text"`
		} `json:"replies"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, fmt.Errorf("reply: %w", err)
	}
	if len(r.Replies) == 0 {
		return 0, fmt.Errorf("no reply")
	}
	for _, m := range r.Replies {
		if m.Status == "error" {
			return 0, fmt.Errorf("error reply: %s: %.200s", m.Title, m.Text)
		}
	}
	return l, nil
}

// resetPeakRSS resets the process's peak RSS (VmHWM) so the next reading
// covers one phase only; false when the kernel refuses.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}
