package tables

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/stripesql/stripesql/pushdown"
)

// stripeAccessRule is the id of the rule below among the analyzer's rules;
// any value outside go-mysql-server's own ids will do.
const stripeAccessRule analyzer.RuleId = 10_000

// AnalyzerRules returns the rules a server must add after the analyzer's
// own (server.Config.AnalyzerRules). Go-mysql-server has no notion of a
// remote table's cost, of LIMIT pushdown or of a source that is already
// sorted; the rule supplies those for Stripe tables:
//
//   - every Stripe table access carries its plan, so EXPLAIN shows the
//     Stripe calls of full scans too;
//   - LIMIT n over an access that needs no residual filter asks Stripe for
//     pages of n, not 100;
//   - ORDER BY Created DESC LIMIT n drops the sort: Stripe lists are
//     newest first, so merging them stops after n rows;
//   - a lookup join by a foreign key into another table's Id makes the
//     outer side's calls expand that key (expand[]=data.customer), so one
//     list carries the objects the lookups would fetch one by one;
//   - an inner join narrows one side by the other's literal keys
//     (c.Id IN (…) and k.CustomerId = c.Id make k.CustomerId IN (…)),
//     which the engine does not derive.
func AnalyzerRules() []analyzer.Rule {
	disableSimpleSelectFastPath.Do(func() {
		// go-mysql-server analyzes a plain `SELECT … FROM t [WHERE …]`
		// with a fixed rule set that skips every custom rule, unless its
		// package-level AlwaysBeforeDefault list is non-empty
		// (sql/analyzer/node_batches.go). A rule there keeps such selects
		// on the full analyzer, so their EXPLAIN shows the Stripe calls
		// too; it costs microseconds per query. The rule also keeps NOT IN
		// subqueries from becoming anti-joins (keepNotInAsExpression).
		analyzer.AlwaysBeforeDefault = append(analyzer.AlwaysBeforeDefault, analyzer.Rule{
			Id: stripeAccessRule + 1,
			Apply: func(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
				return keepNotInAsExpression(ctx, n)
			},
		})
	})
	addExplainWrites()
	return []analyzer.Rule{{Id: stripeAccessRule, Apply: applyStripeAccess}}
}

var disableSimpleSelectFastPath sync.Once

func applyStripeAccess(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if writesOrDescribes(n) {
		// INSERT, UPDATE and DELETE find their table nodes by type, and
		// SHOW/DESCRIBE read schemas only: leave their plans alone.
		return n, transform.SameTree, nil
	}
	filtered := filteredTables(n)
	n, same1, err := transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		rt, ok := n.(*plan.ResolvedTable)
		if !ok {
			return n, transform.SameTree, nil
		}
		t, ok := rt.UnderlyingTable().(*Table)
		if !ok {
			return n, transform.SameTree, nil
		}
		full := t.db.resolve(ctx, pushdown.FullScan(t.def))
		// A full scan under a filter leaves that filter to the engine: it
		// is not exact, so LIMIT must not shrink its pages.
		full.Exact = !filtered[rt]
		ita, err := plan.NewStaticIndexedAccessForTableNode(ctx, rt, t.lookupFor(ctx, full))
		if err != nil {
			return nil, transform.SameTree, err
		}
		return ita, transform.NewTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same2, err := transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch n := n.(type) {
		case *plan.Limit:
			return limitPages(ctx, n)
		case *plan.TopN:
			return newestFirst(ctx, n)
		case *plan.JoinNode:
			n2, same, err := deriveJoinKeys(ctx, n)
			if err != nil {
				return nil, transform.SameTree, err
			}
			if j, ok := n2.(*plan.JoinNode); ok {
				n3, same2, err := expandLookups(ctx, j)
				return n3, same && same2, err
			}
			return n2, same, nil
		}
		return n, transform.SameTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same3, err := readInnerOnce(ctx, n)
	if err != nil {
		return nil, transform.SameTree, err
	}
	return n, same1 && same2 && same3, nil
}

// filteredTables returns the table nodes a filter reads from directly
// (through an alias): the tables whose scans leave conditions to the engine.
func filteredTables(n sql.Node) map[*plan.ResolvedTable]bool {
	out := map[*plan.ResolvedTable]bool{}
	transform.Inspect(n, func(n sql.Node) bool {
		f, ok := n.(*plan.Filter)
		if !ok {
			return true
		}
		child := f.Child
		if a, ok := child.(*plan.TableAlias); ok {
			child = a.Child
		}
		if rt, ok := child.(*plan.ResolvedTable); ok {
			out[rt] = true
		}
		return true
	})
	return out
}

func writesOrDescribes(n sql.Node) bool {
	found := false
	transform.Inspect(n, func(n sql.Node) bool {
		switch n.(type) {
		case *plan.InsertInto, *plan.Update, *plan.DeleteFrom, *plan.ShowColumns, *plan.ShowCreateTable, *plan.ShowIndexes:
			found = true
		}
		return !found
	})
	return found
}

// limitPages sets the page size of a Stripe access directly under LIMIT n
// (through projections and aliases, and filters the plan expresses
// exactly).
func limitPages(ctx *sql.Context, l *plan.Limit) (sql.Node, transform.TreeIdentity, error) {
	n, ok := literalInt(l.Limit)
	if !ok || n <= 0 || n >= 100 {
		return l, transform.SameTree, nil
	}
	child, same, err := withAccessPlan(ctx, l.Child, true, func(p pushdown.Plan) (pushdown.Plan, bool) {
		if !p.Exact {
			return p, false
		}
		return p.WithPageSize(int(n)), true
	})
	if err != nil || same {
		return l, transform.SameTree, err
	}
	return plan.NewLimit(l.Limit, child), transform.NewTree, nil
}

// newestFirst replaces TopN(n, Created DESC) over a Stripe access by a
// plain LIMIT, the access merging its lists by creation time: each list
// already streams newest first, so reading stops after n rows.
func newestFirst(ctx *sql.Context, top *plan.TopN) (sql.Node, transform.TreeIdentity, error) {
	if len(top.SortConditions) != 1 || top.SortConditions[0].Order != sql.Descending || top.CalcFoundRows {
		return top, transform.SameTree, nil
	}
	gf, ok := top.SortConditions[0].Expr.(*expression.GetField)
	if !ok || !strings.EqualFold(gf.Name(), "Created") {
		return top, transform.SameTree, nil
	}
	child, same, err := withAccessPlanOf(ctx, top.Child, func(t *Table, p pushdown.Plan) (pushdown.Plan, bool) {
		created, hasCreated := p.Table.Column("Created")
		// A table read from the mirror keeps its sort: the store has no
		// newest-first order to merge.
		if !hasCreated || created.Path != "created" || created.Nullable || !p.Mergeable() || !namesAccess(gf.Table(), top.Child, p) || t.db.routedAtPlan(ctx, t.def) {
			return p, false
		}
		p.Merge = true
		return p, true
	})
	if err != nil || same {
		return top, transform.SameTree, err
	}
	limit := plan.NewLimit(top.Limit, child)
	// The sort is gone; LIMIT may now shrink the pages too.
	if node, _, err := limitPages(ctx, limit); err == nil {
		return node, transform.NewTree, nil
	}
	return limit, transform.NewTree, nil
}

// namesAccess reports whether a column qualifier names the table access
// (its table name or its alias), so that ORDER BY Created means the
// table's Created and not a projected alias of that name.
func namesAccess(qualifier string, n sql.Node, p pushdown.Plan) bool {
	if qualifier == "" {
		return false
	}
	if strings.EqualFold(qualifier, p.Table.Name) {
		return true
	}
	found := false
	transform.Inspect(n, func(n sql.Node) bool {
		if a, ok := n.(*plan.TableAlias); ok && strings.EqualFold(a.Name(), qualifier) {
			found = true
		}
		return !found
	})
	return found
}

// withAccessPlan finds the Stripe access under n, looking through
// projections and aliases (and filters, if allowFilter), and lets change
// rewrite its plan. It reports SameTree when there is no such access or
// change declines.
func withAccessPlan(ctx *sql.Context, n sql.Node, allowFilter bool, change func(pushdown.Plan) (pushdown.Plan, bool)) (sql.Node, bool, error) {
	if !allowFilter {
		if _, ok := n.(*plan.Filter); ok {
			return n, true, nil
		}
	}
	return withAccessPlanOf(ctx, n, func(_ *Table, p pushdown.Plan) (pushdown.Plan, bool) { return change(p) })
}

// withAccessPlanOf is withAccessPlan for a change that needs the table.
func withAccessPlanOf(ctx *sql.Context, n sql.Node, change func(*Table, pushdown.Plan) (pushdown.Plan, bool)) (sql.Node, bool, error) {
	switch node := n.(type) {
	case *plan.Project, *plan.TableAlias, *plan.Filter:
		child, same, err := withAccessPlanOf(ctx, node.Children()[0], change)
		if err != nil || same {
			return n, true, err
		}
		next, err := node.WithChildren(ctx, child)
		return next, false, err
	case *plan.IndexedTableAccess:
		t, ok := node.UnderlyingTable().(*Table)
		if !ok || !node.IsStatic() {
			return n, true, nil
		}
		lookup, _, err := node.GetLookup(ctx, nil)
		if err != nil {
			return n, true, err
		}
		pr, ok := lookup.Ranges.(planRanges)
		if !ok {
			return n, true, nil
		}
		next, changed := change(t, pr.plan)
		if !changed || next.String() == pr.plan.String() {
			return n, true, nil
		}
		ita, err := plan.NewStaticIndexedAccessForTableNode(ctx, node.TableNode, t.lookupFor(ctx, next))
		return ita, false, err
	}
	return n, true, nil
}

func literalInt(e sql.Expression) (int64, bool) {
	lit, ok := e.(*expression.Literal)
	if !ok {
		return 0, false
	}
	return pushdown.IntValue(lit.Value())
}

// deriveJoinKeys narrows the Stripe access of one side of an inner join
// with the values the other side's filter pins its join column to. The
// join still evaluates its condition; only rows that cannot join are not
// fetched.
func deriveJoinKeys(ctx *sql.Context, j *plan.JoinNode) (sql.Node, transform.TreeIdentity, error) {
	if !innerJoin(j.Op) || j.Filter == nil {
		return j, transform.SameTree, nil
	}
	left, right := j.Left(), j.Right()
	changed := false
	for _, cond := range expression.SplitConjunction(ctx, j.Filter) {
		eq, ok := cond.(*expression.Equals)
		if !ok {
			continue
		}
		a, aok := eq.Left().(*expression.GetField)
		b, bok := eq.Right().(*expression.GetField)
		if !aok || !bok {
			continue
		}
		for _, pair := range [][2]*expression.GetField{{a, b}, {b, a}} {
			mine, theirs := pair[0], pair[1]
			for _, sides := range [][2]*sql.Node{{&left, &right}, {&right, &left}} {
				target, source := sides[0], sides[1]
				if !hasAccess(ctx, *target, mine.Table()) || !hasAccess(ctx, *source, theirs.Table()) {
					continue
				}
				keys := pinnedValues(ctx, *source, theirs)
				if keys == nil {
					continue
				}
				narrowed, ok, err := narrowAccess(ctx, *target, mine, keys)
				if err != nil {
					return nil, transform.SameTree, err
				}
				if ok {
					*target, changed = narrowed, true
				}
			}
		}
	}
	if !changed {
		return j, transform.SameTree, nil
	}
	next, err := j.WithChildren(ctx, left, right)
	return next, transform.NewTree, err
}

func innerJoin(op plan.JoinType) bool {
	switch op {
	case plan.JoinTypeInner, plan.JoinTypeCross, plan.JoinTypeCrossHash, plan.JoinTypeHash,
		plan.JoinTypeLookup, plan.JoinTypeMerge, plan.JoinTypeRangeHeap:
		return true
	}
	return false
}

// hasAccess reports whether n is a Stripe access (under projections,
// filters and an alias) named qualifier.
func hasAccess(ctx *sql.Context, n sql.Node, qualifier string) bool {
	found := false
	_, _, _ = withAccessPlan(ctx, n, true, func(p pushdown.Plan) (pushdown.Plan, bool) {
		found = namesAccess(qualifier, n, p)
		return p, false
	})
	return found
}

// pinnedValues returns the literal values a filter in n (above its Stripe
// access) pins column col to: `col = v`, or `col IN (…)`.
func pinnedValues(ctx *sql.Context, n sql.Node, col *expression.GetField) expression.Tuple {
	var keys expression.Tuple
	transform.Inspect(n, func(n sql.Node) bool {
		f, ok := n.(*plan.Filter)
		if !ok || keys != nil {
			return keys == nil
		}
		for _, c := range expression.SplitConjunction(ctx, f.Expression) {
			switch c := c.(type) {
			case *expression.Equals:
				if gf, ok := c.Left().(*expression.GetField); ok && sameColumn(gf, col) {
					if lit, ok := c.Right().(*expression.Literal); ok && lit.Value() != nil {
						keys = expression.Tuple{lit}
					}
				}
			case *expression.InTuple:
				keys = literalTuple(c.Left(), c.Right(), col)
			case *expression.HashInTuple:
				keys = literalTuple(c.Left(), c.Right(), col)
			}
			if keys != nil {
				return false
			}
		}
		return true
	})
	return keys
}

func literalTuple(left, right sql.Expression, col *expression.GetField) expression.Tuple {
	gf, ok := left.(*expression.GetField)
	if !ok || !sameColumn(gf, col) {
		return nil
	}
	tuple, ok := right.(expression.Tuple)
	if !ok {
		return nil
	}
	for _, e := range tuple {
		if _, ok := e.(*expression.Literal); !ok {
			return nil
		}
	}
	return tuple
}

func sameColumn(a, b *expression.GetField) bool {
	return strings.EqualFold(a.Name(), b.Name()) && strings.EqualFold(a.Table(), b.Table())
}

// narrowAccess replans the Stripe access under n with `col IN keys` added
// to the conjuncts of the filters above it, if that makes fewer calls.
func narrowAccess(ctx *sql.Context, n sql.Node, col *expression.GetField, keys expression.Tuple) (sql.Node, bool, error) {
	var conjuncts []sql.Expression
	transform.Inspect(n, func(n sql.Node) bool {
		if f, ok := n.(*plan.Filter); ok {
			conjuncts = append(conjuncts, expression.SplitConjunction(ctx, f.Expression)...)
		}
		return true
	})
	conjuncts = append(conjuncts, expression.NewInTuple(col, keys))
	next, same, err := withAccessPlanOf(ctx, n, func(t *Table, p pushdown.Plan) (pushdown.Plan, bool) {
		narrowed := t.db.resolve(ctx, pushdown.Build(ctx, t.def, conjuncts, pushdown.Options{Search: sessionOptions(ctx).search}))
		if narrowed.IsFullScan() || !cheaper(narrowed, p) {
			return p, false
		}
		narrowed.Merge = p.Merge
		return narrowed, true
	})
	return next, !same, err
}

// cheaper reports whether plan a certainly costs fewer calls than b: a
// fan-out costs a call per parent, more than any plan without one.
func cheaper(a, b pushdown.Plan) bool {
	fa, fb := hasFanOut(a), hasFanOut(b)
	if fa != fb {
		return fb
	}
	return a.MinCalls() < b.MinCalls()
}

func hasFanOut(p pushdown.Plan) bool {
	if p.Parent != nil {
		return true
	}
	for _, also := range p.Also {
		if hasFanOut(also) {
			return true
		}
	}
	return false
}

// expandLookups makes the outer side of a lookup join into a Stripe table's
// primary key carry the joined objects: its calls expand the foreign key,
// and the expanded objects answer the lookups from the per-query cache.
func expandLookups(ctx *sql.Context, j *plan.JoinNode) (sql.Node, transform.TreeIdentity, error) {
	if !j.Op.IsLookup() {
		return j, transform.SameTree, nil
	}
	inner, keys, ok := innerLookup(j.Right())
	if !ok || len(keys) != 1 || inner.def.Parent != nil {
		return j, transform.SameTree, nil
	}
	// The lookup key is the outer side's foreign key into inner's Id.
	outerCol, ok := keys[0].(*expression.GetField)
	if !ok || !hasAccess(ctx, j.Left(), outerCol.Table()) {
		return j, transform.SameTree, nil
	}
	left, same, err := withAccessPlanOf(ctx, j.Left(), func(t *Table, p pushdown.Plan) (pushdown.Plan, bool) {
		col, ok := t.def.Column(outerCol.Name())
		// Only a field Stripe's spec lets the list expand (a curated
		// reference such as Invoices.Subscription may not be).
		if !ok || !col.Expandable || !strings.EqualFold(col.Ref, inner.def.Name) || col.Path == "" || strings.Contains(col.Path, ".") {
			return p, false
		}
		return p.WithExpand(col.Path), true
	})
	if err != nil || same {
		return j, transform.SameTree, err
	}
	next, err := j.WithChildren(ctx, left, j.Right())
	return next, transform.NewTree, err
}

// innerLookup finds the Stripe table a lookup join looks up by primary
// key, and the key expressions of the lookup.
func innerLookup(n sql.Node) (*Table, []sql.Expression, bool) {
	var found *Table
	var keys []sql.Expression
	transform.Inspect(n, func(n sql.Node) bool {
		if ita, ok := n.(*plan.IndexedTableAccess); ok && !ita.IsStatic() {
			if t, ok := ita.UnderlyingTable().(*Table); ok && ita.Index() != nil && ita.Index().ID() == "PRIMARY" {
				found, keys = t, ita.Expressions()
			}
		}
		return found == nil
	})
	return found, keys, found != nil
}

// keepNotInAsExpression keeps `x NOT IN (SELECT …)` in a WHERE clause an
// expression, evaluated with MySQL's NULL semantics (a NULL x, or a NULL
// among the subquery's values, makes it NULL), instead of the anti-join
// go-mysql-server decorrelates it into: the engine plans that anti-join as
// a left lookup join whose NULL keys find no row, and keeps the rows it
// must drop (JoinType.AsLookup turns LeftOuterExcludeNulls into
// LeftOuterLookup). `(x NOT IN (…)) IS TRUE` selects the same rows and is
// not decorrelated; an uncorrelated subquery is still run once.
func keepNotInAsExpression(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		f, ok := n.(*plan.Filter)
		if !ok {
			return n, transform.SameTree, nil
		}
		conjuncts := expression.SplitConjunction(ctx, f.Expression)
		changed := false
		for i, c := range conjuncts {
			if not, ok := c.(*expression.Not); ok {
				if _, ok := not.Child.(*plan.InSubquery); ok {
					conjuncts[i], changed = expression.NewIsTrue(c), true
				}
			}
		}
		if !changed {
			return n, transform.SameTree, nil
		}
		return plan.NewFilter(ctx, expression.JoinAnd(conjuncts...), f.Child), transform.NewTree, nil
	})
}
