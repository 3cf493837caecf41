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
// groups of a few alerts and of many: a stored alert whose status or end
// alone changed as a status change, any other change or a new alert as
// an alert to write whole, each in the merged order. A fingerprint posted
// twice is written once, as posted last.
func TestMergeFindsAlertsByFingerprint(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	mk := func(fp, status string) alert.Alert {
		return alert.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": fp}, StartsAt: at}
	}
	ended := func(a alert.Alert) alert.Alert { a.EndsAt = at.Add(time.Minute); return a }
	annotated := func(a alert.Alert) alert.Alert { a.Annotations = map[string]string{"summary": "97%"}; return a }
	for _, size := range []int{3, 16, 40} {
		var base []alert.Alert
		for i := range size {
			base = append(base, mk(fmt.Sprint("fp", i), "firing"))
		}
		posted := []alert.Alert{mk("fp1", "firing"), mk("fp0", "resolved"), mk("new", "firing"), annotated(mk("fp2", "firing"))}
		all, changed := merge(base, posted)
		require.Len(t, all, size+1, "size %d", size)
		require.Equal(t, "resolved", all[0].Status)
		require.Equal(t, "firing", all[1].Status)
		require.Equal(t, "97%", all[2].Annotations["summary"])
		require.Equal(t, "new", all[size].Fingerprint)
		require.Equal(t, changes{whole: []alert.Alert{annotated(mk("fp2", "firing")), mk("new", "firing")},
			status: []alert.Alert{mk("fp0", "resolved")}}, changed, "size %d", size)
		require.Equal(t, "firing", base[0].Status, "base is left as it was")
		require.Nil(t, base[2].Annotations, "base is left as it was")

		// An end alone is a status change; an end with a new label is not.
		relabelled := ended(mk("fp1", "resolved"))
		relabelled.Labels = map[string]string{"alertname": "fp1", "severity": "critical"}
		_, changed = merge(base, []alert.Alert{ended(mk("fp0", "firing")), relabelled})
		require.Equal(t, changes{whole: []alert.Alert{relabelled}, status: []alert.Alert{ended(mk("fp0", "firing"))}}, changed, "size %d", size)

		// A fingerprint posted twice: the later one wins and is written
		// once, as compared with what is stored (a new alert whole, a
		// stored one by what changed, not at all when back as stored).
		all, changed = merge(base, []alert.Alert{mk("twice", "firing"), mk("twice", "resolved"), mk("fp0", "resolved"),
			annotated(mk("fp1", "firing")), mk("fp1", "resolved"), mk("fp0", "firing")})
		require.Len(t, all, size+1, "size %d", size)
		require.Equal(t, mk("twice", "resolved"), all[size])
		require.Equal(t, mk("fp0", "firing"), all[0])
		require.Equal(t, changes{whole: []alert.Alert{mk("twice", "resolved")}, status: []alert.Alert{mk("fp1", "resolved")}},
			changed, "size %d", size)
	}
}
