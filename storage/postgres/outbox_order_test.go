package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// TestOutboxClaimKeepsOrderPerRecipient: a notice to a person (or a
// channel) waits, ErrNotReady, while an earlier one to them is pending;
// another recipient's notices do not wait for it; an earlier notice that
// failed and is older than the stuck time no longer holds the later back.
func TestOutboxClaimKeepsOrderPerRecipient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	toChannel := core.Notice{To: core.Recipient{Channel: "ops"}, Body: org.UserAdded{ByName: "x", UnitName: "y"}}
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		for _, n := range []core.Notice{notice("a"), notice("a"), notice("b"), toChannel, toChannel} {
			if err := tx.Notify(ctx, n); err != nil {
				return err
			}
		}
		return nil
	}))
	ob := s.Outbox()
	send := func(id int64, fail bool) (called bool, err error) {
		found, err := ob.Claim(ctx, id, func(core.Delivery) ([]string, error) {
			called = true
			if fail {
				return nil, errors.New("platform 502")
			}
			return []string{"webchat"}, nil
		})
		require.True(t, found, "outbox %d", id)
		return called, err
	}
	called, err := send(2, false)
	require.ErrorIs(t, err, core.ErrNotReady, "a's second notice waits for the first")
	require.False(t, called)
	called, err = send(3, false)
	require.NoError(t, err, "b does not wait for a")
	require.True(t, called)
	_, err = send(5, false)
	require.ErrorIs(t, err, core.ErrNotReady, "the channel's second notice waits for the first")

	// a's first fails once: it still holds the second back (not stuck yet).
	_, err = send(1, true)
	require.ErrorContains(t, err, "502")
	_, err = send(2, false)
	require.ErrorIs(t, err, core.ErrNotReady)
	// Once stuck (failed, and older than the stuck time) it no longer does.
	found, err := ob.WithStuckAfter(0).Claim(ctx, 2, func(core.Delivery) ([]string, error) { return []string{"webchat"}, nil })
	require.True(t, found)
	require.NoError(t, err)
	state, _, err := ob.State(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, "delivered", state, "a's second went by the stuck first")
	state, _, err = ob.State(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "pending", state, "the stuck notice is still retried")

	called, err = send(4, false)
	require.NoError(t, err)
	require.True(t, called)
	called, err = send(5, false)
	require.NoError(t, err, "the channel's second goes once the first is out")
	require.True(t, called)
}
