package server

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// assignedKeyRuleID names the analyzer rule below.
const assignedKeyRuleID analyzer.RuleId = 9_100

// assignedKeyRule lets an INSERT give NULL for a key the database assigns,
// as MySQL does for an AUTO_INCREMENT column: ORMs (SQLAlchemy, sequelize,
// gorm) send `Id = NULL` for a key they expect back. A served table marks
// such a key as a NOT NULL primary key with a default (package tables: the
// empty id, which means Stripe assigns it); the engine would refuse the
// NULL with 1048 before the table saw the row, so the rule makes the
// insert's source read NULL in those columns as their default. This is a
// rule rather than a change to the table, because the engine checks NOT
// NULL itself, before any table code runs.
//
// It must run in go-mysql-server's package-level OnceAfterAll batch: an
// INSERT of literal values (every ORM insert, prepared or not) is analyzed
// with a fixed rule set that skips the rules a server adds
// (sql/analyzer/node_batches.go) but keeps OnceAfterAll. The list is read
// when an analyzer is built, so registerAssignedKeyRule runs before.
func assignedKeyRule() analyzer.Rule {
	apply := func(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
		return transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
			ins, ok := n.(*plan.InsertInto)
			if !ok || ins.Source == nil || ins.Destination == nil {
				return n, transform.SameTree, nil
			}
			return nullMeansDefault(ctx, ins)
		})
	}
	return analyzer.Rule{Id: assignedKeyRuleID, Apply: apply}
}

var registerAssignedKey sync.Once

// registerAssignedKeyRule adds assignedKeyRule to the engine's OnceAfterAll
// rules and emptyHelpRule to its AlwaysBeforeDefault ones, once per process.
func registerAssignedKeyRule() {
	registerAssignedKey.Do(func() {
		analyzer.OnceAfterAll = append(analyzer.OnceAfterAll, assignedKeyRule())
		analyzer.AlwaysBeforeDefault = append(analyzer.AlwaysBeforeDefault, emptyHelpRule())
	})
}

// nullMeansDefault wraps ins's source in a projection that replaces NULL
// in each assigned key column by the column's default.
func nullMeansDefault(ctx *sql.Context, ins *plan.InsertInto) (sql.Node, transform.TreeIdentity, error) {
	if p, ok := ins.Source.(*plan.Project); ok && defaultsKeys(p) {
		return ins, transform.SameTree, nil // analyzed before (a subquery, a re-analysis)
	}
	dst := ins.Destination.Schema(ctx)
	src := ins.Source.Schema(ctx)
	// The source may carry outer-scope columns first; the destination's
	// columns are its last ones (as the engine's insert iterator assumes).
	offset := len(src) - len(dst)
	if offset < 0 {
		return ins, transform.SameTree, nil
	}
	exprs := make([]sql.Expression, len(src))
	changed := false
	for i, c := range src {
		exprs[i] = expression.NewGetField(i, c.Type, c.Name, c.Nullable)
		if i < offset {
			continue
		}
		d := dst[i-offset]
		if !d.PrimaryKey || d.Nullable || d.AutoIncrement || d.Default == nil {
			continue
		}
		co, err := function.NewCoalesce(ctx, exprs[i], d.Default)
		if err != nil {
			return nil, transform.SameTree, err
		}
		exprs[i] = co
		changed = true
	}
	if !changed {
		return ins, transform.SameTree, nil
	}
	return ins.WithSource(plan.NewProject(ctx, exprs, ins.Source)), transform.NewTree, nil
}

// defaultsKeys tells the projection nullMeansDefault adds.
func defaultsKeys(p *plan.Project) bool {
	for _, e := range p.Projections {
		if c, ok := e.(*function.Coalesce); ok && len(c.Children()) == 2 {
			if _, ok := c.Children()[1].(*sql.ColumnDefaultValue); ok {
				return true
			}
		}
	}
	return false
}
