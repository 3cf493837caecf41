package org

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"opsbot/core"
)

// ContactDepartment is a department of a chat platform's contacts.
type ContactDepartment struct {
	ID       int64
	Name     string // may be empty: a platform can withhold names
	ParentID int64  // 0 for the corp's root department
	Order    int64  // higher first among siblings
}

// ContactMember is a member of a chat platform's contacts.
type ContactMember struct {
	ExternalID     string // the platform's user id, e.g. a WeCom userid
	Name           string
	MainDepartment int64 // 0 when none
	Active         bool  // can use the platform (left or disabled members are not)
}

// Contacts is what a platform's contacts hold, as a sync reads them.
type Contacts struct {
	Departments []ContactDepartment
	Members     []ContactMember
}

// ContactSource reads a platform's contacts (the WeCom adapter's Contacts).
type ContactSource interface {
	Fetch(ctx context.Context) (Contacts, error)
}

// SyncOptions tunes how a platform's departments map onto org units.
type SyncOptions struct {
	// Platform is the chat platform synced from (core.Platform*); members
	// are linked to org users on it.
	Platform string
	// Prefix makes the code of a unit created for a department: Prefix +
	// department id (default Platform + "-", e.g. "wecom-").
	Prefix string
	// Levels is the org level of departments by depth below the corp's
	// root department: Levels[0] for its children, the last entry for
	// anything deeper (default unit, then department).
	Levels []Level
}

func (o SyncOptions) withDefaults() SyncOptions {
	if o.Prefix == "" {
		o.Prefix = o.Platform + "-"
	}
	if len(o.Levels) == 0 {
		o.Levels = []Level{LevelUnit, LevelDepartment}
	}
	return o
}

func (o SyncOptions) level(depth int) Level {
	if depth-1 < len(o.Levels) {
		return o.Levels[depth-1]
	}
	return o.Levels[len(o.Levels)-1]
}

// SyncSnapshot is the part of the org a sync compares against.
type SyncSnapshot struct {
	Units []Unit            // active units
	Users []User            // active users
	Links map[string]string // platform user id → org user id
}

// SyncPlan is what a sync would change, in the order ApplySync makes the
// changes.
type SyncPlan struct {
	// Platform is the platform the plan syncs from.
	Platform    string
	AddUnits    []UnitAdd
	RenameUnits []UnitRename
	AddUsers    []UserAdd
	MoveUsers   []UserMove
	Links       []SyncLink
	// Skipped lists what the sync cannot map, with the reason.
	Skipped []SyncSkip
	// NotInPlatform lists active org users matched by no member. The sync
	// never removes anyone; admins decide.
	NotInPlatform []string
}

// UnitAdd creates a unit for a department.
type UnitAdd struct {
	Code, Name, Parent string
	Level              Level
	DepartmentID       int64
}

// UnitRename follows a department's new name.
type UnitRename struct{ Code, From, To string }

// UserAdd creates a user for a member.
type UserAdd struct{ ID, Name, Unit, ExternalID string }

// UserMove follows a member to their main department's unit.
type UserMove struct{ ID, Name, From, To string }

// SyncLink links an org user to a platform user id.
type SyncLink struct{ UserID, ExternalID string }

// SyncSkip is something the sync leaves alone, and why.
type SyncSkip struct {
	What   string // "department 7 运维部" or "member ZhangSan"
	Reason string // one of the Skip* codes
	Detail string // the code, userid or user the reason is about
}

// Reasons a department or member is skipped (SyncSkip.Reason).
const (
	// SkipParentUnmapped: the department's parent was skipped.
	SkipParentUnmapped = "parent_unmapped"
	// SkipInvalidCode: Prefix+id is not a valid unit code (Detail).
	SkipInvalidCode = "invalid_code"
	// SkipDepartmentUnmapped: the member's main department is not synced.
	SkipDepartmentUnmapped = "department_unmapped"
	// SkipInvalidUserID: the userid (Detail) is not a valid org user id;
	// an admin links it by hand with /org user link.
	SkipInvalidUserID = "invalid_userid"
	// SkipLinkedElsewhere: the org user of that id is linked to another
	// platform user id (Detail "user ↔ other userid").
	SkipLinkedElsewhere = "linked_elsewhere"
	// SkipMatchedTwice: two members map to one org user (Detail).
	SkipMatchedTwice = "matched_twice"
	// SkipLinkedInactive: the linked org user (Detail) is removed.
	SkipLinkedInactive = "linked_inactive"
)

// Changes counts the changes of the plan.
func (p SyncPlan) Changes() int {
	return len(p.AddUnits) + len(p.RenameUnits) + len(p.AddUsers) + len(p.MoveUsers) + len(p.Links)
}

// DiffContacts compares a platform's departments and members with the org
// and returns what a sync would do. It is pure: nothing is read or
// written.
//
// The corp's root department is the org's root (city) unit. A department
// maps to the unit coded Prefix+id, else to a unit of the same name under
// the parent's unit, else a new unit is planned. A member maps to the org
// user linked to their platform user id, else to the user whose id is
// their lowercased platform user id (then linked), else a new user is
// planned; a user whose unit is not their main department's unit is moved.
func DiffContacts(c Contacts, snap SyncSnapshot, opts SyncOptions) (SyncPlan, error) {
	opts = opts.withDefaults()
	plan := SyncPlan{Platform: opts.Platform}
	root, ok := orgRoot(snap.Units)
	if !ok {
		return plan, errors.New("org: sync: the org has no root unit")
	}
	unitCodes := map[string]Unit{}
	for _, u := range snap.Units {
		unitCodes[u.Code] = u
	}
	codeOf := mapDepartments(c.Departments, root, unitCodes, opts, &plan)
	mapMembers(c.Members, snap, codeOf, &plan)
	return plan, nil
}

// orgRoot finds the city unit.
func orgRoot(units []Unit) (Unit, bool) {
	for _, u := range units {
		if u.Parent == "" || u.Level == LevelCity {
			return u, true
		}
	}
	return Unit{}, false
}

// mapDepartments plans units for departments, parents first, and returns
// department id → unit code.
func mapDepartments(depts []ContactDepartment, root Unit, units map[string]Unit, opts SyncOptions, plan *SyncPlan) map[int64]string {
	byID := map[int64]ContactDepartment{}
	for _, d := range depts {
		byID[d.ID] = d
	}
	depth := map[int64]int{}
	visiting := map[int64]bool{}
	var depthOf func(d ContactDepartment) int
	depthOf = func(d ContactDepartment) int {
		if v, ok := depth[d.ID]; ok {
			return v
		}
		visiting[d.ID] = true
		p, ok := byID[d.ParentID]
		switch {
		case d.ParentID == 0:
			depth[d.ID] = 0
		case !ok || visiting[p.ID]:
			depth[d.ID] = 1 // parent outside the visible range (or a cycle)
		default:
			depth[d.ID] = depthOf(p) + 1
		}
		visiting[d.ID] = false
		return depth[d.ID]
	}
	ordered := append([]ContactDepartment(nil), depts...)
	for _, d := range ordered {
		depthOf(d)
	}
	sort.SliceStable(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if depth[a.ID] != depth[b.ID] {
			return depth[a.ID] < depth[b.ID]
		}
		if a.Order != b.Order {
			return a.Order > b.Order // higher order first, as WeCom shows them
		}
		return a.ID < b.ID
	})
	byParentName := map[[2]string]string{}
	for _, u := range units {
		byParentName[[2]string{u.Parent, u.Name}] = u.Code
	}
	codeOf := map[int64]string{}
	for _, d := range ordered {
		dep := depth[d.ID]
		if dep == 0 {
			codeOf[d.ID] = root.Code
			continue
		}
		parent := root.Code
		if dep > 1 {
			var ok bool
			if parent, ok = codeOf[d.ParentID]; !ok {
				plan.Skipped = append(plan.Skipped, SyncSkip{What: deptName(d), Reason: SkipParentUnmapped})
				continue
			}
		}
		name := strings.TrimSpace(d.Name)
		code := opts.Prefix + strconv.FormatInt(d.ID, 10)
		if u, ok := units[code]; ok {
			codeOf[d.ID] = code
			if name != "" && name != u.Name {
				plan.RenameUnits = append(plan.RenameUnits, UnitRename{Code: code, From: u.Name, To: name})
			}
			continue
		}
		if name == "" {
			name = code // e.g. WeCom withholds names from apps without contacts rights
		}
		if existing, ok := byParentName[[2]string{parent, name}]; ok {
			codeOf[d.ID] = existing
			continue
		}
		if !ValidCode(code) {
			plan.Skipped = append(plan.Skipped, SyncSkip{What: deptName(d), Reason: SkipInvalidCode, Detail: code})
			continue
		}
		codeOf[d.ID] = code
		plan.AddUnits = append(plan.AddUnits, UnitAdd{Code: code, Name: name, Parent: parent, Level: opts.level(dep), DepartmentID: d.ID})
	}
	return codeOf
}

func deptName(d ContactDepartment) string {
	return fmt.Sprintf("department %d %s", d.ID, d.Name)
}

// mapMembers plans users, moves and links for members.
func mapMembers(members []ContactMember, snap SyncSnapshot, codeOf map[int64]string, plan *SyncPlan) {
	users := map[string]User{}
	for _, u := range snap.Users {
		users[u.ID] = u
	}
	linkedTo := map[string]string{} // org user id → platform user id
	for w, u := range snap.Links {
		linkedTo[u] = w
	}
	matched := map[string]bool{}
	for _, m := range members {
		if !m.Active {
			continue
		}
		what := "member " + m.ExternalID
		unit, ok := codeOf[m.MainDepartment]
		if !ok {
			plan.Skipped = append(plan.Skipped, SyncSkip{What: what, Reason: SkipDepartmentUnmapped})
			continue
		}
		id, linked := snap.Links[m.ExternalID]
		if !linked {
			id = strings.ToLower(m.ExternalID)
			if !ValidCode(id) {
				plan.Skipped = append(plan.Skipped, SyncSkip{What: what, Reason: SkipInvalidUserID, Detail: m.ExternalID})
				continue
			}
			if other, ok := linkedTo[id]; ok && other != m.ExternalID {
				plan.Skipped = append(plan.Skipped, SyncSkip{What: what, Reason: SkipLinkedElsewhere, Detail: id + " ↔ " + other})
				continue
			}
		}
		if matched[id] {
			plan.Skipped = append(plan.Skipped, SyncSkip{What: what, Reason: SkipMatchedTwice, Detail: id})
			continue
		}
		matched[id] = true
		u, exists := users[id]
		name := strings.TrimSpace(m.Name)
		if name == "" {
			name = m.ExternalID
		}
		switch {
		case !exists && linked:
			plan.Skipped = append(plan.Skipped, SyncSkip{What: what, Reason: SkipLinkedInactive, Detail: id})
			continue
		case !exists:
			plan.AddUsers = append(plan.AddUsers, UserAdd{ID: id, Name: name, Unit: unit, ExternalID: m.ExternalID})
		case u.Unit != unit:
			plan.MoveUsers = append(plan.MoveUsers, UserMove{ID: id, Name: u.Name, From: u.Unit, To: unit})
		}
		if !linked {
			plan.Links = append(plan.Links, SyncLink{UserID: id, ExternalID: m.ExternalID})
		}
	}
	for _, u := range snap.Users {
		if !matched[u.ID] && u.ID != core.SystemUser {
			plan.NotInPlatform = append(plan.NotInPlatform, u.ID)
		}
	}
	sort.Strings(plan.NotInPlatform)
}

// SyncReader reads the org for a sync; *Service implements it.
type SyncReader interface {
	Tree(ctx context.Context, actor core.Actor, root string) ([]TreeNode, error)
	Directory(ctx context.Context) ([]Profile, error)
	Addresses(ctx context.Context, userID string) (map[string]string, error)
}

// Snapshot reads the active units, users and platform links of the org.
func Snapshot(ctx context.Context, r SyncReader, actor core.Actor, platform string) (SyncSnapshot, error) {
	nodes, err := r.Tree(ctx, actor, "")
	if err != nil {
		return SyncSnapshot{}, fmt.Errorf("org: sync: org tree: %w", err)
	}
	profiles, err := r.Directory(ctx)
	if err != nil {
		return SyncSnapshot{}, fmt.Errorf("org: sync: org users: %w", err)
	}
	snap := SyncSnapshot{Links: map[string]string{}}
	for _, n := range nodes {
		snap.Units = append(snap.Units, n.Unit)
	}
	for _, p := range profiles {
		snap.Users = append(snap.Users, p.User)
		addrs, err := r.Addresses(ctx, p.User.ID)
		if err != nil {
			return SyncSnapshot{}, fmt.Errorf("org: sync: addresses of %s: %w", p.User.ID, err)
		}
		if w, ok := addrs[platform]; ok {
			snap.Links[w] = p.User.ID
		}
	}
	return snap, nil
}

// SyncWriter makes the changes of a sync; *Service implements it.
type SyncWriter interface {
	AddUnit(ctx context.Context, actor core.Actor, code, name, parent string, level Level) (Unit, error)
	RenameUnit(ctx context.Context, actor core.Actor, code, name string) (Unit, error)
	AddUser(ctx context.Context, actor core.Actor, id, name, unit string) (User, error)
	MoveUser(ctx context.Context, actor core.Actor, id, unit string) (User, error)
	LinkIdentity(ctx context.Context, actor core.Actor, userID, platform, externalID string) error
}

// SyncResult says how a sync went.
type SyncResult struct {
	Done   int
	Failed []SyncStepError
}

// SyncStepError is one change of a sync that failed.
type SyncStepError struct {
	Step string // e.g. "add unit wecom-7"
	Err  error
}

// ApplySync makes the changes of plan as actor, each through the org
// service (so each is permission-checked and audited on its own). A failed
// step is recorded and the rest go on; steps that depend on it fail too.
func ApplySync(ctx context.Context, w SyncWriter, actor core.Actor, plan SyncPlan) SyncResult {
	var res SyncResult
	step := func(name string, err error) {
		if err != nil {
			res.Failed = append(res.Failed, SyncStepError{Step: name, Err: err})
			return
		}
		res.Done++
	}
	for _, u := range plan.AddUnits {
		_, err := w.AddUnit(ctx, actor, u.Code, u.Name, u.Parent, u.Level)
		step("add unit "+u.Code, err)
	}
	for _, r := range plan.RenameUnits {
		_, err := w.RenameUnit(ctx, actor, r.Code, r.To)
		step("rename unit "+r.Code, err)
	}
	for _, u := range plan.AddUsers {
		_, err := w.AddUser(ctx, actor, u.ID, u.Name, u.Unit)
		step("add user "+u.ID, err)
	}
	for _, m := range plan.MoveUsers {
		_, err := w.MoveUser(ctx, actor, m.ID, m.To)
		step("move user "+m.ID, err)
	}
	for _, l := range plan.Links {
		step("link user "+l.UserID, w.LinkIdentity(ctx, actor, l.UserID, plan.Platform, l.ExternalID))
	}
	return res
}

// SyncService is what a Syncer needs of the org; *Service implements it.
type SyncService interface {
	SyncReader
	SyncWriter
	Whoami(ctx context.Context, actor core.Actor) (Profile, error)
}

// Syncer runs /org sync <platform>: Plan for the dry run, Apply on
// confirm. Both are for sys admins only and read the platform's contacts
// and the org afresh, so a confirm applies what is true at that moment.
type Syncer struct {
	contacts ContactSource
	org      SyncService
	opts     SyncOptions
}

// NewSyncer returns a syncer from platform's contacts into the org.
func NewSyncer(platform string, contacts ContactSource, svc SyncService, opts SyncOptions) *Syncer {
	opts.Platform = platform
	return &Syncer{contacts: contacts, org: svc, opts: opts}
}

// Plan returns what a sync would change now.
func (s *Syncer) Plan(ctx context.Context, actor core.Actor) (SyncPlan, error) {
	p, err := s.org.Whoami(ctx, actor)
	if err != nil {
		return SyncPlan{}, err
	}
	if !HasRole(p.Grants, RoleSysAdmin) {
		return SyncPlan{}, core.Forbidden("need_sys_admin", "action", "org.sync")
	}
	c, err := s.contacts.Fetch(ctx)
	if err != nil {
		return SyncPlan{}, err
	}
	snap, err := Snapshot(ctx, s.org, actor, s.opts.Platform)
	if err != nil {
		return SyncPlan{}, err
	}
	return DiffContacts(c, snap, s.opts)
}

// Apply plans afresh and makes the changes.
func (s *Syncer) Apply(ctx context.Context, actor core.Actor) (SyncPlan, SyncResult, error) {
	plan, err := s.Plan(ctx, actor)
	if err != nil {
		return SyncPlan{}, SyncResult{}, err
	}
	return plan, ApplySync(ctx, s.org, actor, plan), nil
}
