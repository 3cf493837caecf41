package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/core/org"
)

// memStore is the audit service's store over a slice.
type memStore struct {
	entries []core.AuditEntry
	notices []core.Notice
	walks   []audit.Verification
}

func (m *memStore) LastVerification(context.Context) (audit.Verification, bool, error) {
	if len(m.walks) == 0 {
		return audit.Verification{}, false, nil
	}
	return m.walks[len(m.walks)-1], true, nil
}

func (m *memStore) Walk(_ context.Context, fn func(core.AuditEntry) error) (int64, string, error) {
	for _, e := range m.entries {
		if err := fn(e); err != nil {
			return 0, "", err
		}
	}
	if len(m.entries) == 0 {
		return 0, "", nil
	}
	last := m.entries[len(m.entries)-1]
	return last.Seq, last.Hash, nil
}

func (m *memStore) InTx(_ context.Context, fn func(audit.Tx) error) error { return fn(memTx{m}) }

type memTx struct{ m *memStore }

func (t memTx) Audit(context.Context, core.AuditEntry) error { return errors.New("not audited") }
func (t memTx) RecordVerification(_ context.Context, v audit.Verification) error {
	t.m.walks = append(t.m.walks, v)
	return nil
}
func (t memTx) Notify(_ context.Context, n core.Notice) error {
	t.m.notices = append(t.m.notices, n)
	return nil
}
func (t memTx) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	if role != org.RoleSysAdmin {
		return nil, nil
	}
	return []org.Grant{{UserID: "admin", Role: role, Scope: "city"}}, nil
}

type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }

func TestServiceCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := testKey(t, 1)
	store := &memStore{entries: keyedChain(t, key, 0, 9)}
	path := filepath.Join(t.TempDir(), "cp.jsonl")
	svc := audit.NewService(store, key, clock{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}, audit.FileSink{Path: path})

	_, err := svc.Checkpoint(ctx, core.Actor{UserID: "zhangwei", Platform: "webchat"})
	require.ErrorIs(t, err, core.ErrForbidden)

	c, err := svc.Checkpoint(ctx, core.Actor{UserID: "admin", Platform: "webchat"})
	require.NoError(t, err)
	require.Equal(t, int64(10), c.Seq)
	require.NoError(t, key.Check(c))
	require.Len(t, store.notices, 1)
	require.Equal(t, "admin", store.notices[0].To.User)
	require.Equal(t, "audit.checkpoint", store.notices[0].Type())

	// Truncated: the next checkpoint is refused, not signed over the gap,
	// and the sys admins hear where it breaks.
	store.entries = nil
	_, err = svc.Checkpoint(ctx, core.SystemActor())
	require.ErrorIs(t, err, core.ErrConflict)
	require.Len(t, store.notices, 2)
	require.Equal(t, int64(1), store.notices[1].Body.(audit.Checkpointed).BrokenSeq)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(data), "\n"), "nothing new published")

	// Unkeyed: refused with a clear code.
	_, err = audit.NewService(store, nil, clock{}).Checkpoint(ctx, core.SystemActor())
	require.ErrorIs(t, err, core.ErrInvalid)
}

func TestServiceExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := testKey(t, 1)
	store := &memStore{entries: keyedChain(t, key, 2, 9)} // 09:00 + n minutes
	svc := audit.NewService(store, key, clock{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)})
	var got []int64
	x, err := svc.Export(ctx, core.SystemActor(), time.Date(2026, 11, 24, 9, 3, 0, 0, time.UTC), time.Date(2026, 11, 24, 9, 6, 0, 0, time.UTC),
		func(e core.AuditEntry) error { got = append(got, e.Seq); return nil })
	require.NoError(t, err)
	require.Equal(t, []int64{4, 5, 6}, got)
	require.Nil(t, x.Break)
	require.Equal(t, int64(6), x.Checkpoint.Seq)
	require.Equal(t, store.entries[5].Hash, x.Checkpoint.Hash)
	require.NoError(t, key.Check(*x.Checkpoint))
	// The export's checkpoint checks the chain like any other.
	require.Nil(t, verifyWith(key, []audit.Checkpoint{*x.Checkpoint}, store.entries))

	_, err = svc.Export(ctx, core.Actor{UserID: "zhangwei"}, time.Time{}, time.Time{}, func(core.AuditEntry) error { return nil })
	require.ErrorIs(t, err, core.ErrForbidden)
	_, _, err = audit.DayRange("2026-11-30", "2026-11-01", time.UTC)
	require.ErrorIs(t, err, core.ErrInvalid)
	_, _, err = audit.DayRange("30/11/2026", "", time.UTC)
	require.ErrorIs(t, err, core.ErrInvalid)
}

// TestVerificationsAreRecorded: every checkpoint, whole or broken, leaves
// the walk's outcome for the console; VerifyNow is for sys admins, and
// works unkeyed too.
func TestVerificationsAreRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := testKey(t, 1)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	store := &memStore{entries: keyedChain(t, key, 0, 9)}
	svc := audit.NewService(store, key, clock{now})
	_, ok, err := svc.LastVerification(ctx)
	require.NoError(t, err)
	require.False(t, ok, "nothing ran yet")

	_, err = svc.Checkpoint(ctx, core.SystemActor())
	require.NoError(t, err)
	v, ok, err := svc.LastVerification(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, audit.Verification{At: now, By: core.SystemUser, Count: 10, Seq: 10, Signed: true}, v)
	require.True(t, v.Whole())

	_, err = svc.VerifyNow(ctx, core.Actor{UserID: "zhangwei", Platform: "webchat"})
	require.ErrorIs(t, err, core.ErrForbidden)

	store.entries[3].Action = "tampered" // the seal no longer matches
	v, err = svc.VerifyNow(ctx, core.Actor{UserID: "admin", Platform: "webchat"})
	require.NoError(t, err, "a broken chain is a result, not an error")
	require.False(t, v.Whole())
	require.False(t, v.Signed)
	require.Equal(t, "admin", v.By)
	last, _, _ := svc.LastVerification(ctx)
	require.Equal(t, v, last)

	unkeyed := audit.NewService(&memStore{}, nil, clock{now})
	v, err = unkeyed.VerifyNow(ctx, core.Actor{UserID: "admin", Platform: "webchat"})
	require.NoError(t, err)
	require.True(t, v.Whole())
	require.False(t, v.Signed, "nothing to sign with")
	_, err = unkeyed.VerifyNow(ctx, core.Actor{UserID: "zhangwei", Platform: "webchat"})
	require.ErrorIs(t, err, core.ErrForbidden)
}
