package tables

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// A lookup by join keys (a lookup join, a semi- or anti-join, a correlated
// subquery, LATERAL) asks the inner table for the rows of one outer row at
// a time: one Stripe call per outer row. When the outer side is large,
// reading the inner table once and matching the keys in memory costs far
// fewer calls. The choice is made when the query is planned, from the
// calls each way, and EXPLAIN shows it on the lookup's index:
//
//	index: [Invoices.CustomerId,stripe: read once (GET /v1/invoices …), keys matched in memory]
//	index: [Subscriptions.Id,stripe: one call per key (GET /v1/subscriptions/{key})]
//
// A lookup answered from the objects the outer side expands (expand[]) is
// left alone: it makes no call at all.

// estimatedPageRows is how many rows a list page holds: Stripe's maximum.
const estimatedPageRows = 100

// estimatedRowsPerValue is how many rows a list narrowed to one value of a
// column (one customer's invoices, one email's customers) is taken to hold.
const estimatedRowsPerValue = 10

// readInnerOnce decides, for every lookup by keys into a Stripe table in
// n (and in its subqueries), whether to read the inner table once.
func readInnerOnce(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	return readInnerOnceUnder(ctx, n, 0)
}

// readInnerOnceUnder is readInnerOnce for a node whose enclosing query
// reads outerRows rows (a subquery is run once per row of the query around
// it).
func readInnerOnceUnder(ctx *sql.Context, n sql.Node, outerRows int) (sql.Node, transform.TreeIdentity, error) {
	outerRows = max(outerRows, drivingRows(ctx, n))
	expanded := expandedLookups(ctx, n)
	return transform.NodeWithOpaque(ctx, n, func(ctx *sql.Context, node sql.Node) (sql.Node, transform.TreeIdentity, error) {
		node, same, err := transform.OneNodeExprsWithNode(ctx, node, func(ctx *sql.Context, _ sql.Node, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
			sq, ok := e.(*plan.Subquery)
			if !ok {
				return e, transform.SameTree, nil
			}
			q, same, err := readInnerOnceUnder(ctx, sq.Query, outerRows)
			if err != nil || same {
				return e, transform.SameTree, err
			}
			return sq.WithQuery(q), transform.NewTree, nil
		})
		if err != nil {
			return nil, transform.SameTree, err
		}
		ita, ok := node.(*plan.IndexedTableAccess)
		if !ok || ita.IsStatic() || expanded[ita] {
			return node, same, nil
		}
		next, changed, err := chooseLookup(ctx, ita, outerRows)
		if err != nil || !changed {
			return node, same, err
		}
		return next, transform.NewTree, nil
	})
}

// chooseLookup rebuilds a lookup by keys with its decision: per key, or the
// inner table read once.
func chooseLookup(ctx *sql.Context, ita *plan.IndexedTableAccess, outerRows int) (sql.Node, bool, error) {
	t, ok := ita.Table.(*Table)
	if !ok {
		return ita, false, nil
	}
	ix, ok := asIndex(ita.Index())
	if !ok || len(ita.Expressions()) != 1 {
		return ita, false, nil
	}
	if t.db.routedAtPlan(ctx, t.def) {
		// The mirror answers each key from its index: no call to save.
		lb := plan.NewLookupBuilder(ctx, &notedIndex{index: ix, note: "mirror: " + t.def.Name + ", looked up per key"}, ita.Expressions(), ita.NullMask())
		next, err := plan.NewIndexedAccessForTableNode(ctx, ita.TableNode, lb)
		return next, err == nil, err
	}
	col, _ := t.def.Column(ix.column)
	perKeyPlan := t.db.resolve(ctx, pushdown.Build(ctx, t.def, []sql.Expression{
		expression.NewEquals(expression.NewGetField(0, ix.typ, ix.column, true), expression.NewLiteral(keyPlaceholder, ix.typ)),
	}, pushdown.Options{}))
	full := t.db.resolve(ctx, pushdown.FullScan(t.def))
	perKey := outerRows * max(perKeyPlan.MinCalls(), 1)
	once := estimatedCalls(full)
	readOnce := once < perKey
	var note string
	if readOnce {
		note = fmt.Sprintf("stripe: read once (%s), keys matched in memory", full.String())
	} else {
		note = fmt.Sprintf("stripe: one call per key (%s)", strings.ReplaceAll(perKeyPlan.String(), keyPlaceholder, "{key}"))
	}
	lb := plan.NewLookupBuilder(ctx, &notedIndex{index: ix, note: note}, ita.Expressions(), ita.NullMask())
	next, err := plan.NewIndexedAccessForTableNode(ctx, ita.TableNode, lb)
	if err != nil {
		return nil, false, err
	}
	if readOnce {
		ro := *t
		ro.readOnce = &readOncePlan{full: full, column: *col}
		n, err := next.WithTable(&ro)
		return n, true, err
	}
	return next, true, nil
}

// keyPlaceholder stands for a lookup's key when its per-key plan is
// made for EXPLAIN and for costing: any value that could be an id.
const keyPlaceholder = "key_placeholder"

// estimatedCalls is what reading a plan costs: a retrieve is one call, a
// list the pages of the planner's row estimate, a fan-out over a parent
// table far more. The plans a read adds to reveal test-clock objects cost
// their least calls: Stripe allows a test clock only a few customers.
func estimatedCalls(p pushdown.Plan) int {
	if p.Empty {
		return 0
	}
	n := 0
	if p.Parent != nil {
		n = estimatedNestedRows / estimatedPageRows
	} else {
		for _, c := range p.Calls {
			if c.Kind == pushdown.Retrieve {
				n++
			} else {
				n += estimatedRows / estimatedPageRows
			}
		}
	}
	for _, also := range p.Also {
		n += also.MinCalls()
	}
	return n
}

// drivingRows estimates how many rows drive the lookups of a statement:
// the largest estimated row count of its static Stripe accesses. Retrieves
// are as many rows as ids, a list narrowed to one value of a column such as
// Email about a page, and any other list or scan as large as the planner's
// estimate of a table.
func drivingRows(ctx *sql.Context, n sql.Node) int {
	most := 0
	transform.InspectWithOpaque(ctx, n, func(ctx *sql.Context, n sql.Node) bool {
		ita, ok := n.(*plan.IndexedTableAccess)
		if !ok || !ita.IsStatic() {
			return true
		}
		lookup, _, err := ita.GetLookup(ctx, nil)
		if err != nil {
			return true
		}
		if pr, ok := lookup.Ranges.(planRanges); ok {
			most = max(most, planRows(pr.plan))
		}
		return true
	})
	return most
}

func planRows(p pushdown.Plan) int {
	if p.Empty {
		return 0
	}
	if p.Parent != nil {
		// A fan-out (a list per test clock, per parent) narrowed to one
		// value is as small as its list; any other is a table's worth.
		for _, c := range p.Calls {
			if !selectsByValue(p.Table, c) {
				return estimatedRows
			}
		}
		return estimatedRowsPerValue
	}
	n := 0
	for _, c := range p.Calls {
		switch {
		case c.Kind == pushdown.Retrieve:
			n++
		case selectsByValue(p.Table, c):
			// A list narrowed to one customer, email, subscription, …
			// holds a few rows.
			n += estimatedRowsPerValue
		default:
			return estimatedRows
		}
	}
	for _, also := range p.Also {
		n += planRows(also)
	}
	return n
}

// selectsByValue reports a list call that one of the table's equality
// filters narrows to a single value of a column without a fixed set of
// values (customer=, email=; not status=, whose one value may cover most
// of a table).
func selectsByValue(t *catalog.Table, c pushdown.Call) bool {
	for _, prm := range c.Params {
		for _, f := range t.Filters {
			if f.Param == prm.Key && f.Ops&catalog.OpEq != 0 && len(f.Enum) == 0 {
				return true
			}
		}
	}
	return false
}

// expandedLookups finds the lookups into a table's Id that the outer side
// of their join answers by expansion.
func expandedLookups(ctx *sql.Context, n sql.Node) map[*plan.IndexedTableAccess]bool {
	out := map[*plan.IndexedTableAccess]bool{}
	transform.InspectWithOpaque(ctx, n, func(ctx *sql.Context, n sql.Node) bool {
		j, ok := n.(*plan.JoinNode)
		if !ok || !j.Op.IsLookup() {
			return true
		}
		transform.Inspect(j.Right(), func(n sql.Node) bool {
			ita, ok := n.(*plan.IndexedTableAccess)
			if !ok || ita.IsStatic() || len(ita.Expressions()) != 1 {
				return true
			}
			key, ok := ita.Expressions()[0].(*expression.GetField)
			if !ok {
				return true
			}
			_, _, _ = withAccessPlan(ctx, j.Left(), true, func(p pushdown.Plan) (pushdown.Plan, bool) {
				col, ok := p.Table.Column(key.Name())
				if ok && p.Expands(col.Path) {
					out[ita] = true
				}
				return p, false
			})
			return true
		})
		return true
	})
	return out
}

// notedIndex is a lookup's index with the lookup's strategy, which EXPLAIN
// prints beside the index's column (as it prints a partial index's
// predicate).
type notedIndex struct {
	*index
	note string
}

var _ sql.PartialIndex = (*notedIndex)(nil)

func (i *notedIndex) Predicate() string { return i.note }

// asIndex returns our index under a lookup's index.
func asIndex(ix sql.Index) (*index, bool) {
	switch ix := ix.(type) {
	case *index:
		return ix, true
	case *notedIndex:
		return ix.index, true
	}
	return nil, false
}

// readOncePlan is a table read once per query for its lookups by keys.
type readOncePlan struct {
	full   pushdown.Plan
	column catalog.Column
}

// lookupReadOnce answers a lookup by keys from the table read once for
// this query: the first lookup reads it (through the call budget and the
// per-query cache, like any scan) and files its objects by key.
func (t *Table) lookupReadOnce(ctx *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	_, match, err := t.planForKeys(ctx, lookup)
	if err != nil {
		return nil, err
	}
	byKey, err := t.db.keyed.get(ctx, t.db, t.readOnce)
	if err != nil {
		return nil, err
	}
	var candidates []stripeapi.Object
	if match.null || match.anyValue {
		candidates = byKey.all
	} else {
		for _, k := range match.keys {
			candidates = append(candidates, byKey.objs[keyString(k)]...)
		}
	}
	return sql.PartitionsToPartitionIter(&partition{objs: candidates, read: true, match: match}), nil
}

// keyedObjects is a table's objects filed by the value of one column.
type keyedObjects struct {
	all  []stripeapi.Object
	objs map[string][]stripeapi.Object
}

// keyString files a value under a case-folded string, so that a collation
// that ignores case still finds it; keyMatch then compares exactly.
func keyString(v any) string {
	return strings.ToLower(fmt.Sprint(v))
}

// keyedScans holds, per query, the tables read once for lookups, until the
// query ends.
type keyedScans struct {
	mu      sync.Mutex
	queries map[uint64]map[string]*keyedObjects
	order   []uint64
}

func newKeyedScans() *keyedScans {
	return &keyedScans{queries: map[uint64]map[string]*keyedObjects{}}
}

func (k *keyedScans) get(ctx *sql.Context, d *Database, ro *readOncePlan) (*keyedObjects, error) {
	key := ro.full.String() + "\x00" + ro.column.Name
	k.mu.Lock()
	if byKey, ok := k.queries[ctx.Pid()][key]; ok {
		k.mu.Unlock()
		return byKey, nil
	}
	k.mu.Unlock()
	byKey := &keyedObjects{objs: map[string][]stripeapi.Object{}}
	src := d.planObjects(ctx, ro.full)
	zone := sqltime.Zone(ctx)
	// An object is filed once, whichever of the plan's lists (the main
	// list, a test clock's) returned it.
	seen := map[string]bool{}
	for {
		obj, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if id := obj.ID(); id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		v, err := columnValue(ro.column, lookupPath(obj, ro.column.Path), zone)
		if err != nil {
			return nil, err
		}
		byKey.all = append(byKey.all, obj)
		if v != nil {
			s := keyString(v)
			byKey.objs[s] = append(byKey.objs[s], obj)
		}
	}
	if ctx.Pid() == 0 {
		return byKey, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	q, ok := k.queries[ctx.Pid()]
	if !ok {
		if len(k.order) == readOnceQueries {
			delete(k.queries, k.order[0])
			k.order = k.order[1:]
		}
		q = map[string]*keyedObjects{}
		pid := ctx.Pid()
		k.queries[pid] = q
		k.order = append(k.order, pid)
		// The engine cancels a query's context when the query ends: its
		// tables read once go with it.
		context.AfterFunc(ctx, func() { k.drop(pid) })
	}
	q[key] = byKey
	return byKey, nil
}

// drop forgets the tables query pid read once.
func (k *keyedScans) drop(pid uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.queries, pid)
	for i, p := range k.order {
		if p == pid {
			k.order = append(k.order[:i], k.order[i+1:]...)
			break
		}
	}
}

// readOnceQueries is how many queries' read-once tables are kept at most,
// should a query's end not be seen.
const readOnceQueries = 4
