// Package deploy_test checks the install artefacts in deploy/: the offline
// tarball (make dist, install.sh), the compose file and the Kubernetes
// manifests.
package deploy_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// run runs name with args in dir and returns its combined output, failing
// the test on a non-zero exit.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	// The caller's OPSBOT_* (make test exports OPSBOT_DATABASE_URL …) must
	// not leak into the installed binary's config.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSBOT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// TestDistInstall builds the tarball as `make dist` does, unpacks it into an
// empty directory, installs it with --prefix into another, and runs the
// installed binary.
func TestDistInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binary")
	}
	tmp := t.TempDir()
	out := run(t, "..", []string{"VERSION=v9.9.9-test", "COMMIT=abc123def456", "BUILD_DATE=2026-11-29T00:00:00Z"},
		"deploy/dist.sh", filepath.Join(tmp, "dist"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tarball := lines[len(lines)-1]
	require.FileExists(t, tarball)
	require.FileExists(t, tarball+".sha256")
	require.Contains(t, filepath.Base(tarball), "opsbot-v9.9.9-test-linux-")

	unpack := filepath.Join(tmp, "unpack")
	require.NoError(t, os.MkdirAll(unpack, 0o755))
	run(t, unpack, nil, "tar", "-xzf", tarball)
	entries, err := os.ReadDir(unpack)
	require.NoError(t, err)
	require.Len(t, entries, 1, "one top directory")
	top := filepath.Join(unpack, entries[0].Name())
	for _, f := range []string{"bin/opsbot", "install.sh", "Containerfile.dist", "configs/opsbot.example.yaml", "systemd/opsbot@.service",
		"systemd/opsbot-migrate.service", "systemd/opsbot.target", "systemd/opsbot.env", "README.md", "VERSION"} {
		require.FileExists(t, filepath.Join(top, f))
	}

	// Static: no program interpreter, no dynamic section.
	bin, err := elf.Open(filepath.Join(top, "bin/opsbot"))
	require.NoError(t, err)
	for _, p := range bin.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "binary must be static")
	}
	_ = bin.Close()

	root := filepath.Join(tmp, "root") // does not exist yet
	run(t, top, nil, "./install.sh", "--prefix", root)
	installed := filepath.Join(root, "usr/local/bin/opsbot")
	for _, f := range []string{"etc/opsbot/opsbot.yaml", "etc/opsbot/opsbot.env", "etc/systemd/system/opsbot@.service",
		"etc/systemd/system/opsbot-migrate.service", "etc/systemd/system/opsbot.target",
		"usr/local/share/doc/opsbot/README.md", "usr/local/share/doc/opsbot/opsbot.example.yaml"} {
		require.FileExists(t, filepath.Join(root, f))
	}
	st, err := os.Stat(filepath.Join(root, "etc/opsbot/credentials"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "credentials are root-only")
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/opsbot@.service"))
	require.NoError(t, err)
	require.NotContains(t, string(unit), "@BINDIR@")
	require.NotContains(t, string(unit), "@CONFDIR@")
	for _, want := range []string{"ExecStart=/usr/local/bin/opsbot %i", "DynamicUser=yes", "ProtectSystem=strict",
		"NoNewPrivileges=yes", "EnvironmentFile=-/etc/opsbot/opsbot.env",
		"LoadCredential=database_url:/etc/opsbot/credentials/database_url", "OPSBOT_DATABASE_URL_FILE=%d/database_url"} {
		require.Contains(t, string(unit), want)
	}

	verifyUnits(t, root, installed)

	v := run(t, root, nil, installed, "version")
	require.Contains(t, v, "opsbot v9.9.9-test (commit abc123def456, built 2026-11-29T00:00:00Z")

	// check-config on the installed config, secrets from files as the units pass them.
	sec := filepath.Join(tmp, "secrets")
	require.NoError(t, os.MkdirAll(sec, 0o700))
	for name, content := range map[string]string{
		"database_url": "postgres://opsbot:dbpw@db1:5432,db2:5432/opsbot?target_session_attrs=read-write",
		"redis_url":    "redis://:redispw@127.0.0.1:6379/0",
		"audit.key":    strings.Repeat("0f", 32),
		"token":        "tok-0123456789abcdefghij",
		"aes":          strings.Repeat("a", 43),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(sec, name), []byte(content+"\n"), 0o600))
	}
	env := []string{
		"OPSBOT_CONFIG=" + filepath.Join(root, "etc/opsbot/opsbot.yaml"),
		"OPSBOT_DATABASE_URL_FILE=" + filepath.Join(sec, "database_url"),
		"OPSBOT_REDIS_URL_FILE=" + filepath.Join(sec, "redis_url"),
		"OPSBOT_AUDIT_KEY_FILE=" + filepath.Join(sec, "audit.key"),
		"OPSBOT_WEBCHAT_TOKEN_FILE=" + filepath.Join(sec, "token"),
		"OPSBOT_WECOM_SECRET_FILE=" + filepath.Join(sec, "token"),
		"OPSBOT_WECOM_TOKEN_FILE=" + filepath.Join(sec, "token"),
		"OPSBOT_WECOM_ENCODING_AES_KEY_FILE=" + filepath.Join(sec, "aes"),
		"OPSBOT_AUTH_OIDC_CLIENT_SECRET_FILE=" + filepath.Join(sec, "token"),
	}
	cc := run(t, root, env, installed, "check-config")
	require.Contains(t, cc, "config ok")
	require.Contains(t, cc, "postgres://opsbot:***@db1:5432,db2:5432/opsbot")
	require.NotContains(t, cc, "dbpw")
	require.NotContains(t, cc, "redispw")

	// A second install keeps the edited config.
	conf := filepath.Join(root, "etc/opsbot/opsbot.yaml")
	require.NoError(t, os.WriteFile(conf, []byte("# edited\n"), 0o640))
	run(t, top, nil, "./install.sh", "--prefix", root)
	got, err := os.ReadFile(conf)
	require.NoError(t, err)
	require.Equal(t, "# edited\n", string(got))
}

// verifyUnits runs `systemd-analyze verify` (when installed) on the
// installed units, pointed at the installed binary: any warning fails.
func verifyUnits(t *testing.T, root, binary string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: units not verified")
		return
	}
	dir := t.TempDir()
	for _, u := range []struct{ from, to string }{
		{"opsbot@.service", "opsbot@serve.service"}, {"opsbot@.service", "opsbot@worker.service"},
		{"opsbot@.service", "opsbot@scheduler.service"}, {"opsbot-migrate.service", "opsbot-migrate.service"},
	} {
		text, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", u.from))
		require.NoError(t, err)
		fixed := strings.ReplaceAll(string(text), "/usr/local/bin/opsbot", binary)
		require.NoError(t, os.WriteFile(filepath.Join(dir, u.to), []byte(fixed), 0o644))
	}
	out := run(t, dir, nil, sa, "verify", "./opsbot@serve.service", "./opsbot@worker.service",
		"./opsbot@scheduler.service", "./opsbot-migrate.service")
	require.Empty(t, strings.TrimSpace(out), "systemd-analyze verify")
}
