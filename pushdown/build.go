package pushdown

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"

	"github.com/stripesql/stripesql/catalog"
)

// maxListCalls caps how many list calls IN lists may multiply into; past
// it the planner keeps fewer columns in the calls (the engine still filters).
const maxListCalls = 50

// Options are the per-session choices that shape a plan.
type Options struct {
	// Search allows the Search API, and only where the alternative is a
	// full scan: Search is eventually consistent, lists are not.
	Search bool
	// TestClocks makes Resolve add the scans that reveal objects on test
	// clocks, which list endpoints hide. Test clocks exist in test mode
	// only.
	TestClocks bool
}

// Build plans the calls for a table given the conjuncts of its WHERE
// clause. Conjuncts the planner does not understand are simply not used
// to narrow the calls; the engine evaluates every conjunct on every row.
//
// In order of preference: retrieves and list filters (consistent and
// exact); a union over an OR whose branches each narrow that way; one
// Search query; a union whose branches may use Search; a full scan.
func Build(ctx *sql.Context, t *catalog.Table, conjuncts []sql.Expression, opts Options) Plan {
	cs := newConstraints()
	for _, e := range conjuncts {
		cs.add(ctx, t, e)
	}
	if cs.never {
		return Plan{Table: t, Empty: true, Exact: true}
	}
	if plan := build(t, cs); !plan.IsFullScan() {
		return plan
	}
	if plan, ok := distributeOr(ctx, t, conjuncts, Options{}); ok {
		return plan
	}
	if opts.Search {
		if plan, ok := searchPlan(ctx, t, conjuncts); ok {
			return plan
		}
		if plan, ok := distributeOr(ctx, t, conjuncts, opts); ok {
			return plan
		}
	}
	full := FullScan(t)
	full.Exact = len(conjuncts) == 0 // the conjuncts are left to the engine
	return full
}

// IsFullScan reports a plan that reads the whole table.
func (p Plan) IsFullScan() bool {
	return !p.Empty && p.String() == FullScan(p.Table).String()
}

// distributeOr plans `rest AND (b1 OR b2 …)` as the union of the plans of
// `rest AND bi`, when every branch narrows. Rows found by several branches
// are returned once (Plan.Dedupe).
func distributeOr(ctx *sql.Context, t *catalog.Table, conjuncts []sql.Expression, opts Options) (Plan, bool) {
	for i, e := range conjuncts {
		or, ok := e.(*expression.Or)
		if !ok {
			continue
		}
		rest := append(append([]sql.Expression(nil), conjuncts[:i]...), conjuncts[i+1:]...)
		union := Plan{Table: t, Dedupe: true, Empty: true}
		seen := map[string]bool{}
		for _, branch := range disjuncts(or) {
			plan := Build(ctx, t, append(append([]sql.Expression(nil), rest...), expression.SplitConjunction(ctx, branch)...), opts)
			if plan.IsFullScan() || plan.Parent != nil {
				union = Plan{}
				break
			}
			for _, c := range plan.Calls {
				if key := c.String(); !seen[key] {
					seen[key] = true
					union.Calls = append(union.Calls, c)
					union.Empty = false
				}
			}
			union.clockSets = append(union.clockSets, plan.clockSets...)
		}
		if union.Table != nil {
			return union, true
		}
	}
	return Plan{}, false
}

func disjuncts(e sql.Expression) []sql.Expression {
	if or, ok := e.(*expression.Or); ok {
		return append(disjuncts(or.LeftChild), disjuncts(or.RightChild)...)
	}
	return []sql.Expression{e}
}

// searchPlan is one Search query for what the conjuncts let Search express.
func searchPlan(ctx *sql.Context, t *catalog.Table, conjuncts []sql.Expression) (Plan, bool) {
	if t.Search == nil {
		return Plan{}, false
	}
	and, or := searchClauses(ctx, t, conjuncts)
	var query string
	switch {
	case len(and) > 0:
		query = strings.Join(and, " AND ")
	case len(or) > 0:
		query = strings.Join(or, " OR ")
	default:
		return Plan{}, false
	}
	call := Call{Kind: Search, Path: t.Search.Path, Params: []catalog.Param{{Key: "query", Value: query}}}
	return Plan{Table: t, Calls: []Call{call}}, true
}

func build(t *catalog.Table, cs *constraints) Plan {
	plan := Plan{Table: t}
	if cs.never {
		plan.Empty, plan.Exact = true, true
		return plan
	}
	if t.Singleton {
		// One object at the list path: one GET, whatever the filter.
		plan.Calls = []Call{{Kind: Retrieve, Path: t.ListPath}}
		plan.Exact = !cs.inexact && len(cs.values) == 0 && len(cs.bounds) == 0
		return plan
	}
	// used counts the constrained columns the calls express; the plan is
	// exact when every conjunct was captured and every column is used.
	used := 0
	parentIDs, parentKnown := cs.values[parentColumn(t)]
	if parentKnown {
		used++
	}
	idKey := strings.ToLower(catalog.PrimaryKey)
	if ids, ok := cs.values[idKey]; ok && t.RetrievePath != "" && (!t.Parent.InPath() || parentKnown) {
		if parentKnown && !t.Parent.InPath() {
			used-- // a query-parameter parent is not part of a retrieve
		}
		plan.Calls = retrieves(t, ids, parentIDs)
		plan.Empty = len(plan.Calls) == 0
		plan.Exact = !cs.inexact && used+1 == len(cs.values) && len(cs.bounds) == 0
		return plan
	}

	base := append([]catalog.Param(nil), t.ListParams...)
	paramSets := [][]catalog.Param{base}
	for _, f := range t.Filters {
		key := strings.ToLower(f.Column)
		if vals, ok := cs.values[key]; ok && f.Ops&catalog.OpEq != 0 {
			if len(paramSets)*len(vals) <= maxListCalls {
				paramSets = multiply(paramSets, f.Param, vals)
				used++
			}
		}
		if b, ok := cs.bounds[key]; ok && f.Ops&catalog.OpRange != 0 {
			for i := range paramSets {
				paramSets[i] = append(paramSets[i], b.params(f.Param)...)
			}
			used++
		}
	}
	plan.Exact = !cs.inexact && used == len(cs.values)+len(cs.bounds)
	paramSets = applyScans(t, paramSets)

	paths := []Call{{Kind: List, Path: t.ListPath}}
	switch {
	case t.Parent == nil:
	case parentKnown:
		paths = nil
		for _, id := range parentIDs {
			if possibleID(id) {
				paths = append(paths, Call{Kind: List, Path: t.ListPath}.ForParent(t.Parent.Placeholder, id))
			}
		}
		if len(paths) == 0 {
			plan.Empty = true
			return plan
		}
	default:
		// The parent plan is filled in by Resolve, which has the catalog;
		// here we only mark that one is needed.
		plan.Parent = &Plan{}
		plan.Placeholder = t.Parent.Placeholder
		plan.ParentTable = t.Parent.Table
	}
	for _, path := range paths {
		for _, ps := range paramSets {
			c := path
			c.Params = ps
			if p := t.Parent; p != nil && p.Param != "" {
				// A query-parameter parent: its id (or, in a fan-out, the
				// placeholder each parent's id fills) leads the parameters.
				value := c.ParentID
				if value == "" {
					value, c.FillParam = p.Placeholder, p.Param
				}
				c.Params = append([]catalog.Param{{Key: p.Param, Value: value}}, ps...)
			}
			plan.Calls = append(plan.Calls, c)
		}
	}
	if t.TestClocks != nil && !revealsTestClocks(t.TestClocks, paramSets) {
		plan.clockSets = paramSets
	}
	return plan
}

// revealsTestClocks reports parameter sets under which Stripe already
// lists test-clock objects.
func revealsTestClocks(v *catalog.TestClockVisibility, sets [][]catalog.Param) bool {
	for _, s := range sets {
		for _, p := range s {
			if p.Key == v.Param || slices.Contains(v.RevealedBy, p.Key) {
				return true
			}
		}
	}
	return false
}

// Resolve completes a plan with what needs the catalog: the parent plan of
// a fan-out (the parent table read in full), and, with opts.TestClocks,
// the scans of the objects on test clocks that its list calls hide.
func Resolve(plan Plan, c *catalog.Catalog, opts Options) Plan {
	if plan.Parent != nil && plan.ParentTable != "" && plan.Parent.Table == nil {
		if parent, ok := c.Lookup(plan.ParentTable); ok {
			full := Resolve(FullScan(parent), c, opts)
			plan.Parent = &full
		}
	}
	if opts.TestClocks && plan.clockSets != nil {
		if also, ok := clockScan(plan.Table, plan.clockSets, c, opts); ok {
			plan.Also = append(plan.Also, also)
		}
	}
	plan.clockSets = nil
	return plan
}

// clockScan is the plan that reads, for every test clock, the objects the
// given list calls hide: with the clock as a parameter, or through the
// clock's objects of another table (the invoices of a clock's customers).
func clockScan(t *catalog.Table, sets [][]catalog.Param, c *catalog.Catalog, opts Options) (Plan, bool) {
	clocksTable, ok := c.Lookup(catalog.TestClocksTable)
	if !ok {
		return Plan{}, false
	}
	clocks := Resolve(FullScan(clocksTable), c, opts)
	// A clock scan is a fan-out, run once per clock (or per customer on
	// one): one call per parent with the parameters all sets share
	// returns a superset for fewer calls than one call per set.
	sets = [][]catalog.Param{commonParams(sets)}
	const clock = "{test_clock}"
	v := t.TestClocks
	if v.Param != "" {
		scan := Plan{Table: t, Parent: &clocks, Placeholder: clock, ParentTable: catalog.TestClocksTable}
		for _, s := range sets {
			scan.Calls = append(scan.Calls, Call{Kind: List, Path: t.ListPath, Params: withParam(s, v.Param, clock), FillParam: v.Param})
		}
		return scan, true
	}
	via, ok := c.Lookup(v.ViaTable)
	if !ok || via.TestClocks == nil || via.TestClocks.Param == "" {
		return Plan{}, false
	}
	onClocks := Plan{Table: via, Parent: &clocks, Placeholder: clock, ParentTable: catalog.TestClocksTable,
		Calls: []Call{{Kind: List, Path: via.ListPath, Params: withParam(via.ListParams, via.TestClocks.Param, clock), FillParam: via.TestClocks.Param}}}
	placeholder := "{" + v.ViaParam + "}"
	scan := Plan{Table: t, Parent: &onClocks, Placeholder: placeholder, ParentTable: via.Name}
	for _, s := range sets {
		scan.Calls = append(scan.Calls, Call{Kind: List, Path: t.ListPath, Params: withParam(s, v.ViaParam, placeholder), FillParam: v.ViaParam})
	}
	return scan, true
}

// commonParams returns the parameters every set carries, in the order of
// the first set.
func commonParams(sets [][]catalog.Param) []catalog.Param {
	var out []catalog.Param
	for _, p := range sets[0] {
		inAll := true
		for _, s := range sets[1:] {
			inAll = inAll && slices.Contains(s, p)
		}
		if inAll {
			out = append(out, p)
		}
	}
	return out
}

func withParam(set []catalog.Param, key, value string) []catalog.Param {
	return append(append([]catalog.Param(nil), set...), catalog.Param{Key: key, Value: value})
}

func parentColumn(t *catalog.Table) string {
	if t.Parent == nil {
		return ""
	}
	return strings.ToLower(t.Parent.Column)
}

// retrieves returns one GET per distinct id (and per parent id for a
// nested table). A string that cannot be a Stripe id (the empty string,
// which would hit the list endpoint, or one with spaces or slashes) can
// equal no Id and yields no call.
func retrieves(t *catalog.Table, ids, parentIDs []string) []Call {
	var calls []Call
	for _, id := range ids {
		if !possibleID(id) {
			continue
		}
		path := fillPath(t.RetrievePath, "{id}", id)
		if !t.Parent.InPath() {
			calls = append(calls, Call{Kind: Retrieve, Path: path})
			continue
		}
		for _, parent := range parentIDs {
			if possibleID(parent) {
				calls = append(calls, Call{Kind: Retrieve, Path: fillPath(path, t.Parent.Placeholder, parent), ParentID: parent})
			}
		}
	}
	return calls
}

// RetrievePath is the retrieve path of a top-level object, as a plan's
// retrieve of it is written (and cached).
func RetrievePath(t *catalog.Table, id string) string {
	return fillPath(t.RetrievePath, "{id}", id)
}

// multiply returns every parameter set extended by key=v for each v.
func multiply(sets [][]catalog.Param, key string, vals []string) [][]catalog.Param {
	out := make([][]catalog.Param, 0, len(sets)*len(vals))
	for _, s := range sets {
		for _, v := range vals {
			next := append(append([]catalog.Param(nil), s...), catalog.Param{Key: key, Value: v})
			out = append(out, next)
		}
	}
	return out
}

// applyScans widens each parameter set into the table's default-visibility
// scans, unless the set already pins a parameter a scan would set (then the
// query's own value decides what Stripe shows).
func applyScans(t *catalog.Table, sets [][]catalog.Param) [][]catalog.Param {
	if len(t.Scans) == 0 {
		return sets
	}
	var out [][]catalog.Param
	for _, s := range sets {
		if pinsScan(t, s) {
			out = append(out, s)
			continue
		}
		for _, scan := range t.Scans {
			out = append(out, append(append([]catalog.Param(nil), s...), scan...))
		}
	}
	return out
}

func pinsScan(t *catalog.Table, set []catalog.Param) bool {
	for _, scan := range t.Scans {
		for _, sp := range scan {
			for _, p := range set {
				if p.Key == sp.Key {
					return true
				}
			}
		}
	}
	return false
}

// bounds is a range on a Unix-seconds column. Stripe compares whole
// seconds, so fractional SQL bounds are widened to the enclosing second.
type bounds struct {
	lower, upper         int64
	hasLower, hasUpper   bool
	lowerIncl, upperIncl bool
}

// addLower tightens the lower bound to v (inclusive or not).
func (b *bounds) addLower(v int64, inclusive bool) {
	if !b.hasLower || v > b.lower || (v == b.lower && !inclusive) {
		b.lower, b.lowerIncl, b.hasLower = v, inclusive, true
	}
}

func (b *bounds) addUpper(v int64, inclusive bool) {
	if !b.hasUpper || v < b.upper || (v == b.upper && !inclusive) {
		b.upper, b.upperIncl, b.hasUpper = v, inclusive, true
	}
}

// empty reports bounds no integer second satisfies.
func (b *bounds) empty() bool {
	if !b.hasLower || !b.hasUpper {
		return false
	}
	lo, hi := b.lower, b.upper
	if !b.lowerIncl {
		lo++
	}
	if !b.upperIncl {
		hi--
	}
	return lo > hi
}

func (b *bounds) params(param string) []catalog.Param {
	var ps []catalog.Param
	if b.hasLower {
		op := "gt"
		if b.lowerIncl {
			op = "gte"
		}
		ps = append(ps, catalog.Param{Key: param + "[" + op + "]", Value: strconv.FormatInt(b.lower, 10)})
	}
	if b.hasUpper {
		op := "lt"
		if b.upperIncl {
			op = "lte"
		}
		ps = append(ps, catalog.Param{Key: param + "[" + op + "]", Value: strconv.FormatInt(b.upper, 10)})
	}
	return ps
}

// sortedUnique returns the distinct values in first-seen order.
func sortedUnique(vals []string) []string {
	seen := make(map[string]bool, len(vals))
	var out []string
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// intersect keeps the values of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, v := range b {
		in[v] = true
	}
	var out []string
	for _, v := range a {
		if in[v] {
			out = append(out, v)
		}
	}
	return out
}
