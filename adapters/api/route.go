package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/access"
)

// Route is one operation of the API. Registering it serves it on the mux
// and describes it in the OpenAPI document, from this one declaration.
type Route struct {
	// Method and Path form the mux pattern ("GET", "/api/v1/incidents/{id}").
	Method, Path string
	// OperationID names the operation in the spec (camelCase, unique).
	OperationID string
	// Tag groups operations (incidents, tickets, …).
	Tag string
	// Summary is the operation's one-line description; Description may
	// say more (both shown in the spec).
	Summary, Description string
	// Public routes need no credentials (the spec itself).
	Public bool
	// Legacy, when set, recognises a route's own older credential before
	// the Authenticator is asked (backups.token for the backup report).
	Legacy func(*http.Request) (access.Principal, bool)
	// Params are the path and query parameters; their syntax is checked
	// (400 bad_param) before Handle runs.
	Params []Param
	// Paged adds the paging parameters limit and cursor (Call.Limit,
	// Call.Cursor); the response should be a Page.
	Paged bool
	// Body is a zero value of the request body type (a struct; nil for
	// none). It is decoded strictly (unknown fields: 400) into a new value
	// that Handle reads with BodyOf.
	Body any
	// Response is a zero value of the success response type; Status is
	// its HTTP status (default 200).
	Response any
	Status   int
	// Handle carries out the call; an error becomes the error response.
	Handle func(*Call) (any, error)
}

// Writes reports whether the route changes state: every method but GET
// (a read-only token is refused).
func (r Route) Writes() bool { return r.Method != http.MethodGet }

// Param types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
	TypeTime    = "date-time" // RFC 3339
)

// Param is a path or query parameter.
type Param struct {
	Name string
	// In is "path" or "query" (default: path when the route's path names it).
	In string
	// Type is TypeString, TypeInteger, TypeBoolean or TypeTime.
	Type        string
	Required    bool
	Description string
	// Enum lists the values a string parameter may take.
	Enum []string
}

// Paging limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Call is one request as a route's handler sees it: the principal, the
// parsed parameters and the decoded body.
type Call struct {
	Ctx       context.Context
	Principal access.Principal
	// Actor is Principal.Actor, the user every core call acts as.
	Actor   core.Actor
	Request *http.Request
	body    any
	ints    map[string]int64
	bools   map[string]bool
	times   map[string]time.Time
	strs    map[string]string
}

// String returns a string parameter ("" when absent).
func (c *Call) String(name string) string { return c.strs[name] }

// Int returns an integer parameter (0 when absent).
func (c *Call) Int(name string) int64 { return c.ints[name] }

// Bool returns a boolean parameter (false when absent).
func (c *Call) Bool(name string) bool { return c.bools[name] }

// Time returns a date-time parameter (zero when absent).
func (c *Call) Time(name string) time.Time { return c.times[name] }

// Has reports whether the parameter was given.
func (c *Call) Has(name string) bool {
	_, s := c.strs[name]
	_, i := c.ints[name]
	_, b := c.bools[name]
	_, t := c.times[name]
	return s || i || b || t
}

// Limit is the page size asked for (DefaultLimit when none).
func (c *Call) Limit() int {
	if n, ok := c.ints["limit"]; ok {
		return int(n)
	}
	return DefaultLimit
}

// Cursor is the opaque cursor of the page asked for ("" for the first).
func (c *Call) Cursor() string { return c.strs["cursor"] }

// BodyOf returns the decoded request body of a route whose Body is a T.
func BodyOf[T any](c *Call) *T { return c.body.(*T) }

// params are a route's parameters with the paging ones added.
func (r Route) params() []Param {
	ps := make([]Param, 0, len(r.Params)+2)
	for _, p := range r.Params {
		if p.In == "" {
			p.In = "query"
			if strings.Contains(r.Path, "{"+p.Name+"}") {
				p.In = "path"
			}
		}
		if p.In == "path" {
			p.Required = true
		}
		if p.Type == "" {
			p.Type = TypeString
		}
		ps = append(ps, p)
	}
	if r.Paged {
		ps = append(ps,
			Param{Name: "limit", In: "query", Type: TypeInteger, Description: "Page size (default 50, at most 200)."},
			Param{Name: "cursor", In: "query", Type: TypeString, Description: "Opaque cursor from the previous page's next_cursor."})
	}
	return ps
}

// parse reads and checks the declared parameters of req into c.
func (c *Call) parse(r Route, req *http.Request) error {
	c.ints, c.bools, c.times, c.strs = map[string]int64{}, map[string]bool{}, map[string]time.Time{}, map[string]string{}
	q := req.URL.Query()
	for _, p := range r.params() {
		var raw string
		var ok bool
		if p.In == "path" {
			raw = req.PathValue(p.Name)
			ok = raw != ""
		} else if vs, has := q[p.Name]; has && len(vs) > 0 {
			raw, ok = vs[0], true
		}
		if !ok {
			if p.Required {
				return &statusError{status: http.StatusBadRequest, err: core.Invalid("api_param_required", "name", p.Name)}
			}
			continue
		}
		switch p.Type {
		case TypeInteger:
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return badParam(p.Name, "integer")
			}
			if p.Name == "limit" && r.Paged && (n < 1 || n > MaxLimit) {
				return badParam(p.Name, "1–"+strconv.Itoa(MaxLimit))
			}
			c.ints[p.Name] = n
		case TypeBoolean:
			b, err := strconv.ParseBool(raw)
			if err != nil {
				return badParam(p.Name, "true / false")
			}
			c.bools[p.Name] = b
		case TypeTime:
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				return badParam(p.Name, "RFC 3339, 2026-01-02T15:04:05+08:00")
			}
			c.times[p.Name] = t
		default:
			if len(p.Enum) > 0 && !slices.Contains(p.Enum, raw) {
				return badParam(p.Name, strings.Join(p.Enum, " / "))
			}
			c.strs[p.Name] = raw
		}
	}
	return nil
}

// decode reads the request body of r into a new value of its Body type,
// strictly: one JSON object, no unknown fields, at most max bytes.
func (c *Call) decode(r Route, w http.ResponseWriter, req *http.Request, max int64) error {
	if r.Body == nil {
		return nil
	}
	v := reflect.New(reflect.TypeOf(r.Body))
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v.Interface())
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &statusError{status: http.StatusRequestEntityTooLarge,
			err: core.Invalid("api_body_too_large", "max", strconv.FormatInt(max, 10))}
	case err != nil:
		return &statusError{status: http.StatusBadRequest, err: core.Invalid("api_bad_json", "detail", err.Error())}
	}
	c.body = v.Interface()
	return nil
}

// handler serves route r: authenticate, check scope, parse, decode, call.
func (a *API) handler(r Route) http.Handler {
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c := &Call{Ctx: req.Context(), Request: req}
		if !r.Public {
			p, ok := access.Principal{}, false
			if r.Legacy != nil {
				p, ok = r.Legacy(req)
			}
			var err error
			if !ok {
				p, err = a.authenticate(req)
			}
			if err != nil {
				a.fail(w, req, err)
				return
			}
			if r.Writes() && !p.CanWrite() {
				a.fail(w, req, core.Forbidden("read_only_token"))
				return
			}
			c.Principal, c.Actor = p, p.Actor
		}
		if err := c.parse(r, req); err != nil {
			a.fail(w, req, err)
			return
		}
		if err := c.decode(r, w, req, a.cfg.MaxBodyBytes); err != nil {
			a.fail(w, req, err)
			return
		}
		out, err := r.Handle(c)
		if err != nil {
			a.fail(w, req, err)
			return
		}
		writeJSON(w, status, out)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
