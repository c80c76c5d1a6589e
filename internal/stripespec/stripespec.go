// Package stripespec reads Stripe's OpenAPI spec, as pinned by the
// stripe-mock module (github.com/stripe/stripe-mock/embedded), into typed
// values: paths and their operations, parameters, request bodies and
// component schemas, with the few Stripe extensions the catalog needs
// (x-expansionResources, x-resourceId).
//
// It is for build-time programs and tests only: the spec is 8 MB, and the
// stripesql binary must not carry it. The catalog generator
// (catalog/internal/gen) turns the spec into Go source; the tests that
// check the catalog against the spec read it here.
package stripespec

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/stripe/stripe-mock/embedded"
)

// StripeMockVersion is the stripe-mock module version the spec comes from
// (go.mod pins it).
const StripeMockVersion = "v0.203.0"

// Spec is the parsed OpenAPI document.
type Spec struct {
	// Version is the API version (info.version), e.g. 2026-08-26.dahlia.
	Version string
	Paths   map[string]*PathItem
	Schemas map[string]*Schema
}

// PathItem holds the operations of one path template.
type PathItem struct {
	Get    *Operation `json:"get"`
	Post   *Operation `json:"post"`
	Delete *Operation `json:"delete"`
}

// Operation is one endpoint.
type Operation struct {
	ID          string               `json:"operationId"`
	Summary     string               `json:"summary"`
	Description string               `json:"description"`
	Parameters  []*Parameter         `json:"parameters"`
	RequestBody *RequestBody         `json:"requestBody"`
	Responses   map[string]*Response `json:"responses"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is a form-encoded (or multipart) body.
type RequestBody struct {
	Content map[string]*MediaType `json:"content"`
}

// Response is one response of an operation.
type Response struct {
	Content map[string]*MediaType `json:"content"`
}

// MediaType carries the schema of a body.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Schema is a JSON schema as the spec uses them.
type Schema struct {
	Ref         string             `json:"$ref"`
	Type        string             `json:"type"`
	Format      string             `json:"format"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Nullable    bool               `json:"nullable"`
	Enum        []any              `json:"enum"`
	MaxLength   int                `json:"maxLength"`
	Properties  map[string]*Schema `json:"properties"`
	Required    []string           `json:"required"`
	Items       *Schema            `json:"items"`
	AnyOf       []*Schema          `json:"anyOf"`
	// AdditionalProperties is false, true or a schema (a map's values).
	AdditionalProperties json.RawMessage `json:"additionalProperties"`
	ExpansionResources   *struct {
		OneOf []*Schema `json:"oneOf"`
	} `json:"x-expansionResources"`
	ResourceID string `json:"x-resourceId"`
}

var loaded = sync.OnceValues(func() (*Spec, error) { return Parse(embedded.OpenAPISpec) })

// Load returns the spec embedded in the pinned stripe-mock module, parsed
// once per process. The value is shared: callers must not modify it.
func Load() (*Spec, error) { return loaded() }

// Parse parses an OpenAPI document.
func Parse(data []byte) (*Spec, error) {
	var raw struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
		Paths      map[string]*PathItem `json:"paths"`
		Components struct {
			Schemas map[string]*Schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("stripespec: %w", err)
	}
	return &Spec{Version: raw.Info.Version, Paths: raw.Paths, Schemas: raw.Components.Schemas}, nil
}

// PathNames returns the path templates, sorted.
func (s *Spec) PathNames() []string {
	names := make([]string, 0, len(s.Paths))
	for p := range s.Paths {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// Endpoint is one operation with its method and path.
type Endpoint struct {
	Method string // GET, POST or DELETE
	Path   string
	Op     *Operation
}

func (e Endpoint) String() string { return e.Method + " " + e.Path }

// Endpoints returns every operation, sorted by path then method.
func (s *Spec) Endpoints() []Endpoint {
	var out []Endpoint
	for _, p := range s.PathNames() {
		item := s.Paths[p]
		for _, m := range []struct {
			name string
			op   *Operation
		}{{"GET", item.Get}, {"POST", item.Post}, {"DELETE", item.Delete}} {
			if m.op != nil {
				out = append(out, Endpoint{Method: m.name, Path: p, Op: m.op})
			}
		}
	}
	return out
}

// Operation returns the operation of method on path, or nil.
func (s *Spec) Operation(method, path string) *Operation {
	item := s.Paths[path]
	if item == nil {
		return nil
	}
	switch method {
	case "GET":
		return item.Get
	case "POST":
		return item.Post
	case "DELETE":
		return item.Delete
	}
	return nil
}

// RefName returns the component name a $ref points to
// ("#/components/schemas/customer" → "customer").
func RefName(ref string) string {
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

// Resolve follows $ref links to the schema they name.
func (s *Spec) Resolve(sc *Schema) *Schema {
	for i := 0; sc != nil && sc.Ref != "" && i < 16; i++ {
		sc = s.Schemas[RefName(sc.Ref)]
	}
	return sc
}

// Unwrap resolves a schema and, for the spec's `anyOf: [X]` idiom (a
// single branch, used to make a $ref nullable), the single branch; the
// nullability of the wrapper carries over.
func (s *Spec) Unwrap(sc *Schema) (*Schema, bool) {
	nullable := false
	for i := 0; sc != nil && i < 16; i++ {
		nullable = nullable || sc.Nullable
		switch {
		case sc.Ref != "":
			sc = s.Schemas[RefName(sc.Ref)]
		case len(sc.AnyOf) == 1 && sc.Type == "" && len(sc.Properties) == 0:
			sc = sc.AnyOf[0]
		default:
			return sc, nullable
		}
	}
	return sc, nullable
}

// ResponseSchema returns the JSON schema of an operation's 200 response,
// resolved, or nil when the response is not JSON.
func (s *Spec) ResponseSchema(op *Operation) *Schema {
	r := op.Responses["200"]
	if r == nil {
		return nil
	}
	mt := r.Content["application/json"]
	if mt == nil {
		return nil
	}
	sc, _ := s.Unwrap(mt.Schema)
	return sc
}

// ResponseType names the type of object an operation returns: its
// "object" value, or else the component schema's name, or "".
func (s *Spec) ResponseType(op *Operation) string {
	if name := s.ObjectName(s.ResponseSchema(op)); name != "" {
		return name
	}
	if r := op.Responses["200"]; r != nil {
		if mt := r.Content["application/json"]; mt != nil && mt.Schema != nil && mt.Schema.Ref != "" {
			return RefName(mt.Schema.Ref)
		}
	}
	return ""
}

// BodySchema returns the schema of an operation's request body (form or
// multipart), or nil.
func (s *Spec) BodySchema(op *Operation) (*Schema, string) {
	if op.RequestBody == nil {
		return nil, ""
	}
	for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data"} {
		if mt := op.RequestBody.Content[ct]; mt != nil {
			return s.Resolve(mt.Schema), ct
		}
	}
	return nil, ""
}

// IsList reports a list response ({object: list|search_result, data, has_more})
// and returns the schema of its items.
func (s *Spec) IsList(sc *Schema) (*Schema, bool) {
	if sc == nil || sc.Properties == nil {
		return nil, false
	}
	data, ok := sc.Properties["data"]
	if !ok || sc.Properties["has_more"] == nil || data.Items == nil {
		return nil, false
	}
	return data.Items, true
}

// ObjectName returns the object type of a resource schema: the single value
// of its "object" enum ("customer", "checkout.session").
func (s *Spec) ObjectName(sc *Schema) string {
	sc = s.Resolve(sc)
	if sc == nil || sc.Properties == nil {
		return ""
	}
	o := sc.Properties["object"]
	if o == nil || len(o.Enum) != 1 {
		return ""
	}
	name, _ := o.Enum[0].(string)
	return name
}

// Branches returns the schemas an item schema may be: the anyOf branches of
// a polymorphic list, or the schema itself.
func (s *Spec) Branches(sc *Schema) []*Schema {
	sc = s.Resolve(sc)
	if sc == nil {
		return nil
	}
	if len(sc.AnyOf) > 0 {
		out := make([]*Schema, 0, len(sc.AnyOf))
		for _, b := range sc.AnyOf {
			out = append(out, s.Resolve(b))
		}
		return out
	}
	return []*Schema{sc}
}

// Expansions returns the object types an expandable field can turn into
// (x-expansionResources), or nil for a plain field.
func (s *Spec) Expansions(sc *Schema) []string {
	if sc == nil || sc.ExpansionResources == nil {
		return nil
	}
	var out []string
	for _, r := range sc.ExpansionResources.OneOf {
		if name := s.ObjectName(r); name != "" {
			out = append(out, name)
		} else {
			out = append(out, RefName(r.Ref))
		}
	}
	return out
}

// PropertyNames returns a schema's property names, sorted.
func PropertyNames(sc *Schema) []string {
	names := make([]string, 0, len(sc.Properties))
	for n := range sc.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsRequired reports whether name is in the schema's required list.
func IsRequired(sc *Schema, name string) bool {
	for _, r := range sc.Required {
		if r == name {
			return true
		}
	}
	return false
}

// MapValues returns the value schema of a map (additionalProperties set to
// a schema), or nil.
func MapValues(sc *Schema) *Schema {
	if len(sc.AdditionalProperties) == 0 || sc.AdditionalProperties[0] != '{' {
		return nil
	}
	var v Schema
	if json.Unmarshal(sc.AdditionalProperties, &v) != nil {
		return nil
	}
	return &v
}

// EnumStrings returns a schema's enum values that are strings.
func EnumStrings(sc *Schema) []string {
	var out []string
	for _, e := range sc.Enum {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
