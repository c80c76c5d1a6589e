package main

import (
	"strings"

	"github.com/stripesql/stripesql/internal/stripespec"
)

// classifyRest turns the endpoints no table took into procedures or
// omissions:
//
//   - POST …/{id}/<verb> (and POST …/{id}/<sub>/<verb>): an action,
//     VerbResource (FinalizeInvoice, CloseChargeDispute);
//   - POST …/{id}/<noun> creating another object (login_links): Create…;
//   - POST on a sub-object GET also reads (a customer's cash_balance):
//     Update…; DELETE of a sub-object (a discount): Delete…;
//   - POST /v1/<resource> of a resource without a list (tokens): Create…,
//     and POST /v1/<resource>/<verb> (create_preview): VerbResource;
//   - POST or DELETE /v1/<resource>/{id} of a resource without a list:
//     Update… or Delete…;
//   - every GET no table reads, and the rest, are left out with a reason.
func (b *builder) classifyRest() {
	for _, e := range b.spec.Endpoints() {
		if b.used[e.String()] {
			continue
		}
		if reason := b.nestedCreate(e); reason != "" {
			b.omit(e.Method, e.Path, reason)
			continue
		}
		if e.Method == "GET" {
			b.omit(e.Method, e.Path, b.getReason(e))
			continue
		}
		if a := b.action(e); a != nil {
			b.use(e.Method, e.Path)
			b.actions = append(b.actions, a)
			continue
		}
		b.omit(e.Method, e.Path, "not mapped")
	}
	b.dedupeActionNames()
}

// nestedCreate explains a POST or DELETE on a list endpoint, or on one of
// its objects, whose list has no table (a duplicate of another table).
func (b *builder) nestedCreate(e stripespec.Endpoint) string {
	for _, o := range b.omitted {
		if o.Method != "GET" || !strings.HasPrefix(o.Reason, "no table") {
			continue
		}
		if shape(e.Path) == shape(o.Path) || shape(e.Path) == shape(o.Path)+"/{}" {
			if e.Method == "GET" {
				return "reads one object of " + o.Path + ", which has no table (see there)"
			}
			if duplicate(o.Reason) {
				return "writes an object of " + o.Path + ", which has no table (see there)"
			}
			// A write of a list without a table is still an action (a
			// capability requested, an app secret set).
			return ""
		}
	}
	return ""
}

// duplicate reports the reason of a list left out because another table
// reads the same objects: its writes are that table's.
func duplicate(reason string) bool {
	return strings.Contains(reason, "older name") || strings.Contains(reason, "the same ")
}

func (b *builder) getReason(e stripespec.Endpoint) string {
	segs := segments(e.Path)
	last := segs[len(segs)-1]
	switch {
	case strings.HasSuffix(e.Path, "/search"):
		return "a Search endpoint of a resource without a table"
	case isPlaceholder(last):
		return "retrieves one object of a resource Stripe cannot list, so it has no table (a table needs a list endpoint)"
	case len(segs) > 1 && isPlaceholder(segs[len(segs)-2]):
		return "reads a sub-object of one object (not a list), so it has no table"
	}
	for _, p := range e.Op.Parameters {
		if p.In == "query" && p.Required {
			return "computes an answer from required parameters (" + p.Name + "): a lookup, not a stored resource"
		}
	}
	return "not a list of stored objects"
}

// resourceName names the resource a path prefix (without a trailing
// placeholder) lists: a table's singular name when it has one, else the
// singular of its segments, a nested one prefixed by its parent's.
func (b *builder) resourceName(prefix string) string {
	if t := b.byShape(shape(prefix)); t != nil && len(t.ListParams) == 0 {
		return singular(t.Name)
	}
	if strings.HasPrefix(prefix, "/v1/test_helpers/") && prefix != "/v1/test_helpers/test_clocks" {
		return b.resourceName("/v1/" + strings.TrimPrefix(prefix, "/v1/test_helpers/"))
	}
	segs := segments(prefix)
	for i := len(segs) - 1; i >= 0; i-- {
		if isPlaceholder(segs[i]) {
			return b.resourceName("/v1/"+strings.Join(segs[:i], "/")) + pascal(singular(strings.Join(segs[i+1:], "_")))
		}
	}
	var parts []string
	for _, s := range segs {
		parts = append(parts, pascal(singular(s)))
	}
	return strings.Join(parts, "")
}

// placeholderName names the procedure parameter of a path placeholder
// after the resource it identifies (InvoiceId, CustomerId, SourceId).
func (b *builder) placeholderName(path string, i int) string {
	segs := segments(path)
	nested := false
	for _, s := range segs[:i-1] {
		if isPlaceholder(s) {
			nested = true
		}
	}
	if nested {
		return pascal(singular(segs[i-1])) + "Id"
	}
	return b.resourceName("/v1/"+strings.Join(segs[:i], "/")) + "Id"
}

// action makes the procedure of a POST or DELETE endpoint, or returns nil.
func (b *builder) action(e stripespec.Endpoint) *action {
	segs := segments(e.Path)
	last := segs[len(segs)-1]
	hasPlaceholder := strings.Contains(e.Path, "{")
	prefix := "/v1/" + strings.Join(segs[:len(segs)-1], "/")
	respObject := b.spec.ResponseType(e.Op)
	getToo := b.spec.Operation("GET", e.Path) != nil
	var name string
	switch {
	case isPlaceholder(last):
		// POST or DELETE /v1/<resource>/{id} of a resource without a list.
		verb := "Update"
		if e.Method == "DELETE" {
			verb = "Delete"
		}
		name = verb + b.resourceName(prefix)
	case e.Method == "DELETE":
		name = "Delete" + b.resourceName(prefix) + pascal(last)
	case getToo && hasPlaceholder:
		name = "Update" + b.resourceName(prefix) + pascal(last)
	case hasPlaceholder && (respObject == last || respObject == singular(last)):
		name = "Create" + b.resourceName(prefix) + pascal(singular(last))
	case hasPlaceholder:
		name = pascal(last) + b.resourceName(prefix)
	case respObject != "" && b.resourceName(e.Path) == pascal(respObject):
		name = "Create" + pascal(respObject)
	case respObject != "" && strings.ReplaceAll(segs[len(segs)-1], "_", "") == strings.ReplaceAll(plural(lastPart(respObject)), "_", ""):
		name = "Create" + pascal(respObject)
	default:
		name = pascal(last) + b.resourceName(prefix)
	}
	a := &action{Name: name, Method: e.Method, Path: e.Path, Object: respObject, Comment: e.Op.Summary}
	if respObject != "" {
		if t := b.byObject(respObject); t != nil {
			a.Table = t.Name
		} else if sc := b.spec.ResponseSchema(e.Op); sc != nil && len(sc.Properties) > 0 {
			// No table reads this object (Stripe cannot list it), yet it
			// is the point of the call: an account link's url, a token's id.
			a.Result = b.columns(sc)
		}
	}
	for i, s := range segs {
		if isPlaceholder(s) {
			a.Params = append(a.Params, actionParam{Name: b.placeholderName(e.Path, i), Placeholder: s, Kind: pText, Required: true})
		}
	}
	var body *stripespec.Schema
	if e.Method == "DELETE" {
		body = b.queryAsBody(e.Op)
	} else {
		body, _ = b.spec.BodySchema(e.Op)
	}
	if body != nil {
		// Optional objects (a token's card, a session's components) come
		// after the optional scalars, so that adding them left the
		// scalars' overloads as they were.
		var optional, objects []actionParam
		for _, p := range stripespec.PropertyNames(body) {
			if p == "expand" {
				continue
			}
			ps := body.Properties[p]
			u, _ := b.spec.Unwrap(ps)
			ap := actionParam{Name: pascal(p), Form: p, Kind: b.kind(ps), Comment: b.comment(ps, u)}
			for _, q := range a.Params {
				if q.Name == ap.Name {
					ap.Name += "Param"
				}
			}
			switch {
			case stripespec.IsRequired(body, p):
				ap.Required = true
				a.Params = append(a.Params, ap)
			case ap.Kind != pJSON:
				optional = append(optional, ap)
			default:
				objects = append(objects, ap)
			}
		}
		a.Params = append(a.Params, optional...)
		a.Params = append(a.Params, objects...)
	}
	return a
}

// queryAsBody collects a DELETE's query parameters as a body schema.
func (b *builder) queryAsBody(op *stripespec.Operation) *stripespec.Schema {
	sc := &stripespec.Schema{Properties: map[string]*stripespec.Schema{}}
	for _, p := range op.Parameters {
		if p.In == "query" {
			sc.Properties[p.Name] = p.Schema
			if p.Required {
				sc.Required = append(sc.Required, p.Name)
			}
		}
	}
	return sc
}

// dedupeActionNames prefixes test-helper procedures whose name another
// procedure has with TestHelper.
func (b *builder) dedupeActionNames() {
	count := map[string]int{}
	for _, a := range b.actions {
		count[strings.ToLower(a.Name)]++
	}
	for _, a := range b.actions {
		if count[strings.ToLower(a.Name)] > 1 && strings.HasPrefix(a.Path, "/v1/test_helpers/") {
			a.Name = "TestHelper" + a.Name
		}
	}
}
