package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

func appendAudit(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
			return tx.Audit(ctx, core.AuditEntry{At: time.Now(), Actor: "admin", Platform: "test", Action: "org.user.add", Entity: "user:x"})
		}))
	}
}

// TestAuditUpgradeToKeyed: entries written before the key stay verifiable;
// the first keyed change writes the rekey checkpoint and continues keyed;
// a process without the key, or with another one, is refused.
func TestAuditUpgradeToKeyed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := pgtest.Schema(t)
	open := func(key *audit.Key) *postgres.Store {
		s, err := postgres.Open(ctx, pgtest.URL(), postgres.Options{MaxConns: 4, SearchPath: schema, AuditKey: key})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	old := open(nil)
	require.NoError(t, old.Migrate(ctx))
	appendAudit(t, old, 4) // the release before: unkeyed
	require.NoError(t, old.CheckAuditKey(ctx))

	key, err := audit.NewKey(bytes.Repeat([]byte{9}, audit.KeySize))
	require.NoError(t, err)
	keyed := open(key)
	require.NoError(t, keyed.CheckAuditKey(ctx))
	appendAudit(t, keyed, 3)
	n, brk, err := keyed.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Nil(t, brk)
	require.Equal(t, int64(8), n, "4 unkeyed, the rekey checkpoint, 3 keyed")
	var action string
	require.NoError(t, keyed.Pool().QueryRow(ctx, `SELECT action FROM audit_log WHERE seq = 5`).Scan(&action))
	require.Equal(t, audit.ActionRekey, action)

	// The keyless process may no longer append, and says why.
	require.ErrorIs(t, old.CheckAuditKey(ctx), postgres.ErrAuditKeyRequired)
	err = old.WithTx(ctx, func(tx *postgres.Tx) error {
		return tx.Audit(ctx, core.AuditEntry{At: time.Now(), Actor: "a", Platform: "test", Action: "x", Entity: "e:1"})
	})
	require.ErrorIs(t, err, postgres.ErrAuditKeyRequired)
	// Another key is refused at start.
	other, err := audit.NewKey(bytes.Repeat([]byte{8}, audit.KeySize))
	require.NoError(t, err)
	require.ErrorContains(t, open(other).CheckAuditKey(ctx), "is not the key that sealed the audit chain")

	// A change to an unkeyed entry after the rekey shows at the rekey entry.
	pgtest.Exec(t, keyed, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
	pgtest.Exec(t, keyed, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`)
	var e core.AuditEntry
	require.NoError(t, keyed.Pool().QueryRow(ctx, `SELECT seq, at, actor, platform, action, entity, before, after, prev_hash FROM audit_log WHERE seq = 2`).
		Scan(&e.Seq, &e.At, &e.Actor, &e.Platform, &e.Action, &e.Entity, &e.Before, &e.After, &e.PrevHash))
	_, brk, err = keyed.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), brk.Seq, "plain edit caught by the hash")
	// Re-chained up to the rekey: caught at the rekey checkpoint.
	prev := audit.Hash(e)
	pgtest.Exec(t, keyed, `UPDATE audit_log SET hash = $1 WHERE seq = 2`, prev)
	for seq := 3; seq <= 4; seq++ {
		pgtest.Exec(t, keyed, `UPDATE audit_log SET prev_hash = $1 WHERE seq = $2`, prev, seq)
		require.NoError(t, keyed.Pool().QueryRow(ctx, `SELECT seq, at, actor, platform, action, entity, before, after, prev_hash FROM audit_log WHERE seq = $1`, seq).
			Scan(&e.Seq, &e.At, &e.Actor, &e.Platform, &e.Action, &e.Entity, &e.Before, &e.After, &e.PrevHash))
		prev = audit.Hash(e)
		pgtest.Exec(t, keyed, `UPDATE audit_log SET hash = $1 WHERE seq = $2`, prev, seq)
	}
	pgtest.Exec(t, keyed, `UPDATE audit_log SET prev_hash = $1 WHERE seq = 5`, prev)
	_, brk, err = keyed.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), brk.Seq, brk.Error())
	require.Contains(t, brk.Reason, "forged rekey")
}
