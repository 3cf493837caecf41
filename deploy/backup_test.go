package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestBackupUnits: the backup timer example verifies cleanly with
// systemd-analyze (when installed) and copies the checkpoint file the
// example config writes.
func TestBackupUnits(t *testing.T) {
	t.Parallel()
	svc, err := os.ReadFile("backup/opsbot-backup.service")
	require.NoError(t, err)
	var cfg struct {
		Audit struct {
			CheckpointFile string `yaml:"checkpoint_file"`
		} `yaml:"audit"`
	}
	example, err := os.ReadFile("../configs/opsbot.example.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(example, &cfg))
	require.NotEmpty(t, cfg.Audit.CheckpointFile)
	require.Contains(t, string(svc), cfg.Audit.CheckpointFile, "the backup must copy the audit checkpoint file")
	require.Contains(t, string(svc), "pg_dump -Fc")
	require.NotContains(t, string(svc), "audit.key", "the audit key is kept apart from the backups")
	cron, err := os.ReadFile("backup/crontab.example")
	require.NoError(t, err)
	require.Contains(t, string(cron), cfg.Audit.CheckpointFile)

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: backup units not verified")
		return
	}
	dir := t.TempDir()
	for _, u := range []string{"opsbot-backup.service", "opsbot-backup.timer"} {
		b, err := os.ReadFile(filepath.Join("backup", u))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, u), b, 0o644))
	}
	out := run(t, dir, nil, sa, "verify", "./opsbot-backup.service", "./opsbot-backup.timer")
	require.Empty(t, strings.TrimSpace(out), "systemd-analyze verify")
}
