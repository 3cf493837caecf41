package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// TestSlowResponsePagesAccessParty (M 7.3.3 c): an alert marked as a slow
// response — by its alertname or by a kind label, as configured — pages
// the app's access party and the operators like the non-200 rule (joint
// troubleshooting, once), without drafting an outage or recovery notice:
// the app answers, only slowly. An alert matching neither is not joint.
func TestSlowResponsePagesAccessParty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		labels map[string]string
		joint  bool
	}{
		{"alertname SlowResponse", map[string]string{"alertname": "SlowResponse", "app": "portal"}, true},
		{"alertname HighLatency", map[string]string{"alertname": "HighLatency", "app": "portal"}, true},
		{"kind label slow_response", map[string]string{"alertname": "AppSlowResponse", "app": "portal", "kind": "slow_response"}, true},
		{"alertname only containing the word", map[string]string{"alertname": "NotSlowResponseAtAll", "app": "portal"}, false},
		{"another alert", map[string]string{"alertname": "DiskFull", "app": "portal"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := world(t)
			_, err := w.Alerts.Ingest(ctx, group("firing", tc.labels, firing("a", t0, tc.labels)))
			require.NoError(t, err)
			w.Tx.Reset()
			w.Clock.Add(time.Second)
			_, err = w.Fire(ctx)
			require.NoError(t, err)
			if !tc.joint {
				require.Empty(t, w.Tx.Sent("incident.card"))
				require.Empty(t, w.Tx.PendingTimers("incident:1", alert.TimerNon200))
				return
			}
			require.Equal(t, []string{"user:portal-team|incident:1#card", "user:op|incident:1#card"}, w.Tx.Sent("incident.card"))
			require.Empty(t, w.Tx.Sent("incident.notice_draft"), "a slow app is not an outage")
			require.True(t, w.Tx.Groups[group("", nil).GroupKey].Joint)
			i, err := w.Tx.Incident(ctx, 1, false)
			require.NoError(t, err)
			require.Contains(t, i.Stakeholders, "portal-team")
			require.Contains(t, w.Tx.EventKinds(1), "joint")

			// Posted again, nobody is paged twice; resolved, no recovery draft.
			w.Tx.Reset()
			w.Clock.Add(time.Minute)
			_, err = w.Alerts.Ingest(ctx, group("firing", tc.labels, firing("a", t0, tc.labels)))
			require.NoError(t, err)
			_, err = w.Fire(ctx)
			require.NoError(t, err)
			require.Empty(t, w.Tx.Sent("incident.card"))
			res, err := w.Alerts.Ingest(ctx, group("resolved", tc.labels, resolved("a")))
			require.NoError(t, err)
			require.True(t, res.Resolved)
			require.Empty(t, w.Tx.Sent("incident.notice_draft"))
		})
	}
}

// TestSlowResponseAfter: with slow_after set, a slow alert pages the
// access party only once it has been slow that long.
func TestSlowResponseAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := alert.DefaultConfig()
	cfg.SlowAfter = 5 * time.Minute
	w := fakestore.NewWorld(t0, cst, incident.DefaultPolicy(), cfg)
	w.Tx.AddUser("city", "zhangsan", "op", "portal-team")
	w.Tx.Grant("op", org.RoleOperator, "city")
	w.Tx.Grant("portal-team", org.RoleAccessParty, "portal")
	w.Tx.Apps["portal"] = org.App{Code: "portal", Name: "门户网站"}
	labels := map[string]string{"alertname": "HighLatency", "app": "portal"}
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)
	w.Tx.Reset()
	w.Clock.T = t0.Add(5*time.Minute - time.Second)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, w.Tx.Sent("incident.card"))
	w.Clock.T = t0.Add(5 * time.Minute)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"user:portal-team|incident:1#card", "user:op|incident:1#card"}, w.Tx.Sent("incident.card"))
}
