package api

import (
	"encoding/json"
	"net/http"
)

// Me is who a request acts as.
type Me struct {
	User  string  `json:"user"`
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Roles []Grant `json:"roles"`
	Via   string  `json:"via" enum:"session,token,service,dev" doc:"How the caller signed in."`
	Scope string  `json:"scope" enum:"read,write" doc:"read: GET only; write: read and act, within the user's own rights."`
}

// Grant is a role held on a scope (a unit code, or an app code for an
// app's access party).
type Grant struct {
	Role  string `json:"role"`
	Scope string `json:"scope"`
}

// metaRoutes are the spec itself and the caller's identity.
func (a *API) metaRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: SpecPath, OperationID: "getOpenAPI", Tag: "meta", Public: true,
			Summary: "This OpenAPI 3.1 document", Response: map[string]any{},
			Handle: func(*Call) (any, error) { return json.RawMessage(a.spec), nil }},
		{Method: http.MethodGet, Path: "/api/v1/me", OperationID: "getMe", Tag: "meta",
			Summary: "Who the caller acts as: user, roles, how they signed in and the scope", Response: Me{},
			Handle: a.me},
	}
}

func (a *API) me(c *Call) (any, error) {
	p, err := a.cfg.Profiles.Whoami(c.Ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	out := Me{User: p.User.ID, Name: p.User.Name, Unit: p.User.Unit, Roles: []Grant{}, Via: c.Principal.Via, Scope: c.Principal.Scope}
	for _, g := range p.Grants {
		out.Roles = append(out.Roles, Grant{Role: string(g.Role), Scope: g.Scope})
	}
	return out, nil
}
