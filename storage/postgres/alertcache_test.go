package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// post is one notification's alert write as ingest makes it: the group
// locked, its alerts saved and counted, the group row saved. fail, when
// set, rolls the transaction back after the writes.
func post(t *testing.T, s *postgres.Store, at time.Time, fail bool, alerts ...alert.Alert) (alert.AlertCounts, error) {
	t.Helper()
	ctx := context.Background()
	var c alert.AlertCounts
	err := s.WithTx(ctx, func(tx *postgres.Tx) error {
		gs, _, err := tx.LockAlertGroups(ctx, []string{"g"})
		require.NoError(t, err)
		cs, err := tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: alerts}}, at, "kind", "http_status")
		if err != nil {
			return err
		}
		c = cs[0]
		row := gs["g"]
		row.Firing, row.Resolved, row.UpdatedAt = c.Firing, c.Resolved, at
		require.NoError(t, tx.SaveAlertGroup(ctx, row))
		if fail {
			return errors.New("rolled back")
		}
		return nil
	})
	return c, err
}

func firing(fp string, at time.Time) alert.Alert {
	return alert.Alert{Fingerprint: fp, Status: "firing", Labels: map[string]string{"alertname": "Disk", "kind": "http_status"},
		Annotations: map[string]string{"summary": "磁盘将满"}, StartsAt: at, GeneratorURL: "http://prom/graph"}
}

func resolved(fp string, at time.Time) alert.Alert {
	a := firing(fp, at)
	a.Status = "resolved"
	return a
}

// TestAlertCacheSkipsUnchangedAlerts: once a process has written a
// group's alerts, an alert posted again unchanged is not sent to Postgres
// at all — not rewritten and not row-locked (the old upsert locked every
// conflicting row) — and the counts still cover the group's alerts.
func TestAlertCacheSkipsUnchangedAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	seedOverviewOrg(t, s)
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	storeGroup(t, s, "g", 1, t0)
	c, err := post(t, s, t0, false, firing("a", t0), firing("b", t0))
	require.NoError(t, err)
	require.Equal(t, 2, c.Firing)

	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		_, _, err := tx.LockAlertGroups(ctx, []string{"g"})
		require.NoError(t, err)
		cs, err := tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: []alert.Alert{firing("a", t0), resolved("b", t0), firing("c", t0)}}},
			t0.Add(time.Minute), "kind", "http_status")
		require.NoError(t, err)
		require.Equal(t, 2, cs[0].Firing)
		require.Equal(t, 1, cs[0].Resolved)
		require.NotNil(t, cs[0].HTTPSince)
		require.True(t, t0.Equal(*cs[0].HTTPSince))
		// From another connection: a (unchanged) is not locked, b (changed)
		// is, c is not committed yet.
		var n int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM alerts WHERE group_key = 'g' AND fingerprint = 'a'
			FOR UPDATE NOWAIT) l`).Scan(&n), "an unchanged alert was sent and row-locked")
		require.Equal(t, 1, n)
		_, err = s.Pool().Exec(ctx, `SELECT 1 FROM alerts WHERE group_key = 'g' AND fingerprint = 'b' FOR UPDATE NOWAIT`)
		require.Error(t, err, "the changed alert is written")
		return nil
	}))
	var statuses []string
	rows, err := s.Pool().Query(ctx, `SELECT fingerprint || '=' || status FROM alerts WHERE group_key = 'g' ORDER BY fingerprint`)
	require.NoError(t, err)
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		statuses = append(statuses, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"a=firing", "b=resolved", "c=firing"}, statuses)
}

// TestAlertCacheNeverAnswersWithStaleAlerts: what a process knows of a
// group's alerts is used only while the group is as that process left it.
// Another replica's write, and a transaction of its own that rolled back,
// both show in the next counts.
func TestAlertCacheNeverAnswersWithStaleAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := pgtest.Schema(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, pgtest.URL(), postgres.Options{MaxConns: 4, SearchPath: schema})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	a, b := open(), open()
	require.NoError(t, a.Migrate(ctx))
	seedOverviewOrg(t, a)
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	storeGroup(t, a, "g", 1, t0)

	c, err := post(t, a, t0, false, firing("x", t0), firing("y", t0))
	require.NoError(t, err)
	require.Equal(t, 2, c.Firing)
	// Replica b resolves x.
	c, err = post(t, b, t0.Add(time.Minute), false, resolved("x", t0))
	require.NoError(t, err)
	require.Equal(t, alert.AlertCounts{Firing: 1, Resolved: 1, HTTPSince: c.HTTPSince}, c)
	// a posts y again: x's state comes from b's write, not a's memory.
	c, err = post(t, a, t0.Add(2*time.Minute), false, firing("y", t0))
	require.NoError(t, err)
	require.Equal(t, 1, c.Firing, "a counted x as it left it, not as b did")
	require.Equal(t, 1, c.Resolved)

	// a resolves y in a transaction that rolls back: still firing after.
	_, err = post(t, a, t0.Add(3*time.Minute), true, resolved("y", t0))
	require.Error(t, err)
	c, err = post(t, a, t0.Add(4*time.Minute), false, resolved("x", t0))
	require.NoError(t, err)
	require.Equal(t, 1, c.Firing, "the rolled-back resolve of y was remembered")
	require.Equal(t, 1, c.Resolved)

	// A write to the group row alone (a timer's) also makes a read afresh:
	// here it hides a change to the alerts made behind every process's
	// back, which only a fresh read sees.
	pgtest.Exec(t, a, `UPDATE alerts SET status = 'resolved' WHERE group_key = 'g' AND fingerprint = 'y'`)
	require.NoError(t, a.WithTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.AlertGroup(ctx, "g", true)
		require.NoError(t, err)
		return tx.SaveAlertGroup(ctx, g)
	}))
	c, err = post(t, a, t0.Add(5*time.Minute), false, resolved("x", t0))
	require.NoError(t, err)
	require.Equal(t, 0, c.Firing)
	require.Equal(t, 2, c.Resolved)
}
