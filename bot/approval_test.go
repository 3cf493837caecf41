package bot

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
)

// TestChangeNoticesGolden renders what W 8.6 d makes people see, with a
// change's real payload, against testdata/notices/<name>.<lang>.json
// (-update rewrites them): the implementer's card showing the window the
// approver set, and the notice that the change expired unstarted.
func TestChangeNoticesGolden(t *testing.T) {
	t.Parallel()
	card := approval.Card{ID: 12, Kind: approval.KindChange, Title: "数据库扩容", Requester: "sunli", RequesterName: "孙丽",
		Step: 2, Steps: 4, StepName: "implement", Verbs: []string{approval.VerbStart}, Unit: "city", State: approval.StatePending, Count: 1,
		Payload: map[string]string{"target": "sjsj-db", "risk": "medium", "plan": "扩容并迁移", "rollback": "切回旧实例", "emergency": "no",
			"window": "2026-11-25 22:00 ~ 2026-11-26 02:00", "window_approved": "2026-11-25 23:00 ~ 2026-11-26 01:00",
			"window_start": "2026-11-25T15:00:00Z", "window_end": "2026-11-25T17:00:00Z"}}
	expired := card
	expired.State = approval.StateExpired
	for _, tc := range []struct {
		name string
		body core.Payload
	}{
		{"change.card_window", card},
		{"change.expired", approval.WindowMissed{Card: expired, Since: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}},
	} {
		for _, lang := range []string{LangZH, LangEN} {
			b := testBot(lang)
			m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "request:12", To: core.Recipient{User: "sunli"}, Body: tc.body})
			require.NoError(t, err)
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(m))
			path := filepath.Join("testdata", "notices", tc.name+"."+lang+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(buf.String()), 0o644))
				continue
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./bot -run Golden -update")
			require.Equal(t, string(want), buf.String(), "%s in %s differs from %s", tc.name, lang, path)
		}
	}
}
