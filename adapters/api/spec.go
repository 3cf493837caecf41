package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"

	"opsbot/core/access"
)

// SpecPath is where the OpenAPI document is served.
const SpecPath = "/api/v1/openapi.json"

// Security scheme names of the spec.
const (
	SchemeBearer  = "bearer"
	SchemeSession = "session"
	SchemeDev     = "dev"
)

// errorStatuses are the error responses every authenticated operation
// declares (413 only with a body).
var errorStatuses = []int{
	http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
	http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity,
	http.StatusTooManyRequests, http.StatusInternalServerError,
}

var timeType = reflect.TypeFor[time.Time]()

// customize adapts openapi3gen's schemas: required fields are those
// without omitempty; objects allow no other properties; a pointer field
// is never null on the wire (it must be omitempty); tags `doc:"…"` and
// `enum:"a,b"` give a field's description and values.
func customize(_ string, t reflect.Type, tag reflect.StructTag, s *openapi3.Schema) error {
	s.Nullable = false
	if t.Kind() == reflect.Struct && t != timeType {
		no := false
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
		s.Required = nil
		for f := range t.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
				s.Required = append(s.Required, name)
			}
		}
		if s.Properties == nil { // an empty struct is still an object
			s.Type = &openapi3.Types{"object"}
		}
		return nil
	}
	if d := tag.Get("doc"); d != "" {
		s.Description = d
	}
	if e := tag.Get("enum"); e != "" {
		target := s
		if s.Items != nil && s.Items.Value != nil {
			target = s.Items.Value
		}
		target.Enum = nil
		for v := range strings.SplitSeq(e, ",") {
			target.Enum = append(target.Enum, v)
		}
	}
	return nil
}

// schemaOf is the schema of v's type; named struct types become
// components in schemas.
func schemaOf(v any, schemas openapi3.Schemas) (*openapi3.SchemaRef, error) {
	return openapi3gen.NewSchemaRefForValue(v, schemas,
		openapi3gen.CreateComponentSchemas(openapi3gen.ExportComponentSchemasOptions{ExportComponentSchemas: true, ExportTopLevelSchema: true}),
		openapi3gen.SchemaCustomizer(customize))
}

func jsonContent(ref *openapi3.SchemaRef) openapi3.Content {
	return openapi3.NewContentWithJSONSchemaRef(ref)
}

// paramSchema is the schema of a parameter of type p.Type.
func paramSchema(p Param) *openapi3.SchemaRef {
	s := &openapi3.Schema{}
	switch p.Type {
	case TypeInteger:
		s.Type, s.Format = &openapi3.Types{"integer"}, "int64"
		if p.Name == "limit" {
			lo, hi := 1.0, float64(MaxLimit)
			s.Min, s.Max, s.Default = &lo, &hi, DefaultLimit
		}
	case TypeBoolean:
		s.Type = &openapi3.Types{"boolean"}
	case TypeTime:
		s.Type, s.Format = &openapi3.Types{"string"}, "date-time"
	default:
		s.Type = &openapi3.Types{"string"}
		for _, e := range p.Enum {
			s.Enum = append(s.Enum, e)
		}
	}
	return openapi3.NewSchemaRef("", s)
}

// buildSpec generates the OpenAPI 3.1 document from the route table.
func (a *API) buildSpec() error {
	schemas := openapi3.Schemas{}
	errRef, err := schemaOf(ErrorBody{}, schemas)
	if err != nil {
		return err
	}
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{Title: "opsbot API", Version: "1",
			Description: "The REST API of opsbot: the same core services and the same role and scope checks as the chat commands. " +
				"Errors are {\"error\":{\"code\",\"message\"}}, the message being the text the chat shows."},
		Servers: openapi3.Servers{{URL: "/"}},
		Paths:   openapi3.NewPaths(),
		Security: openapi3.SecurityRequirements{
			{SchemeBearer: {}}, {SchemeSession: {}}, {SchemeDev: {}},
		},
		Components: &openapi3.Components{
			Schemas: schemas,
			SecuritySchemes: openapi3.SecuritySchemes{
				SchemeBearer: {Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer").
					WithBearerFormat(access.TokenPrefix + "…").
					WithDescription("A personal or service API token (" + access.TokenPrefix + "…), created with /token create in chat.")},
				SchemeSession: {Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("cookie").WithName(a.cfg.SessionCookie).
					WithDescription("A browser sign-in session; a state-changing request also needs the X-CSRF-Token header.")},
				SchemeDev: {Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("header").WithName(DevUserHeader).
					WithDescription("Dev mode only (webchat.dev_mode, loopback): the org user to act as, with no credentials. Ignored otherwise.")},
			},
			Responses: openapi3.ResponseBodies{
				"Error": {Value: openapi3.NewResponse().WithDescription("An error: its code and the chat's text for it.").
					WithContent(jsonContent(errRef))},
				"RateLimited": {Value: &openapi3.Response{Description: ptr("Too many requests: retry after Retry-After seconds."),
					Content: jsonContent(errRef),
					Headers: openapi3.Headers{"Retry-After": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
						Required: true, Schema: openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"integer"}})}}}}}},
			},
		},
		Tags: openapi3.Tags{},
	}
	tags := map[string]bool{}
	for _, r := range a.routes {
		op, err := operation(r, schemas)
		if err != nil {
			return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
		}
		item := doc.Paths.Value(r.Path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(r.Path, item)
		}
		if item.GetOperation(r.Method) != nil {
			return fmt.Errorf("%s %s: declared twice", r.Method, r.Path)
		}
		item.SetOperation(r.Method, op)
		if !tags[r.Tag] {
			tags[r.Tag] = true
			doc.Tags = append(doc.Tags, &openapi3.Tag{Name: r.Tag})
		}
	}
	spec, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	// What is served is what a client loads: load it back and validate it.
	loaded, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return err
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return err
	}
	a.doc, a.spec = loaded, spec
	return nil
}

func ptr[T any](v T) *T { return &v }

// operation describes route r.
func operation(r Route, schemas openapi3.Schemas) (*openapi3.Operation, error) {
	op := &openapi3.Operation{OperationID: r.OperationID, Summary: r.Summary, Description: r.Description,
		Tags: []string{r.Tag}, Responses: openapi3.NewResponses()}
	if r.OperationID == "" || r.Tag == "" || r.Summary == "" || r.Handle == nil {
		return nil, fmt.Errorf("a route needs an operation id, a tag, a summary and a handler")
	}
	for _, p := range r.params() {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: p.Name, In: p.In, Required: p.Required, Description: p.Description, Schema: paramSchema(p)}})
	}
	if r.Body != nil {
		ref, err := schemaOf(r.Body, schemas)
		if err != nil {
			return nil, err
		}
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithContent(jsonContent(ref))}
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	var okRef *openapi3.SchemaRef
	if r.Response == nil {
		okRef = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"object"}})
	} else {
		var err error
		if okRef, err = schemaOf(r.Response, schemas); err != nil {
			return nil, err
		}
	}
	op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: openapi3.NewResponse().
		WithDescription(http.StatusText(status)).WithContent(jsonContent(okRef))})
	for _, st := range errorStatuses {
		switch {
		case r.Public && st != http.StatusInternalServerError:
			continue
		case st == http.StatusRequestEntityTooLarge && r.Body == nil:
			continue
		case st == http.StatusTooManyRequests:
			op.Responses.Set(strconv.Itoa(st), &openapi3.ResponseRef{Ref: "#/components/responses/RateLimited"})
		default:
			op.Responses.Set(strconv.Itoa(st), &openapi3.ResponseRef{Ref: "#/components/responses/Error"})
		}
	}
	if r.Public {
		op.Security = &openapi3.SecurityRequirements{}
	}
	return op, nil
}
