package org_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/org/orgtest"
)

// viewCity is a city with two districts, a unit with a department in
// one, and a person holding each role.
func viewCity() *orgtest.Org {
	o := orgtest.New()
	o.AddUnit("city", org.LevelCity, "")
	o.AddUnit("dongcheng", org.LevelDistrict, "city")
	o.AddUnit("xicheng", org.LevelDistrict, "city")
	o.AddUnit("dc-edu", org.LevelUnit, "dongcheng")
	o.AddUnit("dc-edu-it", org.LevelDepartment, "dc-edu")
	o.AddUnit("xc-health", org.LevelUnit, "xicheng")
	o.AddUser("admin", "city", org.RoleSysAdmin, "city")
	o.AddUser("ops", "city", org.RoleOperator, "city")
	o.AddUser("liqiang", "dongcheng", org.RoleDistrictAdmin, "dongcheng")
	o.AddUser("edu-admin", "dc-edu", org.RoleUnitAdmin, "dc-edu")
	o.AddUser("edu-contact", "dc-edu", org.RoleUnitContact, "dc-edu")
	o.AddUser("party", "dc-edu", org.RoleAccessParty, "some-app")
	o.AddUser("member", "dc-edu-it", "", "")
	o.AddUser("both", "dc-edu", org.RoleUnitAdmin, "dc-edu")
	o.Grants = append(o.Grants, org.Grant{UserID: "both", Role: org.RoleUnitAdmin, Scope: "xc-health"})
	o.AddUser("gone", "dc-edu", org.RoleDistrictAdmin, "dongcheng")
	g := o.Users["gone"]
	g.Removed = true
	o.Users["gone"] = g
	return o
}

// TestViewOf: each role's view is what the scope rule says, derived from
// the same grants as the permission checks.
func TestViewOf(t *testing.T) {
	t.Parallel()
	o := viewCity()
	all := []string{"city", "dongcheng", "dc-edu", "dc-edu-it", "xicheng", "xc-health"}
	for _, tt := range []struct {
		name, user string
		basis      string
		all        bool
		units      []string
		own        string
	}{
		{name: "sys admin: the city", user: "admin", basis: org.ViewCity, all: true, units: all},
		{name: "operator: city operations", user: "ops", basis: org.ViewOperations, all: true, units: all},
		{name: "district admin: the district subtree", user: "liqiang", basis: org.ViewUnits, units: []string{"dongcheng", "dc-edu", "dc-edu-it"}},
		{name: "unit admin: the unit and its departments", user: "edu-admin", basis: org.ViewUnits, units: []string{"dc-edu", "dc-edu-it"}},
		{name: "unit contact: the unit", user: "edu-contact", basis: org.ViewUnits, units: []string{"dc-edu", "dc-edu-it"}},
		{name: "two units: both subtrees", user: "both", basis: org.ViewUnits, units: []string{"dc-edu", "dc-edu-it", "xc-health"}},
		{name: "access party: own items", user: "party", basis: org.ViewOwn, own: "party"},
		{name: "member: own items", user: "member", basis: org.ViewOwn, own: "member"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := org.ViewOf(context.Background(), o, core.Actor{UserID: tt.user})
			require.NoError(t, err)
			require.Equal(t, tt.basis, v.Basis)
			require.Equal(t, tt.all, v.All)
			require.Equal(t, tt.own, v.Own)
			require.ElementsMatch(t, tt.units, v.Units)
			require.Len(t, v.Tree, len(v.Units))
		})
	}
	v, err := org.ViewOf(context.Background(), o, core.SystemActor())
	require.NoError(t, err)
	require.True(t, v.All)
	_, err = org.ViewOf(context.Background(), o, core.Actor{UserID: "gone"})
	require.ErrorIs(t, err, core.ErrForbidden)
	_, err = org.ViewOf(context.Background(), o, core.Actor{UserID: "nobody"})
	require.ErrorIs(t, err, core.ErrForbidden)
}

// TestViewCoversAndNarrow: Covers and Keeps follow the view; Narrow cuts
// it to a unit's subtree inside it and refuses any unit outside it with
// core.Forbidden "outside_view".
func TestViewCoversAndNarrow(t *testing.T) {
	t.Parallel()
	o := viewCity()
	ctx := context.Background()
	district, err := org.ViewOf(ctx, o, core.Actor{UserID: "liqiang"})
	require.NoError(t, err)
	require.True(t, district.Covers("dc-edu-it"))
	require.False(t, district.Covers("xc-health"))
	require.False(t, district.Covers(""), "an incident of no unit is the city's")
	require.True(t, district.Keeps("dc-edu"))
	require.False(t, district.Keeps("xc-health", "liqiang"), "a district view keeps by unit, not by person")
	require.True(t, district.Reaches("city"), "the city's rotation covers the district")
	require.True(t, district.Reaches("dc-edu"))
	require.False(t, district.Reaches("xicheng"))

	same, err := district.Narrow("")
	require.NoError(t, err)
	require.Equal(t, district, same)
	edu, err := district.Narrow("dc-edu")
	require.NoError(t, err)
	require.Equal(t, []string{"dc-edu", "dc-edu-it"}, edu.Units)
	require.False(t, edu.Covers("dongcheng"))
	_, err = district.Narrow("xc-health")
	var ce *core.Error
	require.True(t, errors.As(err, &ce))
	require.ErrorIs(t, err, core.ErrForbidden)
	require.Equal(t, "outside_view", ce.Code)
	_, err = edu.Narrow("dongcheng")
	require.ErrorIs(t, err, core.ErrForbidden, "a narrowed view narrows no wider")

	city, err := org.ViewOf(ctx, o, core.Actor{UserID: "ops"})
	require.NoError(t, err)
	require.True(t, city.Covers(""))
	west, err := city.Narrow("xicheng")
	require.NoError(t, err)
	require.False(t, west.All)
	require.Equal(t, []string{"xicheng", "xc-health"}, west.Units)
	_, err = city.Narrow("atlantis")
	require.ErrorIs(t, err, core.ErrNotFound)

	own, err := org.ViewOf(ctx, o, core.Actor{UserID: "member"})
	require.NoError(t, err)
	require.True(t, own.Keeps("xc-health", "someone", "member"))
	require.False(t, own.Keeps("dc-edu-it", "someone"), "a member sees their own items only, even in their unit")
	_, err = own.Narrow("dc-edu-it")
	require.ErrorIs(t, err, core.ErrForbidden)
}

// TestViewCheck: Check refuses what Keeps does not keep, saying why.
func TestViewCheck(t *testing.T) {
	t.Parallel()
	o := viewCity()
	ctx := context.Background()
	district, err := org.ViewOf(ctx, o, core.Actor{UserID: "liqiang"})
	require.NoError(t, err)
	require.NoError(t, district.Check("dc-edu", "someone"))
	var ce *core.Error
	require.True(t, errors.As(district.Check("xc-health"), &ce))
	require.Equal(t, "outside_view", ce.Code)
	own, err := org.ViewOf(ctx, o, core.Actor{UserID: "member"})
	require.NoError(t, err)
	require.NoError(t, own.Check("xc-health", "member"))
	require.True(t, errors.As(own.Check("dc-edu-it", "someone"), &ce))
	require.Equal(t, "outside_view_own", ce.Code)
}
