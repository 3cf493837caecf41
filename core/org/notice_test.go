package org_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
)

// demo returns the demo org on an in-memory store, with the notices of
// building it cleared.
func demo(t *testing.T) (*fake, *org.Service) {
	t.Helper()
	f := newFake()
	svc := org.NewService(f, fixedClock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)})
	ctx := context.Background()
	_, err := svc.Bootstrap(ctx, "admin", "系统管理员", "city", "示范市")
	require.NoError(t, err)
	require.NoError(t, svc.LoadDemo(ctx))
	f.Notices = nil
	return f, svc
}

func to(user string, p core.Payload) core.Notice {
	return core.Notice{Ref: "user:" + user, To: core.Recipient{User: user}, Body: p}
}

// TestNoticesToTheUserConcerned: every change to someone's place in the
// org tells them, with a typed notice naming who did it.
func TestNoticesToTheUserConcerned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		prep func(svc *org.Service) error
		act  func(svc *org.Service) error
		want []core.Notice
	}{
		{"user added", nil, func(svc *org.Service) error {
			_, err := svc.AddUser(ctx, as("zhangwei"), "xiaoli", "小李", "dc-edu")
			return err
		}, []core.Notice{to("xiaoli", org.UserAdded{UnitName: "东城区教育局", ByName: "zhangwei"})}},
		{"user moved between departments", nil, func(svc *org.Service) error {
			_, err := svc.MoveUser(ctx, as("zhangwei"), "zhengmin", "dc-edu")
			return err
		}, []core.Notice{to("zhengmin", org.UserMoved{From: "办公室", To: "东城区教育局", ByName: "zhangwei"})}},
		{"role granted", nil, func(svc *org.Service) error {
			_, err := svc.GrantRole(ctx, as("liqiang"), "maxin", org.RoleUnitContact, "")
			return err
		}, []core.Notice{to("maxin", org.RoleGranted{Role: org.RoleUnitContact, Scope: "dc-health", ByName: "liqiang"})}},
		{"role revoked", nil, func(svc *org.Service) error {
			_, err := svc.RevokeRole(ctx, as("wangfang"), "zhaolei", org.RoleUnitContact, "")
			return err
		}, []core.Notice{to("zhaolei", org.RoleRevoked{Role: org.RoleUnitContact, Scope: "xc-civil", ByName: "wangfang"})}},
		{"unit merged", nil, func(svc *org.Service) error {
			_, err := svc.MergeUnits(ctx, as("wangfang"), "xc-civil", "xc-market")
			return err
		}, []core.Notice{
			to("zhaolei", org.UserMoved{From: "西城区民政局", To: "西城区市场监督管理局", ByName: "wangfang"}),
			to("zhaolei", org.RoleRevoked{Role: org.RoleUnitContact, Scope: "xc-civil", ByName: "wangfang", Reason: "unit merged into xc-market"}),
		}},
		{"unit removed", func(svc *org.Service) error {
			_, err := svc.MoveUser(ctx, as("wangfang"), "zhaolei", "xc-market")
			return err
		}, func(svc *org.Service) error {
			return svc.RemoveUnit(ctx, as("wangfang"), "xc-civil")
		}, []core.Notice{to("zhaolei", org.RoleRevoked{Role: org.RoleUnitContact, Scope: "xc-civil", ByName: "wangfang", Reason: "unit removed"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, svc := demo(t)
			if tc.prep != nil {
				require.NoError(t, tc.prep(svc))
				f.Notices = nil
			}
			require.NoError(t, tc.act(svc))
			require.Equal(t, tc.want, f.Notices)
		})
	}
}

// TestGrantRules: the admin hierarchy (M 5.2.1): each level authorises the
// next, nobody grants themselves, the last sys admin stays; a refused
// command changes nothing and tells nobody.
func TestGrantRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		act  func(svc *org.Service) error
		code string
	}{
		{"a district admin grants themselves a unit", func(svc *org.Service) error {
			_, err := svc.GrantRole(ctx, as("liqiang"), "liqiang", org.RoleUnitAdmin, "dc-edu")
			return err
		}, "self_grant"},
		{"a unit admin names another unit admin", func(svc *org.Service) error {
			_, err := svc.GrantRole(ctx, as("zhangwei"), "zhengmin", org.RoleUnitAdmin, "dc-edu")
			return err
		}, "need_tiered"},
		{"a district admin acts outside their district", func(svc *org.Service) error {
			_, err := svc.GrantRole(ctx, as("liqiang"), "huangyu", org.RoleUnitContact, "xc-market")
			return err
		}, "not_covering"},
		{"a district admin names a district admin", func(svc *org.Service) error {
			_, err := svc.GrantRole(ctx, as("liqiang"), "maxin", org.RoleDistrictAdmin, "dongcheng")
			return err
		}, "need_sys_admin"},
		{"the last sys admin is revoked", func(svc *org.Service) error {
			_, err := svc.RevokeRole(ctx, core.SystemActor(), "admin", org.RoleSysAdmin, "")
			return err
		}, "last_sys_admin"},
		{"the last sys admin is removed", func(svc *org.Service) error {
			return svc.RemoveUser(ctx, core.SystemActor(), "admin")
		}, "last_sys_admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, svc := demo(t)
			grants, audits := len(f.Grants), len(f.Audits)
			err := tc.act(svc)
			require.Error(t, err)
			var ce *core.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.code, ce.Code)
			require.Len(t, f.Grants, grants)
			require.Len(t, f.Audits, audits)
			require.Empty(t, f.Notices)
		})
	}
}
