package org

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// Level is a unit's place in the tree.
type Level string

// Unit levels, top to bottom.
const (
	LevelCity       Level = "city"
	LevelDistrict   Level = "district"
	LevelUnit       Level = "unit"
	LevelDepartment Level = "department"
)

// Valid reports whether l is a known level.
func (l Level) Valid() bool {
	switch l {
	case LevelCity, LevelDistrict, LevelUnit, LevelDepartment:
		return true
	}
	return false
}

// parentLevels lists the levels a unit of each level may hang under.
var parentLevels = map[Level][]Level{
	LevelDistrict:   {LevelCity},
	LevelUnit:       {LevelCity, LevelDistrict},
	LevelDepartment: {LevelUnit, LevelDepartment},
}

// Role is a named set of rights held over a scope.
type Role string

// The roles of DESIGN §6.
const (
	RoleSysAdmin      Role = "sys_admin"
	RoleDistrictAdmin Role = "district_admin"
	RoleUnitAdmin     Role = "unit_admin"
	RoleUnitContact   Role = "unit_contact"
	RoleOperator      Role = "operator"
	RoleAccessParty   Role = "access_party"
)

// Roles lists every grantable role in order of rank.
var Roles = []Role{RoleSysAdmin, RoleDistrictAdmin, RoleUnitAdmin, RoleUnitContact, RoleOperator, RoleAccessParty}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// HasRole reports whether any of grants is of role r (on any scope).
func HasRole(grants []Grant, r Role) bool {
	return slices.ContainsFunc(grants, func(g Grant) bool { return g.Role == r })
}

// Unit is one node of the org tree. Path is "/" + the codes from the root
// down to this unit, each followed by "/", so a subtree is a path prefix.
type Unit struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Level     Level     `json:"level"`
	Parent    string    `json:"parent,omitempty"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"-"`
	Removed   bool      `json:"removed,omitempty"`
}

// Contains reports whether other is u or below it.
func (u Unit) Contains(other Unit) bool { return strings.HasPrefix(other.Path, u.Path) }

// User is a person in the org.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Unit      string    `json:"unit"`
	CreatedAt time.Time `json:"-"`
	Removed   bool      `json:"removed,omitempty"`
	// Service marks a service user: an integration acting under its own
	// name with the roles the config gives it (api.service_users). It
	// signs in with service tokens only, and is never chosen as a person
	// to notify, to approve or to be on duty (Directory.Holders skips it).
	Service bool `json:"service,omitempty"`
	// Language is the language the user chose for replies and notices
	// (LanguageZH, LanguageEN, or "" for the bot's default).
	Language string `json:"language,omitempty"`
}

// Languages a user can choose (the bot's catalogs).
const (
	LanguageZH = "zh-CN"
	LanguageEN = "en"
)

// Grant is a role held by a user over a scope: a unit code, or an app code
// for access_party.
type Grant struct {
	UserID    string    `json:"user"`
	Role      Role      `json:"role"`
	Scope     string    `json:"scope"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
}

// Identity links a platform account to an org user.
type Identity struct {
	Platform   string `json:"platform"`
	ExternalID string `json:"external_id"`
	UserID     string `json:"user"`
}

// App is the part of an application the org needs: who owns it.
type App struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	Scope   string `json:"scope"` // unit | cross
	Level   string `json:"level"` // city | district | unit
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// Rotation is a duty rotation as the demo org defines it.
type Rotation struct {
	Name         string   `json:"name"`
	Unit         string   `json:"unit"`
	Members      []string `json:"members"`
	Every        string   `json:"every"`
	Handover     string   `json:"handover"`
	SkipHolidays bool     `json:"skip_holidays"`
}

// Identity platforms besides the chat platforms: an OIDC sign-in maps its
// email or phone claim to the user linked to that address.
const (
	IdentityEmail = "email"
	IdentityPhone = "phone"
)

// LinkPlatforms are the platforms /org user link accepts.
var LinkPlatforms = []string{core.PlatformWeCom, core.PlatformSlack, IdentityEmail, IdentityPhone}

// UserReader is what deciding who may act for a user reads.
type UserReader interface {
	User(ctx context.Context, id string) (User, error)
	Unit(ctx context.Context, code string) (Unit, error)
	GrantsOf(ctx context.Context, userID string) ([]Grant, error)
}

// Directory reads the org: units, users and who holds which role where.
// Getters return an error wrapping core.ErrNotFound for a missing row and
// include removed rows (check Removed).
type Directory interface {
	Unit(ctx context.Context, code string) (Unit, error)
	// Subtree returns the active units under the path prefix, ordered by path.
	Subtree(ctx context.Context, pathPrefix string) ([]Unit, error)
	Root(ctx context.Context) (Unit, error)
	User(ctx context.Context, id string) (User, error)
	// UsersIn returns the active users whose unit is one of codes, ordered by id.
	UsersIn(ctx context.Context, codes []string) ([]User, error)
	// GrantsOf returns a user's grants, ordered by role then scope.
	GrantsOf(ctx context.Context, userID string) ([]Grant, error)
	// GrantsOn returns the grants held on a scope, ordered by user.
	GrantsOn(ctx context.Context, scope string) ([]Grant, error)
	// Holders returns the active people holding role (on any scope),
	// ordered by id: service users are left out, since holders are whom
	// notices, approvals and duty go to.
	Holders(ctx context.Context, role Role) ([]Grant, error)
}

// Editor changes units, users and grants, with the audit entries and
// notices of each change.
type Editor interface {
	core.Recorder
	InsertUnit(ctx context.Context, u Unit) error
	UpdateUnit(ctx context.Context, u Unit) error
	// RepathSubtree rewrites the paths of every unit under oldPrefix to start with newPrefix.
	RepathSubtree(ctx context.Context, oldPrefix, newPrefix string) error
	InsertUser(ctx context.Context, u User) error
	UpdateUser(ctx context.Context, u User) error
	InsertGrant(ctx context.Context, g Grant) error
	DeleteGrant(ctx context.Context, userID string, role Role, scope string) error
}

// Accounts are how users sign in: their platform identities and their
// personal web chat tokens.
type Accounts interface {
	Identity(ctx context.Context, platform, externalID string) (Identity, error)
	IdentitiesOf(ctx context.Context, userID string) ([]Identity, error)
	UpsertIdentity(ctx context.Context, id Identity) error
	InsertWebToken(ctx context.Context, t WebToken) error
	// WebTokenUser returns the user of an unrevoked token unexpired at now.
	WebTokenUser(ctx context.Context, hash string, now time.Time) (string, error)
	// RevokeWebTokens revokes a user's tokens and says how many were live.
	RevokeWebTokens(ctx context.Context, userID string, now time.Time) (int, error)
}

// Seeder is what the demo org adds besides units, users and roles, and
// the app lookup access_party grants are scoped by.
type Seeder interface {
	App(ctx context.Context, code string) (App, error)
	InsertApp(ctx context.Context, a App) error
	InsertRotation(ctx context.Context, r Rotation) error
}

// Trail reads the audit log.
type Trail interface {
	// AuditTrail returns the audit entries about an entity, oldest first.
	AuditTrail(ctx context.Context, entity string) ([]core.AuditEntry, error)
	// AuditSearch returns the entries q selects, newest first.
	AuditSearch(ctx context.Context, q AuditQuery) ([]core.AuditEntry, error)
}

// AuditQuery selects audit entries: by who acted (Actor, "" anyone), by
// what was done (Action: one action, or every action under a prefix that
// ends in ".", e.g. "incident."; "" any), about what (Entity, e.g.
// "incident:7"; "" any), dated in [Since, Until) (a zero time leaves
// that end open), older than entry Before (0: from the newest), newest
// first, at most Limit.
type AuditQuery struct {
	Actor        string
	Action       string
	Entity       string
	Since, Until time.Time
	Before       int64
	Limit        int
}

// Matches reports whether e is selected by q's actor, action, entity and
// dates (not Before or Limit).
func (q AuditQuery) Matches(e core.AuditEntry) bool {
	action := q.Action == "" || e.Action == q.Action || (strings.HasSuffix(q.Action, ".") && strings.HasPrefix(e.Action, q.Action))
	return action && (q.Actor == "" || e.Actor == q.Actor) && (q.Entity == "" || e.Entity == q.Entity) &&
		(q.Since.IsZero() || !e.At.Before(q.Since)) && (q.Until.IsZero() || e.At.Before(q.Until))
}

// MaxAuditPage is the most entries one audit search returns.
const MaxAuditPage = 1000

// Ports are one transaction seen through the org's narrow ports; a store
// hands the same transaction as each, so everything commits together.
type Ports struct {
	Directory
	Editor
	Accounts
	Seeder
	Trail
}

// Store runs org work in transactions. fn's error rolls everything back.
type Store interface {
	InTx(ctx context.Context, fn func(p Ports) error) error
	// Exclusive runs fn while holding the lock name, shared by every
	// process on the same database: replicas that start together seed
	// the org one at a time.
	Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// HolderLister lists who holds a role.
type HolderLister interface {
	Holders(ctx context.Context, role Role) ([]Grant, error)
}

// GrantLister lists a user's grants.
type GrantLister interface {
	GrantsOf(ctx context.Context, userID string) ([]Grant, error)
}

// AdminFinder is what AdminsOf reads.
type AdminFinder interface {
	HolderLister
	User(ctx context.Context, id string) (User, error)
	Unit(ctx context.Context, code string) (Unit, error)
}

// Limits on codes and platform accounts, in characters.
const (
	// MaxCode is the longest unit, user, app or plan code.
	MaxCode = 64
	// MaxExternalID is the longest platform account id.
	MaxExternalID = 128
)

var codePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,` + strconv.Itoa(MaxCode-1) + `}$`)

// ValidCode reports whether s can be a unit, user or app code.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// CheckCode returns an ErrInvalid "code" error, carrying MaxCode, when s
// is not a valid code for field.
func CheckCode(field, s string) error {
	if !ValidCode(s) {
		return core.LimitError("code", field, s, MaxCode)
	}
	return nil
}

func checkName(field, s string) error { return core.CheckName(field, s, core.MaxName) }
