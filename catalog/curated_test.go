package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The contract's fourteen tables were hand-written (legacy_builtin_test.go
// keeps that catalog as it was) before they were generated from the spec
// and curated. Users' SQL and the tests depend on what they had, so every
// hand-written table, column, filter and Search field must still be there,
// the same: names, types, paths, references, writability, the order of
// list filters (the order of request parameters) and default visibility.
// The generated tables may add columns, filters and Search fields, and
// make more columns writable where the spec allows it.
func TestContractTablesKeepTheirHandWrittenShape(t *testing.T) {
	legacy, now := legacyBuiltin(), Builtin()
	if len(now.Tables()) != len(legacy.Tables()) {
		t.Fatalf("Builtin has %d tables, the hand-written catalog had %d", len(now.Tables()), len(legacy.Tables()))
	}
	for _, old := range legacy.Tables() {
		tbl, ok := now.Lookup(old.Name)
		if !ok || tbl.Name != old.Name {
			t.Errorf("table %s is gone", old.Name)
			continue
		}
		same := func(what string, a, b any) {
			if _, fixed := specCorrections[what]; fixed {
				return
			}
			if sa, sb := strings.TrimSpace(fmtAny(a)), strings.TrimSpace(fmtAny(b)); sa != sb {
				t.Errorf("%s: %s was %s, is %s", old.Name, what, sa, sb)
			}
		}
		same("object", old.Object, tbl.Object)
		same("aliases", old.Aliases, tbl.Aliases)
		same("list path", old.ListPath, tbl.ListPath)
		same("list params", old.ListParams, tbl.ListParams)
		same("parent", old.Parent, tbl.Parent)
		same("scans", old.Scans, tbl.Scans)
		same("test clocks", old.TestClocks, tbl.TestClocks)
		same("paths", []string{old.RetrievePath, old.CreatePath, old.UpdatePath, old.DeletePath},
			[]string{tbl.RetrievePath, tbl.CreatePath, tbl.UpdatePath, tbl.DeletePath})
		same("no-delete hint", old.NoDeleteHint, tbl.NoDeleteHint)
		for _, oc := range old.Columns {
			c, ok := tbl.Column(oc.Name)
			if !ok || c.Name != oc.Name {
				t.Errorf("%s.%s is gone", old.Name, oc.Name)
				continue
			}
			what := old.Name + "." + oc.Name
			same(what+" type", oc.Type, c.Type)
			same(what+" path", oc.Path, c.Path)
			same(what+" required", oc.Required, c.Required)
			if oc.Required {
				same(what+" nullable", oc.Nullable, c.Nullable) // NOT NULL in the schema
			}
			if oc.Ref != "" {
				same(what+" ref", oc.Ref, c.Ref)
			}
			if oc.CreateParam != "" {
				same(what+" create param", oc.CreateParam, c.CreateParam)
			}
			if oc.UpdateParam != "" {
				same(what+" update param", oc.UpdateParam, c.UpdateParam)
			}
		}
		if len(tbl.Filters) < len(old.Filters) {
			t.Errorf("%s: filters %v, had %v", old.Name, tbl.Filters, old.Filters)
		} else {
			// Enum (the values Stripe accepts) is new, from the spec.
			var now []Filter
			for _, f := range tbl.Filters[:len(old.Filters)] {
				f.Enum = nil
				now = append(now, f)
			}
			same("filters", old.Filters, now)
		}
		if old.Search != nil {
			if tbl.Search == nil {
				t.Errorf("%s: Search is gone", old.Name)
				continue
			}
			same("search path", old.Search.Path, tbl.Search.Path)
			for _, f := range old.Search.Fields {
				if !slices.Contains(tbl.Search.Fields, f) {
					t.Errorf("%s: Search field %v is gone", old.Name, f)
				}
			}
		}
	}
}

// specCorrections are hand-written details the spec shows were wrong.
var specCorrections = map[string]string{
	"Subscriptions.TestClock create param": "POST /v1/subscriptions has no test_clock parameter: a subscription is on its customer's test clock",
}

func fmtAny(v any) string { return strings.ReplaceAll(fmt.Sprintf("%+v", v), "<nil>", "") }
