// Package scaleout is the scale-out proof of issue 13 (item 4): real
// opsbot processes (3 serve, 2 worker, 2 scheduler, built once with go
// build) on one private Postgres and a private Redis master + replica + 3
// Sentinels (redis.mode sentinel), driven for a bounded time while a
// serve, a worker and a scheduler are killed with SIGKILL (and restarted)
// and Sentinel fails the master over. Afterwards it counts, from the
// database and the webchat API, that nothing was lost or duplicated.
//
// It runs only when OPSBOT_SCALEOUT=1 (make scaleout); SCALEOUT_DURATION
// sets the drive time (default 2m).
package scaleout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"opsbot/core/approval"
	"opsbot/core/calendar"
	"opsbot/core/digest"
	"opsbot/tasks/faulttest"
)

// Private ports of the run (26000–26999).
const (
	basePort      = 26100 // serve i listens on basePort+i
	redisMaster   = 26201
	redisReplica  = 26202
	sentinelBase  = 26211 // three Sentinels from here
	masterName    = "opsbot-scaleout"
	groups        = 500
	cards         = 50
	clicksPerCard = 20
	timerCount    = 1000
	targetRate    = 200 // webchat commands per second
	approver      = "liqiang"
	requester     = "zhangwei"
)

// run is the state of one scale-out run.
type run struct {
	t      *testing.T
	dir    string
	bin    string
	config string
	begin  time.Time
	events []string
	mu     sync.Mutex
	procs  map[string]*exec.Cmd
	hc     *http.Client
}

// logf records a timed event for the run's log.
func (r *run) logf(format string, args ...any) {
	line := fmt.Sprintf("[t+%6.1fs] ", time.Since(r.begin).Seconds()) + fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.events = append(r.events, line)
	r.mu.Unlock()
	r.t.Log(line)
}

// environ is the caller's environment without OPSBOT_* (the config file is
// the whole truth for the children).
func environ(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSBOT_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// startRedis starts a redis-server (or Sentinel) with a config file of its
// own, killed when the test ends.
func (r *run) startRedis(name string, port int, sentinel bool, lines ...string) {
	t := r.t
	dir := filepath.Join(r.dir, name)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	conf := filepath.Join(dir, "redis.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\nlogfile %s\n%s\n", port, dir,
		filepath.Join(dir, "redis.log"), strings.Join(lines, "\n"))
	require.NoError(t, os.WriteFile(conf, []byte(body), 0o644))
	args := []string{conf}
	if sentinel {
		args = append(args, "--sentinel")
	}
	cmd := exec.Command("redis-server", args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	require.Eventually(t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 50*time.Millisecond, name)
}

// start starts (or restarts) the named opsbot process.
func (r *run) start(name, sub string, extra ...string) {
	t := r.t
	f, err := os.OpenFile(filepath.Join(r.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(r.bin, sub, "--config", r.config)
	cmd.Env = environ(extra...)
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); _ = f.Close() }()
	r.mu.Lock()
	r.procs[name] = cmd
	r.mu.Unlock()
}

// kill9 kills the named process with SIGKILL.
func (r *run) kill9(name string) {
	r.mu.Lock()
	cmd := r.procs[name]
	r.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	r.logf("kill -9 %s (pid %d)", name, cmd.Process.Pid)
}

// restart kills the named process with SIGKILL and starts it again 3 s later.
func (r *run) restart(name, sub string, extra ...string) {
	r.kill9(name)
	time.Sleep(3 * time.Second)
	r.start(name, sub, extra...)
	r.logf("restarted %s", name)
}

// serveURL is serve i's base URL.
func serveURL(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", basePort+i) }

// post sends a JSON body and returns status and body (status 0: no answer).
func (r *run) post(base, path string, body any, header ...string) (int, []byte) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// postAny tries serve first, then the others, until one answers 200 or
// the deadline passes (a client retrying on another replica, as
// Alertmanager and a load balancer do).
func (r *run) postAny(first int, path string, body any, deadline time.Time, header ...string) (int, []byte) {
	var code int
	var out []byte
	for i := 0; time.Now().Before(deadline); i++ {
		code, out = r.post(serveURL((first+i)%3), path, body, header...)
		if code == http.StatusOK {
			return code, out
		}
		if code >= 400 && code < 500 {
			return code, out
		}
		time.Sleep(200 * time.Millisecond)
	}
	return code, out
}

type reply struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Text   string `json:"text"`
}

// say sends a webchat command through any serve and returns the reply.
func (r *run) say(first int, user, text string) (reply, error) {
	code, body := r.postAny(first, "/webchat/api/messages", map[string]string{"user": user, "text": text}, time.Now().Add(30*time.Second))
	if code != http.StatusOK {
		return reply{}, fmt.Errorf("%s: HTTP %d: %s", text, code, body)
	}
	var out struct{ Replies []reply }
	if err := json.Unmarshal(body, &out); err != nil || len(out.Replies) == 0 {
		return reply{}, fmt.Errorf("%s: bad reply %s", text, body)
	}
	return out.Replies[0], nil
}

// submit asks, as the requester, for an in-app permission on sjsj (an
// approval request the approver decides) and returns the request's id.
func (r *run) submit(i int, perm string) int64 {
	t := r.t
	rep, err := r.say(i%3, requester, "/app grant sjsj --to zhengmin --kind inapp:"+perm)
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Status, "%s %s", rep.Title, rep.Text)
	var id int64
	_, err = fmt.Sscanf(rep.Title[strings.Index(rep.Title, "#")+1:], "%d", &id)
	require.NoError(t, err, rep.Title)
	return id
}

func TestScaleOut(t *testing.T) {
	if os.Getenv("OPSBOT_SCALEOUT") != "1" {
		t.Skip("the scale-out run: make scaleout (OPSBOT_SCALEOUT=1)")
	}
	window := 2 * time.Minute
	if s := os.Getenv("SCALEOUT_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, "SCALEOUT_DURATION")
		window = d
	}
	for _, b := range []string{"redis-server", "go"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s not found", b)
		}
	}
	ctx := context.Background()
	dir := t.TempDir()
	r := &run{t: t, dir: dir, bin: filepath.Join(dir, "opsbot"), procs: map[string]*exec.Cmd{},
		hc: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	r.begin = time.Now()

	// Build once.
	build := exec.Command("go", "build", "-o", r.bin, ".")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	r.logf("built %s", r.bin)

	// Engines: one private Postgres; Redis master + replica + 3 Sentinels.
	pg := faulttest.StartPostgres(t)
	r.startRedis("redis-master", redisMaster, false)
	r.startRedis("redis-replica", redisReplica, false, fmt.Sprintf("replicaof 127.0.0.1 %d", redisMaster))
	sentinels := make([]string, 3)
	for i := range sentinels {
		port := sentinelBase + i
		sentinels[i] = fmt.Sprintf("127.0.0.1:%d", port)
		r.startRedis(fmt.Sprintf("sentinel%d", i+1), port, true,
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", masterName, redisMaster),
			fmt.Sprintf("sentinel down-after-milliseconds %s 3000", masterName),
			fmt.Sprintf("sentinel failover-timeout %s 10000", masterName))
	}
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: sentinels[0]})
	defer sc.Close()
	require.Eventually(t, func() bool {
		rs, err := sc.Replicas(ctx, masterName).Result()
		return err == nil && len(rs) == 1 && rs[0]["master-link-status"] == "ok"
	}, 30*time.Second, 200*time.Millisecond, "the Sentinels see the replica")
	r.logf("Postgres on %d, Redis master %d + replica %d, Sentinels %v", pg.Port, redisMaster, redisReplica, sentinels)

	// The managers' daily digest comes due inside a window of 2 minutes
	// or more (digest.at, a minute 45–105 s from now).
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	digestAt := time.Now().Add(45 * time.Second).Truncate(time.Minute).Add(time.Minute).In(shanghai)
	digestDue := window >= 2*time.Minute
	if !digestDue {
		digestAt = time.Now().Add(-time.Hour).In(shanghai) // passed: not sent today by this run
	}
	// Config: the dev config's org, channels and routes; sentinel mode.
	r.config = filepath.Join(dir, "opsbot.yaml")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:%d
database:
  url: %s
  max_conns: 8
redis:
  mode: sentinel
  master_name: %s
  addrs: [%s]
bot: {language: zh-CN, timezone: Asia/Shanghai}
bootstrap:
  admin: {user: admin, name: 系统管理员, unit: city, unit_name: 示范市}
demo: {enabled: true}
webchat: {enabled: true, dev_mode: true}
channels:
  - {name: ops, members: [admin, sunli, zhoujie, liqiang, wangfang]}
  - {name: incidents, members: [admin, sunli, zhoujie]}
delivery: {platforms: [webchat]}
audit:
  key_file: %s
  generate_key: true
  checkpoint_file: %s
approvals: {channel: ops, remind_every: 4h, daytime: "08:30-18:00"}
incidents: {channel: incidents, rotation: ops-oncall}
alerts:
  receivers: [{name: dev, bearer_token: dev-token}]
  alertmanager_url: http://127.0.0.1:9
  routes: [{match: {}, rotation: ops-oncall, channel: ops}]
scheduler: {sweep_interval: 1s}
digest: {at: "%s"}
worker: {concurrency: 10}
log: {level: warn, format: json}
`, basePort, pg.URL(), masterName, strings.Join(sentinels, ", "), filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit-checkpoints.jsonl"), digestAt.Format("15:04"))
	require.NoError(t, os.WriteFile(r.config, []byte(cfg), 0o600))
	mig := exec.Command(r.bin, "migrate", "--config", r.config)
	mig.Env = environ()
	out, err = mig.CombinedOutput()
	require.NoError(t, err, "migrate: %s", out)

	for i := range 3 {
		r.start(fmt.Sprintf("serve%d", i+1), "serve", fmt.Sprintf("OPSBOT_SERVER_LISTEN=127.0.0.1:%d", basePort+i))
	}
	for i := range 2 {
		r.start(fmt.Sprintf("worker%d", i+1), "worker")
		r.start(fmt.Sprintf("scheduler%d", i+1), "scheduler")
	}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range r.procs {
			_ = c.Process.Signal(syscall.SIGKILL)
		}
	})
	ready := func(i int) bool {
		resp, err := r.hc.Get(serveURL(i) + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for i := range 3 {
		require.Eventually(t, func() bool { return ready(i) }, 60*time.Second, 200*time.Millisecond, "serve%d ready", i+1)
	}
	r.logf("3 serve, 2 worker, 2 scheduler up")

	db, err := pgxpool.New(ctx, pg.URL())
	require.NoError(t, err)
	defer db.Close()

	// The 50 approval requests exist before the window opens; their
	// cards are clicked inside it.
	reqIDs := make([]int64, cards)
	for i := range cards {
		reqIDs[i] = r.submit(i, fmt.Sprintf("scaleout-%02d", i))
	}
	r.logf("%d approval requests submitted", cards)
	// Requests nobody decides in the window: the timers remind about them.
	const waiting = 10
	waitIDs := make([]int64, waiting)
	for i := range waiting {
		waitIDs[i] = r.submit(i, fmt.Sprintf("scaleout-timer-%02d", i))
	}
	waitRefs := make([]string, waiting)
	for i, id := range waitIDs {
		waitRefs[i] = fmt.Sprintf("request:%d#1", id)
	}

	// 1,000 timers due inside the window, in the store's timers table:
	// approval reminders about the waiting requests (handler
	// approval:remind: claimed in its transaction, it sends each approver
	// a reminder notice), found by the schedulers' sweep and fired by a
	// worker. Each firing's notices count how often it fired.
	t0 := time.Now()
	for i := range timerCount {
		due := t0.Add(5*time.Second + time.Duration(i)*(window-20*time.Second)/timerCount)
		_, err := db.Exec(ctx, `INSERT INTO timers (kind, ref, due_at, data) VALUES ('approval:remind', $1, $2, '{"step":"1","scaleout":"1"}')`,
			fmt.Sprintf("request:%d", waitIDs[i%waiting]), due)
		require.NoError(t, err)
	}
	r.logf("%d timers scheduled, due from t0+5s to t0+%s", timerCount, window-15*time.Second)

	// Drive.
	r.logf("window opens: %s", window)
	windowStart := time.Now()
	end := windowStart.Add(window)
	var wg sync.WaitGroup

	// Alertmanager webhooks: each group is sent three times (to a
	// different serve first each time), as Alertmanager repeats.
	var amRefused atomic.Int64
	var amSent atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var inner sync.WaitGroup
		sem := make(chan struct{}, 8)
		span := window / 2
		for round := range 3 {
			for g := range groups {
				at := windowStart.Add(time.Duration(round*groups+g) * span / (3 * groups))
				time.Sleep(time.Until(at))
				sem <- struct{}{}
				inner.Add(1)
				go func(g, round int) {
					defer func() { <-sem; inner.Done() }()
					name := fmt.Sprintf("ScaleOut%03d", g)
					body := map[string]any{"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname="%s"}`, name), "status": "firing",
						"receiver": "dev", "groupLabels": map[string]string{"alertname": name},
						"commonLabels":      map[string]string{"alertname": name, "severity": "warning"},
						"commonAnnotations": map[string]string{"summary": "scale-out " + name}, "externalURL": "http://am",
						"alerts": []map[string]any{{"status": "firing", "labels": map[string]string{"alertname": name, "instance": "h1"},
							"annotations": map[string]string{"summary": "scale-out"}, "startsAt": windowStart.UTC().Format(time.RFC3339),
							"fingerprint": fmt.Sprintf("fp%03d", g)}}}
					code, out := r.postAny(g+round, "/alerts/alertmanager", body, time.Now().Add(60*time.Second), "Authorization", "Bearer dev-token")
					amSent.Add(1)
					if code != http.StatusOK {
						amRefused.Add(1)
						r.logf("webhook %s round %d: HTTP %d %s", name, round, code, out)
					}
				}(g, round)
			}
		}
		inner.Wait()
	}()

	// Webchat traffic: read-only commands at up to targetRate/s.
	users := []string{"admin", "sunli", "zhoujie", "liqiang", "wangfang", "zhangwei", "zhengmin", "chenjing", "maxin", "wuhao"}
	commands := []string{"/help", "/duty", "/request list", "/incident list"}
	var cmdOK, cmdFail atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem := make(chan struct{}, 16)
		var inner sync.WaitGroup
		tick := time.NewTicker(time.Second / targetRate)
		defer tick.Stop()
		for n := 0; time.Now().Before(end); n++ {
			<-tick.C
			select {
			case sem <- struct{}{}:
			default:
				continue // the machine is saturated: skip a beat, the achieved rate says so
			}
			inner.Add(1)
			go func(n int) {
				defer func() { <-sem; inner.Done() }()
				code, _ := r.post(serveURL(n%3), "/webchat/api/messages",
					map[string]string{"user": users[n%len(users)], "text": commands[n%len(commands)]})
				if code == http.StatusOK {
					cmdOK.Add(1)
				} else {
					cmdFail.Add(1)
				}
			}(n)
		}
		inner.Wait()
	}()

	// 20 concurrent clicks on each of the 50 cards, spread over the first
	// 70 % of the window (so some land on the killed serve and around the
	// failover).
	var clickOK, clickRefused, clickFail atomic.Int64
	var okPerCard [cards]atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, id := range reqIDs {
			time.Sleep(time.Until(windowStart.Add(time.Duration(i) * window * 7 / 10 / cards)))
			var inner sync.WaitGroup
			for c := range clicksPerCard {
				inner.Add(1)
				go func(c int) {
					defer inner.Done()
					code, body := r.postAny(c, "/webchat/api/actions", map[string]string{"user": approver, "action": "approval.approve",
						"value": fmt.Sprintf("request:%d#1", id)}, time.Now().Add(30*time.Second))
					var out struct{ Replies []reply }
					switch {
					case code != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Replies) == 0:
						clickFail.Add(1)
					case out.Replies[0].Status == "ok":
						clickOK.Add(1)
						okPerCard[i].Add(1)
					default:
						clickRefused.Add(1)
					}
				}(c)
			}
			inner.Wait()
		}
	}()

	// Faults, each at its time in the window.
	var failedOver atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		at := func(frac float64) { time.Sleep(time.Until(windowStart.Add(time.Duration(frac * float64(window))))) }
		at(0.20)
		r.restart("serve2", "serve", fmt.Sprintf("OPSBOT_SERVER_LISTEN=127.0.0.1:%d", basePort+1))
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if ready(1) {
				r.logf("serve2 ready again")
				break
			}
		}
		at(0.35)
		r.restart("worker1", "worker")
		at(0.50)
		before, _ := sc.GetMasterAddrByName(ctx, masterName).Result()
		err := sc.Failover(ctx, masterName).Err()
		r.logf("SENTINEL FAILOVER %s (master was %v): err=%v", masterName, before, err)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			now, _ := sc.GetMasterAddrByName(ctx, masterName).Result()
			if len(now) == 2 && len(before) == 2 && now[1] != before[1] {
				r.logf("failover done: master is now %v", now)
				failedOver.Store(true)
				break
			}
		}
		at(0.65)
		r.restart("scheduler1", "scheduler")
	}()

	wg.Wait()
	elapsed := time.Since(windowStart)
	rate := float64(cmdOK.Load()) / elapsed.Seconds()
	r.logf("window closed after %s: %d commands answered (%.1f/s, %d failed), %d webhooks (%d not accepted), clicks ok=%d refused=%d failed=%d",
		elapsed.Round(time.Second), cmdOK.Load(), rate, cmdFail.Load(), amSent.Load(), amRefused.Load(), clickOK.Load(), clickRefused.Load(), clickFail.Load())

	// Drain: every timer fired, every notice delivered (bounded wait).
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, db.QueryRow(ctx, q, args...).Scan(&n), q)
		return n
	}
	drainDeadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(drainDeadline) {
		if count(`SELECT count(*) FROM outbox WHERE state <> 'delivered'`) == 0 &&
			(!digestDue || time.Now().After(digestAt.Add(5*time.Second))) &&
			count(`SELECT count(*) FROM timers WHERE data->>'scaleout' = '1' AND state = 'pending'`) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.logf("drained")

	// Count.
	type row struct {
		item             string
		expected, got    int
		lost, duplicated int
	}
	var rows []row

	// Incidents: one per alert group.
	gotGroups := count(`SELECT count(*) FROM alert_groups WHERE group_key LIKE '{}:{alertname="ScaleOut%'`)
	distinctInc := count(`SELECT count(DISTINCT incident_id) FROM alert_groups WHERE group_key LIKE '{}:{alertname="ScaleOut%'`)
	incidents := count(`SELECT count(*) FROM incidents WHERE source <> 'chat' AND created_at >= $1`, windowStart.Add(-time.Second))
	rows = append(rows, row{"incidents (one per alert group)", groups, incidents, groups - gotGroups, incidents - distinctInc})

	// Decisions: one per request.
	decided := count(`SELECT count(DISTINCT request_id) FROM request_decisions WHERE request_id = ANY($1)`, reqIDs)
	decisions := count(`SELECT count(*) FROM request_decisions WHERE request_id = ANY($1)`, reqIDs)
	rows = append(rows, row{"decisions (one per request, 20 clicks each)", cards, decisions, cards - decided, decisions - decided})
	twice := 0
	for i := range okPerCard {
		if n := okPerCard[i].Load(); n > 1 {
			twice += int(n) - 1
		}
	}
	rows = append(rows, row{"clicks answered \"approved\" (of 1,000)", cards, int(clickOK.Load()), 0, twice})

	// Timers: every one fired once (claimed by UPDATE … WHERE state = 'pending').
	fired := count(`SELECT count(*) FROM timers WHERE data->>'scaleout' = '1' AND state = 'fired'`)
	var late float64
	require.NoError(t, db.QueryRow(ctx, `SELECT coalesce(extract(epoch FROM max(fired_at - due_at)), 0)::float8 FROM timers WHERE data->>'scaleout' = '1' AND state = 'fired'`).Scan(&late))
	// The approver(s) of a waiting request, and the reminders they got.
	approvers := count(`SELECT count(DISTINCT to_user) FROM outbox WHERE kind = $1 AND ref = ANY($2) AND created_at >= $3`,
		approval.NoticeRemind, waitRefs, t0)
	reminders := count(`SELECT count(*) FROM outbox WHERE kind = $1 AND ref = ANY($2) AND created_at >= $3`,
		approval.NoticeRemind, waitRefs, t0)
	rows = append(rows, row{fmt.Sprintf("timers fired (latest %.1fs late)", late), timerCount, fired, timerCount - fired, 0})
	rows = append(rows, row{fmt.Sprintf("reminders sent by them (%d approver each)", approvers), timerCount * max(approvers, 1), reminders,
		max(0, timerCount*max(approvers, 1)-reminders), max(0, reminders-fired*max(approvers, 1))})

	// The digest: once per manager, on a working day.
	managers := count(`SELECT count(DISTINCT user_id) FROM role_grants WHERE role IN ('sys_admin', 'district_admin', 'unit_admin')`)
	digests := count(`SELECT count(*) FROM outbox WHERE kind = $1`, digest.NoticeDigest)
	digestUsers := count(`SELECT count(DISTINCT to_user) FROM outbox WHERE kind = $1`, digest.NoticeDigest)
	switch {
	case !digestDue:
		r.logf("digest: not due in a window under 2m")
	case !calendar.New(shanghai, nil).IsWorkday(digestAt):
		r.logf("digest: %s is not a working day in Asia/Shanghai; none due", digestAt.Format(time.DateOnly))
		rows = append(rows, row{"digests (not a working day: none)", 0, digests, 0, digests})
	default:
		r.logf("digest was due at %s (Asia/Shanghai)", digestAt.Format("15:04:05"))
		rows = append(rows, row{"digests (one per manager)", managers, digests, managers - digestUsers, digests - digestUsers})
	}

	// Outbox: every notice delivered, stored once per (outbox id, recipient).
	notices := count(`SELECT count(*) FROM outbox`)
	undelivered := count(`SELECT count(*) FROM outbox WHERE state <> 'delivered'`)
	dupMsgs := count(`SELECT count(*) - count(DISTINCT (outbox_id, recipient)) FROM webchat_messages WHERE outbox_id IS NOT NULL`)
	rows = append(rows, row{"outbox notices delivered", notices, notices - undelivered, undelivered, dupMsgs})

	// The webchat API: no message id twice in anyone's inbox.
	apiMsgs, apiDup := 0, 0
	for _, u := range users {
		seen := map[string]bool{}
		after := "0"
		for {
			resp, err := r.hc.Get(serveURL(0) + "/webchat/api/inbox?user=" + url.QueryEscape(u) + "&after=" + after)
			require.NoError(t, err)
			var page struct {
				Messages []struct{ ID string }
				Cursor   json.Number
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
			resp.Body.Close()
			for _, m := range page.Messages {
				if seen[m.ID] {
					apiDup++
				}
				seen[m.ID] = true
			}
			apiMsgs += len(page.Messages)
			if len(page.Messages) == 0 || page.Cursor.String() == after {
				break
			}
			after = page.Cursor.String()
		}
	}
	rows = append(rows, row{"webchat inbox messages (API, " + fmt.Sprint(len(users)) + " users)", apiMsgs, apiMsgs, 0, apiDup})

	// Table.
	var b strings.Builder
	fmt.Fprintf(&b, "\nSCALEOUT window=%s commands=%.1f/s (target %d/s; %d failed during kills) webhooks=%d\n", window, rate, targetRate, cmdFail.Load(), amSent.Load())
	fmt.Fprintf(&b, "| %-48s | %8s | %8s | %5s | %10s |\n", "item", "expected", "got", "lost", "duplicated")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 50), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 7), strings.Repeat("-", 12))
	bad := false
	for _, x := range rows {
		fmt.Fprintf(&b, "| %-48s | %8d | %8d | %5d | %10d |\n", x.item, x.expected, x.got, x.lost, x.duplicated)
		if x.lost != 0 || x.duplicated != 0 {
			bad = true
		}
	}
	b.WriteString("events:\n")
	r.mu.Lock()
	for _, e := range r.events {
		b.WriteString("  " + e + "\n")
	}
	r.mu.Unlock()
	fmt.Print(b.String())
	if !failedOver.Load() {
		t.Error("the Sentinel failover did not happen within 30s")
	}
	if bad {
		t.Errorf("something was lost or duplicated; process logs in %s", dir)
		keepLogs(t, dir)
	}
}

// keepLogs copies the processes' logs out of the test's temporary
// directory, which the test removes.
func keepLogs(t *testing.T, dir string) {
	keep, err := os.MkdirTemp("", "opsbot-scaleout-logs-")
	if err != nil {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			_ = os.WriteFile(filepath.Join(keep, filepath.Base(l)), b, 0o644)
		}
	}
	t.Logf("process logs kept in %s", keep)
}
