// Package console is the web console under /console/ (issue 15): pages for
// managers and operators, rendered on the server from embedded templates,
// signed in as for the web chat (the auth Guard: session cookie or a
// bearer API token). Every page reads the same core services as the chat
// and the REST API, with the signed-in user's actor, inside their view of
// the org (org.View: the scope rule) narrowed by the unit filter.
//
// Pages are registered in one table (Console.table), each page's file
// contributing a func returning []Page: a path, a nav key, a title key, a
// template and a handler returning the template's data, a JSON value or
// a *Download. To add a page:
//
//  1. declare the core service it reads as an interface in your file and
//     add a field for it to Services (main wires it in consoleRoutes);
//  2. return your pages from your func (dutyPages, reportPages, …):
//     Page{Path: "/console/duty", Nav: NavDuty, Title: "console.duty.title",
//     Template: "duty.html", Handle: c.duty};
//  3. write templates/duty.html defining "content" (and optionally
//     "head"); it sees the Layout: .Data is what Handle returned, and
//     .T, .Link, .Time, .Dur, .Ago, .Level, .Label, .UnitName, .View,
//     .Unit, .Actor are there for every page;
//  4. in Handle, pass r.Actor to every core call and r.View (the scope
//     narrowed by the unit filter) to every read; never check roles here.
//
// A download (XLSX, CSV, iCal) returns &Download{Name, ContentType, Body}
// from a Page with Data: true (401 instead of a sign-in redirect).
package console

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"opsbot/adapters/server"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
)

//go:embed templates static
var files embed.FS

// Authenticator resolves who a request acts as (*auth.Guard): a bearer
// API token or the session cookie. Errors: access.ErrUnauthenticated,
// *access.RateLimited, core.ErrForbidden.
type Authenticator interface {
	Authenticate(r *http.Request) (access.Principal, error)
	// CSRF is the CSRF token of r's cookie session ("" when none), for
	// the sign-out form.
	CSRF(r *http.Request) string
}

// Views gives an actor's view of the org (org.Service.View).
type Views interface {
	View(ctx context.Context, actor core.Actor) (org.View, error)
}

// Explain turns an error into the text the chat shows for it
// (bot.ErrorReply).
type Explain func(err error) string

// Config is how the console serves.
type Config struct {
	// Language is "zh-CN" (default) or "en" (bot.language).
	Language string
	// Refresh is how often the overview refreshes itself (default 15s).
	Refresh time.Duration
	// PublicURL is the console's address for deep links ("" none).
	PublicURL string
	// Location is the time zone dates are shown in (default Asia/Shanghai).
	Location *time.Location
}

// Services are the core services the pages read. Each page's file
// declares the interface it needs; main wires the concrete services.
type Services struct {
	Auth    Authenticator
	Views   Views
	Explain Explain
	Clock   core.Clock

	Incidents Incidents
	Overview  Overviews
	Tickets   Tickets
	// Duty and Feeds are the duty calendar and its iCal feeds (duty.go).
	Duty       DutyCalendar
	Feeds      DutyFeeds
	Trends     Trends
	AuditLog   AuditLog
	AuditChain AuditChain
	// Reports serve the reports page and its downloads (reports.go).
	Reports Reports
	// Approvals and TicketDetails are the pages of a request and of a
	// ticket, the deep links of their chat cards (requests.go, tickets.go).
	Approvals     Approvals
	TicketDetails TicketDetails
	// People shows a user id as the person's name in a language
	// (bot.Bot.Person); nil shows ids.
	People func(lang, id string) string
	// Event shows an incident timeline event's body in a language as the
	// chat does (people by name, a page's status in words); nil: as stored.
	Event func(lang, kind, body string) string
}

// Console serves /console/.
type Console struct {
	cfg   Config
	svc   Services
	log   *slog.Logger
	pages []Page
	tmpl  map[string]*template.Template // by Page.Template
}

// Page is one console page or download, registered in the table.
type Page struct {
	// Path is the URL path, a GET pattern of http.ServeMux
	// ("/console/incidents/{id}"); "/console/{$}" is the overview.
	Path string
	// Nav is the nav entry the page lights up (NavOverview …), "" none.
	Nav string
	// Title is the catalog key of the page's title (bot catalogs,
	// "console.…"); its text also heads the page.
	Title string
	// Template is the file in templates/ defining "content" (and
	// optionally "head"); "" for a page whose handler returns only JSON
	// or a Download.
	Template string
	// Data marks a machine endpoint (a download, JSON, a fragment):
	// without a session it answers 401 instead of redirecting to sign in.
	Data bool
	// Method is "" for GET, or "POST" for a form that changes state: the
	// Guard checks a cookie session's CSRF token, and a read-only API
	// token is refused (read_only_token).
	Method string
	// Handle returns the template's data, a JSON value, or a *Download.
	Handle func(r *Request) (any, error)
}

// Nav keys, in the order of the navigation bar.
const (
	NavOverview  = "overview"
	NavTrends    = "trends"
	NavSLA       = "sla"
	NavRequests  = "requests"
	NavIncidents = "incidents"
	NavDuty      = "duty"
	NavReports   = "reports"
	NavAudit     = "audit"
)

// navOrder lists the navigation bar: key and path.
var navOrder = [][2]string{
	{NavOverview, "/console/"}, {NavTrends, "/console/trends"}, {NavSLA, "/console/sla"},
	{NavRequests, "/console/requests"}, {NavIncidents, "/console/incidents"}, {NavDuty, "/console/duty"}, {NavReports, "/console/reports"},
	{NavAudit, "/console/audit"},
}

// Redirect is a handler's answer sending the browser to a path (303
// See Other: after a POST, the page to show).
type Redirect string

// JSON is a handler's answer written as JSON (200).
type JSON struct{ Value any }

// Download is a handler's answer written as a file.
type Download struct {
	// Name is the file name offered to save as ("" shows it inline).
	Name        string
	ContentType string
	Body        []byte
	// Tagged answers with an ETag of the body, and 304 Not Modified with
	// no body to a client that sends it back in If-None-Match (the live
	// refresh: an unchanged overview costs no transfer and no redraw).
	// Still no-store: the client keeps the tag itself.
	Tagged bool
}

// Request is what a page handler reads: the HTTP request, who signed in,
// their view of the org (Scope) and the view narrowed by the unit filter
// (View, the one every read takes).
type Request struct {
	*http.Request
	// Principal is who signed in and how.
	Principal access.Principal
	// Actor is the principal's actor: pass it to every core call.
	Actor core.Actor
	// Scope is the actor's whole view; View is Scope narrowed by ?unit=.
	Scope, View org.View
	// Unit is the unit filter ("" for the whole scope).
	Unit string
	// Lang is the language pages are shown in.
	Lang string
	c    *Console
}

// T translates a catalog key in the request's language.
func (r *Request) T(key string, kv ...string) string { return bot.T(r.Lang, key, kv...) }

// Person is a user as pages show them: by name ("孙丽").
func (r *Request) Person(id string) string {
	if r.c.svc.People == nil {
		return id
	}
	return r.c.svc.People(r.Lang, id)
}

// Event is an incident timeline event's body as the chat shows it.
func (r *Request) Event(kind, body string) string {
	if r.c.svc.Event == nil {
		return body
	}
	return r.c.svc.Event(r.Lang, kind, body)
}

// People are users by name, joined as the bot joins them ("孙丽、周杰").
func (r *Request) People(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = r.Person(id)
	}
	return strings.Join(out, r.T("person.sep"))
}

// Now is the console's clock.
func (r *Request) Now() time.Time { return r.c.now() }

// Location is the time zone pages show times in.
func (r *Request) Location() *time.Location { return r.c.cfg.Location }

// New returns the console. It parses every page's template with the
// layout, so a broken template fails at start.
func New(cfg Config, svc Services, logger *slog.Logger) (*Console, error) {
	if svc.Auth == nil || svc.Views == nil {
		return nil, errors.New("console: auth and views are required")
	}
	if cfg.Language == "" {
		cfg.Language = bot.LangZH
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 15 * time.Second
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	if svc.Explain == nil {
		svc.Explain = func(err error) string { return err.Error() }
	}
	if svc.Clock == nil {
		svc.Clock = core.SystemClock{}
	}
	c := &Console{cfg: cfg, svc: svc, log: logger.With("component", "console"), tmpl: map[string]*template.Template{}}
	c.pages = c.table()
	for _, name := range append([]string{"error.html"}, templatesOf(c.pages)...) {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.tmpl[name] = t
	}
	return c, nil
}

// table collects every page; each helper's file contributes its list.
func (c *Console) table() []Page {
	return slices.Concat(
		c.overviewPages(),
		c.incidentPages(),
		c.slaPages(),
		c.ticketPages(),
		c.requestPages(),
		c.trendPages(),
		c.dutyPages(),
		c.reportPages(),
		c.auditPages(),
		c.indexPages(),
	)
}

// PageInfo describes a registered page for /console/pages.json.
type PageInfo struct {
	Path   string `json:"path"`   // the ServeMux pattern, e.g. "/console/incidents/{id}"
	Method string `json:"method"` // GET or POST
	Data   bool   `json:"data"`   // a download, JSON or fragment rather than a page
}

// indexPages is /console/pages.json: every page of the table, for
// scripts and the benchmark (make bench renders each GET page).
func (c *Console) indexPages() []Page {
	return []Page{{Path: "/console/pages.json", Data: true, Handle: func(*Request) (any, error) {
		out := make([]PageInfo, 0, len(c.pages))
		for _, p := range c.pages {
			m := p.Method
			if m == "" {
				m = http.MethodGet
			}
			out = append(out, PageInfo{Path: p.Path, Method: m, Data: p.Data})
		}
		return JSON{Value: out}, nil
	}}}
}

func templatesOf(pages []Page) []string {
	var out []string
	for _, p := range pages {
		if p.Template != "" && !slices.Contains(out, p.Template) {
			out = append(out, p.Template)
		}
	}
	return out
}

// Routes registers every page and the static files on mux.
func (c *Console) Routes(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	// /dashboard is where people guess the dashboard is.
	for _, from := range []string{"GET /console", "GET /dashboard"} {
		mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
		})
	}
	for _, p := range c.pages {
		mux.Handle(cmp.Or(p.Method, http.MethodGet)+" "+p.Path, c.handler(p))
	}
}

// Paths lists the registered page paths (tests: a route per page).
func (c *Console) Paths() []string {
	out := make([]string, len(c.pages))
	for i, p := range c.pages {
		out[i] = p.Path
	}
	return out
}

func (c *Console) now() time.Time { return c.svc.Clock.Now() }

// lang is the language a request's pages are shown in: bot.language
// today; a per-user language plugs in here.
func (c *Console) lang(_ *http.Request, _ access.Principal) string { return c.cfg.Language }

// handler authenticates, resolves the view and the unit filter, and
// answers what the page's handler returns.
func (c *Console) handler(p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, err := c.svc.Auth.Authenticate(r)
		if err != nil {
			c.unauthenticated(w, r, p, err)
			return
		}
		req := &Request{Request: r, Principal: pr, Actor: pr.Actor, Lang: c.lang(r, pr), c: c}
		if p.Method != "" && !pr.CanWrite() {
			c.fail(w, req, p, core.Forbidden("read_only_token"))
			return
		}
		if req.Actor.Platform == "" {
			req.Actor.Platform = access.PlatformAPI
		}
		if req.Scope, err = c.svc.Views.View(r.Context(), req.Actor); err != nil {
			c.fail(w, req, p, err)
			return
		}
		req.Unit = strings.TrimSpace(r.URL.Query().Get("unit"))
		if req.View, err = req.Scope.Narrow(req.Unit); err != nil {
			c.fail(w, req, p, err)
			return
		}
		out, err := p.Handle(req)
		if err != nil {
			c.fail(w, req, p, err)
			return
		}
		switch v := out.(type) {
		case *Download:
			h := w.Header()
			h.Set("Content-Type", v.ContentType)
			h.Set("Cache-Control", "no-store")
			if v.Tagged {
				sum := sha256.Sum256(v.Body)
				tag := `"` + hex.EncodeToString(sum[:12]) + `"`
				h.Set("ETag", tag)
				if r.Header.Get("If-None-Match") == tag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
			if v.Name != "" {
				h.Set("Content-Disposition", `attachment; filename="`+asciiName(v.Name)+`"; filename*=UTF-8''`+url.PathEscape(v.Name))
			}
			_, _ = w.Write(v.Body)
		case JSON:
			writeJSON(w, http.StatusOK, v.Value)
		case Redirect:
			http.Redirect(w, r, string(v), http.StatusSeeOther)
		default:
			c.render(w, req, p, http.StatusOK, v)
		}
	})
}

// asciiName is a file name's ASCII fallback for old clients.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}

// unauthenticated sends a browser to sign in and back; a data endpoint
// (or a refused credential) gets the status instead.
func (c *Console) unauthenticated(w http.ResponseWriter, r *http.Request, p Page, err error) {
	if errors.Is(err, access.ErrUnauthenticated) && !p.Data && r.Header.Get("Authorization") == "" {
		http.Redirect(w, r, "/auth/login?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	var rl *access.RateLimited
	status, explained := http.StatusForbidden, err
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		status, explained = http.StatusUnauthorized, core.Forbidden("api_unauthenticated")
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
	case errors.As(err, &rl):
		status = http.StatusTooManyRequests
		secs := max(1, int((rl.RetryAfter+time.Second-1)/time.Second))
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		explained = core.Conflict("api_rate_limited", "seconds", fmt.Sprint(secs))
	case !errors.Is(err, core.ErrForbidden):
		status = http.StatusInternalServerError
	}
	c.writeError(w, r, status, c.svc.Explain(explained))
}

// fail answers a page's error with the chat's own text for it and the
// error's status: a page for a browser, JSON or plain text for a data
// endpoint.
func (c *Console) fail(w http.ResponseWriter, r *Request, p Page, err error) {
	status := server.StatusOf(err)
	msg := c.svc.Explain(err) // bot.ErrorReply logs an internal error with its reference
	if p.Data {
		c.writeError(w, r.Request, status, msg)
		return
	}
	c.render(w, r, Page{Template: "error.html", Title: "console.error.title", Nav: p.Nav}, status, errorData{Message: msg})
}

// writeError answers a data endpoint's error: JSON as the API does when
// the client accepts it, else plain text.
func (c *Console) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasSuffix(r.URL.Path, ".json") {
		code := map[int]string{401: "unauthenticated", 403: "forbidden", 404: "not_found", 400: "invalid", 409: "conflict", 429: "rate_limited"}[status]
		if code == "" {
			code = "internal"
		}
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errorData is the error page's data.
type errorData struct{ Message string }

// pageCSP allows the console's own scripts, styles and images only.
const pageCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// render writes page p with data inside the layout.
func (c *Console) render(w http.ResponseWriter, r *Request, p Page, status int, data any) {
	t, ok := c.tmpl[p.Template]
	if !ok {
		c.log.Error("page has no template", "path", p.Path, "template", p.Template)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	l := &Layout{Request: r, Page: p, Data: data, Title: r.T(p.Title), Refresh: int(c.cfg.Refresh / time.Millisecond)}
	if r.Principal.Via == access.ViaSession {
		l.CSRF = c.svc.Auth.CSRF(r.Request)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", l); err != nil {
		c.log.Error("page did not render", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
