package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// cityWorld has two districts with a unit admin each, the sjsj app owned
// by xc-market, operators in their own ops-center unit (its admin
// opslead) and a sys admin.
func cityWorld(t *testing.T) *fakestore.World {
	t.Helper()
	w := fakestore.NewWorld(t0, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	for _, u := range []org.Unit{{Code: "dongcheng", Path: "/city/dongcheng/", Level: org.LevelDistrict},
		{Code: "dc-edu", Path: "/city/dongcheng/dc-edu/", Level: org.LevelUnit},
		{Code: "xicheng", Path: "/city/xicheng/", Level: org.LevelDistrict},
		{Code: "xc-market", Path: "/city/xicheng/xc-market/", Level: org.LevelUnit},
		{Code: "ops-center", Path: "/city/ops-center/", Level: org.LevelUnit}} {
		w.Tx.Units[u.Code] = u
	}
	w.Tx.AddUser("city", "admin")
	w.Tx.AddUser("ops-center", "zhangsan", "lisi", "opslead")
	w.Tx.AddUser("dc-edu", "zhangwei")
	w.Tx.AddUser("xc-market", "chenjing")
	w.Tx.AddUser("dongcheng", "liqiang")
	w.Tx.AddUser("xicheng", "wangfang")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("zhangsan", org.RoleOperator, "city")
	w.Tx.Grant("lisi", org.RoleOperator, "city")
	w.Tx.Grant("opslead", org.RoleUnitAdmin, "ops-center")
	w.Tx.Grant("zhangwei", org.RoleUnitAdmin, "dc-edu")
	w.Tx.Grant("chenjing", org.RoleUnitAdmin, "xc-market")
	w.Tx.Grant("liqiang", org.RoleDistrictAdmin, "dongcheng")
	w.Tx.Grant("wangfang", org.RoleDistrictAdmin, "xicheng")
	w.Tx.Apps["sjsj"] = org.App{Code: "sjsj", Name: "双随机抽查系统", Owner: "xc-market"}
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "city", Members: []string{"zhangsan", "lisi"}, Every: "day",
		Handover: "09:00", StartDate: t0}
	return w
}

// cardsAt fires the timers due at t0+after and returns who got a card.
func cardsAt(t *testing.T, w *fakestore.World, after time.Duration) ([]string, []incident.Card) {
	t.Helper()
	w.Tx.Reset()
	w.Clock.T = t0.Add(after)
	_, err := w.Fire(context.Background())
	require.NoError(t, err)
	var who []string
	var cards []incident.Card
	for i, s := range w.Tx.Sent("incident.card") {
		who = append(who, s[:len(s)-len("|incident:1#card")])
		cards = append(cards, w.Tx.Payloads("incident.card")[i].(incident.Card))
	}
	return who, cards
}

// TestAlertUnitFromApp: an alert with no route unit takes the owner unit
// of the app in its app label, so the unit-admin step pages that unit's
// admin only (not every unit admin in the city) and the district step
// that district's admin.
func TestAlertUnitFromApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := cityWorld(t)
	labels := map[string]string{"alertname": "Down", "severity": "critical", "level": "1", "app": "sjsj"}
	res, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)
	i, err := w.Tx.Incident(ctx, res.IncidentID, false)
	require.NoError(t, err)
	require.Equal(t, "xc-market", i.Unit, "the app's owner unit")

	who, _ := cardsAt(t, w, 5*time.Minute)
	require.Equal(t, []string{"user:lisi"}, who, "the secondary")
	who, cards := cardsAt(t, w, 10*time.Minute)
	require.Equal(t, []string{"user:chenjing"}, who, "the unit admin step: xc-market's admin only")
	require.Empty(t, cards[0].NoUnit)
	who, _ = cardsAt(t, w, 15*time.Minute)
	require.Equal(t, []string{"user:wangfang", "user:admin"}, who, "the district step: xicheng's admin and the sys admin")
}

// TestAlertWithoutUnit: an alert with neither a route unit nor a known
// app has no unit: its unit and district admin steps go to the
// operators' admins, and the card says why.
func TestAlertWithoutUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := cityWorld(t)
	labels := map[string]string{"alertname": "Down", "level": "1", "app": "unknown"}
	res, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)
	i, err := w.Tx.Incident(ctx, res.IncidentID, false)
	require.NoError(t, err)
	require.Empty(t, i.Unit)

	who, _ := cardsAt(t, w, 5*time.Minute)
	require.Equal(t, []string{"user:lisi"}, who, "the secondary")
	who, cards := cardsAt(t, w, 10*time.Minute)
	require.Equal(t, []string{"user:opslead"}, who, "the operators' admin, not every unit admin")
	require.Equal(t, []string{"opslead"}, cards[0].NoUnit, "the card says the step went to the operators' admins for want of a unit")
	who, _ = cardsAt(t, w, 15*time.Minute)
	require.Equal(t, []string{"user:opslead", "user:admin"}, who)
}
