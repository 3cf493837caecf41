package approval_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

type bundle struct {
	store *postgres.Store
	orgs  *org.Service
	svc   *approval.Service
}

func setup(t *testing.T) bundle {
	t.Helper()
	store := pgtest.New(t)
	orgs := org.NewService(store.Org(), core.SystemClock{})
	ctx := context.Background()
	_, err := orgs.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	require.NoError(t, orgs.LoadDemo(ctx))
	// Every minute is a working minute, so reminders are due a minute later.
	cal := calendar.New(time.UTC, []calendar.Period{{Start: 0, End: 24 * 60}})
	svc := approval.NewService(store.Approvals(), core.SystemClock{}, cal, approval.Config{RemindEvery: time.Minute, Channel: "ops"})
	return bundle{store: store, orgs: orgs, svc: svc}
}

func as(id string) core.Actor {
	return core.Actor{UserID: id, Name: id, Platform: core.PlatformWebchat}
}

func count(t *testing.T, s *postgres.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// TestConcurrentApprovalsMakeOneTransition: 20 clicks at once from two
// eligible approvers produce one transition, one decision, one audit entry
// and one notice per recipient; every other click is told who decided.
func TestConcurrentApprovalsMakeOneTransition(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.orgs.AddUser(ctx, core.SystemActor(), "admin2", "副管理员", "city")
	require.NoError(t, err)
	_, err = b.orgs.GrantRole(ctx, as("admin"), "admin2", org.RoleSysAdmin, "")
	require.NoError(t, err)
	res, err := b.svc.RequestOffline(ctx, as("wuhao"), "sjsj", "迁移")
	require.NoError(t, err)
	id := res.Request.ID
	require.Equal(t, []string{"chenjing"}, res.Next, "the owner unit's admin agrees first")
	res, err = b.svc.Decide(ctx, as("chenjing"), id, 1, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, []string{"admin", "admin2"}, res.Next)
	outboxBefore := count(t, b.store, `SELECT count(*) FROM outbox`)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var oks int
	var refusals []error
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		who := []string{"admin", "admin2"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := b.svc.Decide(ctx, as(who), id, 2, approval.VerbApprove, "")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				oks++
			} else {
				refusals = append(refusals, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, 1, oks)
	require.Len(t, refusals, 19)
	for _, err := range refusals {
		require.ErrorIs(t, err, core.ErrAlreadyDecided)
		var ce *core.Error
		require.True(t, errors.As(err, &ce))
		require.Equal(t, "already_decided", ce.Code)
		require.Contains(t, []string{"admin", "admin2"}, ce.Args["by"])
	}
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM request_decisions WHERE request_id = $1 AND step = 2`, id))
	require.Equal(t, 2, count(t, b.store, `SELECT count(*) FROM audit_log WHERE entity = $1 AND action = 'request.approve'`, "request:1"))
	// The transition's notices: one card per operator and one to the channel
	// for step 3, one card update for step 2, one progress to the requester.
	rows, err := b.store.Pool().Query(ctx, `SELECT kind, to_user, to_channel, count(*) FROM outbox WHERE id > $1
		GROUP BY kind, to_user, to_channel ORDER BY kind, to_user, to_channel`, outboxBefore)
	require.NoError(t, err)
	got := map[string]int{}
	for rows.Next() {
		var kind, user, channel string
		var n int
		require.NoError(t, rows.Scan(&kind, &user, &channel, &n))
		got[kind+"|"+user+"|"+channel] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int{
		"approval.card||ops":       1,
		"approval.card|sunli|":     1,
		"approval.card|zhoujie|":   1,
		"approval.progress|wuhao|": 1,
		"update.approval||":        1,
	}, got)
	d, err := b.svc.Show(ctx, as("wuhao"), id)
	require.NoError(t, err)
	require.Equal(t, 3, d.Request.Step)
}

func TestRemindersFireOnceAndStopOnDecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	res, err := b.svc.RequestOnline(ctx, as("chenjing"), "sjsj", "")
	require.Error(t, err, "sjsj is online already")
	res, err = b.svc.RequestOffline(ctx, as("chenjing"), "sjsj", "")
	require.NoError(t, err)
	id := res.Request.ID
	var timerID int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT id FROM timers WHERE ref = 'request:1' AND state = 'pending'`).Scan(&timerID))
	// Not due yet: nothing happens.
	require.NoError(t, b.svc.HandleTimer(ctx, timerID))
	require.Equal(t, 0, count(t, b.store, `SELECT count(*) FROM outbox WHERE kind = 'approval.remind'`))
	// Due: the waiting approver is reminded once, and a next reminder is set.
	pgtest.Exec(t, b.store, `UPDATE timers SET due_at = now() - interval '1 second' WHERE id = $1`, timerID)
	require.NoError(t, b.svc.HandleTimer(ctx, timerID))
	require.NoError(t, b.svc.HandleTimer(ctx, timerID))
	// chenjing, the owner unit's admin, asked: the district admin above agrees.
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM outbox WHERE kind = 'approval.remind' AND to_user = 'wangfang'`))
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM timers WHERE ref = 'request:1' AND state = 'pending'`))
	// A decision cancels the pending reminder of that step and sets one for the next.
	_, err = b.svc.Decide(ctx, as("wangfang"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM timers WHERE ref = 'request:1' AND state = 'pending' AND data->>'step' = '2'`))
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM timers WHERE ref = 'request:1' AND state = 'pending'`))
	_, err = b.svc.Decide(ctx, as("admin"), id, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	// Closing the request cancels everything.
	_, err = b.svc.Decide(ctx, as("sunli"), id, 0, approval.VerbDone, "")
	require.NoError(t, err)
	require.Equal(t, 0, count(t, b.store, `SELECT count(*) FROM timers WHERE ref = 'request:1' AND state = 'pending'`))
}

func TestChangeNotStartedInWindowIsFlagged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := time.Now()
	res, err := b.svc.RequestChange(ctx, as("sunli"), approval.ChangeInput{Title: "升级", Target: "db", Risk: "low",
		Plan: "p", Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"}, Start: now.Add(time.Minute), End: now.Add(2 * time.Minute), Emergency: true})
	require.NoError(t, err)
	_, err = b.svc.Decide(ctx, as("admin"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	_, err = b.svc.Decide(ctx, as("zhoujie"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	var timerID int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT id FROM timers WHERE kind = $1 AND state = 'pending'`, approval.TimerWindowEnd).Scan(&timerID))
	pgtest.Exec(t, b.store, `UPDATE timers SET due_at = now() WHERE id = $1`, timerID)
	require.NoError(t, b.svc.HandleTimer(ctx, timerID))
	for _, who := range []string{"sunli", "admin", "zhoujie"} {
		require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM outbox WHERE kind = 'change.window_missed' AND to_user = $1`, who), who)
	}
	require.Equal(t, 1, count(t, b.store, `SELECT count(*) FROM requests WHERE id = $1 AND state = 'expired'`, res.Request.ID))
}

// TestApprovedWindowIsRecorded: the window an approver sets is stored on
// the decision.
func TestApprovedWindowIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	start := time.Now().Add(time.Hour).Truncate(time.Minute)
	res, err := b.svc.RequestChange(ctx, as("sunli"), approval.ChangeInput{Title: "升级", Target: "db", Risk: "low",
		Plan: "p", Rollback: "r", TestPlan: "t", Steps: "s", Staff: []string{"sunli"}, Start: start, End: start.Add(2 * time.Hour), Emergency: true})
	require.NoError(t, err)
	_, err = b.svc.ApproveWindow(ctx, as("admin"), res.Request.ID, 0, "", start.Add(30*time.Minute), start.Add(time.Hour))
	require.NoError(t, err)
	d, err := b.svc.Show(ctx, as("admin"), res.Request.ID)
	require.NoError(t, err)
	want := start.Add(30*time.Minute).UTC().Format("2006-01-02 15:04") + " ~ " + start.Add(time.Hour).UTC().Format("2006-01-02 15:04")
	require.Equal(t, want, d.Decisions[0].Window)
	require.Equal(t, want, d.Request.Payload["window_approved"])
}

// TestRoutesAreData: every route's steps are well formed.
func TestRoutesAreData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, route := range []string{"app_online/unit", "app_online/cross", "app_offline/unit", "app_offline/cross",
		"app_release/city", "app_release/district", "app_release/unit", "permission/unit", "change/normal", "change/emergency", "operation/dual",
		// Migration 018 kept the routes it replaced for the requests filed on them.
		"app_online/cross.1", "app_offline/cross.1", "operation/dual.1"} {
		err := b.store.Approvals().InTx(ctx, func(tx approval.Ports) error {
			steps, err := tx.Route(ctx, route)
			require.NoError(t, err)
			require.NotEmpty(t, steps, route)
			for i, st := range steps {
				require.Equal(t, i+1, st.Seq, route)
				require.NotEmpty(t, st.Roles, route)
				require.NotEmpty(t, st.Verbs, route)
				if st.BackTo > 0 {
					require.Less(t, st.BackTo, st.Seq, route)
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
}
