package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/storage/postgres"
)

// TestCancellingATimerNeverWaitsForItsFiring: a timer handler that claims
// its timer and then locks its entity (a ticket reminder, a problem's due
// date, ...) runs while a person holds that entity and cancels, or
// moves, its timers. The person's transaction must not wait for the timer
// row the handler holds: they would wait for each other (Postgres'
// "deadlock detected", and the person's command would fail). The cancel
// skips the timer being fired — it came due before the person's change,
// as if it had fired a moment earlier — and the handler, once the person
// commits, reads the entity as the person left it.
func TestCancellingATimerNeverWaitsForItsFiring(t *testing.T) {
	ctx, s, t0, inc := pagingTest(t)
	ref := "incident:" + strconv.FormatInt(inc.ID, 10)
	var timerID int64
	require.NoError(t, s.Pool().QueryRow(ctx, `INSERT INTO timers (kind, ref, due_at, data) VALUES ('test:remind', $1, $2, '{}') RETURNING id`,
		ref, t0).Scan(&timerID))

	personHolds, claimed := make(chan struct{}), make(chan struct{})
	fired := make(chan error, 1)
	go func() {
		<-personHolds
		fired <- s.WithTx(ctx, func(tx *postgres.Tx) error {
			tm, ok, err := tx.ClaimTimer(ctx, timerID, t0)
			if err != nil || !ok {
				return err
			}
			require.Equal(t, ref, tm.Ref)
			close(claimed)
			_, err = tx.Incident(ctx, inc.ID, true) // waits for the person
			return err
		})
	}()

	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := s.WithTx(wait, func(tx *postgres.Tx) error {
		if _, err := tx.Incident(wait, inc.ID, true); err != nil {
			return err
		}
		close(personHolds)
		<-claimed
		time.Sleep(200 * time.Millisecond) // the handler waits for the incident now
		if err := tx.CancelTimers(wait, ref, ""); err != nil {
			return err
		}
		return tx.KeepTimer(wait, core.Timer{Kind: "test:remind", Ref: ref, DueAt: t0.Add(time.Hour)})
	})
	require.NoError(t, err, "the person's change waited for the timer being fired")
	require.NoError(t, <-fired)

	state, err := s.Timers().State(ctx, timerID)
	require.NoError(t, err)
	require.Equal(t, "fired", state, "the timer fired once, as it was due before the change")
	var pending int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM timers WHERE ref = $1 AND state = 'pending' AND due_at = $2`,
		ref, t0.Add(time.Hour)).Scan(&pending))
	require.Equal(t, 1, pending, "the moved timer is pending")

	// A timer nobody is firing is cancelled as before.
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error { return tx.CancelTimers(ctx, ref, "") }))
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM timers WHERE ref = $1 AND state = 'pending'`, ref).Scan(&pending))
	require.Zero(t, pending)
}
