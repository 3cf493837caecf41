package wecom

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
)

// SyncOptions tunes how WeCom departments map onto org units.
type SyncOptions struct {
	// Prefix makes the code of a unit created for a department: Prefix +
	// department id (default "wecom-").
	Prefix string
	// Levels is the org level of departments by depth below the corp's
	// root department: Levels[0] for its children, the last entry for
	// anything deeper (default unit, then department).
	Levels []org.Level
}

func (o SyncOptions) withDefaults() SyncOptions {
	if o.Prefix == "" {
		o.Prefix = "wecom-"
	}
	if len(o.Levels) == 0 {
		o.Levels = []org.Level{org.LevelUnit, org.LevelDepartment}
	}
	return o
}

func (o SyncOptions) level(depth int) org.Level {
	if depth-1 < len(o.Levels) {
		return o.Levels[depth-1]
	}
	return o.Levels[len(o.Levels)-1]
}

// OrgSnapshot is the part of the org a sync compares against.
type OrgSnapshot struct {
	Units []org.Unit        // active units
	Users []org.User        // active users
	Links map[string]string // WeCom userid → org user id
}

// Plan is what a sync would change, in the order Apply makes the changes.
type Plan struct {
	AddUnits    []UnitAdd
	RenameUnits []UnitRename
	AddUsers    []UserAdd
	MoveUsers   []UserMove
	Links       []Link
	// Skipped lists what the sync cannot map, with the reason.
	Skipped []Skip
	// NotInWeCom lists active org users matched by no WeCom member. The
	// sync never removes anyone; admins decide.
	NotInWeCom []string
}

// UnitAdd creates a unit for a department.
type UnitAdd struct {
	Code, Name, Parent string
	Level              org.Level
	DepartmentID       int64
}

// UnitRename follows a department's new name.
type UnitRename struct{ Code, From, To string }

// UserAdd creates a user for a member.
type UserAdd struct{ ID, Name, Unit, WeComID string }

// UserMove follows a member to their main department's unit.
type UserMove struct{ ID, Name, From, To string }

// Link links an org user to a WeCom userid.
type Link struct{ UserID, WeComID string }

// Skip is something the sync leaves alone, and why.
type Skip struct {
	What   string // "department 7 运维部" or "member ZhangSan"
	Reason string // one of the Skip* codes
	Detail string // the code, userid or user the reason is about
}

// Reasons a department or member is skipped (Skip.Reason).
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
	// WeCom userid (Detail "user ↔ other userid").
	SkipLinkedElsewhere = "linked_elsewhere"
	// SkipMatchedTwice: two members map to one org user (Detail).
	SkipMatchedTwice = "matched_twice"
	// SkipLinkedInactive: the linked org user (Detail) is removed.
	SkipLinkedInactive = "linked_inactive"
)

// Changes counts the changes of the plan.
func (p Plan) Changes() int {
	return len(p.AddUnits) + len(p.RenameUnits) + len(p.AddUsers) + len(p.MoveUsers) + len(p.Links)
}

// Diff compares WeCom's departments and members with the org and returns
// what a sync would do. It is pure: nothing is read or written.
//
// The corp's root department is the org's root (city) unit. A department
// maps to the unit coded Prefix+id, else to a unit of the same name under
// the parent's unit, else a new unit is planned. A member maps to the org
// user linked to their userid, else to the user whose id is their
// lowercased userid (then linked), else a new user is planned; a user
// whose unit is not their main department's unit is moved.
func Diff(depts []Department, members []Member, snap OrgSnapshot, opts SyncOptions) (Plan, error) {
	opts = opts.withDefaults()
	var plan Plan
	root, ok := orgRoot(snap.Units)
	if !ok {
		return plan, errors.New("wecom: sync: the org has no root unit")
	}
	unitCodes := map[string]org.Unit{}
	for _, u := range snap.Units {
		unitCodes[u.Code] = u
	}
	codeOf := mapDepartments(depts, root, unitCodes, opts, &plan)
	mapMembers(members, snap, codeOf, &plan)
	return plan, nil
}

// orgRoot finds the city unit.
func orgRoot(units []org.Unit) (org.Unit, bool) {
	for _, u := range units {
		if u.Parent == "" || u.Level == org.LevelCity {
			return u, true
		}
	}
	return org.Unit{}, false
}

// mapDepartments plans units for departments, parents first, and returns
// department id → unit code.
func mapDepartments(depts []Department, root org.Unit, units map[string]org.Unit, opts SyncOptions, plan *Plan) map[int64]string {
	byID := map[int64]Department{}
	for _, d := range depts {
		byID[d.ID] = d
	}
	depth := map[int64]int{}
	visiting := map[int64]bool{}
	var depthOf func(d Department) int
	depthOf = func(d Department) int {
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
	ordered := append([]Department(nil), depts...)
	for _, d := range ordered {
		depthOf(d)
	}
	sort.SliceStable(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if depth[a.ID] != depth[b.ID] {
			return depth[a.ID] < depth[b.ID]
		}
		if a.Order != b.Order {
			return a.Order > b.Order // WeCom: higher order first
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
				plan.Skipped = append(plan.Skipped, Skip{What: deptName(d), Reason: SkipParentUnmapped})
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
			name = code // WeCom withholds names from apps without contacts rights
		}
		if existing, ok := byParentName[[2]string{parent, name}]; ok {
			codeOf[d.ID] = existing
			continue
		}
		if !org.ValidCode(code) {
			plan.Skipped = append(plan.Skipped, Skip{What: deptName(d), Reason: SkipInvalidCode, Detail: code})
			continue
		}
		codeOf[d.ID] = code
		plan.AddUnits = append(plan.AddUnits, UnitAdd{Code: code, Name: name, Parent: parent, Level: opts.level(dep), DepartmentID: d.ID})
	}
	return codeOf
}

func deptName(d Department) string {
	return fmt.Sprintf("department %d %s", d.ID, d.Name)
}

// mapMembers plans users, moves and links for members.
func mapMembers(members []Member, snap OrgSnapshot, codeOf map[int64]string, plan *Plan) {
	users := map[string]org.User{}
	for _, u := range snap.Users {
		users[u.ID] = u
	}
	linkedTo := map[string]string{} // org user id → WeCom userid
	for w, u := range snap.Links {
		linkedTo[u] = w
	}
	matched := map[string]bool{}
	for _, m := range members {
		if !m.Active() {
			continue
		}
		what := "member " + m.UserID
		unit, ok := codeOf[m.Main()]
		if !ok {
			plan.Skipped = append(plan.Skipped, Skip{What: what, Reason: SkipDepartmentUnmapped})
			continue
		}
		id, linked := snap.Links[m.UserID]
		if !linked {
			id = strings.ToLower(m.UserID)
			if !org.ValidCode(id) {
				plan.Skipped = append(plan.Skipped, Skip{What: what, Reason: SkipInvalidUserID, Detail: m.UserID})
				continue
			}
			if other, ok := linkedTo[id]; ok && other != m.UserID {
				plan.Skipped = append(plan.Skipped, Skip{What: what, Reason: SkipLinkedElsewhere, Detail: id + " ↔ " + other})
				continue
			}
		}
		if matched[id] {
			plan.Skipped = append(plan.Skipped, Skip{What: what, Reason: SkipMatchedTwice, Detail: id})
			continue
		}
		matched[id] = true
		u, exists := users[id]
		name := strings.TrimSpace(m.Name)
		if name == "" {
			name = m.UserID
		}
		switch {
		case !exists && linked:
			plan.Skipped = append(plan.Skipped, Skip{What: what, Reason: SkipLinkedInactive, Detail: id})
			continue
		case !exists:
			plan.AddUsers = append(plan.AddUsers, UserAdd{ID: id, Name: name, Unit: unit, WeComID: m.UserID})
		case u.Unit != unit:
			plan.MoveUsers = append(plan.MoveUsers, UserMove{ID: id, Name: u.Name, From: u.Unit, To: unit})
		}
		if !linked {
			plan.Links = append(plan.Links, Link{UserID: id, WeComID: m.UserID})
		}
	}
	for _, u := range snap.Users {
		if !matched[u.ID] && u.ID != core.SystemUser {
			plan.NotInWeCom = append(plan.NotInWeCom, u.ID)
		}
	}
	sort.Strings(plan.NotInWeCom)
}

// OrgReader reads the org for a sync; *org.Service implements it.
type OrgReader interface {
	Tree(ctx context.Context, actor core.Actor, root string) ([]org.TreeNode, error)
	Directory(ctx context.Context) ([]org.Profile, error)
	Addresses(ctx context.Context, userID string) (map[string]string, error)
}

// Snapshot reads the active units, users and WeCom links of the org.
func Snapshot(ctx context.Context, r OrgReader, actor core.Actor) (OrgSnapshot, error) {
	nodes, err := r.Tree(ctx, actor, "")
	if err != nil {
		return OrgSnapshot{}, fmt.Errorf("wecom: sync: org tree: %w", err)
	}
	profiles, err := r.Directory(ctx)
	if err != nil {
		return OrgSnapshot{}, fmt.Errorf("wecom: sync: org users: %w", err)
	}
	snap := OrgSnapshot{Links: map[string]string{}}
	for _, n := range nodes {
		snap.Units = append(snap.Units, n.Unit)
	}
	for _, p := range profiles {
		snap.Users = append(snap.Users, p.User)
		addrs, err := r.Addresses(ctx, p.User.ID)
		if err != nil {
			return OrgSnapshot{}, fmt.Errorf("wecom: sync: addresses of %s: %w", p.User.ID, err)
		}
		if w, ok := addrs[core.PlatformWeCom]; ok {
			snap.Links[w] = p.User.ID
		}
	}
	return snap, nil
}

// OrgWriter makes the changes of a sync; *org.Service implements it.
type OrgWriter interface {
	AddUnit(ctx context.Context, actor core.Actor, code, name, parent string, level org.Level) (org.Unit, error)
	RenameUnit(ctx context.Context, actor core.Actor, code, name string) (org.Unit, error)
	AddUser(ctx context.Context, actor core.Actor, id, name, unit string) (org.User, error)
	MoveUser(ctx context.Context, actor core.Actor, id, unit string) (org.User, error)
	LinkIdentity(ctx context.Context, actor core.Actor, userID, platform, externalID string) error
}

// ApplyResult says how a sync went.
type ApplyResult struct {
	Done   int
	Failed []StepError
}

// StepError is one change that failed.
type StepError struct {
	Step string // e.g. "add unit wecom-7"
	Err  error
}

// Apply makes the changes of plan as actor, each through the org service
// (so each is permission-checked and audited on its own). A failed step
// is recorded and the rest go on; steps that depend on it fail too.
func Apply(ctx context.Context, w OrgWriter, actor core.Actor, plan Plan) ApplyResult {
	var res ApplyResult
	step := func(name string, err error) {
		if err != nil {
			res.Failed = append(res.Failed, StepError{Step: name, Err: err})
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
		step("link user "+l.UserID, w.LinkIdentity(ctx, actor, l.UserID, core.PlatformWeCom, l.WeComID))
	}
	return res
}

// OrgService is what a Syncer needs of the org; *org.Service implements it.
type OrgService interface {
	OrgReader
	OrgWriter
	Whoami(ctx context.Context, actor core.Actor) (org.Profile, error)
}

// ContactsSource lists WeCom's departments and members; *Contacts
// implements it.
type ContactsSource interface {
	All(ctx context.Context) ([]Department, []Member, error)
}

// Syncer runs /org sync wecom: Plan for the dry run, Apply on confirm.
// Both are for sys admins only and read WeCom and the org afresh, so a
// confirm applies what is true at that moment.
type Syncer struct {
	contacts ContactsSource
	org      OrgService
	opts     SyncOptions
}

// NewSyncer returns a syncer over WeCom contacts and the org.
func NewSyncer(contacts ContactsSource, svc OrgService, opts SyncOptions) *Syncer {
	return &Syncer{contacts: contacts, org: svc, opts: opts}
}

// Plan returns what a sync would change now.
func (s *Syncer) Plan(ctx context.Context, actor core.Actor) (Plan, error) {
	p, err := s.org.Whoami(ctx, actor)
	if err != nil {
		return Plan{}, err
	}
	if !org.HasRole(p.Grants, org.RoleSysAdmin) {
		return Plan{}, core.Forbidden("need_sys_admin", "action", "org.sync")
	}
	depts, members, err := s.contacts.All(ctx)
	if err != nil {
		return Plan{}, err
	}
	snap, err := Snapshot(ctx, s.org, actor)
	if err != nil {
		return Plan{}, err
	}
	return Diff(depts, members, snap, s.opts)
}

// Apply plans afresh and makes the changes.
func (s *Syncer) Apply(ctx context.Context, actor core.Actor) (Plan, ApplyResult, error) {
	plan, err := s.Plan(ctx, actor)
	if err != nil {
		return Plan{}, ApplyResult{}, err
	}
	return plan, Apply(ctx, s.org, actor, plan), nil
}
