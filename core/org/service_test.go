package org_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type bundle struct {
	store *postgres.Store
	svc   *org.Service
}

// setup returns a demo org on a fresh schema.
func setup(t *testing.T) bundle {
	t.Helper()
	store := pgtest.New(t)
	svc := org.NewService(store.Org(), fixedClock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)})
	ctx := context.Background()
	created, err := svc.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	require.True(t, created)
	require.NoError(t, svc.LoadDemo(ctx))
	return bundle{store: store, svc: svc}
}

func as(id string) core.Actor {
	return core.Actor{UserID: id, Name: id, Platform: core.PlatformWebchat}
}

// requireCode checks err is a core error of kind with code.
func requireCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	var ce *core.Error
	require.True(t, errors.As(err, &ce), "want *core.Error, got %T: %v", err, err)
	require.Equal(t, code, ce.Code)
}

func TestBootstrapAndDemoAreIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	created, err := b.svc.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	require.False(t, created)
	require.NoError(t, b.svc.LoadDemo(ctx))
	dir, err := b.svc.Directory(ctx)
	require.NoError(t, err)
	require.Len(t, dir, 13)
	roles := map[org.Role]bool{}
	for _, p := range dir {
		for _, g := range p.Grants {
			roles[g.Role] = true
		}
	}
	for _, r := range org.Roles {
		require.Truef(t, roles[r], "demo org lacks role %s", r)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tests := []struct {
		name string
		do   func() error
		kind error
		code string
	}{
		// Users (M 5.1 a).
		{name: "unit admin adds user to own unit", do: func() error {
			_, err := b.svc.AddUser(ctx, as("zhangwei"), "newteacher", "新老师", "dc-edu")
			return err
		}},
		{name: "unit admin adds user to own department", do: func() error {
			_, err := b.svc.AddUser(ctx, as("zhangwei"), "clerk1", "文员", "dc-edu-office")
			return err
		}},
		{name: "unit admin cannot add user to another unit", do: func() error {
			_, err := b.svc.AddUser(ctx, as("zhangwei"), "intruder", "某人", "dc-health")
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "member cannot add users", do: func() error {
			_, err := b.svc.AddUser(ctx, as("zhengmin"), "x1", "某人", "dc-edu-office")
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "unit contact cannot add users", do: func() error {
			_, err := b.svc.AddUser(ctx, as("zhaolei"), "x2", "某人", "xc-civil")
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "district admin adds user in district", do: func() error {
			_, err := b.svc.AddUser(ctx, as("liqiang"), "nurse1", "护士", "dc-health")
			return err
		}},
		{name: "district admin cannot add user in other district", do: func() error {
			_, err := b.svc.AddUser(ctx, as("liqiang"), "x3", "某人", "xc-market")
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "duplicate user id", do: func() error {
			_, err := b.svc.AddUser(ctx, as("admin"), "zhangwei", "张伟", "dc-edu")
			return err
		}, kind: core.ErrConflict, code: "user_exists"},
		{name: "bad user id", do: func() error {
			_, err := b.svc.AddUser(ctx, as("admin"), "Zhang Wei", "张伟", "dc-edu")
			return err
		}, kind: core.ErrInvalid, code: "code"},
		{name: "unknown unit", do: func() error {
			_, err := b.svc.AddUser(ctx, as("admin"), "y1", "某人", "nowhere")
			return err
		}, kind: core.ErrNotFound, code: "unit_not_found"},
		// Moves (M 5.1 b).
		{name: "district admin moves user between units of district", do: func() error {
			_, err := b.svc.MoveUser(ctx, as("liqiang"), "maxin", "dc-edu")
			return err
		}},
		{name: "unit admin cannot move user to another unit", do: func() error {
			_, err := b.svc.MoveUser(ctx, as("chenjing"), "huangyu", "xc-civil")
			return err
		}, kind: core.ErrForbidden, code: "need_tiered"},
		{name: "unit admin moves user into own department", do: func() error {
			_, err := b.svc.MoveUser(ctx, as("zhangwei"), "zhangwei", "dc-edu-office")
			return err
		}},
		{name: "district admin cannot move across districts", do: func() error {
			_, err := b.svc.MoveUser(ctx, as("wangfang"), "huangyu", "dc-edu")
			return err
		}, kind: core.ErrForbidden, code: "need_tiered"},
		{name: "sys admin moves across districts", do: func() error {
			_, err := b.svc.MoveUser(ctx, as("admin"), "huangyu", "dc-health")
			return err
		}},
		// Units.
		{name: "unit admin adds a department", do: func() error {
			_, err := b.svc.AddUnit(ctx, as("liuyang"), "dc-health-it", "信息科", "dc-health", org.LevelDepartment)
			return err
		}},
		{name: "unit admin cannot rename own unit", do: func() error {
			_, err := b.svc.RenameUnit(ctx, as("liuyang"), "dc-health", "卫健委")
			return err
		}, kind: core.ErrForbidden, code: "not_covering_parent"},
		{name: "district admin renames unit", do: func() error {
			_, err := b.svc.RenameUnit(ctx, as("liqiang"), "dc-health", "东城区卫健委")
			return err
		}},
		{name: "district admin cannot add a district", do: func() error {
			_, err := b.svc.AddUnit(ctx, as("liqiang"), "nanshan", "南山区", "city", org.LevelDistrict)
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "department cannot hang under a district", do: func() error {
			_, err := b.svc.AddUnit(ctx, as("admin"), "d9", "科室", "dongcheng", org.LevelDepartment)
			return err
		}, kind: core.ErrInvalid, code: "level_parent"},
		{name: "remove non-empty unit", do: func() error {
			return b.svc.RemoveUnit(ctx, as("wangfang"), "xc-civil")
		}, kind: core.ErrConflict, code: "unit_not_empty"},
		{name: "city cannot be removed", do: func() error {
			return b.svc.RemoveUnit(ctx, as("admin"), "city")
		}, kind: core.ErrInvalid, code: "city_remove"},
		{name: "unit admin cannot merge even own departments", do: func() error {
			_, err := b.svc.AddUnit(ctx, as("zhangwei"), "dc-edu-lab", "实验室", "dc-edu", org.LevelDepartment)
			require.NoError(t, err)
			_, err = b.svc.MergeUnits(ctx, as("zhangwei"), "dc-edu-lab", "dc-edu-office")
			return err
		}, kind: core.ErrForbidden, code: "need_tiered"},
		{name: "district admin merges departments", do: func() error {
			_, err := b.svc.MergeUnits(ctx, as("liqiang"), "dc-edu-lab", "dc-edu-office")
			return err
		}},
		{name: "merge needs same level", do: func() error {
			_, err := b.svc.MergeUnits(ctx, as("admin"), "dongcheng", "dc-edu")
			return err
		}, kind: core.ErrInvalid, code: "merge_level"},
		{name: "district admin cannot merge across districts", do: func() error {
			_, err := b.svc.MergeUnits(ctx, as("liqiang"), "dc-edu", "xc-civil")
			return err
		}, kind: core.ErrForbidden, code: "need_tiered"},
		// Roles (M 5.2.1).
		{name: "only sys admin grants district admin", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("liqiang"), "maxin", org.RoleDistrictAdmin, "dongcheng")
			return err
		}, kind: core.ErrForbidden, code: "need_sys_admin"},
		{name: "district admin grants unit admin in scope", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("wangfang"), "wuhao", org.RoleUnitAdmin, "xc-market")
			return err
		}},
		{name: "unit admin cannot grant unit admin", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("zhangwei"), "zhengmin", org.RoleUnitAdmin, "dc-edu")
			return err
		}, kind: core.ErrForbidden, code: "need_tiered"},
		{name: "unit admin grants unit contact", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("zhangwei"), "zhengmin", org.RoleUnitContact, "")
			return err
		}},
		{name: "unit admin of another unit cannot grant contact here", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("chenjing"), "zhengmin", org.RoleUnitContact, "dc-edu")
			return err
		}, kind: core.ErrForbidden, code: "not_covering"},
		{name: "no self grant", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "admin", org.RoleOperator, "")
			return err
		}, kind: core.ErrForbidden, code: "self_grant"},
		{name: "unit admin must be inside the unit", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "sunli", org.RoleUnitAdmin, "xc-civil")
			return err
		}, kind: core.ErrInvalid, code: "grantee_out_of_scope"},
		{name: "district admin scope must be a district", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "maxin", org.RoleDistrictAdmin, "dc-health")
			return err
		}, kind: core.ErrInvalid, code: "scope_level"},
		{name: "access party needs an app", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "huangyu", org.RoleAccessParty, "")
			return err
		}, kind: core.ErrInvalid, code: "scope_required"},
		{name: "owner unit admin grants access party", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("chenjing"), "huangyu", org.RoleAccessParty, "sjsj")
			return err
		}},
		{name: "unknown role", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "maxin", org.Role("boss"), "")
			return err
		}, kind: core.ErrInvalid, code: "role"},
		{name: "grant twice", do: func() error {
			_, err := b.svc.GrantRole(ctx, as("admin"), "sunli", org.RoleOperator, "")
			return err
		}, kind: core.ErrConflict, code: "grant_exists"},
		{name: "last sys admin cannot be revoked", do: func() error {
			_, err := b.svc.RevokeRole(ctx, as("admin"), "admin", org.RoleSysAdmin, "")
			return err
		}, kind: core.ErrConflict, code: "last_sys_admin"},
		{name: "district admin cannot revoke operator", do: func() error {
			_, err := b.svc.RevokeRole(ctx, as("liqiang"), "sunli", org.RoleOperator, "")
			return err
		}, kind: core.ErrForbidden, code: "need_sys_admin"},
		// Identities and audit.
		{name: "unknown actor", do: func() error {
			_, err := b.svc.Tree(ctx, as("ghost"), "")
			return err
		}, kind: core.ErrForbidden, code: "not_registered"},
		{name: "member cannot read another's audit", do: func() error {
			_, err := b.svc.AuditTrail(ctx, as("zhengmin"), "user:zhangwei")
			return err
		}, kind: core.ErrForbidden, code: "audit_forbidden"},
		{name: "member reads own audit", do: func() error {
			_, err := b.svc.AuditTrail(ctx, as("zhengmin"), "user:zhengmin")
			return err
		}},
		{name: "identity taken", do: func() error {
			require.NoError(t, b.svc.LinkIdentity(ctx, as("admin"), "sunli", core.PlatformWeCom, "SunLi"))
			return b.svc.LinkIdentity(ctx, as("admin"), "zhoujie", core.PlatformWeCom, "SunLi")
		}, kind: core.ErrConflict, code: "identity_taken"},
	}
	// Sequential on purpose: later cases rely on earlier changes.
	for _, tt := range tests {
		err := tt.do()
		if tt.kind == nil {
			require.NoErrorf(t, err, tt.name)
			continue
		}
		t.Run(tt.name, func(t *testing.T) { requireCode(t, err, tt.kind, tt.code) })
	}
}

func TestMergeMovesUsersChildrenAndRevokes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.AddUnit(ctx, as("liqiang"), "dc-edu-it", "信息中心", "dc-edu", org.LevelDepartment)
	require.NoError(t, err)
	_, err = b.svc.AddUnit(ctx, as("liqiang"), "dc-edu-it-ops", "运维组", "dc-edu-it", org.LevelDepartment)
	require.NoError(t, err)
	res, err := b.svc.MergeUnits(ctx, as("liqiang"), "dc-edu", "dc-health")
	require.NoError(t, err)
	require.Equal(t, []string{"zhangwei"}, res.MovedUsers)
	require.ElementsMatch(t, []string{"dc-edu-it", "dc-edu-office"}, res.MovedUnits)
	require.Len(t, res.RevokedGrants, 1)
	nodes, err := b.svc.Tree(ctx, as("liqiang"), "dc-health")
	require.NoError(t, err)
	var codes []string
	for _, n := range nodes {
		codes = append(codes, n.Unit.Code)
	}
	require.Equal(t, []string{"dc-health", "dc-edu-it", "dc-edu-it-ops", "dc-edu-office"}, codes)
	p, err := b.svc.ShowUser(ctx, as("admin"), "zhangwei")
	require.NoError(t, err)
	require.Equal(t, "dc-health", p.User.Unit)
	require.Empty(t, p.Grants, "the merged unit's admin role is revoked")
	_, err = b.svc.AddUser(ctx, as("admin"), "z9", "某人", "dc-edu")
	requireCode(t, err, core.ErrNotFound, "unit_removed")
}

func TestAuditTrailRecordsEveryChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.AddUser(ctx, as("zhangwei"), "lisi", "李四", "dc-edu")
	require.NoError(t, err)
	_, err = b.svc.MoveUser(ctx, as("zhangwei"), "lisi", "dc-edu-office")
	require.NoError(t, err)
	_, err = b.svc.GrantRole(ctx, as("zhangwei"), "lisi", org.RoleUnitContact, "dc-edu")
	require.NoError(t, err)
	require.NoError(t, b.svc.RemoveUser(ctx, as("liqiang"), "lisi"))
	trail, err := b.svc.AuditTrail(ctx, as("zhangwei"), "user:lisi")
	require.NoError(t, err)
	var actions []string
	for _, e := range trail {
		actions = append(actions, e.Actor+" "+e.Action)
	}
	require.Equal(t, []string{"zhangwei org.user.add", "zhangwei org.user.move", "zhangwei org.role.grant",
		"liqiang org.role.revoke", "liqiang org.user.remove"}, actions)
	require.Contains(t, trail[1].Before, `"unit":"dc-edu"`)
	require.Contains(t, trail[1].After, `"unit":"dc-edu-office"`)
	n, brk, err := b.store.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Nil(t, brk)
	require.Greater(t, n, int64(30))
}

// TestFailedCommandChangesNothing: a refused operation leaves no row, no
// audit entry and no notice behind.
func TestFailedCommandChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	before, _, err := b.store.VerifyAudit(ctx)
	require.NoError(t, err)
	pending, err := b.store.Outbox().Pending(ctx)
	require.NoError(t, err)
	_, err = b.svc.GrantRole(ctx, as("zhangwei"), "zhengmin", org.RoleUnitAdmin, "dc-edu")
	require.Error(t, err)
	after, _, err := b.store.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
	pending2, err := b.store.Outbox().Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, pending2)
}

// TestConcurrentAppendsKeepTheChain: many writers at once still build one
// unbroken chain.
func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := b.svc.AddUser(ctx, as("admin"), "bulk"+string(rune('a'+i)), "批量", "dc-edu")
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	_, brk, err := b.store.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Nil(t, brk)
}

// TestAuditSearch: entries by who acted and when, newest first, paged by
// seq; the /audit rule read for the person who acted: a sys admin searches
// everyone, an admin the users they cover, a user their own entries.
func TestAuditSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.svc.AddUser(ctx, as("zhangwei"), "u1", "用户一", "dc-edu")
	require.NoError(t, err)
	_, err = b.svc.AddUser(ctx, as("zhangwei"), "u2", "用户二", "dc-edu")
	require.NoError(t, err)
	_, err = b.svc.AddUser(ctx, as("wangfang"), "u3", "用户三", "xicheng")
	require.NoError(t, err)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) // the fixed clock

	all, err := b.svc.AuditSearch(ctx, as("admin"), org.AuditQuery{})
	require.NoError(t, err)
	require.Greater(t, len(all), 3)
	require.Equal(t, "user:u3", all[0].Entity, "newest first")
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i].Seq, all[i-1].Seq)
	}

	entities := func(es []core.AuditEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Actor+" "+e.Action+" "+e.Entity)
		}
		return out
	}
	page, err := b.svc.AuditSearch(ctx, as("zhangwei"), org.AuditQuery{Actor: "zhangwei", Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"zhangwei org.user.add user:u2"}, entities(page), "one's own, one page")
	page, err = b.svc.AuditSearch(ctx, as("liqiang"), org.AuditQuery{Actor: "zhangwei", Before: page[0].Seq})
	require.NoError(t, err)
	require.Equal(t, []string{"zhangwei org.user.add user:u1"}, entities(page), "the next page, by the district's admin")

	for _, c := range []struct {
		name string
		q    org.AuditQuery
		want int
	}{
		{"since after everything", org.AuditQuery{Actor: "zhangwei", Since: now.Add(time.Second)}, 0},
		{"until the first moment", org.AuditQuery{Actor: "zhangwei", Until: now}, 0},
		{"the moment itself", org.AuditQuery{Actor: "zhangwei", Since: now, Until: now.Add(time.Second)}, 2},
		{"one action", org.AuditQuery{Action: "org.user.add", Actor: "zhangwei"}, 2},
		{"an action prefix", org.AuditQuery{Action: "org.user.", Actor: "wangfang"}, 1},
		{"a prefix without its dot is one action", org.AuditQuery{Action: "org.user", Actor: "wangfang"}, 0},
		{"another action", org.AuditQuery{Action: "org.role.grant", Actor: "zhangwei"}, 0},
		{"one entity", org.AuditQuery{Entity: "user:u2"}, 1},
	} {
		got, err := b.svc.AuditSearch(ctx, as("admin"), c.q)
		require.NoError(t, err, c.name)
		require.Len(t, got, c.want, c.name)
	}

	_, err = b.svc.AuditSearch(ctx, as("wangfang"), org.AuditQuery{Actor: "zhangwei"})
	requireCode(t, err, core.ErrForbidden, "audit_forbidden")
	about, err := b.svc.AuditSearch(ctx, as("liqiang"), org.AuditQuery{Entity: "user:u1"})
	require.NoError(t, err, "the district's admin reads everyone's entries about a user they cover")
	require.Equal(t, []string{"zhangwei org.user.add user:u1"}, entities(about))
	_, err = b.svc.AuditSearch(ctx, as("liqiang"), org.AuditQuery{Entity: "user:u3"})
	requireCode(t, err, core.ErrForbidden, "audit_forbidden")
	_, err = b.svc.AuditSearch(ctx, as("liqiang"), org.AuditQuery{Entity: "incident:7"})
	requireCode(t, err, core.ErrForbidden, "audit_forbidden")
	_, err = b.svc.AuditSearch(ctx, as("zhengmin"), org.AuditQuery{Actor: "zhangwei"})
	requireCode(t, err, core.ErrForbidden, "audit_forbidden")
	_, err = b.svc.AuditSearch(ctx, as("zhengmin"), org.AuditQuery{})
	requireCode(t, err, core.ErrForbidden, "audit_search_all")
	_, err = b.svc.AuditSearch(ctx, as("ghost"), org.AuditQuery{Actor: "ghost"})
	requireCode(t, err, core.ErrForbidden, "not_registered")
	_, err = b.svc.AuditSearch(ctx, as("admin"), org.AuditQuery{Since: now, Until: now})
	requireCode(t, err, core.ErrInvalid, "audit_search_range")
}

// TestUsers: a unit's users with those below it, for anyone registered;
// without a unit, the users the actor oversees.
func TestUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := func(us []org.User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	for _, c := range []struct {
		name, actor, unit string
		want              []string
	}{
		{"a unit and its departments", "zhengmin", "dc-edu", []string{"zhangwei", "zhengmin"}},
		{"a district", "huangyu", "dongcheng", []string{"liqiang", "liuyang", "maxin", "zhangwei", "zhengmin"}},
		{"a member: their unit", "huangyu", "", []string{"chenjing", "huangyu", "wuhao"}},
		{"a unit admin: their unit", "liuyang", "", []string{"liuyang", "maxin"}},
		{"a district admin: their district", "wangfang", "", []string{"chenjing", "huangyu", "wangfang", "wuhao", "zhaolei"}},
	} {
		got, err := b.svc.Users(ctx, as(c.actor), c.unit)
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, ids(got), c.name)
	}
	for _, actor := range []string{"admin", "sunli"} {
		got, err := b.svc.Users(ctx, as(actor), "")
		require.NoError(t, err)
		require.Len(t, got, 13, "everyone, for %s", actor)
	}
	_, err := b.svc.Users(ctx, as("zhengmin"), "nowhere")
	requireCode(t, err, core.ErrNotFound, "unit_not_found")
	_, err = b.svc.Users(ctx, as("ghost"), "")
	requireCode(t, err, core.ErrForbidden, "not_registered")
}

// TestSetLanguage: a user sets their own language, audited; Resolve and
// Language return it; an unknown language is refused.
func TestSetLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	requireCode(t, b.svc.SetLanguage(ctx, as("zhangwei"), "fr"), core.ErrInvalid, "language_unknown")
	lang, err := b.svc.Language(ctx, "zhangwei")
	require.NoError(t, err)
	require.Empty(t, lang, "the bot's default until chosen")
	require.NoError(t, b.svc.SetLanguage(ctx, as("zhangwei"), org.LanguageEN))
	require.NoError(t, b.svc.SetLanguage(ctx, as("zhangwei"), org.LanguageEN), "setting it again changes nothing")
	lang, err = b.svc.Language(ctx, "zhangwei")
	require.NoError(t, err)
	require.Equal(t, org.LanguageEN, lang)
	lang, err = b.svc.Language(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, lang)
	trail, err := b.svc.AuditTrail(ctx, as("zhangwei"), "user:zhangwei")
	require.NoError(t, err)
	var n int
	for _, e := range trail {
		if e.Action == "org.user.language" {
			n++
			require.Contains(t, e.After, `"language":"en"`)
		}
	}
	require.Equal(t, 1, n)
}
