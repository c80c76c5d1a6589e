package server

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// emptyHelpRuleID names the analyzer rule below.
const emptyHelpRuleID analyzer.RuleId = 9_101

// helpTables are the mysql database's help tables, which go-mysql-server
// keeps empty but whose scans return one row of no columns, failing every
// query on them with "unable to find field with index 0 … This is a bug"
// (mycli reads mysql.help_topic when it starts).
var helpTables = map[string]bool{"help_topic": true, "help_keyword": true, "help_category": true, "help_relation": true}

// emptyHelpRule reads the help tables as the empty tables they are. It
// runs in the engine's package-level AlwaysBeforeDefault batch, the one
// every analysis path runs, including the fast path for simple SELECTs
// (sql/analyzer/node_batches.go), which it therefore turns off, as
// package tables' rule there already does.
func emptyHelpRule() analyzer.Rule {
	apply := func(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
		return transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
			rt, ok := n.(*plan.ResolvedTable)
			if !ok || rt.Database() == nil || !strings.EqualFold(rt.Database().Name(), "mysql") || !helpTables[strings.ToLower(rt.Name())] {
				return n, transform.SameTree, nil
			}
			return plan.NewEmptyTableWithSchema(rt.Schema(ctx)), transform.NewTree, nil
		})
	}
	return analyzer.Rule{Id: emptyHelpRuleID, Apply: apply}
}
