package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/stripespec"
)

// Helpers of the contract sweep: sample values for spec parameters, so
// that every INSERT, UPDATE and CALL the sweep makes carries parameters
// stripe-mock checks against the spec (names, types, enums).

// sweepSpec wraps the spec with the lookups the sweep needs.
type sweepSpec struct{ *stripespec.Spec }

// body returns the parameters of an endpoint: its form body, or for
// DELETE its query parameters, as an object schema.
func (s sweepSpec) body(method, path string) *stripespec.Schema {
	op := s.Operation(method, path)
	if op == nil {
		return nil
	}
	if method == "DELETE" {
		sc := &stripespec.Schema{Properties: map[string]*stripespec.Schema{}}
		for _, p := range op.Parameters {
			if p.In == "query" {
				sc.Properties[p.Name] = p.Schema
			}
		}
		return sc
	}
	body, _ := s.BodySchema(op)
	return body
}

// specPath finds the spec's template of a catalog path (whose own id is
// {id}, whose parent placeholder may be renamed).
func (s sweepSpec) specPath(path string) string {
	want := anonymise(path)
	for _, p := range s.PathNames() {
		if anonymise(p) == want {
			return p
		}
	}
	return ""
}

func anonymise(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// param finds the schema of a form parameter in bracket notation
// (address[city]) in a body schema.
func (s sweepSpec) param(body *stripespec.Schema, name string) *stripespec.Schema {
	if body == nil {
		return nil
	}
	key, rest, nested := strings.Cut(name, "[")
	sc := body.Properties[key]
	if !nested || sc == nil {
		return sc
	}
	sub := strings.TrimSuffix(rest, "]")
	for _, br := range s.branches(sc) {
		if br.Properties[sub] != nil {
			return br.Properties[sub]
		}
	}
	return nil
}

// branches returns a schema's alternatives, resolved, without the empty
// string that unsets a field.
func (s sweepSpec) branches(sc *stripespec.Schema) []*stripespec.Schema {
	u, _ := s.Unwrap(sc)
	if u == nil {
		return nil
	}
	all := []*stripespec.Schema{u}
	if len(u.AnyOf) > 1 {
		all = nil
		for _, br := range u.AnyOf {
			all = append(all, s.Resolve(br))
		}
	}
	var out []*stripespec.Schema
	for _, br := range all {
		if vals := stripespec.EnumStrings(br); br != nil && !(len(vals) == 1 && vals[0] == "") {
			out = append(out, br)
		}
	}
	return out
}

// sample returns a value the schema accepts: an enum's first value, "usd"
// for a currency, 1 for numbers, true, an object with its required
// properties (or its first scalar one), a one-element list.
func (s sweepSpec) sample(sc *stripespec.Schema, depth int) any {
	brs := s.branches(sc)
	if len(brs) == 0 || depth > 5 {
		return "x"
	}
	// Prefer a scalar alternative: it is the simplest valid value.
	br := brs[0]
	for _, b := range brs {
		if b.Type == "string" || b.Type == "integer" || b.Type == "boolean" || b.Type == "number" {
			br = b
			break
		}
	}
	switch br.Type {
	case "string":
		if vals := stripespec.EnumStrings(br); len(vals) > 0 {
			return vals[0]
		}
		if br.Format == "currency" {
			return "usd"
		}
		return "x_sweep"
	case "integer", "number":
		return json.Number("1")
	case "boolean":
		return true
	case "array":
		if br.Items == nil {
			return []any{"x"}
		}
		return []any{s.sample(br.Items, depth+1)}
	}
	obj := map[string]any{}
	for _, r := range br.Required {
		if p := br.Properties[r]; p != nil {
			obj[r] = s.sample(p, depth+1)
		}
	}
	if len(obj) == 0 {
		for _, name := range stripespec.PropertyNames(br) {
			if v := s.sample(br.Properties[name], depth+1); isScalar(v) {
				obj[name] = v
				break
			}
		}
	}
	if len(obj) == 0 {
		if v := stripespec.MapValues(br); v != nil {
			obj["k"] = s.sample(v, depth+1)
		}
	}
	if names := stripespec.PropertyNames(br); len(obj) == 0 && len(names) > 0 {
		// Only objects inside: the first one, so that the value is not an
		// empty object (sent as an empty string, which unsets).
		obj[names[0]] = s.sample(br.Properties[names[0]], depth+1)
	}
	return obj
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, json.Number:
		return true
	}
	return false
}

// enum returns the values of a parameter's enum, if it has one.
func (s sweepSpec) enum(sc *stripespec.Schema) []string {
	for _, br := range s.branches(sc) {
		var vals []string
		for _, v := range stripespec.EnumStrings(br) {
			if v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			return vals
		}
	}
	return nil
}

// literal renders a sample as a SQL literal for a column of the type.
func literal(typ catalog.Type, v any) string {
	switch typ {
	case catalog.JSON:
		b, _ := json.Marshal(v)
		return "CAST(" + quoteSQL(string(b)) + " AS JSON)"
	case catalog.Boolean:
		if b, ok := v.(bool); ok && !b {
			return "FALSE"
		}
		return "TRUE"
	case catalog.Timestamp:
		return "'2031-05-06 07:08:09'"
	case catalog.Integer, catalog.Float:
		if n, ok := v.(json.Number); ok {
			return n.String()
		}
		return "1"
	}
	switch x := v.(type) {
	case string:
		return quoteSQL(x)
	case json.Number:
		return quoteSQL(x.String())
	case bool:
		return quoteSQL(fmt.Sprint(x))
	}
	b, _ := json.Marshal(v)
	return quoteSQL(string(b))
}

func quoteSQL(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}

// tally counts what the sweep did and collects what went wrong.
type tally struct {
	counts   map[string]int
	failures []string
}

func (t *tally) add(what string) {
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[what]++
}

func (t *tally) fail(format string, args ...any) {
	t.failures = append(t.failures, fmt.Sprintf(format, args...))
}

func (t *tally) String() string {
	var keys []string
	for k := range t.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, t.counts[k]))
	}
	return strings.Join(parts, ", ")
}
