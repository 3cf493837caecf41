package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
	"opsbot/core/incident"
	"opsbot/core/monthly"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// TestReportSentOnceUnderRace: two schedulers marking the same manager's
// report of a period in concurrent transactions — exactly one wins.
func TestReportSentOnceUnderRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	now := time.Date(2026, 10, 8, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Monthly().InTx(ctx, func(tx monthly.Tx) error {
				ok, err := tx.MarkReportSent(ctx, monthly.KindMonthly, "2026-09", "dadmin", now)
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				return err
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Equal(t, 1, wins)
	require.NoError(t, s.Monthly().InTx(ctx, func(tx monthly.Tx) error {
		sent, err := tx.ReportsSent(ctx, monthly.KindMonthly, "2026-09")
		require.Equal(t, []string{"dadmin"}, sent)
		return err
	}))
}

// TestCheckActionsAndOutages: actions round-trip; outages are the joint
// non-200 incidents overlapping the span.
func TestCheckActionsAndOutages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	t0 := time.Date(2026, 9, 30, 14, 0, 0, 0, time.UTC)
	resolved := t0.Add(2 * time.Hour)
	var joint, plain incident.Incident
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		for i, inc := range []*incident.Incident{&joint, &plain} {
			*inc = incident.Incident{Title: "portal 502", Level: 2, State: incident.StateResolved, System: "portal", Unit: "u1",
				DeclaredBy: "system", CreatedAt: t0, LastUpdateAt: t0, ResolvedAt: &resolved}
			require.NoError(t, tx.InsertIncident(ctx, inc))
			require.NoError(t, tx.UpdateIncident(ctx, *inc))
			require.NoError(t, tx.SaveAlertGroup(ctx, alert.GroupRow{GroupKey: []string{"g-joint", "g-plain"}[i], Receiver: "opsbot",
				IncidentID: inc.ID, Labels: map[string]string{}, Status: "resolved", HTTPKind: true, App: "portal", Joint: i == 0, UpdatedAt: t0}))
		}
		return nil
	}))
	require.NoError(t, s.Monthly().InTx(ctx, func(tx monthly.Tx) error {
		outs, err := tx.Outages(ctx, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Len(t, outs, 1)
		require.Equal(t, joint.ID, outs[0].Incident)
		require.Equal(t, "portal", outs[0].System)
		require.Equal(t, "u1", outs[0].Unit)
		outs, err = tx.Outages(ctx, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Empty(t, outs)

		due := time.Date(2026, 10, 21, 9, 30, 0, 0, time.UTC)
		a := monthly.Action{Quarter: "2026-Q3", N: 1, Plan: "daily-hosts", Kind: "missed", Count: 2, Owner: "op", Due: due, State: monthly.ActionOpen}
		require.NoError(t, tx.InsertCheckAction(ctx, a))
		got, err := tx.CheckAction(ctx, "2026-Q3", 1)
		require.NoError(t, err)
		require.True(t, got.Due.Equal(due))
		now := due.Add(-time.Hour)
		got.State, got.DoneBy, got.DoneAt = monthly.ActionDone, "op", &now
		require.NoError(t, tx.UpdateCheckAction(ctx, got))
		all, err := tx.CheckActions(ctx, "2026-Q3")
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.Equal(t, monthly.ActionDone, all[0].State)
		_, err = tx.CheckAction(ctx, "2026-Q3", 9)
		require.Error(t, err)
		return nil
	}))
}
