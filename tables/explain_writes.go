package tables

// EXPLAIN of UPDATE and DELETE shows the Stripe writes too: the plan's
// reads already carry their requests (how the matched rows are found);
// this rule adds, above the statement, the request each matched row then
// makes. The added node exists only in EXPLAIN's plan, which is printed,
// never run (EXPLAIN ANALYZE of a write is refused by the engine).

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// explainWritesRule is the id of the rule.
const explainWritesRule analyzer.RuleId = stripeAccessRule + 11

var addExplainWritesOnce sync.Once

// addExplainWrites appends the rule to go-mysql-server's OnceAfterAll
// rules: a single-table UPDATE or DELETE is analyzed with a fixed rule set
// that skips the custom post-analysis rules but ends with those
// (sql/analyzer/node_batches.go). Like the AlwaysBeforeDefault rule of
// AnalyzerRules, it is process-wide and added once; the rule itself does
// nothing outside EXPLAIN.
func addExplainWrites() {
	addExplainWritesOnce.Do(func() {
		analyzer.OnceAfterAll = append(analyzer.OnceAfterAll, analyzer.Rule{Id: explainWritesRule, Apply: explainWrites})
	})
}

func explainWrites(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if ctx == nil || !isExplain(ctx.Query()) {
		return n, transform.SameTree, nil
	}
	return transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch n.(type) {
		case *plan.Update, *plan.DeleteFrom:
		default:
			return n, transform.SameTree, nil
		}
		t := targetTable(n)
		if t == nil {
			return n, transform.SameTree, nil
		}
		return &writePlan{Node: n, line: writeLine(n, t)}, transform.NewTree, nil
	})
}

// isExplain reports whether the statement is an EXPLAIN (or DESCRIBE) of
// another statement.
func isExplain(q string) bool {
	q = strings.TrimLeftFunc(q, unicode.IsSpace)
	for _, w := range []string{"explain", "describe", "desc"} {
		if len(q) > len(w) && strings.EqualFold(q[:len(w)], w) && !unicode.IsLetter(rune(q[len(w)])) {
			return true
		}
	}
	return false
}

// targetTable is the Stripe table an UPDATE or DELETE writes: the first
// one in its plan (the engine puts the target's access first).
func targetTable(n sql.Node) *Table {
	var found *Table
	transform.Inspect(n, func(n sql.Node) bool {
		if found != nil {
			return false
		}
		// ResolvedTable, IndexedTableAccess and the like.
		if tn, ok := n.(interface{ UnderlyingTable() sql.Table }); ok {
			found = unwrapStripeTable(tn.UnderlyingTable())
		}
		return found == nil
	})
	return found
}

func unwrapStripeTable(t sql.Table) *Table {
	for t != nil {
		if st, ok := t.(*Table); ok {
			return st
		}
		w, ok := t.(sql.TableWrapper)
		if !ok {
			return nil
		}
		t = w.Underlying()
	}
	return nil
}

func writeLine(n sql.Node, t *Table) string {
	def := t.def
	if _, ok := n.(*plan.Update); ok {
		if def.UpdatePath == "" {
			return fmt.Sprintf("stripe writes: none, Stripe cannot update a %s (a matched row is refused)", def.Object)
		}
		return fmt.Sprintf("stripe writes: POST %s per matched row, only the changed columns, each with its Idempotency-Key", def.UpdatePath)
	}
	if def.DeletePath == "" {
		hint := def.NoDeleteHint
		if hint == "" {
			hint = "Stripe cannot delete a " + def.Object
		}
		return "stripe writes: none, " + hint + " (a matched row is refused)"
	}
	return fmt.Sprintf("stripe writes: DELETE %s per matched row", def.DeletePath)
}

// writePlan is an UPDATE or DELETE as EXPLAIN shows it: the statement's
// plan under a line naming the writes.
type writePlan struct {
	sql.Node
	line string
}

func (w *writePlan) Children() []sql.Node { return []sql.Node{w.Node} }

func (w *writePlan) WithChildren(_ *sql.Context, children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(w, len(children), 1)
	}
	return &writePlan{Node: children[0], line: w.line}, nil
}

func (w *writePlan) String() string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("%s", w.line)
	_ = p.WriteChildren(w.Node.String())
	return p.String()
}

func (w *writePlan) Describe(ctx *sql.Context, opts sql.DescribeOptions) string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("%s", w.line)
	_ = p.WriteChildren(sql.Describe(ctx, w.Node, opts))
	return p.String()
}

func (w *writePlan) DebugString(ctx *sql.Context) string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("%s", w.line)
	_ = p.WriteChildren(sql.DebugString(ctx, w.Node))
	return p.String()
}
