package alert_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// TestWhoMaySilence (issue 21 item 9): the on-call of the incident's
// rotation, operators, sys admins and admins covering its unit may
// silence an alert incident; a member, an admin of another unit and
// opsbot itself may not. A silence is audited with its matchers.
func TestWhoMaySilence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := alert.DefaultConfig()
	cfg.Routes = []alert.Route{{Match: map[string]string{"alertname": "Down"}, Rotation: "ops", Unit: "edu"}}
	w := fakestore.NewWorld(t0, cst, incident.DefaultPolicy(), cfg)
	w.Tx.Units["edu"] = org.Unit{Code: "edu", Path: "/city/edu/"}
	w.Tx.Units["health"] = org.Unit{Code: "health", Path: "/city/health/"}
	w.Tx.AddUser("city", "oncall", "oncall2", "member", "op", "admin")
	w.Tx.AddUser("edu", "eduadmin")
	w.Tx.AddUser("health", "healthadmin")
	w.Tx.Grant("op", org.RoleOperator, "city")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("eduadmin", org.RoleUnitAdmin, "edu")
	w.Tx.Grant("healthadmin", org.RoleUnitAdmin, "health")
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "city", Members: []string{"oncall", "oncall2"}, Every: "day",
		Handover: "09:00", StartDate: t0}
	labels := map[string]string{"alertname": "Down", "severity": "critical", "app": "portal"}
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)

	for _, c := range []struct {
		who string
		ok  bool
	}{
		{"oncall", true}, {"op", true}, {"admin", true}, {"eduadmin", true},
		{"member", false}, {"healthadmin", false}, {core.SystemUser, false},
	} {
		tg, err := w.Alerts.SilenceTarget(ctx, core.Actor{UserID: c.who}, 1)
		if !c.ok {
			require.ErrorIs(t, err, core.ErrForbidden, c.who)
			var ce *core.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "not_silencer", ce.Code)
			continue
		}
		require.NoError(t, err, c.who)
		require.Equal(t, "Down", tg.Labels["alertname"])
	}

	w.Tx.Reset()
	until := t0.Add(4 * time.Hour)
	require.NoError(t, w.Alerts.RecordSilence(ctx, core.Actor{UserID: "oncall", Name: "值班"}, 1, "sil-1", alert.Matchers(labels), until))
	require.Len(t, w.Tx.Audits, 1)
	a := w.Tx.Audits[0]
	require.Equal(t, "alert.silence", a.Action)
	require.Equal(t, "incident:1", a.Entity)
	var rec alert.SilenceRecord
	require.NoError(t, json.Unmarshal([]byte(a.After), &rec))
	require.Equal(t, "sil-1", rec.SilenceID)
	require.Equal(t, []alert.Matcher{{Name: "alertname", Value: "Down"}, {Name: "app", Value: "portal"}, {Name: "severity", Value: "critical"}}, rec.Matchers)
	require.Contains(t, w.Tx.EventKinds(1), "silence")
}
