package bot

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
)

// TestAuditCheckpointSignedGolden: the signed variant of the
// audit.checkpoint notice (the generic golden test renders the broken one),
// in both languages, against testdata/notices/audit.checkpoint.signed.<lang>.json.
func TestAuditCheckpointSignedGolden(t *testing.T) {
	t.Parallel()
	p := audit.Checkpointed{Seq: 1234, Hash: "9f2c", At: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		KeyID: "a1b2c3d4e5f60718", Sig: "5e1f", By: core.SystemUser}
	for _, lang := range []string{LangZH, LangEN} {
		m, err := testBot(lang).RenderNotice(context.Background(), core.Notice{Ref: audit.ChainEntity, To: core.Recipient{User: "admin"}, Body: p})
		require.NoError(t, err)
		got, err := json.MarshalIndent(m, "", "  ")
		require.NoError(t, err)
		path := filepath.Join("testdata", "notices", "audit.checkpoint.signed."+lang+".json")
		if *update {
			require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "go test ./bot -run AuditCheckpointSignedGolden -update")
		require.Equal(t, string(want), string(got)+"\n")
	}
}
