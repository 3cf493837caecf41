package approval_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core/approval"
	"opsbot/core/org"
)

// appUsersEngine is the engine with app "edu" online and granted to a
// user of another unit (twice, once per grant kind) and to the unit
// dc-edu, whose department holds a user too; a removed user and a user of
// an ungranted unit must hear nothing.
func appUsersEngine(t *testing.T) engine {
	t.Helper()
	e := newEngine(t)
	app := e.f.AppByCode["edu"]
	app.Status = approval.AppOnline
	e.f.AppByCode["edu"] = app
	e.f.AddUnit("dc-health", org.LevelUnit, "dongcheng")
	e.f.AddUnit("dc-edu-office", org.LevelDepartment, "dc-edu")
	e.f.AddUser("maxin", "dc-health", "", "")
	e.f.AddUser("liuyang", "dc-health", org.RoleUnitAdmin, "dc-health")
	e.f.AddUser("zhengmin", "dc-edu-office", "", "")
	e.f.AddUser("gone", "dc-edu", "", "")
	u := e.f.Users["gone"]
	u.Removed = true
	e.f.Users["gone"] = u
	e.f.AddUser("wuhao", "dc-edu", org.RoleAccessParty, "edu")
	e.f.appGrants = []approval.AppGrant{
		{App: "edu", Grantee: "user:maxin", Kind: "visible"},
		{App: "edu", Grantee: "user:maxin", Kind: "inapp:查询"},
		{App: "edu", Grantee: "unit:dc-edu", Kind: "visible"},
		{App: "other", Grantee: "user:liuyang", Kind: "visible"},
	}
	approveReject := []string{approval.VerbApprove, approval.VerbReject}
	route := "app_release/unit"
	e.f.routes[route] = []approval.Step{
		{Route: route, Seq: 1, Name: "approve", Roles: []org.Role{org.RoleUnitAdmin}, FallbackRoles: []org.Role{org.RoleDistrictAdmin, org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: approveReject},
		{Route: route, Seq: 2, Name: "uat_request", Roles: []org.Role{org.RoleAccessParty}, Scope: "app", Count: 1, Verbs: []string{approval.VerbUATRequest}},
		{Route: route, Seq: 3, Name: "uat", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1, Verbs: []string{approval.VerbPass, approval.VerbFail}, BackTo: 2},
		{Route: route, Seq: 4, Name: "notice", Roles: []org.Role{org.RoleOperator}, Scope: "city", Count: 1, Verbs: []string{approval.VerbPublish}},
		{Route: route, Seq: 5, Name: "release", Roles: []org.Role{org.RoleAccessParty}, Scope: "app", Count: 1, Verbs: []string{approval.VerbConfirm}},
	}
	// Migration 029: a public notice about an app is approved by its owner unit's admin.
	e.f.routes["app_notice/unit"] = []approval.Step{
		{Route: "app_notice/unit", Seq: 1, Name: "approve", Roles: []org.Role{org.RoleUnitAdmin}, FallbackRoles: []org.Role{org.RoleDistrictAdmin, org.RoleSysAdmin},
			Scope: "owner", Count: 1, Verbs: approveReject},
	}
	return e
}

// TestAppUsers: an app's users are the users granted access and the users
// of the units granted access (departments included), each once.
func TestAppUsers(t *testing.T) {
	t.Parallel()
	e := appUsersEngine(t)
	users, err := approval.AppUsers(context.Background(), approval.Ports{Directory: e.f, Register: e.f}, "edu")
	require.NoError(t, err)
	require.Equal(t, []string{"maxin", "wuhao", "zhangwei", "zhengmin"}, users)
}

// TestReleaseNoticeReachesAppUsers (M 7.2.2): once the operator publishes
// a release that passed UAT, the notice goes to each of the app's users
// once, on top of the channel; the city admins get theirs only once.
func TestReleaseNoticeReachesAppUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := appUsersEngine(t)
	e.f.appGrants = append(e.f.appGrants, approval.AppGrant{App: "edu", Grantee: "user:admin", Kind: "visible"})
	res, err := e.svc.RequestRelease(ctx, as("wuhao"), "edu", "v2", "新增查询")
	require.NoError(t, err)
	id := res.Request.ID
	for _, step := range []struct{ by, verb string }{
		{"zhangwei", approval.VerbApprove}, {"wuhao", approval.VerbUATRequest}, {"sunli", approval.VerbPass},
	} {
		_, err := e.svc.Decide(ctx, as(step.by), id, 0, step.verb, "")
		require.NoError(t, err)
	}
	require.Empty(t, e.f.recipients(approval.NoticeReleaseNotice), "no notice before it is published")
	_, err = e.svc.Decide(ctx, as("zhoujie"), id, 0, approval.VerbPublish, "")
	require.NoError(t, err)
	require.Equal(t, []string{"user:maxin", "user:wuhao", "user:zhangwei", "user:zhengmin"}, e.f.recipients(approval.NoticeReleaseNotice))
	require.Equal(t, []string{"user:admin", "user:admin2"}, e.f.recipients(approval.NoticeReleaseAdmin))
}

// TestAppNoticeApprovedByOwnerAdmin (M 7.3.3 b): the access party asks for
// a public notice about its app; it reaches the app's users only once the
// owner unit's admin approves it; a member of another unit may not ask.
func TestAppNoticeApprovedByOwnerAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := appUsersEngine(t)
	_, err := e.svc.RequestAppNotice(ctx, as("maxin"), "edu", "今晚维护")
	requireCode(t, err, "not_app_party")
	_, err = e.svc.RequestAppNotice(ctx, as("wuhao"), "edu", " ")
	requireCode(t, err, "name")
	res, err := e.svc.RequestAppNotice(ctx, as("wuhao"), "edu", "今晚 22:00–23:00 系统维护，暂停服务")
	require.NoError(t, err)
	require.Equal(t, []string{"zhangwei"}, res.Next)
	require.Empty(t, e.f.sent(approval.NoticeAppNotice))
	_, err = e.svc.Decide(ctx, as("zhangwei"), res.Request.ID, 0, approval.VerbApprove, "")
	require.NoError(t, err)
	require.Equal(t, []string{"user:maxin", "user:wuhao", "user:zhangwei", "user:zhengmin"}, e.f.recipients(approval.NoticeAppNotice))
	n := e.f.sent(approval.NoticeAppNotice)[0].Body.(approval.AppNotice)
	require.Equal(t, "今晚 22:00–23:00 系统维护，暂停服务", n.Text)
	require.Equal(t, "edu", n.App)
}
