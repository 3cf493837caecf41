package postgres

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/core/org"
)

// TestAuditedCommitIsTwoRoundTrips: a transaction that audits its change
// ends in two round trips — its deferred writes, outbox rows and timers
// with the chain lock and the head read, then the sealed entries, the new
// head and COMMIT — not four (the writes, the lock, the append, COMMIT),
// so the chain lock is held across one round trip, not two. The chain it
// leaves verifies, keyed and unkeyed, the rekey checkpoint included.
func TestAuditedCommitIsTwoRoundTrips(t *testing.T) {
	ctx := context.Background()
	key, err := audit.NewKey(bytes.Repeat([]byte{7}, audit.KeySize))
	require.NoError(t, err)
	for _, k := range []*audit.Key{nil, key} {
		migrated, schema := migratedSchema(t)
		t0 := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
		_, err := migrated.pool.Exec(ctx, `INSERT INTO incidents (id, title, level, state, unit, declared_by, created_at, last_update_at)
			VALUES (1, 'disk', 2, 'declared', 'east', 'u1', $1, $1)`, t0)
		require.NoError(t, err)
		pool, writes := countedPool(t, schema)
		s := &Store{pool: pool, auditKey: k}
		change := func(n int) error {
			return s.WithTx(ctx, func(tx *Tx) error {
				if err := tx.Schedule(ctx, core.Timer{Kind: "bench", Ref: "incident:1", DueAt: t0.Add(time.Hour)}); err != nil {
					return err
				}
				if err := tx.Notify(ctx, core.Notice{Ref: "incident:1", To: core.Recipient{User: "u1"}, Body: org.UserAdded{}}); err != nil {
					return err
				}
				for range n {
					if err := tx.Audit(ctx, core.AuditEntry{At: t0, Actor: "u1", Platform: "test", Action: "incident.ack", Entity: "incident:1"}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		// The first change prepares the statements (a busy pool's
		// connections have them) and, keyed, writes the rekey checkpoint.
		require.NoError(t, change(1))
		before := writes.Load()
		require.NoError(t, change(2))
		require.Equal(t, int64(2), writes.Load()-before, "the writes with the chain's lock and head, then the entries with COMMIT")
		before = writes.Load()
		require.NoError(t, change(0))
		require.Equal(t, int64(1), writes.Load()-before, "nothing audited: the writes with COMMIT")

		n, brk, err := (&Store{pool: migrated.pool, auditKey: k}).VerifyAudit(ctx)
		require.NoError(t, err)
		require.Nil(t, brk)
		want := int64(3)
		if k != nil {
			want++ // the rekey checkpoint
		}
		require.Equal(t, want, n)
		var outbox, timers int
		require.NoError(t, migrated.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM timers)`).Scan(&outbox, &timers))
		require.Equal(t, []int{3, 3}, []int{outbox, timers})
	}
}
