package org

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// Service carries out org commands.
type Service struct {
	store Store
	clock core.Clock
}

// NewService returns an org service over store.
func NewService(store Store, clock core.Clock) *Service {
	return &Service{store: store, clock: clock}
}

// Profile is a user with their unit, grants and identities.
type Profile struct {
	User       User
	Unit       Unit
	Grants     []Grant
	Identities []Identity
}

// TreeNode is a unit in a rendered tree.
type TreeNode struct {
	Unit  Unit
	Depth int
	Users int
}

// MergeResult says what a merge moved.
type MergeResult struct {
	From, Into    Unit
	MovedUsers    []string
	MovedUnits    []string
	RevokedGrants []Grant
}

// notify tells user about a change to their place in the org.
func notify(ctx context.Context, tx core.Recorder, user string, p core.Payload) error {
	return tx.Notify(ctx, core.Notice{Ref: "user:" + user, To: core.Recipient{User: user}, Body: p})
}

func getUnit(ctx context.Context, tx Directory, code string) (Unit, error) {
	u, err := tx.Unit(ctx, code)
	if errors.Is(err, core.ErrNotFound) {
		return Unit{}, core.NotFound("unit_not_found", "code", code)
	}
	if err != nil {
		return Unit{}, err
	}
	if u.Removed {
		return Unit{}, core.NotFound("unit_removed", "code", code)
	}
	return u, nil
}

func getUser(ctx context.Context, tx UserReader, id string) (User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return User{}, core.NotFound("user_not_found", "id", id)
	}
	if err != nil {
		return User{}, err
	}
	if u.Removed {
		return User{}, core.NotFound("user_removed", "id", id)
	}
	return u, nil
}

// Resolve maps a platform account to an actor. On webchat the account id
// is the org user id; elsewhere it goes through the identities table.
func (s *Service) Resolve(ctx context.Context, platform, externalID string) (core.Actor, error) {
	var actor core.Actor
	err := s.store.InTx(ctx, func(tx Ports) error {
		userID := externalID
		if platform != core.PlatformWebchat {
			id, err := tx.Identity(ctx, platform, externalID)
			if errors.Is(err, core.ErrNotFound) {
				return core.Forbidden("not_linked", "platform", platform, "id", externalID)
			}
			if err != nil {
				return err
			}
			userID = id.UserID
		}
		u, err := tx.User(ctx, userID)
		if errors.Is(err, core.ErrNotFound) {
			return core.Forbidden("not_registered", "id", userID)
		}
		if err != nil {
			return err
		}
		if u.Removed {
			return core.Forbidden("user_removed", "id", u.ID)
		}
		if u.Service && platform != core.PlatformWebchat {
			return core.Forbidden("service_user_signin", "id", u.ID)
		}
		actor = core.Actor{UserID: u.ID, Name: u.Name, Platform: platform, Language: u.Language}
		return nil
	})
	return actor, err
}

// SeedLock is the lock Bootstrap, LoadDemo and the reconciling of service
// users and their configured tokens hold across replicas.
const SeedLock = "org.seed"

// Bootstrap makes sure the city unit and a first sys_admin exist, so an
// empty database can be built up through chat. It changes nothing when a
// sys_admin exists already. Replicas starting together bootstrap one at a
// time, each reading what the one before wrote.
func (s *Service) Bootstrap(ctx context.Context, userID, userName, unitCode, unitName string) (created bool, err error) {
	for _, c := range [][2]string{{"bootstrap.admin.user", userID}, {"bootstrap.admin.unit", unitCode}} {
		if err := CheckCode(c[0], c[1]); err != nil {
			return false, err
		}
	}
	err = s.store.Exclusive(ctx, SeedLock, func(ctx context.Context) error {
		created, err = s.bootstrap(ctx, userID, userName, unitCode, unitName)
		return err
	})
	return created, err
}

// bootstrap is Bootstrap under the seed lock.
func (s *Service) bootstrap(ctx context.Context, userID, userName, unitCode, unitName string) (created bool, err error) {
	actor := core.SystemActor()
	err = s.store.InTx(ctx, func(tx Ports) error {
		root, err := tx.Root(ctx)
		switch {
		case errors.Is(err, core.ErrNotFound):
			root = Unit{Code: unitCode, Name: unitName, Level: LevelCity, Path: "/" + unitCode + "/", CreatedAt: s.clock.Now()}
			if err := tx.InsertUnit(ctx, root); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.add", "unit:"+root.Code, nil, root); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		holders, err := tx.Holders(ctx, RoleSysAdmin)
		if err != nil || len(holders) > 0 {
			return err
		}
		u, err := tx.User(ctx, userID)
		switch {
		case errors.Is(err, core.ErrNotFound):
			u = User{ID: userID, Name: userName, Unit: root.Code, CreatedAt: s.clock.Now()}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.user.add", "user:"+u.ID, nil, u); err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Removed:
			return core.Conflict("user_removed", "id", u.ID)
		}
		g := Grant{UserID: userID, Role: RoleSysAdmin, Scope: root.Code, GrantedBy: actor.UserID, GrantedAt: s.clock.Now()}
		if err := tx.InsertGrant(ctx, g); err != nil {
			return err
		}
		created = true
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.role.grant", "user:"+userID, nil, g)
	})
	return created, err
}

// Whoami returns the actor's own profile.
func (s *Service) Whoami(ctx context.Context, actor core.Actor) (Profile, error) {
	return s.ShowUser(ctx, actor, actor.UserID)
}

// ShowUser returns a user's profile. Any registered user may look.
func (s *Service) ShowUser(ctx context.Context, actor core.Actor, id string) (Profile, error) {
	var p Profile
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := loadAuthz(ctx, tx, actor); err != nil {
			return err
		}
		u, err := getUser(ctx, tx, id)
		if err != nil {
			return err
		}
		p.User = u
		if p.Unit, err = tx.Unit(ctx, u.Unit); err != nil {
			return err
		}
		if p.Grants, err = tx.GrantsOf(ctx, id); err != nil {
			return err
		}
		p.Identities, err = tx.IdentitiesOf(ctx, id)
		return err
	})
	return p, err
}

// SetLanguage sets the language of the actor's own replies and notices
// (LanguageZH or LanguageEN) and audits the change.
func (s *Service) SetLanguage(ctx context.Context, actor core.Actor, lang string) error {
	if lang != LanguageZH && lang != LanguageEN {
		return core.Invalid("language_unknown", "language", lang)
	}
	return s.store.InTx(ctx, func(tx Ports) error {
		before, err := getUser(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if before.Language == lang {
			return nil
		}
		after := before
		after.Language = lang
		if err := tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.user.language", "user:"+actor.UserID,
			map[string]string{"language": before.Language}, map[string]string{"language": lang})
	})
}

// Language returns the language a user chose ("" when none, or when
// there is no such user).
func (s *Service) Language(ctx context.Context, userID string) (string, error) {
	var lang string
	err := s.store.InTx(ctx, func(tx Ports) error {
		u, err := tx.User(ctx, userID)
		if errors.Is(err, core.ErrNotFound) {
			return nil
		}
		lang = u.Language
		return err
	})
	return lang, err
}

// Tree returns the units under root (the city when root is ""), depth
// first, with the number of users directly in each.
func (s *Service) Tree(ctx context.Context, actor core.Actor, root string) ([]TreeNode, error) {
	var nodes []TreeNode
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := loadAuthz(ctx, tx, actor); err != nil {
			return err
		}
		var top Unit
		var err error
		if root == "" {
			top, err = tx.Root(ctx)
		} else {
			top, err = getUnit(ctx, tx, root)
		}
		if err != nil {
			return err
		}
		units, err := tx.Subtree(ctx, top.Path)
		if err != nil {
			return err
		}
		codes := make([]string, len(units))
		for i, u := range units {
			codes[i] = u.Code
		}
		users, err := tx.UsersIn(ctx, codes)
		if err != nil {
			return err
		}
		count := make(map[string]int, len(units))
		for _, u := range users {
			count[u.Unit]++
		}
		base := strings.Count(top.Path, "/")
		nodes = make([]TreeNode, 0, len(units))
		for _, u := range units {
			nodes = append(nodes, TreeNode{Unit: u, Depth: strings.Count(u.Path, "/") - base, Users: count[u.Code]})
		}
		return nil
	})
	return nodes, err
}

// Users lists the active users of unit and the units below it, by id;
// with unit "" the users the actor oversees: everyone for a sys admin or
// an operator, the units an admin administers and those below them, else
// the actor's own unit. Any registered user may look, as with /org tree
// and /org user show.
func (s *Service) Users(ctx context.Context, actor core.Actor, unit string) ([]User, error) {
	var out []User
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		var tops []Unit
		switch {
		case unit != "":
			u, err := getUnit(ctx, tx, unit)
			if err != nil {
				return err
			}
			tops = []Unit{u}
		case a.holds(nil, RoleSysAdmin, RoleOperator):
			root, err := tx.Root(ctx)
			if err != nil {
				return err
			}
			tops = []Unit{root}
		default:
			for _, g := range a.grants {
				if u, ok := a.scopes[g.Scope]; ok && (g.Role == RoleDistrictAdmin || g.Role == RoleUnitAdmin) {
					tops = append(tops, u)
				}
			}
			if len(tops) == 0 {
				me, err := getUser(ctx, tx, actor.UserID)
				if err != nil {
					return err
				}
				own, err := getUnit(ctx, tx, me.Unit)
				if err != nil {
					return err
				}
				tops = []Unit{own}
			}
		}
		seen := map[string]bool{}
		var codes []string
		for _, top := range tops {
			units, err := tx.Subtree(ctx, top.Path)
			if err != nil {
				return err
			}
			for _, u := range units {
				if !seen[u.Code] {
					seen[u.Code] = true
					codes = append(codes, u.Code)
				}
			}
		}
		out, err = tx.UsersIn(ctx, codes)
		return err
	})
	return out, err
}

// AddUnit creates a unit under parent. It needs an admin covering parent.
func (s *Service) AddUnit(ctx context.Context, actor core.Actor, code, name, parent string, level Level) (Unit, error) {
	if err := CheckCode("code", code); err != nil {
		return Unit{}, err
	}
	if err := checkName("name", name); err != nil {
		return Unit{}, err
	}
	if !level.Valid() || level == LevelCity {
		return Unit{}, core.Invalid("level", "value", string(level))
	}
	var u Unit
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		p, err := getUnit(ctx, tx, parent)
		if err != nil {
			return err
		}
		if !a.admin(p) {
			return core.Forbidden("not_covering", "action", "org.unit.add", "unit", p.Code)
		}
		ok := false
		for _, l := range parentLevels[level] {
			ok = ok || l == p.Level
		}
		if !ok {
			return core.Invalid("level_parent", "level", string(level), "parent", p.Code, "parent_level", string(p.Level))
		}
		if _, err := tx.Unit(ctx, code); err == nil {
			return core.Conflict("unit_exists", "code", code)
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		u = Unit{Code: code, Name: strings.TrimSpace(name), Level: level, Parent: p.Code, Path: p.Path + code + "/", CreatedAt: s.clock.Now()}
		if err := tx.InsertUnit(ctx, u); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.add", "unit:"+code, nil, u)
	})
	return u, err
}

// parentOf returns u's parent, or u itself for the city.
func parentOf(ctx context.Context, tx Directory, u Unit) (Unit, error) {
	if u.Parent == "" {
		return u, nil
	}
	return tx.Unit(ctx, u.Parent)
}

// canEdit reports whether the actor may rename or remove u: an admin
// covering its parent, and for the city only a sys admin.
func canEdit(ctx context.Context, tx Directory, a *authz, u Unit) (bool, error) {
	if u.Level == LevelCity {
		return a.sys(), nil
	}
	p, err := parentOf(ctx, tx, u)
	if err != nil {
		return false, err
	}
	return a.admin(p), nil
}

// RenameUnit renames a unit.
func (s *Service) RenameUnit(ctx context.Context, actor core.Actor, code, name string) (Unit, error) {
	if err := checkName("name", name); err != nil {
		return Unit{}, err
	}
	var after Unit
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		before, err := getUnit(ctx, tx, code)
		if err != nil {
			return err
		}
		if ok, err := canEdit(ctx, tx, a, before); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("not_covering_parent", "action", "org.unit.rename", "unit", code)
		}
		after = before
		after.Name = strings.TrimSpace(name)
		if after.Name == before.Name {
			return nil
		}
		if err := tx.UpdateUnit(ctx, after); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.rename", "unit:"+code, before, after)
	})
	return after, err
}

// revokeAll revokes every grant on scope and audits each.
func (s *Service) revokeAll(ctx context.Context, tx Ports, actor core.Actor, scope, why string) ([]Grant, error) {
	grants, err := tx.GrantsOn(ctx, scope)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if err := tx.DeleteGrant(ctx, g.UserID, g.Role, g.Scope); err != nil {
			return nil, err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.role.revoke", "user:"+g.UserID, g, map[string]string{"reason": why}); err != nil {
			return nil, err
		}
		if err := notify(ctx, tx, g.UserID, RoleRevoked{Role: g.Role, Scope: g.Scope, ByName: actor.Name, Reason: why}); err != nil {
			return nil, err
		}
	}
	return grants, nil
}

// RemoveUnit removes an empty unit (no users, no child units) and revokes
// the roles held on it.
func (s *Service) RemoveUnit(ctx context.Context, actor core.Actor, code string) error {
	return s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		u, err := getUnit(ctx, tx, code)
		if err != nil {
			return err
		}
		if u.Level == LevelCity {
			return core.Invalid("city_remove", "code", code)
		}
		if ok, err := canEdit(ctx, tx, a, u); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("not_covering_parent", "action", "org.unit.remove", "unit", code)
		}
		sub, err := tx.Subtree(ctx, u.Path)
		if err != nil {
			return err
		}
		users, err := tx.UsersIn(ctx, []string{code})
		if err != nil {
			return err
		}
		if len(sub) > 1 || len(users) > 0 {
			return core.Conflict("unit_not_empty", "code", code, "users", strconv.Itoa(len(users)), "units", strconv.Itoa(len(sub)-1))
		}
		if _, err := s.revokeAll(ctx, tx, actor, code, ReasonUnitRemoved); err != nil {
			return err
		}
		after := u
		after.Removed = true
		if err := tx.UpdateUnit(ctx, after); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.remove", "unit:"+code, u, nil)
	})
}

// MergeUnits moves the users and child units of from into into, removes
// from and revokes the roles held on it. Tiered admins only.
func (s *Service) MergeUnits(ctx context.Context, actor core.Actor, from, into string) (MergeResult, error) {
	var res MergeResult
	if from == into {
		return res, core.Invalid("merge_same", "code", from)
	}
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		f, err := getUnit(ctx, tx, from)
		if err != nil {
			return err
		}
		t, err := getUnit(ctx, tx, into)
		if err != nil {
			return err
		}
		if f.Level != t.Level || f.Level == LevelCity {
			return core.Invalid("merge_level", "from", from, "from_level", string(f.Level), "into", into, "into_level", string(t.Level))
		}
		if f.Contains(t) {
			return core.Invalid("merge_into_descendant", "from", from, "into", into)
		}
		for _, u := range []Unit{f, t} {
			p, err := parentOf(ctx, tx, u)
			if err != nil {
				return err
			}
			if !a.tiered(p) {
				return core.Forbidden("need_tiered", "action", "org.unit.merge", "unit", u.Code)
			}
		}
		res.From, res.Into = f, t
		users, err := tx.UsersIn(ctx, []string{from})
		if err != nil {
			return err
		}
		for _, u := range users {
			moved := u
			moved.Unit = into
			if err := tx.UpdateUser(ctx, moved); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.user.move", "user:"+u.ID, u, moved); err != nil {
				return err
			}
			if err := notify(ctx, tx, u.ID, UserMoved{From: f.Name, To: t.Name, ByName: actor.Name}); err != nil {
				return err
			}
			res.MovedUsers = append(res.MovedUsers, u.ID)
		}
		sub, err := tx.Subtree(ctx, f.Path)
		if err != nil {
			return err
		}
		for _, c := range sub {
			if c.Parent != from {
				continue
			}
			moved := c
			moved.Parent = into
			moved.Path = t.Path + c.Code + "/"
			if err := tx.UpdateUnit(ctx, moved); err != nil {
				return err
			}
			if err := tx.RepathSubtree(ctx, c.Path, moved.Path); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.move", "unit:"+c.Code, c, moved); err != nil {
				return err
			}
			res.MovedUnits = append(res.MovedUnits, c.Code)
		}
		if res.RevokedGrants, err = s.revokeAll(ctx, tx, actor, from, ReasonUnitMerged+into); err != nil {
			return err
		}
		gone := f
		gone.Removed = true
		if err := tx.UpdateUnit(ctx, gone); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.unit.merge", "unit:"+from, f, map[string]any{
			"into": into, "moved_users": res.MovedUsers, "moved_units": res.MovedUnits,
		})
	})
	return res, err
}

// AddUser adds a user to a unit. It needs an admin covering the unit.
func (s *Service) AddUser(ctx context.Context, actor core.Actor, id, name, unit string) (User, error) {
	if err := CheckCode("userid", id); err != nil {
		return User{}, err
	}
	if err := checkName("name", name); err != nil {
		return User{}, err
	}
	var u User
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		target, err := getUnit(ctx, tx, unit)
		if err != nil {
			return err
		}
		if !a.admin(target) {
			return core.Forbidden("not_covering", "action", "org.user.add", "unit", unit)
		}
		if _, err := tx.User(ctx, id); err == nil {
			return core.Conflict("user_exists", "id", id)
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		u = User{ID: id, Name: strings.TrimSpace(name), Unit: unit, CreatedAt: s.clock.Now()}
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.user.add", "user:"+id, nil, u); err != nil {
			return err
		}
		return notify(ctx, tx, id, UserAdded{UnitName: target.Name, ByName: actor.Name})
	})
	return u, err
}

// MoveUser moves a user to another unit. Within one unit (between its
// departments) a unit admin may; across units it takes a tiered admin
// covering both ends.
func (s *Service) MoveUser(ctx context.Context, actor core.Actor, id, unit string) (User, error) {
	var after User
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		before, err := getUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Unit == unit {
			return core.Invalid("same_unit", "id", id, "unit", unit)
		}
		from, err := tx.Unit(ctx, before.Unit)
		if err != nil {
			return err
		}
		to, err := getUnit(ctx, tx, unit)
		if err != nil {
			return err
		}
		fromUnit, err := enclosing(ctx, tx, from, LevelUnit)
		if err != nil {
			return err
		}
		toUnit, err := enclosing(ctx, tx, to, LevelUnit)
		if err != nil {
			return err
		}
		if fromUnit.Code == toUnit.Code && fromUnit.Level == LevelUnit {
			if !a.admin(from) || !a.admin(to) {
				return core.Forbidden("not_covering", "action", "org.user.move", "unit", fromUnit.Code)
			}
		} else {
			for _, u := range []Unit{from, to} {
				if !a.tiered(u) {
					return core.Forbidden("need_tiered", "action", "org.user.move", "unit", u.Code)
				}
			}
		}
		after = before
		after.Unit = unit
		if err := tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.user.move", "user:"+id, before, after); err != nil {
			return err
		}
		return notify(ctx, tx, id, UserMoved{From: from.Name, To: to.Name, ByName: actor.Name})
	})
	return after, err
}

// lastSysAdmin reports whether removing g would leave no sys admin.
func lastSysAdmin(ctx context.Context, tx Directory, userID string) (bool, error) {
	holders, err := tx.Holders(ctx, RoleSysAdmin)
	if err != nil {
		return false, err
	}
	others := 0
	for _, h := range holders {
		if h.UserID != userID {
			others++
		}
	}
	return others == 0 && len(holders) > 0, nil
}

// adminOfUser loads the actor's rights and the active user id, and checks
// the actor is an admin covering the user's unit.
func adminOfUser(ctx context.Context, tx UserReader, actor core.Actor, id, action string) (*authz, User, error) {
	a, err := loadAuthz(ctx, tx, actor)
	if err != nil {
		return nil, User{}, err
	}
	u, err := getUser(ctx, tx, id)
	if err != nil {
		return nil, User{}, err
	}
	unit, err := tx.Unit(ctx, u.Unit)
	if err != nil {
		return nil, User{}, err
	}
	if !a.admin(unit) {
		return nil, User{}, core.Forbidden("not_covering", "action", action, "unit", u.Unit)
	}
	return a, u, nil
}

// CoversUser is nil when actor may act on userID's behalf in action (the
// user themselves, or an admin covering their unit, as for web chat links)
// and a core.Error otherwise; other domains (sign-in sessions) check with
// it inside their own transaction.
func CoversUser(ctx context.Context, tx UserReader, actor core.Actor, userID, action string) error {
	if userID == actor.UserID {
		_, err := getUser(ctx, tx, userID)
		return err
	}
	_, _, err := adminOfUser(ctx, tx, actor, userID, action)
	return err
}

// RemoveUser deactivates a user and revokes all their roles.
func (s *Service) RemoveUser(ctx context.Context, actor core.Actor, id string) error {
	return s.store.InTx(ctx, func(tx Ports) error {
		a, u, err := adminOfUser(ctx, tx, actor, id, "org.user.remove")
		if err != nil {
			return err
		}
		if a.isSelf(id) {
			return core.Forbidden("self_remove")
		}
		grants, err := tx.GrantsOf(ctx, id)
		if err != nil {
			return err
		}
		for _, g := range grants {
			if g.Role == RoleSysAdmin {
				if last, err := lastSysAdmin(ctx, tx, id); err != nil {
					return err
				} else if last {
					return core.Conflict("last_sys_admin", "id", id)
				}
			}
			if err := tx.DeleteGrant(ctx, g.UserID, g.Role, g.Scope); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.role.revoke", "user:"+id, g, map[string]string{"reason": "user removed"}); err != nil {
				return err
			}
		}
		after := u
		after.Removed = true
		if err := tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.user.remove", "user:"+id, u, nil)
	})
}

// LinkIdentity links a platform account to a user. An admin covering the
// user's unit may; so may the user for themselves.
func (s *Service) LinkIdentity(ctx context.Context, actor core.Actor, userID, platform, externalID string) error {
	if !slices.Contains(LinkPlatforms, platform) {
		return core.Invalid("platform", "value", platform)
	}
	if strings.TrimSpace(externalID) == "" || len(externalID) > MaxExternalID {
		return core.LimitError("external_id", "id", externalID, MaxExternalID)
	}
	return s.store.InTx(ctx, func(tx Ports) error {
		_, u, err := adminOfUser(ctx, tx, actor, userID, "org.user.link")
		if err != nil {
			return err
		}
		if u.Service {
			return core.Forbidden("service_user_signin", "id", userID)
		}
		prev, err := tx.Identity(ctx, platform, externalID)
		switch {
		case err == nil && prev.UserID != userID:
			return core.Conflict("identity_taken", "platform", platform, "id", externalID, "user", prev.UserID)
		case err == nil:
			return nil
		case !errors.Is(err, core.ErrNotFound):
			return err
		}
		id := Identity{Platform: platform, ExternalID: externalID, UserID: userID}
		if err := tx.UpsertIdentity(ctx, id); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "org.user.link", "user:"+userID, nil, id)
	})
}

// scopeFor resolves the scope a role is granted on, checking its level.
// An empty scope defaults to the city for city-wide roles and to the
// grantee's enclosing district or unit otherwise.
func scopeFor(ctx context.Context, tx Ports, role Role, scope string, grantee User) (unit Unit, app App, err error) {
	if role == RoleAccessParty {
		if scope == "" {
			return Unit{}, App{}, core.Invalid("scope_required", "role", string(role))
		}
		app, err = tx.App(ctx, scope)
		if errors.Is(err, core.ErrNotFound) {
			return Unit{}, App{}, core.NotFound("app_not_found", "code", scope)
		}
		if err != nil {
			return Unit{}, App{}, err
		}
		unit, err = getUnit(ctx, tx, app.Owner)
		return unit, app, err
	}
	want := map[Role]Level{
		RoleSysAdmin: LevelCity, RoleOperator: LevelCity, RoleDistrictAdmin: LevelDistrict,
		RoleUnitAdmin: LevelUnit, RoleUnitContact: LevelUnit,
	}[role]
	if scope == "" {
		if want == LevelCity {
			unit, err = tx.Root(ctx)
			return unit, App{}, err
		}
		home, err := tx.Unit(ctx, grantee.Unit)
		if err != nil {
			return Unit{}, App{}, err
		}
		if unit, err = enclosing(ctx, tx, home, want); err != nil {
			return Unit{}, App{}, err
		}
	} else if unit, err = getUnit(ctx, tx, scope); err != nil {
		return Unit{}, App{}, err
	}
	if unit.Level != want {
		return Unit{}, App{}, core.Invalid("scope_level", "role", string(role), "scope", unit.Code, "level", string(unit.Level), "want", string(want))
	}
	return unit, App{}, nil
}

// mayGrant reports whether the actor may grant or revoke role on unit.
func mayGrant(a *authz, role Role, unit Unit) (bool, string) {
	switch role {
	case RoleSysAdmin, RoleDistrictAdmin, RoleOperator:
		return a.sys(), "need_sys_admin"
	case RoleUnitAdmin:
		return a.tiered(unit), "need_tiered"
	default: // unit_contact, access_party
		return a.admin(unit), "not_covering"
	}
}

// GrantRole grants role on scope to a user.
func (s *Service) GrantRole(ctx context.Context, actor core.Actor, userID string, role Role, scope string) (Grant, error) {
	if !role.Valid() {
		return Grant{}, core.Invalid("role", "value", string(role))
	}
	var g Grant
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		grantee, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if grantee.Service {
			return core.Forbidden("service_user_roles", "id", userID)
		}
		unit, app, err := scopeFor(ctx, tx, role, scope, grantee)
		if err != nil {
			return err
		}
		if ok, why := mayGrant(a, role, unit); !ok {
			return core.Forbidden(why, "action", "org.role.grant."+string(role), "unit", unit.Code)
		}
		if a.isSelf(userID) {
			return core.Forbidden("self_grant")
		}
		if role == RoleUnitAdmin || role == RoleUnitContact {
			home, err := tx.Unit(ctx, grantee.Unit)
			if err != nil {
				return err
			}
			if !unit.Contains(home) {
				return core.Invalid("grantee_out_of_scope", "user", userID, "scope", unit.Code)
			}
		}
		g = Grant{UserID: userID, Role: role, Scope: unit.Code, GrantedBy: actor.UserID, GrantedAt: s.clock.Now()}
		if role == RoleAccessParty {
			g.Scope = app.Code
		}
		have, err := tx.GrantsOf(ctx, userID)
		if err != nil {
			return err
		}
		for _, h := range have {
			if h.Role == g.Role && h.Scope == g.Scope {
				return core.Conflict("grant_exists", "user", userID, "role", string(role), "scope", g.Scope)
			}
		}
		if err := tx.InsertGrant(ctx, g); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.role.grant", "user:"+userID, nil, g); err != nil {
			return err
		}
		return notify(ctx, tx, userID, RoleGranted{Role: role, Scope: g.Scope, ByName: actor.Name})
	})
	return g, err
}

// RevokeRole revokes role on scope from a user.
func (s *Service) RevokeRole(ctx context.Context, actor core.Actor, userID string, role Role, scope string) (Grant, error) {
	if !role.Valid() {
		return Grant{}, core.Invalid("role", "value", string(role))
	}
	var g Grant
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		holder, err := tx.User(ctx, userID)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("user_not_found", "id", userID)
		} else if err != nil {
			return err
		}
		have, err := tx.GrantsOf(ctx, userID)
		if err != nil {
			return err
		}
		var match []Grant
		for _, h := range have {
			if h.Role == role && (scope == "" || h.Scope == scope) {
				match = append(match, h)
			}
		}
		switch {
		case len(match) == 0 && scope == "":
			return core.NotFound("grant_missing_any", "user", userID, "role", string(role))
		case len(match) == 0:
			return core.NotFound("grant_missing", "user", userID, "role", string(role), "scope", scope)
		case len(match) > 1:
			scopes := make([]string, len(match))
			for i, m := range match {
				scopes[i] = m.Scope
			}
			sort.Strings(scopes)
			return core.Invalid("scope_ambiguous", "user", userID, "role", string(role), "scopes", strings.Join(scopes, ", "))
		}
		g = match[0]
		unit, _, err := scopeFor(ctx, tx, role, g.Scope, holder)
		if err != nil {
			return err
		}
		if ok, why := mayGrant(a, role, unit); !ok {
			return core.Forbidden(why, "action", "org.role.revoke."+string(role), "unit", unit.Code)
		}
		if role == RoleSysAdmin {
			if last, err := lastSysAdmin(ctx, tx, userID); err != nil {
				return err
			} else if last {
				return core.Conflict("last_sys_admin", "id", userID)
			}
		}
		if err := tx.DeleteGrant(ctx, g.UserID, g.Role, g.Scope); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "org.role.revoke", "user:"+userID, g, nil); err != nil {
			return err
		}
		return notify(ctx, tx, userID, RoleRevoked{Role: role, Scope: g.Scope, ByName: actor.Name})
	})
	return g, err
}

// AuditTrail returns an entity's audit history. A sys admin sees every
// entity; an admin sees the units and users they cover; a user sees their
// own history.
func (s *Service) AuditTrail(ctx context.Context, actor core.Actor, entity string) ([]core.AuditEntry, error) {
	var out []core.AuditEntry
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		if err := a.auditEntity(ctx, tx, entity); err != nil {
			return err
		}
		out, err = tx.AuditTrail(ctx, entity)
		return err
	})
	return out, err
}

// auditEntity is nil when a may read entity's audit history (AuditTrail's rule).
func (a *authz) auditEntity(ctx context.Context, tx Ports, entity string) error {
	kind, key, ok := strings.Cut(entity, ":")
	if !ok || key == "" {
		return core.Invalid("entity_ref", "value", entity)
	}
	allowed := a.sys()
	switch kind {
	case "user":
		allowed = allowed || a.seesUser(ctx, tx, key)
	case "unit":
		if u, err := tx.Unit(ctx, key); err == nil {
			allowed = allowed || a.admin(u)
		}
	}
	if !allowed {
		return core.Forbidden("audit_forbidden", "entity", entity)
	}
	return nil
}

// AuditSearch returns the audit entries q selects, newest first, with
// the rule of AuditTrail read for the person who acted: a sys admin may
// search everyone's entries (q.Actor ""), an admin the entries of the
// users they cover, a user their own; or, with q.Entity, everyone's
// entries about an entity whose history AuditTrail shows them. A Limit
// outside 1..MaxAuditPage is MaxAuditPage.
func (s *Service) AuditSearch(ctx context.Context, actor core.Actor, q AuditQuery) ([]core.AuditEntry, error) {
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, core.Invalid("audit_search_range", "since", q.Since.Format(time.RFC3339), "until", q.Until.Format(time.RFC3339))
	}
	if q.Limit <= 0 || q.Limit > MaxAuditPage {
		q.Limit = MaxAuditPage
	}
	var out []core.AuditEntry
	err := s.store.InTx(ctx, func(tx Ports) error {
		a, err := loadAuthz(ctx, tx, actor)
		if err != nil {
			return err
		}
		switch {
		case a.sys():
		case q.Actor != "" && a.seesUser(ctx, tx, q.Actor):
		case q.Entity != "":
			if err := a.auditEntity(ctx, tx, q.Entity); err != nil {
				return err
			}
		case q.Actor == "":
			return core.Forbidden("audit_search_all")
		default:
			return core.Forbidden("audit_forbidden", "entity", "user:"+q.Actor)
		}
		out, err = tx.AuditSearch(ctx, q)
		return err
	})
	return out, err
}

// Addresses returns where a user can be reached: platform → account id.
// On webchat a user is reached by their org id.
func (s *Service) Addresses(ctx context.Context, userID string) (map[string]string, error) {
	out := map[string]string{}
	err := s.store.InTx(ctx, func(tx Ports) error {
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		out[core.PlatformWebchat] = u.ID
		ids, err := tx.IdentitiesOf(ctx, userID)
		for _, i := range ids {
			out[i.Platform] = i.ExternalID
		}
		return err
	})
	return out, err
}

// Directory lists every active user with their unit and grants, for the
// webchat user picker in dev mode.
func (s *Service) Directory(ctx context.Context) ([]Profile, error) {
	var out []Profile
	err := s.store.InTx(ctx, func(tx Ports) error {
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		units, err := tx.Subtree(ctx, root.Path)
		if err != nil {
			return err
		}
		byCode := map[string]Unit{}
		codes := make([]string, len(units))
		for i, u := range units {
			byCode[u.Code], codes[i] = u, u.Code
		}
		users, err := tx.UsersIn(ctx, codes)
		if err != nil {
			return err
		}
		grants := map[string][]Grant{}
		for _, r := range Roles {
			hs, err := tx.Holders(ctx, r)
			if err != nil {
				return err
			}
			for _, g := range hs {
				grants[g.UserID] = append(grants[g.UserID], g)
			}
		}
		for _, u := range users {
			out = append(out, Profile{User: u, Unit: byCode[u.Unit], Grants: grants[u.ID]})
		}
		return nil
	})
	return out, err
}
