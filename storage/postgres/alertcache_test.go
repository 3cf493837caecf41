package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
)

// TestMergeFindsAlertsByFingerprint: merge replaces a stored alert by its
// fingerprint, adds a new one, and reports the changed and new ones, for
// groups of a few alerts and of many.
func TestMergeFindsAlertsByFingerprint(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	mk := func(fp, status string) alert.Alert {
		return alert.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": fp}, StartsAt: at}
	}
	for _, size := range []int{2, 16, 40} {
		var base, posted []alert.Alert
		for i := range size {
			base = append(base, mk(fmt.Sprint("fp", i), "firing"))
		}
		posted = append(posted, mk("fp1", "firing"), mk("fp0", "resolved"), mk("new", "firing"))
		all, changed := merge(base, posted)
		require.Len(t, all, size+1, "size %d", size)
		require.Equal(t, "resolved", all[0].Status)
		require.Equal(t, "firing", all[1].Status)
		require.Equal(t, "new", all[size].Fingerprint)
		require.Equal(t, []alert.Alert{mk("fp0", "resolved"), mk("new", "firing")}, changed, "size %d", size)
		require.Equal(t, "firing", base[0].Status, "base is left as it was")

		// A fingerprint posted twice: the later one wins, both changed.
		all, changed = merge(base, []alert.Alert{mk("twice", "firing"), mk("twice", "resolved"), mk("fp0", "firing")})
		require.Len(t, all, size+1, "size %d", size)
		require.Equal(t, mk("twice", "resolved"), all[size])
		require.Equal(t, []alert.Alert{mk("twice", "firing"), mk("twice", "resolved")}, changed, "size %d", size)
	}
}
