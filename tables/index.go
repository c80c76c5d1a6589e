package tables

import (
	"context"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
)

// The engine reaches a table's filters only through indexes (gms-notes §2).
// Each table declares virtual indexes: PRIMARY on Id (a retrieve) and one on
// every column Stripe can find rows by equality (a list filter, or the
// parent key of a nested table). The WHERE clause itself is planned by
// LookupForExpressions; the indexes serve lookup joins, where the engine
// hands LookupPartitions the join keys of each outer row.

// index is a virtual index on one column.
type index struct {
	id, db, table, column string
	typ                   sql.Type
	unique                bool
}

var _ sql.Index = (*index)(nil)

func indexesOf(db string, def *catalog.Table, schema sql.Schema) []sql.Index {
	var out []sql.Index
	add := func(id, column string, unique bool) {
		for _, ix := range out {
			if strings.EqualFold(ix.(*index).column, column) {
				return
			}
		}
		col := schema[def.ColumnIndex(column)]
		out = append(out, &index{id: id, db: db, table: def.Name, column: col.Name, typ: col.Type, unique: unique})
	}
	add("PRIMARY", catalog.PrimaryKey, true)
	if def.Parent != nil {
		add(def.Parent.Column, def.Parent.Column, false)
	}
	for _, f := range def.Filters {
		c, _ := def.Column(f.Column)
		if f.Ops&catalog.OpEq != 0 && c.Type != catalog.Timestamp {
			add(f.Column, f.Column, false)
		}
	}
	return out
}

func (i *index) ID() string                            { return i.id }
func (i *index) Database() string                      { return i.db }
func (i *index) Table() string                         { return i.table }
func (i *index) Expressions() []string                 { return []string{i.table + "." + i.column} }
func (i *index) IsUnique() bool                        { return i.unique }
func (i *index) IsSpatial() bool                       { return false }
func (i *index) IsFullText() bool                      { return false }
func (i *index) IsVector() bool                        { return false }
func (i *index) Comment() string                       { return "Stripe lookup by " + i.column }
func (i *index) IndexType() string                     { return "BTREE" }
func (i *index) IsGenerated() bool                     { return false }
func (i *index) CanSupportOrderBy(sql.Expression) bool { return false }
func (i *index) CoversColumns([]string) bool           { return false }
func (i *index) PrefixLengths() []uint16               { return nil }

func (i *index) ColumnExpressionTypes(*sql.Context) []sql.ColumnExpressionType {
	return []sql.ColumnExpressionType{{Expression: i.table + "." + i.column, Type: i.typ}}
}

// CanSupport accepts our own plans, and MySQL ranges only when every range
// is a single non-NULL value: Stripe can look those up, but not scan an
// ordered range of ids.
func (i *index) CanSupport(ctx *sql.Context, ranges ...sql.Range) bool {
	for _, r := range ranges {
		if _, ok := r.(planRange); ok {
			continue
		}
		if _, ok := pointKey(ctx, r); !ok {
			return false
		}
	}
	return true
}

// pointKey returns the value of a one-column MySQL range [k, k].
func pointKey(ctx *sql.Context, r sql.Range) (any, bool) {
	mr, ok := r.(sql.MySQLRange)
	if !ok || len(mr) != 1 {
		return nil, false
	}
	lo, lok := mr[0].LowerBound.(sql.Below)
	hi, hok := mr[0].UpperBound.(sql.Above)
	if !lok || !hok || lo.Key == nil || hi.Key == nil {
		return nil, false
	}
	if c, err := mr[0].Typ.Compare(ctx, lo.Key, hi.Key); err != nil || c != 0 {
		return nil, false
	}
	return lo.Key, true
}

// GetIndexes implements sql.IndexAddressable.
func (t *Table) GetIndexes(*sql.Context) ([]sql.Index, error) { return t.indexes, nil }

// PreciseMatch implements sql.IndexAddressable: false, so the engine
// re-checks every filter on every row. Stripe's filters may return a
// superset (whole-second ranges, default-visibility scans), never less.
func (t *Table) PreciseMatch() bool { return false }

// SkipIndexCosting implements sql.IndexSearchable: the planner in package
// pushdown decides a table's accesses; the engine's costing knows nothing
// of what a Stripe call costs.
func (t *Table) SkipIndexCosting() bool { return true }

// LookupForExpressions implements sql.IndexSearchable: it plans the
// WHERE conjuncts into Stripe calls. ok is false when nothing narrows a
// full scan, so the plain scan runs.
func (t *Table) LookupForExpressions(ctx *sql.Context, exprs ...sql.Expression) (sql.IndexLookup, *sql.FuncDepSet, sql.Expression, bool, error) {
	opts := sessionOptions(ctx)
	if !opts.pushdown {
		return sql.IndexLookup{}, nil, nil, false, nil
	}
	plan := pushdown.Build(ctx, t.def, exprs, pushdown.Options{Search: opts.search})
	if plan.IsFullScan() {
		return sql.IndexLookup{}, nil, nil, false, nil
	}
	return t.lookupFor(t.db.resolve(ctx, plan)), nil, expression.JoinAnd(exprs...), true, nil
}

// lookupFor wraps a plan as an index lookup on the primary index.
func (t *Table) lookupFor(plan pushdown.Plan) sql.IndexLookup {
	return sql.IndexLookup{Index: t.indexes[0], Ranges: planRanges{plan: plan}}
}

// IndexedAccess implements sql.IndexAddressable.
func (t *Table) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	return t
}

// LookupPartitions implements sql.IndexedTable.
func (t *Table) LookupPartitions(ctx *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	if pr, ok := lookup.Ranges.(planRanges); ok {
		return t.db.partitions(ctx, pr.plan)
	}
	plan, err := t.planForKeys(ctx, lookup)
	if err != nil {
		return nil, err
	}
	return t.db.partitions(ctx, plan)
}

// planForKeys plans a lookup by MySQL ranges on one of our indexes, as a
// lookup join sends them: an IN list of the join keys.
func (t *Table) planForKeys(ctx *sql.Context, lookup sql.IndexLookup) (pushdown.Plan, error) {
	ix, ok := lookup.Index.(*index)
	if !ok {
		return pushdown.Plan{}, fmt.Errorf("table %s: lookup on foreign index %v", t.def.Name, lookup.Index)
	}
	ranges := lookup.Ranges.ToRanges()
	keys := make(expression.Tuple, 0, len(ranges))
	for _, r := range ranges {
		k, ok := pointKey(ctx, r)
		if !ok {
			// Not a value Stripe can look up: read the whole table and let
			// the engine filter.
			return t.db.resolve(ctx, pushdown.FullScan(t.def)), nil
		}
		keys = append(keys, expression.NewLiteral(k, ix.typ))
	}
	in := expression.NewInTuple(expression.NewGetField(0, ix.typ, ix.column, true), keys)
	// Join keys are looked up by retrieve or list filter, never by Search:
	// a join must see what was just written.
	return t.db.resolve(ctx, pushdown.Build(ctx, t.def, []sql.Expression{in}, pushdown.Options{})), nil
}

// planRanges carries a pushdown plan through the engine as the ranges of
// an index lookup; EXPLAIN prints it.
type planRanges struct{ plan pushdown.Plan }

type planRange struct{ plan pushdown.Plan }

var (
	_ sql.RangeCollection = planRanges{}
	_ sql.Range           = planRange{}
)

// String is what EXPLAIN shows of a Stripe table access: its calls, and
// how far to trust them.
func (r planRanges) String() string {
	s := "stripe: " + r.plan.String()
	if r.plan.Consistent() {
		s += " [consistent"
	} else {
		s += " [eventually consistent: Search API"
	}
	if r.plan.Exact {
		s += "; exact]"
	} else {
		s += "; rows re-checked by the filter above]"
	}
	return s
}
func (r planRanges) DebugString(*sql.Context) string { return r.String() }
func (r planRanges) Len() int                        { return 1 }
func (r planRanges) ToRanges() []sql.Range           { return []sql.Range{planRange(r)} }
func (r planRanges) Equals(_ context.Context, other sql.RangeCollection) (bool, error) {
	o, ok := other.(planRanges)
	return ok && o.plan.String() == r.plan.String(), nil
}

func (r planRange) String() string                  { return r.plan.String() }
func (r planRange) DebugString(*sql.Context) string { return r.String() }
func (r planRange) Equals(_ context.Context, other sql.Range) (bool, error) {
	o, ok := other.(planRange)
	return ok && o.plan.String() == r.plan.String(), nil
}
