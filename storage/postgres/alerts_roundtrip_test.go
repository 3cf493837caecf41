package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
)

// TestKnownGroupBatchIsTwoRoundTrips: a batch whose groups this process
// knows (the alert cache holds them at the version locked) costs two
// round trips — BEGIN with the locks, then the changed alerts, the group
// rows and COMMIT together — not a third for the alerts: their counts come
// from memory, so nothing waits for their write. What is committed is
// what was posted.
func TestKnownGroupBatchIsTwoRoundTrips(t *testing.T) {
	ctx := context.Background()
	migrated, schema := migratedSchema(t)
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for i, key := range []string{"g", "h"} {
		_, err := migrated.pool.Exec(ctx, `INSERT INTO incidents (id, title, level, state, unit, declared_by, created_at, last_update_at)
			VALUES ($1, $2, 2, 'declared', 'east', 'u1', $3, $3)`, i+1, key, t0)
		require.NoError(t, err)
		_, err = migrated.pool.Exec(ctx, `INSERT INTO alert_groups (group_key, receiver, incident_id, status, updated_at)
			VALUES ($1, 'opsbot', $2, 'firing', $3)`, key, i+1, t0)
		require.NoError(t, err)
	}

	pool, writes := countedPool(t, schema)
	s := &Store{pool: pool, alertCache: newAlertCache()}

	alertOf := func(fp, status string) alert.Alert {
		return alert.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": "Disk"},
			Annotations: map[string]string{"summary": "磁盘将满"}, StartsAt: t0}
	}
	// post applies one batch as ingest does: lock, save alerts, save rows.
	post := func(at time.Time, posted map[string][]alert.Alert) []alert.AlertCounts {
		var counts []alert.AlertCounts
		require.NoError(t, s.WithTx(ctx, func(tx *Tx) error {
			rows, _, err := tx.LockAlertGroups(ctx, []string{"g", "h"})
			if err != nil {
				return err
			}
			counts, err = tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: posted["g"]}, {GroupKey: "h", Alerts: posted["h"]}},
				at, "kind", "http_status")
			if err != nil {
				return err
			}
			for n, key := range []string{"g", "h"} {
				row := rows[key]
				row.Firing, row.Resolved, row.UpdatedAt = counts[n].Firing, counts[n].Resolved, at
				if err := tx.SaveAlertGroup(ctx, row); err != nil {
					return err
				}
			}
			return nil
		}))
		return counts
	}
	// The first batches read the groups' alerts back and prepare every
	// statement (a busy pool's connections have them prepared).
	post(t0, map[string][]alert.Alert{"g": {alertOf("a", "firing")}, "h": {alertOf("b", "firing")}})
	post(t0.Add(time.Minute), map[string][]alert.Alert{"g": {alertOf("a", "resolved")}, "h": {alertOf("b", "firing"), alertOf("c", "firing")}})

	before := writes.Load()
	counts := post(t0.Add(2*time.Minute), map[string][]alert.Alert{"g": {alertOf("a", "firing")}, "h": {alertOf("c", "resolved")}})
	require.Equal(t, int64(2), writes.Load()-before, "the locks, then the writes with COMMIT")
	require.Equal(t, []alert.AlertCounts{{Firing: 1}, {Firing: 1, Resolved: 1}}, counts)

	stored := map[string]string{}
	rows, err := migrated.pool.Query(ctx, `SELECT group_key || '/' || fingerprint, status FROM alerts`)
	require.NoError(t, err)
	for rows.Next() {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		stored[k] = v
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]string{"g/a": "firing", "h/b": "firing", "h/c": "resolved"}, stored)
}

// migratedSchema is a schema of the test's own, migrated, and a store on
// it (the tests' internal twin of pgtest.Schema, which this package's own
// tests cannot import).
func migratedSchema(t *testing.T) (*Store, string) {
	t.Helper()
	ctx := context.Background()
	url := testURL()
	schema := fmt.Sprintf("rt_%d", time.Now().UnixNano())
	setup, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = setup.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = setup.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = setup.Close(context.Background())
	})
	migrated, err := Open(ctx, url, Options{MaxConns: 2, SearchPath: schema})
	require.NoError(t, err)
	t.Cleanup(migrated.Close)
	require.NoError(t, migrated.Migrate(ctx))
	return migrated, schema
}
