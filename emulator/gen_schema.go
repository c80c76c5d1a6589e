//go:build ignore

// gen_schema extracts, from the Stripe OpenAPI spec embedded in stripe-mock,
// the few facts the emulator needs at run time and writes them to
// schema.json:
//
//   - for each emulated object, its top-level properties in spec order with a
//     coarse type, whether the property is nullable or required, and which
//     emulated objects an expandable id can turn into;
//   - for each emulated operation, its top-level parameters with a coarse type,
//     the required ones, and the dotted paths of non-string leaves (so that
//     form values can be coerced to integers and booleans).
//
// The emulator is linked into the stripesql binary, which must not carry the
// 8 MB spec; this program keeps the spec a build-time input only.
//
// Usage (from this directory):
//
//	go run gen_schema.go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/stripe/stripe-mock/embedded"
)

// objects lists the emulated object schemas (components/schemas/<name>).
var objects = []string{
	"account", "card", "charge", "customer", "invoice", "invoiceitem",
	"payment_intent", "payment_method", "price", "product", "quote",
	"refund", "subscription", "test_helpers.test_clock", "event",
}

// paths lists the emulated path templates; every GET/POST/DELETE operation
// on them is extracted.
var paths = []string{
	"/v1/accounts", "/v1/accounts/{account}",
	"/v1/charges", "/v1/charges/search", "/v1/charges/{charge}", "/v1/charges/{charge}/refund",
	"/v1/customers", "/v1/customers/search", "/v1/customers/{customer}",
	"/v1/customers/{customer}/sources", "/v1/customers/{customer}/sources/{id}",
	"/v1/events", "/v1/events/{id}",
	"/v1/invoiceitems", "/v1/invoiceitems/{invoiceitem}",
	"/v1/invoices", "/v1/invoices/search", "/v1/invoices/{invoice}",
	"/v1/invoices/{invoice}/finalize", "/v1/invoices/{invoice}/mark_uncollectible",
	"/v1/invoices/{invoice}/pay", "/v1/invoices/{invoice}/send", "/v1/invoices/{invoice}/void",
	"/v1/payment_intents", "/v1/payment_intents/search", "/v1/payment_intents/{intent}",
	"/v1/payment_intents/{intent}/cancel", "/v1/payment_intents/{intent}/capture",
	"/v1/payment_intents/{intent}/confirm",
	"/v1/payment_methods", "/v1/payment_methods/{payment_method}",
	"/v1/payment_methods/{payment_method}/attach", "/v1/payment_methods/{payment_method}/detach",
	"/v1/prices", "/v1/prices/search", "/v1/prices/{price}",
	"/v1/products", "/v1/products/search", "/v1/products/{id}",
	"/v1/quotes", "/v1/quotes/{quote}", "/v1/quotes/{quote}/accept",
	"/v1/quotes/{quote}/cancel", "/v1/quotes/{quote}/finalize",
	"/v1/refunds", "/v1/refunds/{refund}",
	"/v1/subscriptions", "/v1/subscriptions/search", "/v1/subscriptions/{subscription_exposed_id}",
	"/v1/subscriptions/{subscription}/resume",
	"/v1/test_helpers/test_clocks", "/v1/test_helpers/test_clocks/{test_clock}",
	"/v1/test_helpers/test_clocks/{test_clock}/advance",
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Nullable             bool               `json:"nullable"`
	Enum                 []any              `json:"enum"`
	AnyOf                []*schema          `json:"anyOf"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	Items                *schema            `json:"items"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	ExpansionResources   *struct {
		OneOf []*schema `json:"oneOf"`
	} `json:"x-expansionResources"`
}

type parameter struct {
	In       string  `json:"in"`
	Name     string  `json:"name"`
	Required bool    `json:"required"`
	Schema   *schema `json:"schema"`
}

type operation struct {
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type spec struct {
	Paths      map[string]map[string]*operation `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

// Output types; they mirror schemaFile in schema.go.

type field struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Nullable bool     `json:"nullable,omitempty"`
	Required bool     `json:"required,omitempty"`
	Expands  []string `json:"expands,omitempty"`
}

type op struct {
	Params   map[string]string `json:"params"`
	Required []string          `json:"required,omitempty"`
	Leaves   map[string]string `json:"leaves,omitempty"`
}

type output struct {
	Comment    string             `json:"_comment"`
	Objects    map[string][]field `json:"objects"`
	Operations map[string]op      `json:"operations"`
	// EventTypes are the event types that exist: the enum of a webhook
	// endpoint's enabled_events (what stripe-api.md calls the list of
	// event types), so that the emulator never invents one.
	EventTypes []string `json:"event_types"`
}

func main() {
	var sp spec
	if err := json.Unmarshal(embedded.OpenAPISpec, &sp); err != nil {
		log.Fatal(err)
	}
	schemas := sp.Components.Schemas
	emulated := map[string]bool{}
	for _, o := range objects {
		emulated[o] = true
	}

	out := output{
		Comment:    "Generated by gen_schema.go from stripe-mock's embedded spec3.json; DO NOT EDIT.",
		Objects:    map[string][]field{},
		Operations: map[string]op{},
	}
	for _, name := range objects {
		s := schemas[name]
		if s == nil {
			log.Fatalf("schema %s not found", name)
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		var fields []field
		for _, p := range sortedKeys(s.Properties) {
			ps := s.Properties[p]
			f := field{Name: p, Type: objectType(schemas, ps), Nullable: ps.Nullable, Required: required[p]}
			if ps.ExpansionResources != nil {
				for _, r := range ps.ExpansionResources.OneOf {
					if n := refName(r.Ref); emulated[n] {
						f.Expands = append(f.Expands, n)
					}
				}
			}
			fields = append(fields, f)
		}
		out.Objects[name] = fields
	}

	for _, p := range paths {
		ops := sp.Paths[p]
		if ops == nil {
			log.Fatalf("path %s not found", p)
		}
		for method, o := range ops {
			key := strings.ToUpper(method) + " " + normalize(p)
			res := op{Params: map[string]string{}, Leaves: map[string]string{}}
			for _, prm := range o.Parameters {
				if prm.In != "query" {
					continue
				}
				res.Params[prm.Name] = paramType(schemas, prm.Schema)
				if prm.Required {
					res.Required = append(res.Required, prm.Name)
				}
			}
			if o.RequestBody != nil {
				for _, c := range o.RequestBody.Content {
					if c.Schema == nil {
						continue
					}
					for name, ps := range c.Schema.Properties {
						res.Params[name] = paramType(schemas, ps)
						leaves(schemas, ps, name, res.Leaves, 0)
					}
					res.Required = append(res.Required, c.Schema.Required...)
				}
			}
			sort.Strings(res.Required)
			out.Operations[key] = res
		}
	}

	if wh := sp.Paths["/v1/webhook_endpoints"]["post"]; wh != nil && wh.RequestBody != nil {
		for _, c := range wh.RequestBody.Content {
			if ee := c.Schema.Properties["enabled_events"]; ee != nil && ee.Items != nil {
				for _, v := range ee.Items.Enum {
					if s, ok := v.(string); ok && s != "*" {
						out.EventTypes = append(out.EventTypes, s)
					}
				}
			}
		}
	}
	if len(out.EventTypes) == 0 {
		log.Fatal("no event types: POST /v1/webhook_endpoints enabled_events enum not found")
	}
	sort.Strings(out.EventTypes)

	if err := os.WriteFile("schema.json", render(out), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote schema.json: %d objects, %d operations\n", len(out.Objects), len(out.Operations))
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// normalize replaces path parameters by "{}" so that templates naming the
// same parameter differently (e.g. {subscription} and
// {subscription_exposed_id}) share one spelling.
func normalize(p string) string { return pathParam.ReplaceAllString(p, "{}") }

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func resolve(schemas map[string]*schema, s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = schemas[refName(s.Ref)]
	}
	return s
}

// objectType classifies a response property: id (an expandable reference),
// list (a Stripe list object), or the JSON type.
func objectType(schemas map[string]*schema, s *schema) string {
	if s.ExpansionResources != nil {
		return "id"
	}
	s = resolve(schemas, s)
	if len(s.AnyOf) > 0 {
		return "object"
	}
	if s.Type == "object" && s.Properties["object"] != nil && s.Properties["data"] != nil {
		return "list"
	}
	if s.Type == "" {
		return "object"
	}
	return s.Type
}

// paramType classifies a request parameter. anyOf branches that only allow
// the empty string (Stripe's "unset" marker) are ignored; an object-or-integer
// anyOf is a timestamp range filter.
func paramType(schemas map[string]*schema, s *schema) string {
	s = resolve(schemas, s)
	if len(s.AnyOf) == 0 {
		if s.Type == "" {
			return "object"
		}
		return s.Type
	}
	kinds := map[string]bool{}
	for _, b := range s.AnyOf {
		b = resolve(schemas, b)
		if isEmptyEnum(b) {
			continue
		}
		kinds[paramType(schemas, b)] = true
	}
	switch {
	case kinds["object"] && kinds["integer"]:
		return "range"
	case len(kinds) == 1:
		for k := range kinds {
			return k
		}
	case kinds["object"]:
		return "object"
	case kinds["array"]:
		return "array"
	}
	return "string"
}

func isEmptyEnum(s *schema) bool {
	return len(s.Enum) == 1 && s.Enum[0] == ""
}

// leaves records the dotted paths of integer, number and boolean leaves of a
// request parameter; array elements are written "*". Strings are the default
// and are not recorded.
func leaves(schemas map[string]*schema, s *schema, path string, out map[string]string, depth int) {
	s = resolve(schemas, s)
	if s == nil || depth > 6 {
		return
	}
	// A scalar that may also be a string ("now", "inf", "max_period_end")
	// stays a string; the emulator interprets it.
	stringy := false
	for _, b := range s.AnyOf {
		if b = resolve(schemas, b); !isEmptyEnum(b) && b.Type == "string" {
			stringy = true
		}
	}
	for _, b := range s.AnyOf {
		b = resolve(schemas, b)
		if isEmptyEnum(b) || (stringy && b.Type != "object" && b.Type != "array") {
			continue
		}
		leaves(schemas, b, path, out, depth+1)
	}
	switch s.Type {
	case "integer", "number", "boolean":
		if prev, ok := out[path]; ok && prev != s.Type {
			return // ambiguous across anyOf branches: leave it a string
		}
		out[path] = s.Type
	case "array":
		if s.Items != nil {
			leaves(schemas, s.Items, path+".*", out, depth+1)
		}
	case "object":
		for name, ps := range s.Properties {
			leaves(schemas, ps, path+"."+name, out, depth+1)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// render writes the output as JSON with one line per object field and per
// operation attribute, so that the file stays short and diffs stay readable.
func render(out output) []byte {
	var b bytes.Buffer
	line := func(v any) string {
		j, err := json.Marshal(v)
		if err != nil {
			log.Fatal(err)
		}
		return string(j)
	}
	fmt.Fprintf(&b, "{\n \"_comment\": %s,\n \"objects\": {\n", line(out.Comment))
	for i, name := range sortedKeys(out.Objects) {
		fmt.Fprintf(&b, "  %s: [\n", line(name))
		for j, f := range out.Objects[name] {
			fmt.Fprintf(&b, "   %s%s\n", line(f), sep(j, len(out.Objects[name])))
		}
		fmt.Fprintf(&b, "  ]%s\n", sep(i, len(out.Objects)))
	}
	b.WriteString(" },\n \"operations\": {\n")
	for i, key := range sortedKeys(out.Operations) {
		o := out.Operations[key]
		fmt.Fprintf(&b, "  %s: {\n   \"params\": %s", line(key), line(o.Params))
		if len(o.Required) > 0 {
			fmt.Fprintf(&b, ",\n   \"required\": %s", line(o.Required))
		}
		if len(o.Leaves) > 0 {
			fmt.Fprintf(&b, ",\n   \"leaves\": %s", line(o.Leaves))
		}
		fmt.Fprintf(&b, "\n  }%s\n", sep(i, len(out.Operations)))
	}
	b.WriteString(" },\n \"event_types\": [\n")
	for i, t := range out.EventTypes {
		fmt.Fprintf(&b, "  %s%s\n", line(t), sep(i, len(out.EventTypes)))
	}
	b.WriteString(" ]\n}\n")
	return b.Bytes()
}

func sep(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}
