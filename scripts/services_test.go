// Package scripts holds tests of the development scripts.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEnvPrefersOpsbotURLs: `make run` and `make test` take their services
// from scripts/services.sh env, which prefers OPSBOT_DATABASE_URL and
// OPSBOT_REDIS_URL (what opsbot itself reads) over DATABASE_URL and
// REDIS_URL, and says which it used.
func TestEnvPrefersOpsbotURLs(t *testing.T) {
	pg := os.Getenv("DATABASE_URL")
	rd := os.Getenv("TEST_REDIS_URL")
	if pg == "" || rd == "" {
		t.Skip("needs DATABASE_URL and TEST_REDIS_URL (run `make test`)")
	}
	wantRedis := strings.TrimRight(rd, "/") + "/7"
	cmd := exec.Command("bash", "services.sh", "env")
	cmd.Env = append(os.Environ(),
		"OPSBOT_DATABASE_URL="+pg,
		"DATABASE_URL=postgres://nobody@127.0.0.1:1/nothing?sslmode=disable",
		"OPSBOT_REDIS_URL="+wantRedis,
		"REDIS_URL=redis://127.0.0.1:1/0",
		"TEST_DATABASE_URL=",
	)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("services.sh env: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"export DATABASE_URL='" + pg + "'",
		"export OPSBOT_DATABASE_URL='" + pg + "'",
		"export REDIS_URL='" + wantRedis + "'",
		"export OPSBOT_REDIS_URL='" + wantRedis + "'",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"using OPSBOT_DATABASE_URL", "using OPSBOT_REDIS_URL"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Errorf("DATABASE_URL/REDIS_URL were tried although OPSBOT_* are set:\n%s", errOut.String())
	}
}
