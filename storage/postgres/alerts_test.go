package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// alertStore begins an alert storage test (run in parallel): a store of
// its own with the overview org, a context and the test's time.
func alertStore(t *testing.T) (context.Context, *postgres.Store, time.Time) {
	t.Parallel()
	s := pgtest.New(t)
	seedOverviewOrg(t, s)
	return context.Background(), s, time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
}

// storeGroup stores a firing alert group key of incident id (an open
// level-2 incident of unit east, titled key) as of at.
func storeGroup(t *testing.T, s *postgres.Store, key string, id int, at time.Time) {
	t.Helper()
	pgtest.Exec(t, s, `INSERT INTO incidents (id, title, level, state, unit, declared_by, created_at, last_update_at)
		VALUES ($1, $2, 2, 'declared', 'east', 'u1', $3, $3)`, id, key, at)
	pgtest.Exec(t, s, `INSERT INTO alert_groups (group_key, receiver, incident_id, status, updated_at) VALUES ($1, 'opsbot', $2, 'firing', $3)`, key, id, at)
}

// TestUnchangedAlertsAreNotWrittenAgain: Alertmanager posts a group's
// alerts again every group_interval; an alert posted again unchanged is
// not rewritten (no new row version, updated_at stays), a changed one is,
// and the counts cover both as posted.
func TestUnchangedAlertsAreNotWrittenAgain(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	a := func(fp, status string) alert.Alert {
		return alert.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": "Disk", "kind": "http_status"},
			Annotations: map[string]string{"summary": "磁盘将满"}, StartsAt: t0, GeneratorURL: "http://prom/graph"}
	}
	save := func(at time.Time, alerts ...alert.Alert) alert.AlertCounts {
		var out []alert.AlertCounts
		require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) (err error) {
			out, err = tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: alerts}}, at, "kind", "http_status")
			return err
		}))
		return out[0]
	}
	version := func(fp string) (xmin string, updated time.Time) {
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT xmin::text, updated_at FROM alerts WHERE group_key = 'g' AND fingerprint = $1`, fp).
			Scan(&xmin, &updated))
		return xmin, updated
	}
	c := save(t0, a("a", "firing"), a("b", "firing"))
	require.Equal(t, alert.AlertCounts{Firing: 2, Resolved: 0, HTTPSince: c.HTTPSince}, c)
	require.NotNil(t, c.HTTPSince)
	xa, ua := version("a")
	xb, _ := version("b")

	c = save(t0.Add(time.Minute), a("a", "firing"), a("b", "resolved"))
	require.Equal(t, 1, c.Firing)
	require.Equal(t, 1, c.Resolved)
	xa2, ua2 := version("a")
	xb2, _ := version("b")
	require.Equal(t, xa, xa2, "an unchanged alert was written again")
	require.True(t, ua.Equal(ua2), "updated_at is when it last changed")
	require.NotEqual(t, xb, xb2, "a changed alert is written")

	c = save(t0.Add(2*time.Minute), a("b", "resolved"))
	require.Equal(t, 1, c.Firing, "a's stored state counts though it was not posted")
	require.Equal(t, 1, c.Resolved)
}

// TestBatchLocksStayInKeyOrder: a batch's preload locks the stored groups
// of its keys only up to its first key with no group yet, so a group
// stored meanwhile by another transaction is never locked after a later
// key. Before, batch A preloaded k9 (k3 was not stored yet), batch B
// locked k3 (stored meanwhile) and waited for k9, and A, coming to k3,
// waited for B: a deadlock (seen in make test).
func TestBatchLocksStayInKeyOrder(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "k9", 9, t0)
	keys := []string{"k3", "k9"}

	aPreloaded, bLocked, aDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		aDone <- s.WithTx(ctx, func(tx *postgres.Tx) error {
			gs, _, err := tx.LockAlertGroups(ctx, keys)
			if err != nil {
				return err
			}
			if _, ok := gs["k3"]; ok {
				return fmt.Errorf("k3 was not stored yet")
			}
			close(aPreloaded)
			<-bLocked
			// A comes to k3, stored meanwhile, in its key order.
			_, _, err = tx.LockAlertGroups(ctx, []string{"k3"})
			return err
		})
	}()
	<-aPreloaded
	storeGroup(t, s, "k3", 3, t0) // another transaction stores k3
	bDone := make(chan error, 1)
	go func() {
		bDone <- s.WithTx(ctx, func(tx *postgres.Tx) error {
			go func() { time.Sleep(300 * time.Millisecond); close(bLocked) }()
			_, _, err := tx.LockAlertGroups(ctx, keys) // k3, then k9
			return err
		})
	}()
	for _, done := range []chan error{aDone, bDone} {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Fatal("batches still waiting")
		}
	}
}

// TestAlertGroupWritesGoTogether: the group rows a transaction saves one
// after another are written by one statement (rows a statement writes
// share its command id, cmin); a key saved again while its statement
// waits is saved there again (a batch's second notification of a group
// costs no statement of its own), also past alert status updates queued
// after it (they touch alerts only), but after any other write a key
// saved again starts the next one; every row holds what was saved last
// for it.
func TestAlertGroupWritesGoTogether(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g1", 1, t0)
	storeGroup(t, s, "g2", 2, t0)
	pgtest.Exec(t, s, `INSERT INTO incidents (id, title, level, state, unit, declared_by, created_at, last_update_at)
		VALUES (3, 'g3', 2, 'declared', 'east', 'u1', $1, $1)`, t0)
	t1, due := t0.Add(time.Minute), t0.Add(31*time.Second)
	row := func(key string, id int64, firing int) alert.GroupRow {
		return alert.GroupRow{GroupKey: key, Receiver: "opsbot", IncidentID: id, Labels: map[string]string{"alertname": key},
			Status: "firing", Firing: firing, Resolved: 1, ExternalURL: "http://am", HTTPKind: firing > 2, App: "sjsj",
			UpdatedAt: t1, NotifiedAt: &t0}
	}
	g3 := row("g3", 3, 1)
	g3.NotifiedAt, g3.FlushDue = nil, &due
	storeGroup(t, s, "g", 5, t0)
	_, err := post(t, s, t0, false, firing("a", t0)) // g's alerts known to the alert cache
	require.NoError(t, err)
	storeGroup(t, s, "g4", 4, t0)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		_, _, err := tx.LockAlertGroups(ctx, []string{"g", "g1", "g2", "g4"})
		require.NoError(t, err)
		for _, g := range []alert.GroupRow{row("g1", 1, 2), row("g2", 2, 2)} {
			require.NoError(t, tx.SaveAlertGroup(ctx, g))
		}
		// A status update queued between.
		_, err = tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: []alert.Alert{resolved("a", t0)}}}, t1, "kind", "http_status")
		require.NoError(t, err)
		for _, g := range []alert.GroupRow{g3, row("g1", 1, 5)} {
			require.NoError(t, tx.SaveAlertGroup(ctx, g))
		}
		// Another write between: a new alert, written whole.
		_, err = tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: []alert.Alert{firing("new", t0)}}}, t1, "kind", "http_status")
		require.NoError(t, err)
		return tx.SaveAlertGroup(ctx, row("g4", 4, 1))
	}))
	cmd := map[string]string{}
	rows, err := s.Pool().Query(ctx, `SELECT group_key, cmin::text FROM alert_groups`)
	require.NoError(t, err)
	for rows.Next() {
		var k, c string
		require.NoError(t, rows.Scan(&k, &c))
		cmd[k] = c
	}
	require.NoError(t, rows.Err())
	require.Equal(t, cmd["g1"], cmd["g2"], "saved together")
	require.Equal(t, cmd["g2"], cmd["g3"], "saved together past the status update")
	require.NotEqual(t, cmd["g3"], cmd["g4"], "g4 saved by the next statement, after the alert's")

	err = s.WithTx(ctx, func(tx *postgres.Tx) error {
		for _, key := range []string{"g1", "g2", "g3"} {
			g, err := tx.AlertGroup(ctx, key, false)
			require.NoError(t, err)
			want := row(key, int64(key[1]-'0'), map[string]int{"g1": 5, "g2": 2, "g3": 1}[key])
			if key == "g3" {
				want = g3
			}
			require.Equal(t, want.Firing, g.Firing, key)
			require.Equal(t, want.HTTPKind, g.HTTPKind, key)
			require.Equal(t, want.Labels, g.Labels, key)
			require.Equal(t, want.IncidentID, g.IncidentID, key)
			require.True(t, want.UpdatedAt.Equal(g.UpdatedAt), key)
			require.Equal(t, want.NotifiedAt == nil, g.NotifiedAt == nil, key)
			require.Equal(t, want.FlushDue == nil, g.FlushDue == nil, key)
			if want.FlushDue != nil {
				require.True(t, want.FlushDue.Equal(*g.FlushDue), key)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// TestLockAlertGroupsReturnsTheIncidentAsLocked: the lock statement reads
// a group's incident with the group; when it had to wait for a person's
// change of the incident, it returns the incident as that change left it.
func TestLockAlertGroupsReturnsTheIncidentAsLocked(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	person, err := s.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = person.Rollback(ctx) }()
	_, err = person.Exec(ctx, `UPDATE incidents SET state = 'acknowledged', owner = 'sunli' WHERE id = 1`)
	require.NoError(t, err)
	got := make(chan string, 1)
	go func() {
		_ = s.WithTx(ctx, func(tx *postgres.Tx) error {
			_, incs, err := tx.LockAlertGroups(ctx, []string{"g"})
			if err != nil {
				got <- err.Error()
				return err
			}
			got <- string(incs[1].State) + "/" + incs[1].Owner
			return nil
		})
	}()
	select {
	case v := <-got:
		t.Fatalf("the lock did not wait for the person's change: %s", v)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, person.Commit(ctx))
	require.Equal(t, "acknowledged/sunli", <-got)
}

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
// conflicting row) — and the counts still cover the group's alerts. The
// changed ones go with the commit (nothing waits for them: the counts
// come from memory).
func TestAlertCacheSkipsUnchangedAlerts(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	c, err := post(t, s, t0, false, firing("a", t0), firing("b", t0))
	require.NoError(t, err)
	require.Equal(t, 2, c.Firing)
	xmin := func(fp string) (x string) {
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT xmin::text FROM alerts WHERE group_key = 'g' AND fingerprint = $1`, fp).Scan(&x))
		return x
	}
	xa, xb := xmin("a"), xmin("b")

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
		// From another connection: no alert row is locked yet — the
		// changed ones are written with the commit.
		var n int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM alerts WHERE group_key = 'g'
			FOR UPDATE NOWAIT) l`).Scan(&n), "an alert was written before the commit")
		require.Equal(t, 2, n)
		return nil
	}))
	require.Equal(t, xa, xmin("a"), "an unchanged alert was written again")
	require.NotEqual(t, xb, xmin("b"), "the changed alert is written")
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

// TestAlertStatusChangesKeepTheRestAndAreNeverLost: an alert whose status
// or end alone changed is written as an update of those (its labels and
// annotations are not sent again), keeping the rest of its row. Should
// its row be gone all the same — deleted behind opsbot's back without a
// write of the group, so the alert cache still vouches for it — the
// update fails the transaction as a conflict to retry (nothing of it
// committed), and the retry, reading the group afresh, stores the alert
// whole: the change is not lost.
func TestAlertStatusChangesKeepTheRestAndAreNeverLost(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	_, err := post(t, s, t0, false, firing("a", t0), firing("b", t0))
	require.NoError(t, err)
	type row struct {
		Status, Labels, Annotations string
		Ends                        *time.Time
		Updated                     time.Time
	}
	read := func(fp string) (r row, ok bool) {
		err := s.Pool().QueryRow(ctx, `SELECT status, labels::text, annotations::text, ends_at, updated_at FROM alerts
			WHERE group_key = 'g' AND fingerprint = $1`, fp).Scan(&r.Status, &r.Labels, &r.Annotations, &r.Ends, &r.Updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return r, false
		}
		require.NoError(t, err)
		return r, true
	}
	before, _ := read("a")

	t1 := t0.Add(time.Minute)
	ended := resolved("a", t0)
	ended.EndsAt = t1
	c, err := post(t, s, t1, false, ended, firing("b", t0))
	require.NoError(t, err)
	require.Equal(t, 1, c.Firing)
	require.Equal(t, 1, c.Resolved)
	after, _ := read("a")
	require.Equal(t, row{Status: "resolved", Labels: before.Labels, Annotations: before.Annotations, Ends: &t1, Updated: t1},
		row{after.Status, after.Labels, after.Annotations, ptrUTC(after.Ends), after.Updated.UTC()})

	// b's row goes behind opsbot's back; the group row is not touched.
	pgtest.Exec(t, s, `DELETE FROM alerts WHERE group_key = 'g' AND fingerprint = 'b'`)
	t2 := t0.Add(2 * time.Minute)
	_, err = post(t, s, t2, false, ended, resolved("b", t0))
	require.ErrorIs(t, err, core.ErrRetry, "an update of an alert not stored must fail, not be lost")
	_, ok := read("b")
	require.False(t, ok, "nothing of the failed transaction is committed")
	var groupUpdated time.Time
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT updated_at FROM alert_groups WHERE group_key = 'g'`).Scan(&groupUpdated))
	require.True(t, groupUpdated.Equal(t1), "the group row of the failed transaction was committed")

	c, err = post(t, s, t2, false, ended, resolved("b", t0))
	require.NoError(t, err, "the retry reads the group afresh")
	require.Equal(t, 0, c.Firing)
	require.Equal(t, 2, c.Resolved)
	b, ok := read("b")
	require.True(t, ok, "the retry stores the alert whole")
	require.Equal(t, "resolved", b.Status)
	require.Equal(t, before.Labels, b.Labels)
	require.Equal(t, before.Annotations, b.Annotations)
}

// TestAlertStatusUpdatesOfABatchGoTogether: the status updates of a
// batch's rounds (a group posted again in the batch) are written by one
// statement, also past the group rows saved between them (they touch
// alert_groups only); an alert updated twice ends as updated last. After
// any other write of alerts the next update starts a statement of its
// own.
func TestAlertStatusUpdatesOfABatchGoTogether(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	_, err := post(t, s, t0, false, firing("a", t0), firing("b", t0), firing("c", t0), firing("d", t0))
	require.NoError(t, err)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	var last alert.AlertCounts
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		rows, _, err := tx.LockAlertGroups(ctx, []string{"g"})
		require.NoError(t, err)
		round := func(at time.Time, alerts ...alert.Alert) {
			cs, err := tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: alerts}}, at, "kind", "http_status")
			require.NoError(t, err)
			last = cs[0]
			row := rows["g"]
			row.Firing, row.Resolved, row.UpdatedAt = last.Firing, last.Resolved, at
			require.NoError(t, tx.SaveAlertGroup(ctx, row))
		}
		round(t1, resolved("a", t0), resolved("d", t0))
		round(t2, firing("a", t0), resolved("b", t0))
		round(t2, firing("new", t0)) // a new alert, written whole
		round(t2, resolved("c", t0))
		return nil
	}))
	require.Equal(t, alert.AlertCounts{Firing: 2, Resolved: 3, HTTPSince: last.HTTPSince}, last)
	type stored struct {
		status, cmin string
		updated      time.Time
	}
	got := map[string]stored{}
	rows, err := s.Pool().Query(ctx, `SELECT fingerprint, status, cmin::text, updated_at FROM alerts WHERE group_key = 'g'`)
	require.NoError(t, err)
	for rows.Next() {
		var fp string
		var st stored
		require.NoError(t, rows.Scan(&fp, &st.status, &st.cmin, &st.updated))
		got[fp] = st
	}
	require.NoError(t, rows.Err())
	require.Equal(t, "firing", got["a"].status, "a ends as updated last")
	require.True(t, got["a"].updated.Equal(t2))
	require.Equal(t, "resolved", got["b"].status)
	require.Equal(t, "resolved", got["d"].status)
	require.True(t, got["d"].updated.Equal(t1))
	require.Equal(t, got["a"].cmin, got["b"].cmin)
	require.Equal(t, got["d"].cmin, got["b"].cmin, "both rounds' updates in one statement")
	require.Equal(t, "firing", got["new"].status)
	require.Equal(t, "resolved", got["c"].status)
	require.NotEqual(t, got["a"].cmin, got["c"].cmin, "c's update after the new alert's write, in a statement of its own")

	// Many alerts (looked up by a map): all resolved, then one fires again.
	var many, manyResolved []alert.Alert
	for i := range 20 {
		many, manyResolved = append(many, firing(fmt.Sprint("m", i), t0)), append(manyResolved, resolved(fmt.Sprint("m", i), t0))
	}
	_, err = post(t, s, t2, false, many...)
	require.NoError(t, err)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		_, _, err := tx.LockAlertGroups(ctx, []string{"g"})
		require.NoError(t, err)
		for n, posted := range [][]alert.Alert{manyResolved, {firing("m7", t0)}} {
			cs, err := tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: posted}}, t2.Add(time.Duration(n+1)*time.Minute), "kind", "http_status")
			require.NoError(t, err)
			last = cs[0]
		}
		return nil
	}))
	var firingNow, cmins int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'firing'), count(DISTINCT cmin::text)
		FROM alerts WHERE group_key = 'g' AND fingerprint LIKE 'm%'`).Scan(&firingNow, &cmins))
	require.Equal(t, 1, firingNow, "m7 fires again, the others stay resolved")
	require.Equal(t, 1, cmins, "one statement")
	require.Equal(t, 1+2, last.Firing, "m7, a and new")
}

func ptrUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// TestAlertGroupOfSeesTheTransactionsDeferredWrites: alerts saved without
// a read (their write waits for the commit) are what a card read later in
// the same transaction shows.
func TestAlertGroupOfSeesTheTransactionsDeferredWrites(t *testing.T) {
	ctx, s, t0 := alertStore(t)
	storeGroup(t, s, "g", 1, t0)
	_, err := post(t, s, t0, false, firing("a", t0))
	require.NoError(t, err)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		_, _, err := tx.LockAlertGroups(ctx, []string{"g"})
		require.NoError(t, err)
		_, err = tx.SaveAlerts(ctx, []alert.GroupAlerts{{GroupKey: "g", Alerts: []alert.Alert{resolved("a", t0), firing("b", t0)}}},
			t0.Add(time.Minute), "kind", "http_status")
		require.NoError(t, err)
		g, err := tx.AlertGroupOf(ctx, 1)
		require.NoError(t, err)
		var got []string
		for _, a := range g.Top {
			got = append(got, a.Fingerprint+"="+a.Status)
		}
		require.Equal(t, []string{"b=firing", "a=resolved"}, got)
		return nil
	}))
}
