package e2e

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/stripespec"
	"github.com/stripesql/stripesql/pushdown"
)

// Every list parameter of the spec, for every table, is either used by the
// planner when the matching WHERE is given, or explained (Table.Unpushed:
// an order, a list of values, a field no column holds). The test walks the
// spec's list parameters (sub-keys of object parameters one by one:
// customer_details[email]), builds the WHERE on the filter's column, and
// checks that pushdown.Build sends the parameter. It also checks the other
// way: every filter of the catalog is a parameter of the spec.
func TestSweepEveryListParameterIsPushedDown(t *testing.T) {
	raw, err := stripespec.Load()
	if err != nil {
		t.Fatal(err)
	}
	spec := sweepSpec{raw}
	cat := catalog.All()
	ctx := sql.NewEmptyContext()
	pushed, explained := 0, 0
	for _, def := range cat.Tables() {
		if def.Singleton {
			continue
		}
		specPath := spec.specPath(def.ListPath)
		op := spec.Operation("GET", specPath)
		if op == nil {
			t.Errorf("%s: no GET %s in the spec", def.Name, def.ListPath)
			continue
		}
		leaves := map[string]*stripespec.Schema{}
		for _, p := range op.Parameters {
			if p.In != "query" || skipParam(def, p.Name) {
				continue
			}
			for key, sc := range spec.leafParams(p.Name, p.Schema) {
				leaves[key] = sc
			}
		}
		for key := range leaves {
			f := filterFor(def, key)
			if f == nil {
				top, _, _ := strings.Cut(key, "[")
				if !unpushed(def, top) {
					t.Errorf("%s: the spec's list parameter %s is neither a filter nor explained in Unpushed", def.Name, key)
					continue
				}
				explained++
				continue
			}
			col, _ := def.Column(f.Column)
			cond, want := condition(col, f, key)
			plan := pushdown.Resolve(pushdown.Build(ctx, def, []sql.Expression{cond}, pushdown.Options{}), cat, pushdown.Options{})
			if !sends(plan, want) {
				t.Errorf("%s: WHERE %s does not send %s: %s", def.Name, cond, want, plan)
				continue
			}
			pushed++
		}
		for _, f := range def.Filters {
			if _, ok := leaves[f.Param]; !ok {
				t.Errorf("%s: filter %s on %s is not a list parameter of GET %s", def.Name, f.Param, f.Column, specPath)
			}
		}
		for _, u := range def.Unpushed {
			if u.Reason == "" {
				t.Errorf("%s: %s is not pushed down, without a reason", def.Name, u.Param)
			}
		}
	}
	t.Logf("%d list parameters pushed down (each checked with its WHERE), %d explained in Unpushed", pushed, explained)
	if pushed < 200 {
		t.Errorf("only %d list parameters are pushed down", pushed)
	}
}

// skipParam reports the list parameters that are no filter: paging,
// expand, the parent's and the table's fixed ones.
func skipParam(def *catalog.Table, name string) bool {
	switch name {
	case "limit", "starting_after", "ending_before", "expand":
		return true
	}
	if def.Parent != nil && def.Parent.Param == name {
		return true
	}
	for _, p := range def.ListParams {
		if p.Key == name {
			return true
		}
	}
	return false
}

// leafParams lists a parameter's leaves in bracket notation: the
// parameter itself, or each property of an object parameter that is not
// a range (customer_details[email]).
func (s sweepSpec) leafParams(name string, sc *stripespec.Schema) map[string]*stripespec.Schema {
	u, _ := s.Unwrap(sc)
	if u != nil && u.Type == "object" && len(u.Properties) > 0 && !isRangeSchema(s, sc) {
		out := map[string]*stripespec.Schema{}
		for _, sub := range stripespec.PropertyNames(u) {
			out[name+"["+sub+"]"] = u.Properties[sub]
		}
		return out
	}
	return map[string]*stripespec.Schema{name: sc}
}

func isRangeSchema(s sweepSpec, sc *stripespec.Schema) bool {
	if r := s.Resolve(sc); r != nil && r.Properties["gte"] != nil {
		return true
	}
	for _, br := range sc.AnyOf {
		if r := s.Resolve(br); r != nil && r.Properties["gte"] != nil {
			return true
		}
	}
	return false
}

func filterFor(def *catalog.Table, param string) *catalog.Filter {
	for i := range def.Filters {
		if def.Filters[i].Param == param {
			return &def.Filters[i]
		}
	}
	return nil
}

func unpushed(def *catalog.Table, param string) bool {
	for _, u := range def.Unpushed {
		if u.Param == param {
			return true
		}
	}
	return false
}

// condition is a WHERE conjunct on the filter's column, and the
// parameter key it must send.
func condition(col *catalog.Column, f *catalog.Filter, key string) (sql.Expression, string) {
	field := expression.NewGetField(0, types.Text, col.Name, true)
	if f.Ops&catalog.OpRange != 0 {
		var lit sql.Expression = expression.NewLiteral("2024-01-01 00:00:00", types.LongText)
		if col.Type == catalog.Integer {
			lit = expression.NewLiteral(int64(5), types.Int64)
		}
		return expression.NewGreaterThanOrEqual(field, lit), key + "[gte]"
	}
	var lit sql.Expression
	switch col.Type {
	case catalog.Boolean:
		lit = expression.NewLiteral(int8(1), types.Int8)
	case catalog.Integer:
		lit = expression.NewLiteral(int64(7), types.Int64)
	default:
		v := "v_sweep"
		if len(f.Enum) > 0 {
			v = f.Enum[0] // Stripe accepts nothing else
		}
		lit = expression.NewLiteral(v, types.LongText)
	}
	return expression.NewEquals(field, lit), key
}

// sends reports whether any call of the plan carries the parameter.
func sends(p pushdown.Plan, key string) bool {
	for _, c := range p.Calls {
		for _, prm := range c.Params {
			if prm.Key == key {
				return true
			}
		}
	}
	return false
}
