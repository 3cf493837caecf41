package api

import (
	"context"
	"net/http"

	"opsbot/core"
	"opsbot/core/org"
)

// OrgService is the org service (core/org), as /org tree, /org user show,
// /org unit add, /org user add and /org role grant use it. Anyone
// registered may read; the core lets only the admins covering a unit
// change it.
type OrgService interface {
	Tree(ctx context.Context, actor core.Actor, root string) ([]org.TreeNode, error)
	Users(ctx context.Context, actor core.Actor, unit string) ([]org.User, error)
	ShowUser(ctx context.Context, actor core.Actor, id string) (org.Profile, error)
	AddUnit(ctx context.Context, actor core.Actor, code, name, parent string, level org.Level) (org.Unit, error)
	AddUser(ctx context.Context, actor core.Actor, id, name, unit string) (org.User, error)
	GrantRole(ctx context.Context, actor core.Actor, userID string, role org.Role, scope string) (org.Grant, error)
}

// OrgUnit is a unit of the org tree (city → district → unit → department).
type OrgUnit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level" enum:"city,district,unit,department"`
	Parent string `json:"parent,omitempty"`
	Path   string `json:"path" doc:"\"/\" and the codes from the root down to the unit, each followed by \"/\"."`
}

// OrgTreeUnit is a unit in a tree listing, depth first.
type OrgTreeUnit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level" enum:"city,district,unit,department"`
	Parent string `json:"parent,omitempty"`
	Path   string `json:"path"`
	Depth  int    `json:"depth" doc:"0 for the listing's root."`
	Users  int    `json:"users" doc:"Users directly in the unit."`
}

// OrgUser is a person in the org.
type OrgUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// OrgProfile is a user with their unit, roles and platform accounts.
type OrgProfile struct {
	User       OrgUser       `json:"user"`
	Unit       OrgUnit       `json:"unit"`
	Roles      []OrgGrant    `json:"roles"`
	Identities []OrgIdentity `json:"identities"`
}

// OrgGrant is a role a user holds on a scope (a unit code, or an app
// code for an app's access party).
type OrgGrant struct {
	User      string `json:"user"`
	Role      string `json:"role" enum:"sys_admin,district_admin,unit_admin,unit_contact,operator,access_party"`
	Scope     string `json:"scope"`
	GrantedBy string `json:"granted_by"`
}

// OrgIdentity links a platform account to the user.
type OrgIdentity struct {
	Platform   string `json:"platform"`
	ExternalID string `json:"external_id"`
}

// NewOrgUnit is a unit to add.
type NewOrgUnit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	Level  string `json:"level" enum:"district,unit,department"`
}

// NewOrgUser is a user to add.
type NewOrgUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// NewOrgGrant is a role to grant.
type NewOrgGrant struct {
	Role  string `json:"role" enum:"sys_admin,district_admin,unit_admin,unit_contact,operator,access_party"`
	Scope string `json:"scope,omitempty" doc:"A unit code (an app code for access_party); default: the city for city-wide roles, else the user's unit."`
}

func orgUnit(u org.Unit) OrgUnit {
	return OrgUnit{Code: u.Code, Name: u.Name, Level: string(u.Level), Parent: u.Parent, Path: u.Path}
}

func orgUser(u org.User) OrgUser { return OrgUser{ID: u.ID, Name: u.Name, Unit: u.Unit} }

func orgGrant(g org.Grant) OrgGrant {
	return OrgGrant{User: g.UserID, Role: string(g.Role), Scope: g.Scope, GrantedBy: g.GrantedBy}
}

// orgRoutes read the org tree and its users; admins add units and users
// and grant roles.
func (a *API) orgRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/org/units", OperationID: "listOrgUnits", Tag: "org",
			Summary: "The org tree under a unit, depth first (/org tree)", Paged: true,
			Params:   []Param{{Name: "root", Description: "The unit whose subtree to list; the city when absent."}},
			Response: Page[OrgTreeUnit]{}, Handle: a.orgUnits},
		{Method: http.MethodPost, Path: "/api/v1/org/units", OperationID: "addOrgUnit", Tag: "org",
			Summary: "Add a unit (/org unit add): admins covering the parent", Body: NewOrgUnit{}, Response: OrgUnit{},
			Status: http.StatusCreated, Handle: a.addOrgUnit},
		{Method: http.MethodGet, Path: "/api/v1/org/users", OperationID: "listOrgUsers", Tag: "org",
			Summary:     "The users of a unit and the units below it",
			Description: "Without unit: the users the caller oversees (everyone for sys admins and operators, an admin's units, else the caller's own unit).",
			Paged:       true, Params: []Param{{Name: "unit", Description: "A unit code."}}, Response: Page[OrgUser]{}, Handle: a.orgUsers},
		{Method: http.MethodGet, Path: "/api/v1/org/users/{id}", OperationID: "getOrgUser", Tag: "org",
			Summary: "A user's profile: unit, roles, platform accounts (/org user show)",
			Params:  []Param{{Name: "id", Description: "The user id."}}, Response: OrgProfile{}, Handle: a.orgUser},
		{Method: http.MethodPost, Path: "/api/v1/org/users", OperationID: "addOrgUser", Tag: "org",
			Summary: "Add a user (/org user add): admins covering the unit", Body: NewOrgUser{}, Response: OrgUser{},
			Status: http.StatusCreated, Handle: a.addOrgUser},
		{Method: http.MethodPost, Path: "/api/v1/org/users/{id}/roles", OperationID: "grantOrgRole", Tag: "org",
			Summary:     "Grant a user a role (/org role grant)",
			Description: "Sys admins grant sys_admin, district_admin and operator; district admins unit_admin in their district; admins the rest in their units.",
			Params:      []Param{{Name: "id", Description: "The user id."}}, Body: NewOrgGrant{}, Response: OrgGrant{},
			Status: http.StatusCreated, Handle: a.grantOrgRole},
	}
}

func (a *API) orgUnits(c *Call) (any, error) {
	nodes, err := a.cfg.Org.Tree(c.Ctx, c.Actor, c.String("root"))
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(nodes, func(n org.TreeNode) OrgTreeUnit {
		u := n.Unit
		return OrgTreeUnit{Code: u.Code, Name: u.Name, Level: string(u.Level), Parent: u.Parent, Path: u.Path, Depth: n.Depth, Users: n.Users}
	}))
}

func (a *API) addOrgUnit(c *Call) (any, error) {
	b := BodyOf[NewOrgUnit](c)
	u, err := a.cfg.Org.AddUnit(c.Ctx, c.Actor, b.Code, b.Name, b.Parent, org.Level(b.Level))
	if err != nil {
		return nil, err
	}
	return orgUnit(u), nil
}

func (a *API) orgUsers(c *Call) (any, error) {
	us, err := a.cfg.Org.Users(c.Ctx, c.Actor, c.String("unit"))
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(us, orgUser))
}

func (a *API) orgUser(c *Call) (any, error) {
	p, err := a.cfg.Org.ShowUser(c.Ctx, c.Actor, c.String("id"))
	if err != nil {
		return nil, err
	}
	return OrgProfile{User: orgUser(p.User), Unit: orgUnit(p.Unit), Roles: Convert(p.Grants, orgGrant),
		Identities: Convert(p.Identities, func(i org.Identity) OrgIdentity {
			return OrgIdentity{Platform: i.Platform, ExternalID: i.ExternalID}
		})}, nil
}

func (a *API) addOrgUser(c *Call) (any, error) {
	b := BodyOf[NewOrgUser](c)
	u, err := a.cfg.Org.AddUser(c.Ctx, c.Actor, b.ID, b.Name, b.Unit)
	if err != nil {
		return nil, err
	}
	return orgUser(u), nil
}

func (a *API) grantOrgRole(c *Call) (any, error) {
	b := BodyOf[NewOrgGrant](c)
	g, err := a.cfg.Org.GrantRole(c.Ctx, c.Actor, c.String("id"), org.Role(b.Role), b.Scope)
	if err != nil {
		return nil, err
	}
	return orgGrant(g), nil
}
