package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// TestFeedRows: feeds round-trip (no revocation: zero time), a user has
// one live feed of each kind, revoking frees it, and ShiftChanges reads
// the rotation's last change and each swap's time.
func TestFeedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	at := time.Date(2026, 9, 15, 1, 0, 0, 0, time.UTC)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		require.NoError(t, tx.InsertUnit(ctx, org.Unit{Code: "city", Name: "市", Level: org.LevelCity, Path: "/city/", CreatedAt: at}))
		require.NoError(t, tx.InsertUser(ctx, org.User{ID: "ann", Name: "Ann", Unit: "city", CreatedAt: at}))
		require.NoError(t, tx.UpsertRotation(ctx, duty.Rotation{Name: "ops", Unit: "city", Members: []string{"ann"}, Every: "day", Handover: "09:00", StartDate: at}))
		require.NoError(t, core.Record(ctx, tx, at, core.SystemActor(), "duty.rotation.add", "rotation:ops", nil, map[string]string{}))
		require.NoError(t, core.Record(ctx, tx, at.Add(time.Hour), core.SystemActor(), "duty.rotation.add", "rotation:ops", nil, map[string]string{}))
		for _, d := range []int{0, 1, 2} {
			h := duty.Handover{Rotation: "ops", ShiftStart: at.AddDate(0, 0, d), Outgoing: "ann", Incoming: "ann", State: "pending", CreatedAt: at}
			if _, err := tx.InsertHandover(ctx, &h); err != nil {
				return err
			}
		}
		return tx.SetOverride(ctx, "ops", "2026-09-20", "ann", "ann", at.Add(2*time.Hour))
	}))
	require.NoError(t, s.Schedule().InTx(ctx, func(tx duty.ScheduleTx) error {
		hs, err := tx.HandoversBetween(ctx, "ops", at.AddDate(0, 0, 1), at.AddDate(0, 0, 3))
		require.NoError(t, err)
		require.Len(t, hs, 2, "from included, to not")
		require.True(t, hs[0].ShiftStart.Equal(at.AddDate(0, 0, 1)))
		hs, err = tx.HandoversBetween(ctx, "other", at, at.AddDate(0, 0, 3))
		require.NoError(t, err)
		require.Empty(t, hs)
		return nil
	}))
	require.NoError(t, s.Feeds().InTx(ctx, func(tx duty.FeedTx) error {
		mine := duty.Feed{Hash: "h1", Prefix: "abcdef…", UserID: "ann", CreatedAt: at}
		var err error
		mine.ID, err = tx.InsertFeed(ctx, mine)
		require.NoError(t, err)
		got, err := tx.FeedByHash(ctx, "h1")
		require.NoError(t, err)
		got.CreatedAt = got.CreatedAt.UTC()
		require.Equal(t, mine, got)
		_, err = tx.FeedByHash(ctx, "nope")
		require.ErrorIs(t, err, core.ErrNotFound)

		ops := duty.Feed{Hash: "h2", Prefix: "ghijkl…", UserID: "ann", Rotation: "ops", CreatedAt: at}
		ops.ID, err = tx.InsertFeed(ctx, ops)
		require.NoError(t, err)
		list, err := tx.Feeds(ctx, "ann")
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, ops.ID, list[0].ID, "newest first")

		mine.RevokedAt, mine.RevokedBy = at.Add(time.Minute), "ann"
		require.NoError(t, tx.RevokeFeed(ctx, mine))
		got, err = tx.FeedByHash(ctx, "h1")
		require.NoError(t, err)
		require.Equal(t, "ann", got.RevokedBy)
		require.True(t, got.RevokedAt.Equal(mine.RevokedAt))
		list, err = tx.Feeds(ctx, "ann")
		require.NoError(t, err)
		require.Len(t, list, 1, "revoked feeds are not listed")
		_, err = tx.InsertFeed(ctx, duty.Feed{Hash: "h3", Prefix: "x…", UserID: "ann", CreatedAt: at})
		require.NoError(t, err, "revoking frees the kind")

		changed, swaps, err := tx.ShiftChanges(ctx, "ops")
		require.NoError(t, err)
		require.True(t, changed.Equal(at.Add(time.Hour)), "the last change: %s", changed)
		require.Len(t, swaps, 1)
		require.True(t, swaps["2026-09-20"].Equal(at.Add(2*time.Hour)))
		changed, swaps, err = tx.ShiftChanges(ctx, "none")
		require.NoError(t, err)
		require.True(t, changed.IsZero())
		require.Empty(t, swaps)
		return nil
	}))
	err := s.Feeds().InTx(ctx, func(tx duty.FeedTx) error {
		_, err := tx.InsertFeed(ctx, duty.Feed{Hash: "h4", Prefix: "y…", UserID: "ann", Rotation: "ops", CreatedAt: at})
		return err
	})
	require.ErrorIs(t, err, core.ErrConflict, "one live feed of a kind")
}
