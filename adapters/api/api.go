package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
)

// Authenticator resolves who a request acts as: a bearer API token
// (Authorization: Bearer opsb_…), or a session cookie (then a
// state-changing method needs a valid CSRF token in the X-CSRF-Token
// header, else core.ErrForbidden with code "csrf"). Errors:
// access.ErrUnauthenticated, *access.RateLimited, core.ErrForbidden.
type Authenticator interface {
	Authenticate(r *http.Request) (access.Principal, error)
}

// Profiles reads a user's own profile (the org service): GET /api/v1/me,
// and the name of a dev-mode principal.
type Profiles interface {
	Whoami(ctx context.Context, actor core.Actor) (org.Profile, error)
	// View is the actor's scope (org.View): lists show only what is in it,
	// as the console's pages do.
	View(ctx context.Context, actor core.Actor) (org.View, error)
}

// DevUserHeader names the org user a credential-less request acts as in
// dev mode (webchat.dev_mode, loopback only); ignored outside dev mode.
const DevUserHeader = "X-Opsbot-User"

// Explain turns an error into the message a person would read.
type Explain func(err error) string

// Config is what the API serves with. Each domain's service is an
// interface declared in that domain's file (incidents.go, …).
type Config struct {
	// Auth resolves credentials; nil accepts none (dev mode only).
	Auth Authenticator
	// DevMode lets a request without credentials name its user in
	// DevUserHeader (webchat.dev_mode).
	DevMode bool
	// Explain is the text the chat shows for an error (bot.ErrorReply);
	// every error message of the API is that text.
	Explain Explain
	// MaxBodyBytes caps a request body (default 1 MiB; 413 beyond).
	MaxBodyBytes int64
	// SessionCookie is the sign-in session cookie's name, for the spec
	// (default "opsbot_session").
	SessionCookie string

	Profiles  Profiles
	Incidents Incidents
	Tickets   Tickets
	Approvals Approvals

	// Duty, Inspections, Backups, Reports, Audit and Org serve
	// duty.go, routines.go, reports.go, audit.go and org.go.
	Duty        DutyService
	Inspections InspectionService
	Backups     BackupService
	Reports     Reports
	Audit       AuditReader
	Org         OrgService
	// BackupsToken is the legacy credential of POST /api/v1/backups/report
	// (backups.token): a script presenting it as a bearer token reports as
	// opsbot itself (backup.ScriptActor). "" turns it off.
	BackupsToken string
}

// API is the REST API /api/v1: a table of routes, each registered on
// the mux and described in the OpenAPI document it serves.
type API struct {
	cfg    Config
	log    *slog.Logger
	routes []Route
	doc    *openapi3.T
	spec   []byte
}

// New builds the API and its OpenAPI document from the route table.
func New(cfg Config, logger *slog.Logger) (*API, error) {
	return newAPI(cfg, logger, (*API).table)
}

// newAPI builds the API with the routes table returns (tests: their own).
func newAPI(cfg Config, logger *slog.Logger, table func(*API) []Route) (*API, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.SessionCookie == "" {
		cfg.SessionCookie = "opsbot_session"
	}
	a := &API{cfg: cfg, log: logger.With("component", "api")}
	a.routes = table(a)
	if err := a.buildSpec(); err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	return a, nil
}

// table collects every route; each domain's file contributes its list.
func (a *API) table() []Route {
	return slices.Concat(
		a.metaRoutes(),
		a.incidentRoutes(),
		a.ticketRoutes(),
		a.requestRoutes(),
		a.dutyRoutes(), a.routineRoutes(), a.reportRoutes(), a.auditRoutes(), a.orgRoutes(),
	)
}

// Registrar is where routes are registered: an *http.ServeMux, or a Mux
// recording the patterns.
type Registrar interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// Mux registers routes on an *http.ServeMux and records their patterns,
// so a test can tell a route that has no spec entry.
type Mux struct {
	mux      *http.ServeMux
	patterns []string
}

// NewMux wraps mux.
func NewMux(mux *http.ServeMux) *Mux { return &Mux{mux: mux} }

// Handle registers h for pattern.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.mux.Handle(pattern, h)
}

// HandleFunc registers h for pattern.
func (m *Mux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Patterns returns the patterns registered so far, in order.
func (m *Mux) Patterns() []string { return slices.Clone(m.patterns) }

// Routes registers every route of the table on mux.
func (a *API) Routes(mux Registrar) {
	for _, r := range a.routes {
		mux.Handle(r.Method+" "+r.Path, a.handler(r))
	}
}

// Spec returns the OpenAPI document served at /api/v1/openapi.json.
func (a *API) Spec() *openapi3.T { return a.doc }

// Undocumented returns the patterns under /api/v1 that have no operation
// in the spec ("METHOD /path" as registered on the mux).
func (a *API) Undocumented(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, "/api/v1/") {
			if strings.HasPrefix(p, "/api/v1/") {
				out = append(out, p) // a pattern for every method
			}
			continue
		}
		item := a.doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			out = append(out, p)
		}
	}
	return out
}

// authenticate resolves the principal of r: the Authenticator's answer,
// else in dev mode the user named in DevUserHeader.
func (a *API) authenticate(r *http.Request) (access.Principal, error) {
	err := access.ErrUnauthenticated
	var p access.Principal
	if a.cfg.Auth != nil {
		p, err = a.cfg.Auth.Authenticate(r)
	}
	if errors.Is(err, access.ErrUnauthenticated) {
		if dp, ok := devPrincipal(r, a.cfg.DevMode); ok {
			// The named user must be an active org user, as in chat.
			if a.cfg.Profiles != nil {
				prof, perr := a.cfg.Profiles.Whoami(r.Context(), dp.Actor)
				if perr != nil { // not registered or removed: refused as in chat
					return access.Principal{}, perr
				}
				dp.Actor.Name = prof.User.Name
			}
			return dp, nil
		}
	}
	return p, err
}

// devPrincipal is the dev-mode fallback: a request carrying no
// credentials acts as the user named in DevUserHeader, with write scope.
// Outside dev mode (and with an Authorization header) it never applies.
func devPrincipal(r *http.Request, dev bool) (access.Principal, bool) {
	user := strings.TrimSpace(r.Header.Get(DevUserHeader))
	if !dev || user == "" || r.Header.Get("Authorization") != "" {
		return access.Principal{}, false
	}
	return access.Principal{Actor: core.Actor{UserID: user, Name: user, Platform: access.PlatformAPI},
		Via: access.ViaDev, Scope: access.ScopeWrite}, true
}
