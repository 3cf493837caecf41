package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// TestAuthorityOverIncidents (W 8.5 a): regrading, acknowledging,
// assigning, mitigating, resolving and closing (review) an incident are
// for its owner, the people on duty for it (primary and secondary of its
// rotation), operators and the admins covering its unit; any other member
// is refused with who may, and nothing changes. Declaring, adding updates
// and escalating by hand stay open to every member.
func TestAuthorityOverIncidents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	w.Tx.Units["east"] = org.Unit{Code: "east", Path: "/city/east/", Level: org.LevelDistrict}
	w.Tx.Units["east-edu"] = org.Unit{Code: "east-edu", Path: "/city/east/east-edu/", Level: org.LevelUnit}
	w.Tx.Units["west"] = org.Unit{Code: "west", Path: "/city/west/", Level: org.LevelDistrict}
	w.Tx.AddUser("east-edu", "member", "eduadmin", "eastadmin")
	w.Tx.AddUser("west", "westadmin")
	w.Tx.Grant("eduadmin", org.RoleUnitAdmin, "east-edu")
	w.Tx.Grant("eastadmin", org.RoleDistrictAdmin, "east")
	w.Tx.Grant("westadmin", org.RoleDistrictAdmin, "west")
	as := func(id string) core.Actor { return core.Actor{UserID: id} }

	i, err := w.Incidents.Declare(ctx, as("member"), "exam site down", 1, "", "east-edu")
	require.NoError(t, err, "any member declares")
	require.Equal(t, "zhangsan", i.Owner)
	id := i.ID

	// A member (even the declarer), a rotation member off duty and an
	// admin of another district are refused every restricted verb.
	refused := map[string]func(a core.Actor) (incident.Incident, error){
		"downgrade": func(a core.Actor) (incident.Incident, error) { return w.Incidents.SetLevel(ctx, a, id, 4) },
		"resolve":   func(a core.Actor) (incident.Incident, error) { return w.Incidents.Resolve(ctx, a, id, "fixed") },
		"ack":       func(a core.Actor) (incident.Incident, error) { return w.Incidents.Ack(ctx, a, id) },
		"assign":    func(a core.Actor) (incident.Incident, error) { return w.Incidents.Assign(ctx, a, id, "member") },
		"mitigate":  func(a core.Actor) (incident.Incident, error) { return w.Incidents.Mitigate(ctx, a, id, "x") },
	}
	for _, who := range []string{"member", "wangwu", "westadmin", "reporter"} {
		for verb, do := range refused {
			w.Tx.Reset()
			_, err := do(as(who))
			require.Equal(t, "incident_not_authorized", code(err), "%s may not %s", who, verb)
			var e *core.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, "zhangsan", e.Args["owner"], "the refusal names the owner")
			require.Equal(t, "zhangsan、lisi", e.Args["on_duty"], "and who is on duty")
			require.Equal(t, "east-edu", e.Args["unit"], "and whose admins")
			require.Empty(t, w.Tx.Audits, "%s %s: nothing recorded", who, verb)
		}
	}
	got, err := w.Tx.Incident(ctx, id, false)
	require.NoError(t, err)
	require.Equal(t, 1, got.Level)
	require.Equal(t, incident.StateDeclared, got.State)

	// Open to every member: an update and escalating by hand.
	_, err = w.Incidents.Update(ctx, as("member"), id, "parents cannot log in")
	require.NoError(t, err)
	_, err = w.Incidents.Escalate(ctx, as("member"), id)
	require.NoError(t, err)

	// Allowed: the secondary on duty, an operator, the unit's admin, the
	// district admin above it; the sys admin; the owner resolves.
	_, err = w.Incidents.SetLevel(ctx, as("lisi"), id, 2)
	require.NoError(t, err)
	_, err = w.Incidents.SetLevel(ctx, as("op"), id, 1)
	require.NoError(t, err)
	_, err = w.Incidents.SetLevel(ctx, as("eduadmin"), id, 2)
	require.NoError(t, err)
	_, err = w.Incidents.SetLevel(ctx, as("eastadmin"), id, 1)
	require.NoError(t, err)
	_, err = w.Incidents.Mitigate(ctx, as("admin"), id, "failover")
	require.NoError(t, err)
	got, err = w.Incidents.Resolve(ctx, as("zhangsan"), id, "restarted")
	require.NoError(t, err, "the owner resolves")
	require.Equal(t, incident.StateResolved, got.State)

	// Closing (the review) is restricted too.
	_, err = w.Incidents.Review(ctx, as("member"), id, "cert", "renew@zhangsan@2026-12-01")
	require.Equal(t, "incident_not_authorized", code(err))
	got, err = w.Incidents.Review(ctx, as("zhangsan"), id, "cert", "renew@zhangsan@2026-12-01")
	require.NoError(t, err)
	require.Equal(t, incident.StateClosed, got.State)
}

// TestAuthorityWithoutUnit: an incident with no unit is covered by no
// unit or district admin; its owner, on-duty people, operators and sys
// admins keep authority.
func TestAuthorityWithoutUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	i, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "dns", 2, "", "")
	require.NoError(t, err)
	_, err = w.Incidents.SetLevel(ctx, core.Actor{UserID: "ua"}, i.ID, 3)
	require.Equal(t, "incident_not_authorized", code(err), "a unit admin covers no unit-less incident")
	_, err = w.Incidents.SetLevel(ctx, core.Actor{UserID: "admin"}, i.ID, 3)
	require.NoError(t, err)
	_, err = w.Incidents.Resolve(ctx, core.Actor{UserID: "op"}, i.ID, "ok")
	require.NoError(t, err)
}
