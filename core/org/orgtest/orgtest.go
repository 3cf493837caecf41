// Package orgtest is an in-memory org for unit tests of the domains that
// read it: units, users, grants and apps in maps, behind org.Directory and
// the app lookups, with the audit entries and notices of core.Recorder.
package orgtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
)

// Org is an in-memory org. Getters return an error wrapping
// core.ErrNotFound for a missing row and include removed rows, like a
// store does.
type Org struct {
	Units     map[string]org.Unit
	Users     map[string]org.User
	Grants    []org.Grant
	AppByCode map[string]org.App
	Audits    []core.AuditEntry
	Notices   []core.Notice
}

// New returns an empty org.
func New() *Org {
	return &Org{Units: map[string]org.Unit{}, Users: map[string]org.User{}, AppByCode: map[string]org.App{}}
}

// Clone returns a copy to restore when a transaction fails.
func (o *Org) Clone() *Org {
	return &Org{Units: maps.Clone(o.Units), Users: maps.Clone(o.Users), Grants: slices.Clone(o.Grants), AppByCode: maps.Clone(o.AppByCode),
		Audits: slices.Clone(o.Audits), Notices: slices.Clone(o.Notices)}
}

// NotFound is the error of a missing row.
func NotFound(what, key string) error { return fmt.Errorf("%s %s: %w", what, key, core.ErrNotFound) }

// AddUnit adds a unit named after its code under parent ("" for the city).
func (o *Org) AddUnit(code string, level org.Level, parent string) {
	path := "/" + code + "/"
	if parent != "" {
		path = o.Units[parent].Path + code + "/"
	}
	o.Units[code] = org.Unit{Code: code, Name: code, Level: level, Parent: parent, Path: path}
}

// AddUser adds a user named "name of <id>", holding role on scope unless role is "".
func (o *Org) AddUser(id, unit string, role org.Role, scope string) {
	o.Users[id] = org.User{ID: id, Name: "name of " + id, Unit: unit}
	if role != "" {
		o.Grants = append(o.Grants, org.Grant{UserID: id, Role: role, Scope: scope})
	}
}

// Unit returns a unit.
func (o *Org) Unit(_ context.Context, code string) (org.Unit, error) {
	u, ok := o.Units[code]
	if !ok {
		return u, NotFound("unit", code)
	}
	return u, nil
}

// Subtree returns the active units under the path prefix, ordered by path.
func (o *Org) Subtree(_ context.Context, prefix string) ([]org.Unit, error) {
	var out []org.Unit
	for _, u := range o.Units {
		if strings.HasPrefix(u.Path, prefix) && !u.Removed {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Root returns the city.
func (o *Org) Root(_ context.Context) (org.Unit, error) {
	for _, u := range o.Units {
		if u.Parent == "" {
			return u, nil
		}
	}
	return org.Unit{}, NotFound("unit", "root")
}

// User returns a user.
func (o *Org) User(_ context.Context, id string) (org.User, error) {
	u, ok := o.Users[id]
	if !ok {
		return u, NotFound("user", id)
	}
	return u, nil
}

// UsersIn returns the active users of the units codes, ordered by id.
func (o *Org) UsersIn(_ context.Context, codes []string) ([]org.User, error) {
	var out []org.User
	for _, u := range o.Users {
		if slices.Contains(codes, u.Unit) && !u.Removed {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (o *Org) grantsWhere(keep func(g org.Grant) bool) []org.Grant {
	var out []org.Grant
	for _, g := range o.Grants {
		if keep(g) {
			out = append(out, g)
		}
	}
	return out
}

// GrantsOf returns a user's grants.
func (o *Org) GrantsOf(_ context.Context, userID string) ([]org.Grant, error) {
	return o.grantsWhere(func(g org.Grant) bool { return g.UserID == userID }), nil
}

// GrantsOn returns the grants held on a scope.
func (o *Org) GrantsOn(_ context.Context, scope string) ([]org.Grant, error) {
	return o.grantsWhere(func(g org.Grant) bool { return g.Scope == scope }), nil
}

// Holders returns the grants of role held by active users, ordered by user.
func (o *Org) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	out := o.grantsWhere(func(g org.Grant) bool {
		return g.Role == role && !o.Users[g.UserID].Removed && !o.Users[g.UserID].Service
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

// RemoveGrant removes a grant.
func (o *Org) RemoveGrant(userID string, role org.Role, scope string) {
	o.Grants = o.grantsWhere(func(g org.Grant) bool { return g.UserID != userID || g.Role != role || g.Scope != scope })
}

// App returns an app.
func (o *Org) App(_ context.Context, code string) (org.App, error) {
	a, ok := o.AppByCode[code]
	if !ok {
		return a, NotFound("app", code)
	}
	return a, nil
}

// InsertApp adds or replaces an app.
func (o *Org) InsertApp(_ context.Context, a org.App) error { o.AppByCode[a.Code] = a; return nil }

// Audit appends an audit entry.
func (o *Org) Audit(_ context.Context, e core.AuditEntry) error {
	o.Audits = append(o.Audits, e)
	return nil
}

// Notify queues a notice.
func (o *Org) Notify(_ context.Context, n core.Notice) error {
	o.Notices = append(o.Notices, n)
	return nil
}
