package org

import (
	"context"
	"errors"

	"opsbot/core"
)

// DemoUser is one user of the demo org, with the role they hold.
type DemoUser struct {
	ID, Name, Unit string
	Role           Role   // "" for a plain member
	Scope          string // "" for the role's default scope
}

// Demo org contents, listed in the README.
var (
	demoUnits = []struct {
		Code, Name, Parent string
		Level              Level
	}{
		{"dongcheng", "东城区", "", LevelDistrict},
		{"xicheng", "西城区", "", LevelDistrict},
		{"dc-edu", "东城区教育局", "dongcheng", LevelUnit},
		{"dc-health", "东城区卫生健康委员会", "dongcheng", LevelUnit},
		{"xc-market", "西城区市场监督管理局", "xicheng", LevelUnit},
		{"xc-civil", "西城区民政局", "xicheng", LevelUnit},
		{"dc-edu-office", "办公室", "dc-edu", LevelDepartment},
	}
	// DemoUsers are the demo org's users besides the bootstrap admin.
	DemoUsers = []DemoUser{
		{"liqiang", "李强", "dongcheng", RoleDistrictAdmin, ""},
		{"wangfang", "王芳", "xicheng", RoleDistrictAdmin, ""},
		{"zhangwei", "张伟", "dc-edu", RoleUnitAdmin, ""},
		{"liuyang", "刘洋", "dc-health", RoleUnitAdmin, ""},
		{"chenjing", "陈静", "xc-market", RoleUnitAdmin, ""},
		{"zhaolei", "赵磊", "xc-civil", RoleUnitContact, ""},
		{"sunli", "孙丽", "", RoleOperator, ""},
		{"zhoujie", "周杰", "", RoleOperator, ""},
		{"wuhao", "吴昊", "xc-market", RoleAccessParty, "sjsj"},
		{"zhengmin", "郑敏", "dc-edu-office", "", ""},
		{"huangyu", "黄宇", "xc-market", "", ""},
		{"maxin", "马鑫", "dc-health", "", ""},
	}
	demoApp      = App{Code: "sjsj", Name: "双随机抽查系统", Owner: "xc-market", Scope: "cross", Level: "city", Status: "online"}
	demoRotation = Rotation{Name: "ops-oncall", Unit: "", Members: []string{"sunli", "zhoujie"}, Every: "day", Handover: "09:00"}
)

// ignoreExists treats "already there" as success, so loading twice is harmless.
func ignoreExists(err error) error {
	if errors.Is(err, core.ErrConflict) {
		return nil
	}
	return err
}

// LoadDemo fills the org with the demo units, users, roles, one app and one
// duty rotation, through the same audited operations chat commands use.
// It runs after Bootstrap and is idempotent; replicas starting together
// load it one at a time, so it is loaded once.
func (s *Service) LoadDemo(ctx context.Context) error {
	return s.store.Exclusive(ctx, SeedLock, s.loadDemo)
}

// loadDemo is LoadDemo under the seed lock.
func (s *Service) loadDemo(ctx context.Context) error {
	sys := core.SystemActor()
	var root Unit
	if err := s.store.InTx(ctx, func(tx Ports) (err error) { root, err = tx.Root(ctx); return err }); err != nil {
		return err
	}
	for _, u := range demoUnits {
		parent := u.Parent
		if parent == "" {
			parent = root.Code
		}
		if _, err := s.AddUnit(ctx, sys, u.Code, u.Name, parent, u.Level); ignoreExists(err) != nil {
			return err
		}
	}
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := tx.App(ctx, demoApp.Code); err == nil {
			return nil
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		if err := tx.InsertApp(ctx, demoApp); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), sys, "app.register", "app:"+demoApp.Code, nil, demoApp); err != nil {
			return err
		}
		r := demoRotation
		r.Unit = root.Code
		if err := tx.InsertRotation(ctx, r); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), sys, "duty.rotation.add", "rotation:"+r.Name, nil, r)
	})
	if err != nil {
		return err
	}
	for _, u := range DemoUsers {
		unit := u.Unit
		if unit == "" {
			unit = root.Code
		}
		if _, err := s.AddUser(ctx, sys, u.ID, u.Name, unit); ignoreExists(err) != nil {
			return err
		}
		if u.Role != "" {
			if _, err := s.GrantRole(ctx, sys, u.ID, u.Role, u.Scope); ignoreExists(err) != nil {
				return err
			}
		}
	}
	return nil
}
