// Package faulttest starts private Postgres and Redis server processes
// that a fault test may stop, restart, freeze (SIGSTOP) and thaw
// (SIGCONT), on ports and in data directories of their own under the
// test's temporary directory. The shared services are never touched.
package faulttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"opsbot/storage/postgres"
)

// FreePort returns a TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faulttest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something accepts on port, or fails the test.
func waitPort(t testing.TB, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("faulttest: nothing listens on port %d after %s", port, within)
}

// Redis is a private redis-server process.
type Redis struct {
	Port int
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server (no persistence) and stops it
// when the test ends. It skips the test when redis-server is missing.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("faulttest: redis-server not installed")
	}
	r := &Redis{Port: FreePort(t)}
	r.Start(t)
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// URL is the server's redis:// URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Addr is host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Start (re)starts the server on its port, empty.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("faulttest: start redis-server: %v", err)
	}
	waitPort(t, r.Port, 10*time.Second)
}

// Stop kills the server (a no-op when it is not running).
func (r *Redis) Stop(t testing.TB) {
	t.Helper()
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT) // a frozen server cannot die otherwise
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Freeze stops the server process (SIGSTOP): connections stay open and
// nothing answers.
func (r *Redis) Freeze(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("faulttest: SIGSTOP redis: %v", err)
	}
}

// Thaw resumes a frozen server (SIGCONT).
func (r *Redis) Thaw(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("faulttest: SIGCONT redis: %v", err)
	}
}

// Postgres is a private Postgres cluster.
type Postgres struct {
	Port    int
	dir     string // data directory
	sock    string // unix socket directory
	bin     string
	asOwner bool // run pg binaries as user postgres (we are root)
	running bool
}

// pgBin finds the newest /usr/lib/postgresql/*/bin with initdb and pg_ctl.
func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// StartPostgres initialises and starts a private cluster (trust auth,
// fsync off) under a temporary directory and stops it when the test
// ends. It skips the test when Postgres is not installed.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		t.Skip("faulttest: Postgres server binaries not installed")
	}
	base, err := os.MkdirTemp("", "opsbot-faults-pg-")
	if err != nil {
		t.Fatalf("faulttest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	p := &Postgres{Port: FreePort(t), dir: filepath.Join(base, "data"), sock: base, bin: bin, asOwner: os.Geteuid() == 0}
	if p.asOwner {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("faulttest: running as root and there is no user postgres to run the server")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatalf("faulttest: %v", err)
		}
	}
	if out, err := p.run("initdb", "-D", p.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("faulttest: initdb: %v\n%s", err, out)
	}
	p.Start(t)
	t.Cleanup(func() {
		if p.running {
			_, _ = p.run("pg_ctl", "-D", p.dir, "-m", "immediate", "-w", "stop")
		}
	})
	return p
}

func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.asOwner {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	return cmd.CombinedOutput()
}

// URL is the server's connection URL (database postgres).
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}

// Start starts the server and waits until it accepts connections.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	opts := strings.Join([]string{"-p", strconv.Itoa(p.Port), "-k", p.sock, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100"}, " ")
	if out, err := p.run("pg_ctl", "-D", p.dir, "-o", opts, "-l", filepath.Join(p.sock, "server.log"), "-w", "-t", "60", "start"); err != nil {
		t.Fatalf("faulttest: pg_ctl start: %v\n%s", err, out)
	}
	p.running = true
	waitPort(t, p.Port, 10*time.Second)
}

// Stop stops the server at once (pg_ctl stop -m fast): open connections
// are cut.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.dir, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		t.Fatalf("faulttest: pg_ctl stop: %v\n%s", err, out)
	}
	p.running = false
}

// Report prints a fault case's outcome as `make faults` collects it
// ("FAULT <case> lost=N duplicated=M") and fails the test unless both are
// zero. Every fault case reports through it.
func Report(t testing.TB, name string, lost, duplicated int) {
	t.Helper()
	line := fmt.Sprintf("FAULT %-32s lost=%d duplicated=%d", name, lost, duplicated)
	t.Log(line)
	if lost != 0 || duplicated != 0 {
		t.Errorf("%s: want nothing lost or duplicated", line)
	}
}

// Store opens a store on the server with every migration applied, closed
// when the test ends.
func (p *Postgres) Store(t testing.TB) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, p.URL(), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("faulttest: open store: %v", err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatalf("faulttest: migrate: %v", err)
	}
	return store
}
