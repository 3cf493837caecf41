package audit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
)

func chain(n int) []core.AuditEntry {
	var out []core.AuditEntry
	var prev *core.AuditEntry
	at := time.Date(2026, 11, 24, 9, 0, 0, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		e := audit.Seal(core.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), Actor: "admin", Platform: "webchat",
			Action: "org.user.add", Entity: "user:u" + string(rune('a'+i)), After: `{"id":"x"}`}, prev, nil)
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

func verify(entries []core.AuditEntry, headSeq int64, headHash string) *audit.Break {
	var v audit.Verifier
	for _, e := range entries {
		if b := v.Next(e); b != nil {
			return b
		}
	}
	return v.Finish(headSeq, headHash)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good := chain(5)
	head := good[4]
	tests := []struct {
		name    string
		mutate  func([]core.AuditEntry) []core.AuditEntry
		headSeq int64
		wantSeq int64 // 0: chain whole
	}{
		{name: "whole chain", mutate: func(e []core.AuditEntry) []core.AuditEntry { return e }, headSeq: 5},
		{name: "modified actor", mutate: func(e []core.AuditEntry) []core.AuditEntry { e[2].Actor = "mallory"; return e }, headSeq: 5, wantSeq: 3},
		{name: "modified after state", mutate: func(e []core.AuditEntry) []core.AuditEntry { e[1].After = `{"id":"y"}`; return e }, headSeq: 5, wantSeq: 2},
		{name: "modified time", mutate: func(e []core.AuditEntry) []core.AuditEntry { e[0].At = e[0].At.Add(time.Second); return e }, headSeq: 5, wantSeq: 1},
		{name: "deleted middle", mutate: func(e []core.AuditEntry) []core.AuditEntry { return append(e[:2:2], e[3:]...) }, headSeq: 5, wantSeq: 3},
		{name: "deleted tail", mutate: func(e []core.AuditEntry) []core.AuditEntry { return e[:4] }, headSeq: 5, wantSeq: 5},
		{name: "rehashed after edit is caught by the next link", mutate: func(e []core.AuditEntry) []core.AuditEntry {
			e[1].Actor = "mallory"
			e[1].Hash = audit.Hash(e[1])
			return e
		}, headSeq: 5, wantSeq: 3},
		{name: "moving text between fields", mutate: func(e []core.AuditEntry) []core.AuditEntry {
			e[0].Actor, e[0].Platform = "adminw", "ebchat"
			return e
		}, headSeq: 5, wantSeq: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := tt.mutate(append([]core.AuditEntry(nil), good...))
			b := verify(entries, tt.headSeq, head.Hash)
			if tt.wantSeq == 0 {
				require.Nil(t, b)
				return
			}
			require.NotNil(t, b)
			require.Equal(t, tt.wantSeq, b.Seq, b.Error())
		})
	}
}

func TestEmptyChain(t *testing.T) {
	t.Parallel()
	require.Nil(t, verify(nil, 0, ""))
	require.NotNil(t, verify(nil, 3, "abc"))
}

func TestSealTruncatesToMicroseconds(t *testing.T) {
	t.Parallel()
	e := chain(1)[0]
	require.Equal(t, 123456000, e.At.Nanosecond())
	require.Equal(t, audit.Genesis, e.PrevHash)
	require.Equal(t, int64(1), e.Seq)
}
