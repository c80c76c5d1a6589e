package tables

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// foldRuleID is the id of the folding rule among the pre-analysis rules.
const foldRuleID analyzer.RuleId = stripeAccessRule + 10

// PreAnalyzerRules are the rules to run before go-mysql-server's own
// analysis (server.Config.PreAnalyzerRules): stripe_last_insert_id() is
// replaced by its value, so that WHERE Id = stripe_last_insert_id() is an
// id the pushdown sees (one retrieve) rather than a condition it cannot
// (a full list). The function is constant within a statement, as MySQL's
// LAST_INSERT_ID() is: its value changes only when an INSERT ends. It is
// marked non-deterministic only so that the engine never caches it across
// statements; a statement's plan is analyzed each time it runs.
func PreAnalyzerRules() []analyzer.Rule {
	addFoldForWritesOnce.Do(func() {
		// A single-table UPDATE or DELETE is analyzed with a fixed rule
		// set that skips the pre-analysis rules but starts with
		// AlwaysBeforeDefault (sql/analyzer/node_batches.go): fold there
		// too, so that UPDATE … WHERE Id = stripe_last_insert_id() is one
		// retrieve as well. Process-wide, added once, like AnalyzerRules'
		// rule there.
		analyzer.AlwaysBeforeDefault = append(analyzer.AlwaysBeforeDefault, analyzer.Rule{Id: foldRuleID + 1, Apply: foldSessionFunctions})
	})
	return []analyzer.Rule{{Id: foldRuleID, Apply: foldSessionFunctions}}
}

var addFoldForWritesOnce sync.Once

func foldSessionFunctions(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if ctx == nil || ctx.Session == nil {
		return n, transform.SameTree, nil
	}
	// Only conditions are folded: a folded select-list item would lose
	// its column name (stripe_last_insert_id()) to its value.
	return transform.NodeWithOpaque(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		filter, ok := n.(*plan.Filter)
		if !ok {
			return n, transform.SameTree, nil
		}
		cond, same, err := transform.Expr(ctx, filter.Expression, func(ctx *sql.Context, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
			f, ok := e.(*lastInsertID)
			if !ok || f.all {
				return e, transform.SameTree, nil
			}
			v, err := f.Eval(ctx, nil)
			if err != nil {
				return nil, transform.SameTree, err
			}
			return expression.NewLiteral(v, f.Type(ctx)), transform.NewTree, nil
		})
		if err != nil || same {
			return n, transform.SameTree, err
		}
		return plan.NewFilter(ctx, cond, filter.Child), transform.NewTree, nil
	})
}
