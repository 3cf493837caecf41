package wecom

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
)

func TestContactsSync(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	svc := org.NewService(b.store.Org(), core.SystemClock{})
	_, err := svc.Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	admin := core.Actor{UserID: "admin", Name: "管理员", Platform: core.PlatformWeCom}
	_, err = svc.AddUnit(ctx, admin, "dsj", "大数据中心", "city", org.LevelUnit)
	require.NoError(t, err)
	for _, u := range [][3]string{{"zhangsan", "张三", "city"}, {"wangwu", "王五", "city"}, {"olduser", "老用户", "dsj"}} {
		_, err = svc.AddUser(ctx, admin, u[0], u[1], u[2])
		require.NoError(t, err)
	}
	require.NoError(t, svc.LinkIdentity(ctx, admin, "wangwu", core.PlatformWeCom, "WangWu01"))

	b.api.depts = []Department{
		{ID: 1, Name: "某市政务", ParentID: 0},
		{ID: 3, Name: "运维部", ParentID: 2},
		{ID: 2, Name: "大数据中心", ParentID: 1},
		{ID: 4, Name: "", ParentID: 1},
	}
	b.api.members = map[int64][]Member{
		1: {{UserID: "Boss", Name: "市领导", Departments: []int64{1}, Status: 1}},
		2: {
			{UserID: "lisi", Name: "李四", Departments: []int64{2}, MainDepartment: 2, Status: 1},
			{UserID: "WangWu01", Name: "王五", Departments: []int64{2}, Status: 1},
			{UserID: "张三丰", Name: "张三丰", Departments: []int64{2}, Status: 1},
			{UserID: "gone", Name: "离职", Departments: []int64{2}, Status: 5},
		},
		3: {{UserID: "ZhangSan", Name: "张三", Departments: []int64{2, 3}, MainDepartment: 3, Status: 1}},
		4: {{UserID: "lisi", Name: "李四", Departments: []int64{2, 4}, MainDepartment: 2, Status: 1}},
	}
	depts, members, err := b.a.Contacts().All(ctx)
	require.NoError(t, err)
	require.Len(t, depts, 4)
	require.Len(t, members, 6, "each member once")

	snap, err := Snapshot(ctx, svc, admin)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"WangWu01": "wangwu"}, snap.Links)

	plan, err := Diff(depts, members, snap, SyncOptions{})
	require.NoError(t, err)
	require.Equal(t, []UnitAdd{
		{Code: "wecom-4", Name: "wecom-4", Parent: "city", Level: org.LevelUnit, DepartmentID: 4},
		{Code: "wecom-3", Name: "运维部", Parent: "dsj", Level: org.LevelDepartment, DepartmentID: 3},
	}, plan.AddUnits, "大数据中心 maps to dsj by name")
	require.Equal(t, []UserAdd{
		{ID: "boss", Name: "市领导", Unit: "city", WeComID: "Boss"},
		{ID: "lisi", Name: "李四", Unit: "dsj", WeComID: "lisi"},
	}, plan.AddUsers)
	require.Equal(t, []UserMove{
		{ID: "wangwu", Name: "王五", From: "city", To: "dsj"},
		{ID: "zhangsan", Name: "张三", From: "city", To: "wecom-3"},
	}, plan.MoveUsers)
	require.Equal(t, []Link{
		{UserID: "boss", WeComID: "Boss"}, {UserID: "zhangsan", WeComID: "ZhangSan"}, {UserID: "lisi", WeComID: "lisi"},
	}, plan.Links)
	require.Len(t, plan.Skipped, 1)
	require.Equal(t, Skip{What: "member 张三丰", Reason: SkipInvalidUserID, Detail: "张三丰"}, plan.Skipped[0])
	require.Equal(t, []string{"admin", "olduser"}, plan.NotInWeCom)

	res := Apply(ctx, svc, admin, plan)
	require.Empty(t, res.Failed)
	require.Equal(t, plan.Changes(), res.Done)

	actor, err := svc.Resolve(ctx, core.PlatformWeCom, "ZhangSan")
	require.NoError(t, err, "synced members can use the bot")
	require.Equal(t, "zhangsan", actor.UserID)

	snap, err = Snapshot(ctx, svc, admin)
	require.NoError(t, err)
	again, err := Diff(depts, members, snap, SyncOptions{})
	require.NoError(t, err)
	require.Zero(t, again.Changes(), "a second sync changes nothing")

	// A renamed department follows.
	depts[1].Name = "运维保障部"
	again, err = Diff(depts, members, snap, SyncOptions{})
	require.NoError(t, err)
	require.Equal(t, []UnitRename{{Code: "wecom-3", From: "运维部", To: "运维保障部"}}, again.RenameUnits)
}

func TestDiffEdgeCases(t *testing.T) {
	root := org.Unit{Code: "city", Name: "市", Level: org.LevelCity, Path: "/city/"}
	tests := []struct {
		name    string
		depts   []Department
		members []Member
		snap    OrgSnapshot
		check   func(t *testing.T, p Plan)
		wantErr bool
	}{
		{name: "no org root", snap: OrgSnapshot{}, wantErr: true},
		{
			name:  "visible range below the corp root",
			depts: []Department{{ID: 8, Name: "信息科", ParentID: 5}, {ID: 9, Name: "机房", ParentID: 8}},
			snap:  OrgSnapshot{Units: []org.Unit{root}},
			check: func(t *testing.T, p Plan) {
				require.Equal(t, []UnitAdd{
					{Code: "wecom-8", Name: "信息科", Parent: "city", Level: org.LevelDistrict, DepartmentID: 8},
					{Code: "wecom-9", Name: "机房", Parent: "wecom-8", Level: org.LevelUnit, DepartmentID: 9},
				}, p.AddUnits)
			},
		},
		{
			name:    "cycle does not hang",
			depts:   []Department{{ID: 2, Name: "a", ParentID: 3}, {ID: 3, Name: "b", ParentID: 2}},
			members: []Member{{UserID: "x", Departments: []int64{3}}},
			snap:    OrgSnapshot{Units: []org.Unit{root}},
			check: func(t *testing.T, p Plan) {
				require.Len(t, p.AddUnits, 2)
				require.Equal(t, "city", p.AddUnits[0].Parent, "the cycle is cut at one department")
				require.Len(t, p.AddUsers, 1)
			},
		},
		{
			name:    "org user linked elsewhere",
			depts:   []Department{{ID: 1, Name: "root"}},
			members: []Member{{UserID: "Li", Departments: []int64{1}}},
			snap:    OrgSnapshot{Units: []org.Unit{root}, Users: []org.User{{ID: "li", Unit: "city"}}, Links: map[string]string{"li-old": "li"}},
			check: func(t *testing.T, p Plan) {
				require.Zero(t, p.Changes())
				require.Len(t, p.Skipped, 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Diff(tt.depts, tt.members, tt.snap, SyncOptions{Levels: []org.Level{org.LevelDistrict, org.LevelUnit, org.LevelDepartment}})
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
	b := setup(t)
	ctx := context.Background()
	svc := org.NewService(b.store.Org(), core.SystemClock{})
	_, err := svc.Bootstrap(ctx, "admin", "管理员", "city", "市级")
	require.NoError(t, err)
	admin := core.Actor{UserID: "admin", Name: "管理员", Platform: core.PlatformWeCom}
	_, err = svc.AddUser(ctx, admin, "clerk", "办事员", "city")
	require.NoError(t, err)
	b.api.depts = []Department{{ID: 1, Name: "root"}, {ID: 2, Name: "信息中心", ParentID: 1}}
	b.api.members = map[int64][]Member{2: {{UserID: "clerk", Name: "办事员", Departments: []int64{2}, Status: 1}}}
	s := NewSyncer(b.a.Contacts(), svc, SyncOptions{})

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
