package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// TestTokenRows: tokens round-trip (NULL times as zero), the list
// filters select as documented, revoking frees a name, and a use is
// written at most once per interval.
func TestTokenRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		require.NoError(t, tx.InsertUnit(ctx, org.Unit{Code: "city", Name: "市", Level: org.LevelCity, Path: "/city/", CreatedAt: at}))
		require.NoError(t, tx.InsertUser(ctx, org.User{ID: "ann", Name: "Ann", Unit: "city", CreatedAt: at}))
		return tx.InsertUser(ctx, org.User{ID: "svc", Name: "Svc", Unit: "city", CreatedAt: at, Service: true})
	}))
	var personal, service access.Token
	require.NoError(t, s.Tokens().InTx(ctx, func(tx access.TokenTx) error {
		u, err := tx.User(ctx, "svc")
		require.NoError(t, err)
		require.True(t, u.Service, "the service flag round-trips")

		personal = access.Token{Hash: "h1", Prefix: "opsb_abc…", Name: "ci", UserID: "ann", Kind: access.KindPersonal,
			Scope: access.ScopeRead, CreatedBy: "ann", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		personal.ID, err = tx.InsertToken(ctx, personal)
		require.NoError(t, err)
		service = access.Token{Hash: "h2", Prefix: "legacy…", Name: "config-h2", UserID: "svc", Kind: access.KindService,
			Scope: access.ScopeWrite, FromConfig: true, CreatedBy: core.SystemUser, CreatedAt: at}
		service.ID, err = tx.InsertToken(ctx, service)
		require.NoError(t, err)

		got, err := tx.Token(ctx, personal.ID)
		require.NoError(t, err)
		require.Equal(t, personal, inUTC(got))
		got, err = tx.TokenByHash(ctx, "h2")
		require.NoError(t, err)
		require.Equal(t, service, inUTC(got), "no expiry, no revocation, no use: zero times")
		_, err = tx.TokenByHash(ctx, "nope")
		require.ErrorIs(t, err, core.ErrNotFound)

		for _, tc := range []struct {
			q    access.TokenQuery
			want []int64
		}{
			{access.TokenQuery{}, []int64{service.ID, personal.ID}},
			{access.TokenQuery{UserID: "ann"}, []int64{personal.ID}},
			{access.TokenQuery{Kind: access.KindService}, []int64{service.ID}},
			{access.TokenQuery{FromConfig: true}, []int64{service.ID}},
		} {
			list, err := tx.Tokens(ctx, tc.q)
			require.NoError(t, err)
			var ids []int64
			for _, k := range list {
				ids = append(ids, k.ID)
			}
			require.Equal(t, tc.want, ids, "%+v", tc.q)
		}

		// A use is written, then not again within the interval.
		require.NoError(t, tx.TouchToken(ctx, personal.ID, at, at.Add(-time.Minute)))
		require.NoError(t, tx.TouchToken(ctx, personal.ID, at.Add(30*time.Second), at.Add(-30*time.Second)))
		got, err = tx.Token(ctx, personal.ID)
		require.NoError(t, err)
		require.Equal(t, at, got.LastUsedAt.UTC())

		revoked := personal
		revoked.RevokedAt, revoked.RevokedBy = at.Add(time.Minute), "ann"
		require.NoError(t, tx.UpdateToken(ctx, revoked))
		list, err := tx.Tokens(ctx, access.TokenQuery{UserID: "ann"})
		require.NoError(t, err)
		require.Empty(t, list, "revoked tokens are left out")
		list, err = tx.Tokens(ctx, access.TokenQuery{UserID: "ann", Revoked: true})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, at.Add(time.Minute), list[0].RevokedAt.UTC())
		_, err = tx.InsertToken(ctx, access.Token{Hash: "h3", Prefix: "p", Name: "ci", UserID: "ann", Kind: access.KindPersonal,
			Scope: access.ScopeWrite, CreatedBy: "ann", CreatedAt: at})
		require.NoError(t, err, "a revoked token's name is free again")
		return nil
	}))

	// Holders leave service users out.
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		for _, id := range []string{"ann", "svc"} {
			require.NoError(t, tx.InsertGrant(ctx, org.Grant{UserID: id, Role: org.RoleOperator, Scope: "city", GrantedBy: "system", GrantedAt: at}))
		}
		holders, err := tx.Holders(ctx, org.RoleOperator)
		require.NoError(t, err)
		require.Len(t, holders, 1)
		require.Equal(t, "ann", holders[0].UserID)
		grants, err := tx.GrantsOf(ctx, "svc")
		require.NoError(t, err)
		require.Len(t, grants, 1, "a service user still holds its roles")
		return nil
	}))
}

// inUTC puts a scanned token's times in UTC, as the test wrote them.
func inUTC(k access.Token) access.Token {
	for _, p := range []*time.Time{&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return k
}
