package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/paging"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// pagingTest begins a paging storage test (run in parallel): a store of
// its own with a city, its admin and an open incident, and the test's time.
func pagingTest(t *testing.T) (context.Context, *postgres.Store, time.Time, incident.Incident) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	pgtest.Exec(t, s, `INSERT INTO units (code, name, level, parent, path, created_at) VALUES ('city', 'city', 'city', NULL, '/city/', $1)`, t0)
	pgtest.Exec(t, s, `INSERT INTO users (id, name, unit, created_at) VALUES ('admin', '管理员', 'city', $1)`, t0)
	inc := incident.Incident{Title: "db down", Level: 2, State: incident.StateDeclared, Unit: "city", DeclaredBy: "admin", CreatedAt: t0, LastUpdateAt: t0}
	require.NoError(t, s.Incidents().InTx(ctx, func(tx incident.WriteTx) error { return tx.InsertIncident(ctx, &inc) }))
	return ctx, s, t0, inc
}

// TestPagingStore: contacts and quiet hours round-trip, a page is stored
// once per key and found by its filters, a link is used once.
func TestPagingStore(t *testing.T) {
	ctx, s, t0, inc := pagingTest(t)
	err := s.Paging().InTx(ctx, func(tx paging.Tx) error {
		c := paging.Contact{UserID: "admin", Kind: paging.ContactMobile, Value: "13800138000", CodeHash: "h", CodeExpires: t0, CreatedAt: t0}
		require.NoError(t, tx.SaveContact(ctx, &c))
		c.Verified, c.CodeHash = true, ""
		require.NoError(t, tx.SaveContact(ctx, &c))
		require.NoError(t, tx.SetQuiet(ctx, "admin", "22:00-07:00"))
		p, err := tx.Profile(ctx, "admin")
		require.NoError(t, err)
		require.Equal(t, "22:00-07:00", p.Quiet)
		require.Len(t, p.Contacts, 1)
		require.True(t, p.Contacts[0].Verified)
		require.NoError(t, tx.SetQuiet(ctx, "admin", ""))
		require.NoError(t, tx.DeleteContact(ctx, c.ID))
		p, err = tx.Profile(ctx, "admin")
		require.NoError(t, err)
		require.Empty(t, p.Contacts)
		require.Empty(t, p.Quiet)

		rec := paging.Record{Key: "incident:1/admin/1/sms", IncidentID: inc.ID, UserID: "admin", Step: 1, Method: paging.MethodSMS,
			Address: "13800138000", Level: 2, Title: "db down", Status: paging.StatusSending, At: t0}
		ok, err := tx.SavePage(ctx, &rec)
		require.NoError(t, err)
		require.True(t, ok)
		again := rec
		again.ID = 0
		ok, err = tx.SavePage(ctx, &again)
		require.NoError(t, err)
		require.False(t, ok, "one page per key")
		rec.Status, rec.MessageID, rec.Attempts = paging.StatusSent, "biz-1", 1
		_, err = tx.SavePage(ctx, &rec)
		require.NoError(t, err)
		for _, f := range []paging.Filter{{Key: rec.Key}, {MessageID: "biz-1"}, {Address: "13800138000", Methods: []paging.Method{paging.MethodSMS}},
			{UserID: "admin", Statuses: []string{paging.StatusSent}, Since: t0}} {
			got, err := tx.FindPages(ctx, f)
			require.NoError(t, err)
			require.Len(t, got, 1, "%+v", f)
			require.Equal(t, rec.ID, got[0].ID)
			require.Equal(t, paging.StatusSent, got[0].Status)
		}
		for _, f := range []paging.Filter{{Methods: []paging.Method{paging.MethodVoice}}, {Since: t0.Add(time.Second)}, {Statuses: []string{paging.StatusFailed}}} {
			got, err := tx.FindPages(ctx, f)
			require.NoError(t, err)
			require.Empty(t, got, "%+v", f)
		}
		require.NoError(t, tx.PutToken(ctx, paging.Token{Hash: "abc", PageID: rec.ID, IncidentID: inc.ID, UserID: "admin", Expires: t0.Add(time.Hour)}))
		k, used, err := tx.UseToken(ctx, "abc", t0)
		require.NoError(t, err)
		require.True(t, used)
		require.Equal(t, inc.ID, k.IncidentID)
		_, used, err = tx.UseToken(ctx, "abc", t0)
		require.NoError(t, err)
		require.False(t, used, "once")
		_, _, err = tx.UseToken(ctx, "nope", t0)
		require.True(t, errors.Is(err, core.ErrNotFound))
		return nil
	})
	require.NoError(t, err)
}

// TestPagingTimerKeepsTheLockOrder: a paging step about an incident takes
// its hold on the incident before it claims its timer (core.Fire's order:
// incident, then timers). Before, it claimed the timer and then, storing
// the page (its foreign key), waited for the incident a person had locked
// to resolve it — while the person, cancelling the incident's timers,
// waited for that timer: a deadlock (seen in make test).
func TestPagingTimerKeepsTheLockOrder(t *testing.T) {
	ctx, s, t0, inc := pagingTest(t)
	ref := "incident:" + strconv.FormatInt(inc.ID, 10)
	var timerID int64
	require.NoError(t, s.Pool().QueryRow(ctx, `INSERT INTO timers (kind, ref, due_at, data) VALUES ($1, $2, $3, $4) RETURNING id`,
		paging.TimerStep, ref, t0, map[string]string{"level": "2", "step": "1", "method": "sms", "users": "admin", "title": "db down"}).Scan(&timerID))
	pager := paging.NewService(s.Paging(), fixedClock{t0}, paging.Config{}, paging.Deps{})

	person, err := s.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = person.Rollback(ctx) }()
	_, err = person.Exec(ctx, `SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE`, inc.ID)
	require.NoError(t, err)
	fired := make(chan error, 1)
	go func() { fired <- pager.HandleTimer(ctx, timerID) }()
	time.Sleep(300 * time.Millisecond) // the step runs as far as it can
	_, err = person.Exec(ctx, `UPDATE timers SET state = 'cancelled' WHERE ref = $1 AND state = 'pending'`, ref)
	require.NoError(t, err, "the person waited for the paging step's timer")
	require.NoError(t, person.Commit(ctx))
	require.NoError(t, <-fired)
	var pages int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM pages`).Scan(&pages))
	require.Zero(t, pages, "the step's timer was cancelled before it was claimed")
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
