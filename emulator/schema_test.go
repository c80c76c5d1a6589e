package emulator

import (
	"net/http"
	"slices"
	"testing"
)

// TestFiltersMatchSpec: every list parameter the spec documents for an
// emulated list endpoint is implemented as a filter, and no filter is
// invented.
func TestFiltersMatchSpec(t *testing.T) {
	paging := []string{"limit", "starting_after", "ending_before", "expand"}
	for _, res := range newRegistry().list {
		op := spec().Operations[res.template(http.MethodGet, "")]
		if op == nil {
			t.Errorf("%s: no list operation in schema.json", res.path)
			continue
		}
		var declared []string
		for _, f := range res.filters {
			declared = append(declared, f.param)
			if _, ok := op.Params[f.param]; !ok {
				t.Errorf("%s: filter %s is not a spec parameter", res.path, f.param)
			}
		}
		for p := range op.Params {
			if !slices.Contains(paging, p) && !slices.Contains(declared, p) {
				t.Errorf("%s: spec parameter %s has no filter", res.path, p)
			}
		}
	}
}

// TestRoutesMatchSpec: every endpoint the emulator serves exists in the
// spec (so its parameters can be validated), and every emulated object has
// a resource.
func TestRoutesMatchSpec(t *testing.T) {
	reg := newRegistry()
	for _, res := range reg.list {
		keys := []string{res.template("GET", ""), res.template("POST", ""), res.template("GET", "/{}")}
		if !res.noUpdate {
			keys = append(keys, res.template("POST", "/{}"))
		} else if spec().Operations[res.template("POST", "/{}")] != nil {
			t.Errorf("%s: marked noUpdate, but the spec has POST %s/{id}", res.path, res.path)
		}
		if res.search != nil {
			keys = append(keys, res.template("GET", "/search"))
		}
		if res.del != nil {
			keys = append(keys, res.template("DELETE", "/{}"))
		}
		for verb := range res.actions {
			keys = append(keys, res.template("POST", "/{}/"+verb))
		}
		for _, k := range keys {
			if spec().Operations[k] == nil {
				t.Errorf("%s is served but not in schema.json", k)
			}
		}
		if _, ok := spec().Objects[res.object]; !ok {
			t.Errorf("%s: no schema for object %s", res.path, res.object)
		}
	}
	for name := range spec().Objects {
		if reg.byObject[name] == nil && name != "event" { // events are served by serveEvents
			t.Errorf("schema object %s has no resource", name)
		}
	}
}

func TestRouting(t *testing.T) {
	reg := newRegistry()
	cases := []struct {
		path                             string
		object, parent, id, verb, suffix string
	}{
		{"/v1/customers", "customer", "", "", "", ""},
		{"/v1/customers/search", "customer", "", "", "search", "/search"},
		{"/v1/customers/cus_1", "customer", "", "cus_1", "", "/{}"},
		{"/v1/customers/cus_1/sources", "card", "cus_1", "", "", ""},
		{"/v1/customers/cus_1/sources/card_1", "card", "cus_1", "card_1", "", "/{}"},
		{"/v1/invoices/in_1/finalize", "invoice", "", "in_1", "finalize", "/{}/finalize"},
		{"/v1/refunds/search", "refund", "", "search", "", "/{}"},
	}
	for _, tc := range cases {
		rt, ok := reg.match(tc.path)
		if !ok || rt.res.object != tc.object || rt.parentID != tc.parent || rt.id != tc.id || rt.verb != tc.verb || rt.suffix != tc.suffix {
			t.Errorf("%s: %+v (ok %v)", tc.path, rt, ok)
		}
	}
	for _, p := range []string{"/v1/widgets", "/v1/customers/cus_1/sources/card_1/verify/x", "/v2/customers", "/v1//customers"} {
		if rt, ok := reg.match(p); ok {
			t.Errorf("%s matched %s", p, rt.res.path)
		}
	}
}
