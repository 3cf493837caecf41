package org_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres/pgtest"
)

// wecomContacts is what the WeCom adapter reads for the tests below:
// departments out of order, a member in two departments, a userid that is
// no org id, one who left.
func wecomContacts() org.Contacts {
	return org.Contacts{
		Departments: []org.ContactDepartment{
			{ID: 1, Name: "某市政务", ParentID: 0},
			{ID: 3, Name: "运维部", ParentID: 2},
			{ID: 2, Name: "大数据中心", ParentID: 1},
			{ID: 4, Name: "", ParentID: 1},
		},
		Members: []org.ContactMember{
			{ExternalID: "Boss", Name: "市领导", MainDepartment: 1, Active: true},
			{ExternalID: "WangWu01", Name: "王五", MainDepartment: 2, Active: true},
			{ExternalID: "ZhangSan", Name: "张三", MainDepartment: 3, Active: true},
			{ExternalID: "gone", Name: "离职", MainDepartment: 2},
			{ExternalID: "lisi", Name: "李四", MainDepartment: 2, Active: true},
			{ExternalID: "张三丰", Name: "张三丰", MainDepartment: 2, Active: true},
		},
	}
}

// fixedContacts is a ContactSource that returns c.
type fixedContacts org.Contacts

func (c fixedContacts) Fetch(context.Context) (org.Contacts, error) { return org.Contacts(c), nil }

// syncSetup returns an org with only its root unit and admin, who acts on WeCom.
func syncSetup(t *testing.T) (context.Context, *org.Service, core.Actor) {
	t.Helper()
	ctx := context.Background()
	svc := org.NewService(pgtest.New(t).Org(), core.SystemClock{})
	_, err := svc.Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	return ctx, svc, core.Actor{UserID: "admin", Name: "管理员", Platform: core.PlatformWeCom}
}

func TestContactsSync(t *testing.T) {
	t.Parallel()
	ctx, svc, admin := syncSetup(t)
	_, err := svc.AddUnit(ctx, admin, "dsj", "大数据中心", "city", org.LevelUnit)
	require.NoError(t, err)
	for _, u := range [][3]string{{"zhangsan", "张三", "city"}, {"wangwu", "王五", "city"}, {"olduser", "老用户", "dsj"}} {
		_, err = svc.AddUser(ctx, admin, u[0], u[1], u[2])
		require.NoError(t, err)
	}
	require.NoError(t, svc.LinkIdentity(ctx, admin, "wangwu", core.PlatformWeCom, "WangWu01"))
	contacts := wecomContacts()
	opts := org.SyncOptions{Platform: core.PlatformWeCom}

	snap, err := org.Snapshot(ctx, svc, admin, core.PlatformWeCom)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"WangWu01": "wangwu"}, snap.Links)

	plan, err := org.DiffContacts(contacts, snap, opts)
	require.NoError(t, err)
	require.Equal(t, []org.UnitAdd{
		{Code: "wecom-4", Name: "wecom-4", Parent: "city", Level: org.LevelUnit, DepartmentID: 4},
		{Code: "wecom-3", Name: "运维部", Parent: "dsj", Level: org.LevelDepartment, DepartmentID: 3},
	}, plan.AddUnits, "大数据中心 maps to dsj by name")
	require.Equal(t, []org.UserAdd{
		{ID: "boss", Name: "市领导", Unit: "city", ExternalID: "Boss"},
		{ID: "lisi", Name: "李四", Unit: "dsj", ExternalID: "lisi"},
	}, plan.AddUsers)
	require.Equal(t, []org.UserMove{
		{ID: "wangwu", Name: "王五", From: "city", To: "dsj"},
		{ID: "zhangsan", Name: "张三", From: "city", To: "wecom-3"},
	}, plan.MoveUsers)
	require.Equal(t, []org.SyncLink{
		{UserID: "boss", ExternalID: "Boss"}, {UserID: "zhangsan", ExternalID: "ZhangSan"}, {UserID: "lisi", ExternalID: "lisi"},
	}, plan.Links)
	require.Len(t, plan.Skipped, 1)
	require.Equal(t, org.SyncSkip{What: "member 张三丰", Reason: org.SkipInvalidUserID, Detail: "张三丰"}, plan.Skipped[0])
	require.Equal(t, []string{"admin", "olduser"}, plan.NotInPlatform)

	res := org.ApplySync(ctx, svc, admin, plan)
	require.Empty(t, res.Failed)
	require.Equal(t, plan.Changes(), res.Done)

	actor, err := svc.Resolve(ctx, core.PlatformWeCom, "ZhangSan")
	require.NoError(t, err, "synced members can use the bot")
	require.Equal(t, "zhangsan", actor.UserID)

	snap, err = org.Snapshot(ctx, svc, admin, core.PlatformWeCom)
	require.NoError(t, err)
	again, err := org.DiffContacts(contacts, snap, opts)
	require.NoError(t, err)
	require.Zero(t, again.Changes(), "a second sync changes nothing")

	// A renamed department follows.
	contacts.Departments[1].Name = "运维保障部"
	again, err = org.DiffContacts(contacts, snap, opts)
	require.NoError(t, err)
	require.Equal(t, []org.UnitRename{{Code: "wecom-3", From: "运维部", To: "运维保障部"}}, again.RenameUnits)
}

func TestDiffContactsEdgeCases(t *testing.T) {
	t.Parallel()
	root := org.Unit{Code: "city", Name: "市", Level: org.LevelCity, Path: "/city/"}
	tests := []struct {
		name    string
		depts   []org.ContactDepartment
		members []org.ContactMember
		snap    org.SyncSnapshot
		check   func(t *testing.T, p org.SyncPlan)
		wantErr bool
	}{
		{name: "no org root", snap: org.SyncSnapshot{}, wantErr: true},
		{
			name:  "visible range below the corp root",
			depts: []org.ContactDepartment{{ID: 8, Name: "信息科", ParentID: 5}, {ID: 9, Name: "机房", ParentID: 8}},
			snap:  org.SyncSnapshot{Units: []org.Unit{root}},
			check: func(t *testing.T, p org.SyncPlan) {
				require.Equal(t, []org.UnitAdd{
					{Code: "wecom-8", Name: "信息科", Parent: "city", Level: org.LevelDistrict, DepartmentID: 8},
					{Code: "wecom-9", Name: "机房", Parent: "wecom-8", Level: org.LevelUnit, DepartmentID: 9},
				}, p.AddUnits)
			},
		},
		{
			name:    "cycle does not hang",
			depts:   []org.ContactDepartment{{ID: 2, Name: "a", ParentID: 3}, {ID: 3, Name: "b", ParentID: 2}},
			members: []org.ContactMember{{ExternalID: "x", MainDepartment: 3, Active: true}},
			snap:    org.SyncSnapshot{Units: []org.Unit{root}},
			check: func(t *testing.T, p org.SyncPlan) {
				require.Len(t, p.AddUnits, 2)
				require.Equal(t, "city", p.AddUnits[0].Parent, "the cycle is cut at one department")
				require.Len(t, p.AddUsers, 1)
			},
		},
		{
			name:    "org user linked elsewhere",
			depts:   []org.ContactDepartment{{ID: 1, Name: "root"}},
			members: []org.ContactMember{{ExternalID: "Li", MainDepartment: 1, Active: true}},
			snap:    org.SyncSnapshot{Units: []org.Unit{root}, Users: []org.User{{ID: "li", Unit: "city"}}, Links: map[string]string{"li-old": "li"}},
			check: func(t *testing.T, p org.SyncPlan) {
				require.Zero(t, p.Changes())
				require.Len(t, p.Skipped, 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := org.SyncOptions{Platform: core.PlatformWeCom, Levels: []org.Level{org.LevelDistrict, org.LevelUnit, org.LevelDepartment}}
			p, err := org.DiffContacts(org.Contacts{Departments: tt.depts, Members: tt.members}, tt.snap, opts)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

func TestSyncerNeedsSysAdmin(t *testing.T) {
	t.Parallel()
	ctx, svc, admin := syncSetup(t)
	_, err := svc.AddUser(ctx, admin, "clerk", "办事员", "city")
	require.NoError(t, err)
	s := org.NewSyncer(core.PlatformWeCom, fixedContacts{
		Departments: []org.ContactDepartment{{ID: 1, Name: "root"}, {ID: 2, Name: "信息中心", ParentID: 1}},
		Members:     []org.ContactMember{{ExternalID: "clerk", Name: "办事员", MainDepartment: 2, Active: true}},
	}, svc, org.SyncOptions{})

	_, err = s.Plan(ctx, core.Actor{UserID: "clerk", Name: "办事员", Platform: core.PlatformWeCom})
	require.ErrorIs(t, err, core.ErrForbidden)

	plan, res, err := s.Apply(ctx, admin)
	require.NoError(t, err)
	require.Equal(t, 3, plan.Changes(), "add unit, move clerk, link clerk")
	require.Empty(t, res.Failed)
	plan, err = s.Plan(ctx, admin)
	require.NoError(t, err)
	require.Zero(t, plan.Changes())
}
