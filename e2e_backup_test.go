package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/storage/postgres"
	"opsbot/storage/redis/redistest"
	"opsbot/tasks/faulttest"
)

// pgClientBin finds the newest /usr/lib/postgresql/*/bin holding name.
func pgClientBin(t *testing.T, name string) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return n }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	t.Skipf("%s not installed under /usr/lib/postgresql/*/bin", name)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestE2EBackupRestoreVerifies follows README Operations → Backing up
// opsbot on a private Postgres: a serve run writes audited rows, `opsbot
// audit checkpoint` signs the chain head into the checkpoint file, `pg_dump
// -Fc` dumps the database, `pg_restore` loads the dump into an empty
// database, `opsbot migrate` runs on it and `opsbot audit verify
// --checkpoint` passes there with the same key and checkpoint file.
func TestE2EBackupRestoreVerifies(t *testing.T) {
	pgDump, pgRestore := pgClientBin(t, "pg_dump"), pgClientBin(t, "pg_restore")
	pg := faulttest.StartPostgres(t)
	bin := buildOpsbot(t)
	ctx := context.Background()
	admin, err := postgres.Open(ctx, pg.URL(), postgres.Options{MaxConns: 1})
	require.NoError(t, err)
	for _, db := range []string{"opsbot", "restored"} {
		_, err := admin.Pool().Exec(ctx, "CREATE DATABASE "+db)
		require.NoError(t, err)
	}
	admin.Close()
	dbURL := func(db string) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
	}
	dir := t.TempDir()
	keyFile, cpFile := filepath.Join(dir, "audit.key"), filepath.Join(dir, "checkpoints.jsonl")
	addr := fmt.Sprintf("127.0.0.1:%d", faulttest.FreePort(t))
	env := func(db string) []string {
		return subprocessEnv("OPSBOT_DATABASE_URL="+dbURL(db), "OPSBOT_REDIS_URL="+redistest.URL(1),
			"OPSBOT_SERVER_LISTEN="+addr, "OPSBOT_WORKER_QUEUE="+redistest.Name("backup"),
			"OPSBOT_AUDIT_KEY_FILE="+keyFile, "OPSBOT_AUDIT_CHECKPOINT_FILE="+cpFile, "OPSBOT_LOG_LEVEL=warn")
	}
	opsbot := func(db string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", "configs/dev.yaml")...)
		cmd.Env = env(db)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "opsbot %s: %s", strings.Join(args, " "), out)
		return string(out)
	}

	// The live database: migrated, then a serve run bootstraps the org
	// (audited) and generates the audit key.
	opsbot("opsbot", "migrate")
	serve, exited := startServe(t, bin, env("opsbot"), addr)
	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-exited)
	require.Contains(t, opsbot("opsbot", "audit", "checkpoint"), "audit checkpoint signed")
	require.FileExists(t, cpFile)

	// Back up with the example unit's own script (deploy/backup), restore
	// into the empty database, migrate, verify with the backed-up
	// checkpoint file.
	state, creds, conf := filepath.Join(dir, "state"), filepath.Join(dir, "creds"), filepath.Join(dir, "conf")
	for _, d := range []string{state, creds, conf} {
		require.NoError(t, os.MkdirAll(d, 0o700))
	}
	require.NoError(t, os.WriteFile(filepath.Join(creds, "database_url"), []byte(dbURL("opsbot")+"\n"), 0o600))
	yamlText, err := os.ReadFile("configs/dev.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(conf, "opsbot.yaml"), yamlText, 0o600))
	backup := exec.Command("/bin/sh", "-ec", unitScript(t, "deploy/backup/opsbot-backup.service"))
	backup.Env = append(subprocessEnv(), "PATH="+filepath.Dir(pgDump)+":"+os.Getenv("PATH"),
		"STATE_DIRECTORY="+state, "CREDENTIALS_DIRECTORY="+creds, "OPSBOT_CONFDIR="+conf,
		"CHECKPOINT_FILE="+cpFile, "KEEP_DAYS=14")
	out, err := backup.CombinedOutput()
	require.NoError(t, err, "opsbot-backup.service script: %s", out)
	taken, err := filepath.Glob(filepath.Join(state, "*"))
	require.NoError(t, err)
	require.Len(t, taken, 1, "one backup directory: %s", out)
	for _, f := range []string{"opsbot.dump", filepath.Base(cpFile), "opsbot.yaml"} {
		require.FileExists(t, filepath.Join(taken[0], f))
	}
	out, err = exec.Command(pgRestore, "--no-owner", "--exit-on-error", "-d", dbURL("restored"), filepath.Join(taken[0], "opsbot.dump")).CombinedOutput()
	require.NoError(t, err, "pg_restore: %s", out)
	cpFile = filepath.Join(taken[0], filepath.Base(cpFile))
	opsbot("restored", "migrate")
	verified := opsbot("restored", "audit", "verify", "--checkpoint", cpFile)
	require.Regexp(t, `audit chain ok: [1-9]\d* entries verified \(sealed with key .*; [1-9]\d* checkpoints matched\)`, verified)
}

// unitScript returns the shell script of a unit's `ExecStart=/bin/sh -ec
// '…'` (continuation lines joined, systemd's $$ and %% unescaped).
func unitScript(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "ExecStart=/bin/sh -ec '")
	require.True(t, ok, "%s: no ExecStart=/bin/sh -ec '…'", path)
	var script strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		if body, cont := strings.CutSuffix(line, "\\"); cont {
			script.WriteString(body + "\n")
			continue
		}
		body, closed := strings.CutSuffix(line, "'")
		require.True(t, closed, "%s: ExecStart does not end in '", path)
		script.WriteString(body)
		break
	}
	return strings.NewReplacer("$$", "$", "%%", "%").Replace(script.String())
}
