package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks/faulttest"
)

// buildOpsbot builds this module's binary into a temporary directory.
func buildOpsbot(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "opsbot")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// subprocessEnv is the environment without the caller's OPSBOT_* settings,
// plus extra.
func subprocessEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSBOT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestE2EServeDrainsOnSIGTERM: a subprocess `opsbot serve` gets SIGTERM
// while a webchat command is in flight (its body half sent). It stops
// accepting at once (new connections are refused), still answers the
// in-flight request with 200 once the rest of the body arrives, and exits 0.
func TestE2EServeDrainsOnSIGTERM(t *testing.T) {
	bin := buildOpsbot(t)
	schema := pgtest.Schema(t)
	dbURL := pgtest.URL()
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	port := faulttest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := subprocessEnv(append([]string{
		"OPSBOT_DATABASE_URL=" + dbURL + sep + "search_path=" + schema,
		"OPSBOT_REDIS_URL=" + redistest.URL(1),
		"OPSBOT_SERVER_LISTEN=" + addr,
		"OPSBOT_SERVER_SHUTDOWN_TIMEOUT=20s",
		"OPSBOT_WORKER_QUEUE=" + redistest.Name("drain"),
		"OPSBOT_LOG_LEVEL=info",
	}, auditFiles(t)...)...)
	migrate := exec.Command(bin, "migrate", "--config", "configs/dev.yaml")
	migrate.Env = env
	migrated, err := migrate.CombinedOutput()
	require.NoError(t, err, "opsbot migrate: %s", migrated)
	cmd, exited := startServe(t, bin, env, addr)

	// A request in flight: headers and half the body sent.
	body, _ := json.Marshal(map[string]string{"user": "admin", "channel": "", "text": "/whoami"})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	half := len(body) / 2
	_, err = fmt.Fprintf(conn, "POST /webchat/api/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		addr, len(body), body[:half])
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the server has read the headers and runs the handler

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return errors.Is(err, syscall.ECONNREFUSED)
		}
		c.Close()
		return false
	}, 5*time.Second, 50*time.Millisecond, "serve still accepts new connections after SIGTERM")
	select {
	case err := <-exited:
		t.Fatalf("serve exited with a request in flight: %v", err)
	default:
	}

	_, err = conn.Write(body[half:])
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the in-flight request got no answer")
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	var out struct{ Replies []wmsg }
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Len(t, out.Replies, 1, string(raw))
	require.Contains(t, string(raw), "admin", "the /whoami reply")

	select {
	case err := <-exited:
		require.NoError(t, err, "serve did not exit 0 after draining")
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not exit after draining")
	}
}

// startServe starts `opsbot serve` with env, waits until addr answers
// /readyz and returns the process and its exit; the test's end kills it
// and a failed test shows its log.
func startServe(t *testing.T, bin string, env []string, addr string) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", "configs/dev.yaml")
	cmd.Env = env
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	t.Cleanup(func() { _ = logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("serve log:\n%s", b)
		}
	})
	require.Eventually(t, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("serve exited before it was ready: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "serve did not become ready")
	return cmd, exited
}
