package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/storage/postgres/pgtest"
)

// auditApp is a running opsbot with an audit key and a checkpoint file
// held outside the database, as production runs it.
type auditApp struct {
	*app
	keyFile, cpFile string
}

func startAuditApp(t *testing.T) *auditApp {
	t.Helper()
	dir := t.TempDir()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keyFile := filepath.Join(dir, "audit.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600))
	cpFile := filepath.Join(dir, "checkpoints.jsonl")
	a := startApp(t, "OPSBOT_AUDIT_KEY_FILE="+keyFile, "OPSBOT_AUDIT_CHECKPOINT_FILE="+cpFile)
	return &auditApp{app: a, keyFile: keyFile, cpFile: cpFile}
}

// opsbot runs the CLI as a user would, with the app's environment.
func (a *auditApp) opsbot(args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := cli(append(args, "--config", "configs/dev.yaml"), a.environ, &out, &errOut)
	return code, out.String() + errOut.String()
}

// fill makes audited changes until the chain holds at least n entries.
func (a *auditApp) fill(n int64) {
	a.t.Helper()
	for i := 0; a.head() < n; i++ {
		r := a.say("zhangwei", fmt.Sprintf("/org user add f%d%d 用户%d --unit dc-edu", time.Now().UnixNano()%1000, i, i))
		require.Equal(a.t, "ok", r.Status, r.all())
	}
}

func (a *auditApp) head() int64 {
	var n int64
	require.NoError(a.t, a.store.Pool().QueryRow(context.Background(), `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&n))
	return n
}

// checkpoint publishes a signed checkpoint with `opsbot audit checkpoint`.
func (a *auditApp) checkpoint() {
	a.t.Helper()
	code, out := a.opsbot("audit", "checkpoint")
	require.Equal(a.t, 0, code, out)
	require.Contains(a.t, out, "checkpoint")
}

func (a *auditApp) verify() (int, string) {
	return a.opsbot("audit", "verify", "--checkpoint", a.cpFile)
}

// entries reads the chain from seq on, as the database owner can.
func (a *auditApp) entries(from int64) []core.AuditEntry {
	rows, err := a.store.Pool().Query(context.Background(),
		`SELECT seq, at, actor, platform, action, entity, before, after, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq`, from)
	require.NoError(a.t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEntry, error) {
		var e core.AuditEntry
		err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.Platform, &e.Action, &e.Entity, &e.Before, &e.After, &e.PrevHash, &e.Hash)
		return e, err
	})
	require.NoError(a.t, err)
	return out
}

// TestAuditTamperByDatabaseOwner: the three attacks of issue 21 item 10,
// each by SQL as the database owner (triggers disabled, then re-enabled),
// are reported by `opsbot audit verify --checkpoint` naming the first bad
// entry, exit code 1.
func TestAuditTamperByDatabaseOwner(t *testing.T) {
	t.Run("rewrite and rechain", func(t *testing.T) {
		a := startAuditApp(t)
		a.fill(25)
		a.checkpoint()
		code, out := a.verify()
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "audit chain ok")

		// Rewrite entry 18 and re-chain every entry after it with the
		// hash function in the source code, then fix the head.
		es := a.entries(18)
		es[0].Actor = "mallory"
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		prev := a.entries(17)[0]
		for _, e := range es {
			e.PrevHash = prev.Hash
			e.Hash = audit.Hash(e)
			pgtest.Exec(t, a.store, `UPDATE audit_log SET actor = $2, prev_hash = $3, hash = $4 WHERE seq = $1`, e.Seq, e.Actor, e.PrevHash, e.Hash)
			prev = e
		}
		pgtest.Exec(t, a.store, `UPDATE audit_head SET seq = $1, hash = $2`, prev.Seq, prev.Hash)
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log ENABLE TRIGGER USER`)

		code, out = a.verify()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "audit entry 18:", out)
		// Without the checkpoint file the key alone catches it.
		code, out = a.opsbot("audit", "verify")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "audit entry 18:", out)
	})

	t.Run("forged append", func(t *testing.T) {
		a := startAuditApp(t)
		a.fill(20)
		a.checkpoint()
		head := a.entries(a.head())[0]
		forged := core.AuditEntry{Seq: head.Seq + 1, At: time.Now().UTC().Truncate(time.Microsecond), Actor: "admin", Platform: "webchat",
			Action: "org.role.grant", Entity: "user:zhengmin", After: `{"role":"sys_admin","scope":"city"}`, PrevHash: head.Hash}
		forged.Hash = audit.Hash(forged)
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		pgtest.Exec(t, a.store, `INSERT INTO audit_log (seq, at, actor, platform, action, entity, before, after, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, forged.Seq, forged.At, forged.Actor, forged.Platform, forged.Action,
			forged.Entity, forged.Before, forged.After, forged.PrevHash, forged.Hash)
		pgtest.Exec(t, a.store, `UPDATE audit_head SET seq = $1, hash = $2`, forged.Seq, forged.Hash)
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log ENABLE TRIGGER USER`)

		code, out := a.verify()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, fmt.Sprintf("audit entry %d:", forged.Seq), out)
	})

	t.Run("truncate with head reset", func(t *testing.T) {
		a := startAuditApp(t)
		a.fill(15)
		a.checkpoint()
		// The trigger refuses TRUNCATE like UPDATE and DELETE…
		_, err := a.store.Pool().Exec(context.Background(), `TRUNCATE audit_log`)
		require.ErrorContains(t, err, "append-only")
		// …so the owner disables it first and resets the head.
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		pgtest.Exec(t, a.store, `TRUNCATE audit_log`)
		pgtest.Exec(t, a.store, `UPDATE audit_head SET seq = 0, hash = '', keyed_from = 0`)
		pgtest.Exec(t, a.store, `ALTER TABLE audit_log ENABLE TRIGGER USER`)

		code, out := a.verify()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "audit entry 1: missing", out)

		// opsbot goes on writing a fresh, internally valid chain: still caught at entry 1.
		a.fill(3)
		code, out = a.verify()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "audit entry 1:", out)
	})
}

// TestAuditCheckpointAndExportInChat: a sys admin asks for a checkpoint and
// an export in chat; the checkpoint reaches the sys admins as a notice and
// the file; others are refused.
func TestAuditCheckpointAndExportInChat(t *testing.T) {
	a := startAuditApp(t)
	a.fill(5)
	r := a.say("admin", "/audit checkpoint")
	require.Equal(t, "ok", r.Status, r.all())
	a.waitNotice("admin", "审计链检查点")
	data, err := os.ReadFile(a.cpFile)
	require.NoError(t, err)
	// The on-demand one, and the scheduled one if its first slot came already.
	require.GreaterOrEqual(t, strings.Count(string(data), "\n"), 1, string(data))

	r = a.say("zhangwei", "/audit checkpoint")
	require.Equal(t, "error", r.Status, r.all())

	r = a.say("admin", "/audit export")
	require.Equal(t, "ok", r.Status, r.all())
	require.Contains(t, r.Text, `"action":"org.user.add"`)
	require.Contains(t, r.all(), "检查点")
	r = a.say("zhangwei", "/audit export")
	require.Equal(t, "error", r.Status, r.all())

	code, out := a.opsbot("audit", "export")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"checkpoint"`)
	require.Equal(t, a.head()+1, int64(strings.Count(out, "\n")), out)

	// The old `/audit <entity>` command still answers.
	r = a.say("admin", "/audit user:zhangwei")
	require.Equal(t, "ok", r.Status, r.all())
}

// TestAuditKeyRequired: production refuses to start without a key unless
// audit.unkeyed; dev generates one, with a log line, once.
func TestAuditKeyRequired(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	_, err := loadAuditKey(configs.Audit{}, logger, false)
	require.ErrorContains(t, err, "audit.key_file is required")

	key, err := loadAuditKey(configs.Audit{Unkeyed: true}, logger, false)
	require.NoError(t, err)
	require.Nil(t, key)
	require.Contains(t, logs.String(), "WITHOUT an audit key")

	path := filepath.Join(t.TempDir(), "sub", "audit.key")
	_, err = loadAuditKey(configs.Audit{KeyFile: path}, logger, false)
	require.ErrorIs(t, err, fs.ErrNotExist)
	k1, err := loadAuditKey(configs.Audit{KeyFile: path, GenerateKey: true}, logger, true)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "generated a new audit key")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k2, err := loadAuditKey(configs.Audit{KeyFile: path, GenerateKey: true}, logger, true)
	require.NoError(t, err)
	require.Equal(t, k1.ID(), k2.ID(), "an existing key is kept")

	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	_, err = loadAuditKey(configs.Audit{KeyFile: path}, logger, false)
	require.ErrorIs(t, err, audit.ErrBadKey)

	// The whole app refuses to start without a key.
	cfg, err := configs.Load("configs/dev.yaml", nil)
	require.NoError(t, err)
	cfg.Audit.KeyFile, cfg.Audit.GenerateKey = "", false
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = run(ctx, cfg, logger, modes["all"], nil)
	require.ErrorContains(t, err, "audit.key_file is required")
}
