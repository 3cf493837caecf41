package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
)

func testKey(t *testing.T, b byte) *audit.Key {
	t.Helper()
	k, err := audit.NewKey(bytes.Repeat([]byte{b}, audit.KeySize))
	require.NoError(t, err)
	return k
}

// keyedChain is legacy unkeyed entries, the rekey checkpoint, then keyed
// entries: n entries in all after legacy ones.
func keyedChain(t *testing.T, key *audit.Key, legacy, keyed int) []core.AuditEntry {
	t.Helper()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var out []core.AuditEntry
	var prev *core.AuditEntry
	add := func(e core.AuditEntry) { out = append(out, e); prev = &out[len(out)-1] }
	for i := 0; i < legacy; i++ {
		add(audit.Seal(core.AuditEntry{At: at.Add(time.Duration(len(out)) * time.Minute), Actor: "admin", Platform: "webchat",
			Action: "org.user.add", Entity: "user:l" + string(rune('a'+i))}, prev, nil))
	}
	add(audit.Rekey(at.Add(time.Duration(len(out))*time.Minute), prev, key))
	for i := 0; i < keyed; i++ {
		add(audit.Seal(core.AuditEntry{At: at.Add(time.Duration(len(out)) * time.Minute), Actor: "admin", Platform: "webchat",
			Action: "org.user.add", Entity: "user:k" + string(rune('a'+i))}, prev, key))
	}
	return out
}

func verifyWith(key *audit.Key, cps []audit.Checkpoint, entries []core.AuditEntry) *audit.Break {
	v := audit.Verifier{Key: key, Checkpoints: cps}
	for _, e := range entries {
		if b := v.Next(e); b != nil {
			return b
		}
	}
	headSeq, headHash := int64(0), ""
	if len(entries) > 0 {
		headSeq, headHash = entries[len(entries)-1].Seq, entries[len(entries)-1].Hash
	}
	return v.Finish(headSeq, headHash)
}

func checkpointOf(key *audit.Key, entries []core.AuditEntry, upto int, at time.Time) audit.Checkpoint {
	var anchor core.AuditEntry
	for _, e := range entries {
		if audit.IsRekey(e) {
			anchor = e
			break
		}
	}
	e := entries[upto-1]
	return key.Sign(audit.Checkpoint{Seq: e.Seq, Hash: e.Hash, At: at, AnchorSeq: anchor.Seq, AnchorHash: anchor.Hash})
}

// rechain re-links entries from index i on with the unkeyed hash, as
// someone with the source code but without the key would.
func rechain(entries []core.AuditEntry, i int) {
	for j := i; j < len(entries); j++ {
		if j > 0 {
			entries[j].PrevHash = entries[j-1].Hash
		}
		entries[j].Hash = audit.Hash(entries[j])
	}
}

func TestKeyedChainTamper(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		cps     int // checkpoint after this many entries (0: none)
		mutate  func([]core.AuditEntry) []core.AuditEntry
		wantSeq int64 // 0: whole
		want    string
	}{
		{name: "whole", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry { return e }},
		{name: "rewrite entry 18 and re-chain the rest", mutate: func(e []core.AuditEntry) []core.AuditEntry {
			e[17].Actor = "mallory"
			rechain(e, 17)
			return e
		}, wantSeq: 18, want: "modified or forged"},
		{name: "forged append", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry {
			last := e[len(e)-1]
			f := core.AuditEntry{Seq: last.Seq + 1, At: last.At.Add(time.Minute), Actor: "admin", Platform: "webchat",
				Action: "org.role.grant", Entity: "user:mallory", After: `{"role":"sys_admin"}`, PrevHash: last.Hash}
			f.Hash = audit.Hash(f)
			return append(e, f)
		}, wantSeq: 27, want: "modified or forged"},
		{name: "forged append sealed with another key", mutate: func(e []core.AuditEntry) []core.AuditEntry {
			return append(e, audit.Seal(core.AuditEntry{At: at, Actor: "admin", Action: "org.role.grant", Entity: "user:m"}, &e[len(e)-1], testKey(t, 2)))
		}, wantSeq: 27},
		{name: "truncated with head reset", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry { return nil },
			wantSeq: 1, want: "missing"},
		{name: "tail cut with head reset", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry { return e[:12] },
			wantSeq: 13, want: "missing"},
		{name: "truncated and rebuilt by opsbot", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry {
			return keyedChain(t, key, 0, 3) // a fresh, internally valid chain: its rekey is not the anchor
		}, wantSeq: 1, want: "rebuilt"},
		{name: "legacy part rebuilt into a keyed one", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry {
			return keyedChain(t, key, 0, 30)
		}, wantSeq: 1, want: "rebuilt"},
		{name: "legacy entry changed after the rekey", mutate: func(e []core.AuditEntry) []core.AuditEntry {
			e[2].Actor = "mallory"
			rechain(e, 2)
			return e
		}, wantSeq: 6, want: "forged rekey"},
		{name: "rekey entry removed, legacy chain only", mutate: func(e []core.AuditEntry) []core.AuditEntry { return e[:5] },
			wantSeq: 6, want: "not sealed"},
		{name: "tail cut, head reset, and opsbot writes on", cps: 20, mutate: func(e []core.AuditEntry) []core.AuditEntry {
			e = e[:14:14]
			for i := 0; i < 10; i++ {
				e = append(e, audit.Seal(core.AuditEntry{At: at.Add(time.Duration(i) * time.Hour), Actor: "zhangwei", Action: "org.user.add",
					Entity: "user:new"}, &e[len(e)-1], key))
			}
			return e
		}, wantSeq: 20, want: "replaced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := keyedChain(t, key, 5, 20) // entries 1-5 legacy, 6 rekey, 7-25 keyed
			var cps []audit.Checkpoint
			if tt.cps > 0 {
				cps = append(cps, checkpointOf(key, good, tt.cps, at))
			}
			b := verifyWith(key, cps, tt.mutate(append([]core.AuditEntry(nil), good...)))
			if tt.wantSeq == 0 {
				require.Nil(t, b)
				return
			}
			require.NotNil(t, b)
			require.Equal(t, tt.wantSeq, b.Seq, b.Error())
			require.Contains(t, b.Reason, tt.want)
		})
	}
}

func TestUnkeyedChainStillVerifiesWithoutKey(t *testing.T) {
	t.Parallel()
	require.Nil(t, verify(chain(5), 5, chain(5)[4].Hash))
	// A keyed chain without the key is not passed as whole.
	b := verifyWith(nil, nil, keyedChain(t, testKey(t, 1), 2, 2))
	require.NotNil(t, b)
	require.Equal(t, int64(3), b.Seq)
}

func TestCheckpointsFile(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	good := keyedChain(t, key, 0, 5)
	path := filepath.Join(t.TempDir(), "cp.jsonl")
	sink := audit.FileSink{Path: path}
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	require.NoError(t, sink.Publish(context.Background(), checkpointOf(key, good, 3, at)))
	require.NoError(t, sink.Publish(context.Background(), checkpointOf(key, good, 6, at.Add(time.Hour))))
	cps, err := audit.ReadCheckpoints(fileReader(t, path), key)
	require.NoError(t, err)
	require.Len(t, cps, 2)
	require.Nil(t, verifyWith(key, cps, good))

	// A checkpoint with a changed seq, or from another key, is refused.
	text := readFile(t, path)
	_, err = audit.ReadCheckpoints(strings.NewReader(strings.Replace(text, `"seq":3`, `"seq":2`, 1)), key)
	require.ErrorIs(t, err, audit.ErrBadCheckpoint)
	require.ErrorContains(t, err, "line 1")
	_, err = audit.ReadCheckpoints(strings.NewReader(text), testKey(t, 2))
	require.ErrorIs(t, err, audit.ErrBadCheckpoint)
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	text, err := audit.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	require.NoError(t, err)
	k, err := audit.ParseKey(text)
	require.NoError(t, err)
	require.Len(t, k.ID(), 16)
	_, err = audit.ParseKey([]byte("abcd"))
	require.ErrorIs(t, err, audit.ErrBadKey)
	_, err = audit.ParseKey([]byte("not hex at all, not hex at all, not hex at all, not hex at all!!"))
	require.ErrorIs(t, err, audit.ErrBadKey)
}

func fileReader(t *testing.T, path string) *strings.Reader {
	t.Helper()
	return strings.NewReader(readFile(t, path))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
