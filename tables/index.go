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

// CanSupport accepts our own plans, and MySQL ranges only of the shapes a
// lookup by join keys sends: a single value (which Stripe can look up, while
// it cannot scan an ordered range of ids), and the NULL and NOT NULL ranges
// of NULL-safe equality, answered by reading the table; and an empty range.
func (i *index) CanSupport(ctx *sql.Context, ranges ...sql.Range) bool {
	for _, r := range ranges {
		if _, ok := r.(planRange); ok {
			continue
		}
		if _, ok := pointKey(ctx, r); !ok && !nullRange(r) && !notNullRange(r) && !emptyRange(ctx, r) {
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
	// A table read from the mirror has no use for Search: list filters
	// are what the mirror's indexes answer.
	search := opts.search && !t.db.routedAtPlan(ctx, t.def)
	plan := pushdown.Build(ctx, t.def, exprs, pushdown.Options{Search: search})
	if plan.IsFullScan() {
		return sql.IndexLookup{}, nil, nil, false, nil
	}
	return t.lookupFor(ctx, t.db.resolve(ctx, plan)), nil, expression.JoinAnd(exprs...), true, nil
}

// lookupFor wraps a plan as an index lookup on the primary index; for a
// table this session reads from the mirror, EXPLAIN names the mirror.
func (t *Table) lookupFor(ctx *sql.Context, plan pushdown.Plan) sql.IndexLookup {
	pr := planRanges{plan: plan, scan: t.db.scanNote(ctx, plan)}
	if t.db.routedAtPlan(ctx, t.def) {
		pr.mirror = &mirrorNote{m: t.db.mirrorOf(), def: t.def, plan: plan}
	}
	return sql.IndexLookup{Index: t.indexes[0], Ranges: pr}
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
	if t.readOnce != nil && !t.db.routedAtPlan(ctx, t.def) {
		return t.lookupReadOnce(ctx, lookup)
	}
	plan, match, err := t.planForKeys(ctx, lookup)
	if err != nil {
		return nil, err
	}
	parts, err := t.db.partitions(ctx, plan)
	if err != nil {
		return nil, err
	}
	return &matchingPartitions{PartitionIter: parts, match: match}, nil
}

// planForKeys plans a lookup by MySQL ranges on one of our indexes, as a
// lookup join, a semi-join or a correlated subquery sends them: the join
// keys of one outer row. The engine drops the join condition that a lookup
// answers (it trusts the index), so the rows must be exactly those whose
// column equals a key: the returned keyMatch re-checks every object a
// Stripe call returns before it becomes a row.
//
// A NULL key equals nothing. Under NULL-safe equality (<=>) a NULL key
// matches the rows whose column is NULL: none for Id, the whole table
// read and re-checked for a nullable column.
func (t *Table) planForKeys(ctx *sql.Context, lookup sql.IndexLookup) (pushdown.Plan, *keyMatch, error) {
	ix, ok := asIndex(lookup.Index)
	if !ok {
		return pushdown.Plan{}, nil, fmt.Errorf("table %s: lookup on foreign index %v", t.def.Name, lookup.Index)
	}
	col, _ := t.def.Column(ix.column)
	match := &keyMatch{column: *col, typ: ix.typ}
	keys := make(expression.Tuple, 0, 1)
	for _, r := range lookup.Ranges.ToRanges() {
		if k, ok := pointKey(ctx, r); ok {
			match.keys = append(match.keys, k)
			keys = append(keys, expression.NewLiteral(k, ix.typ))
			continue
		}
		if nullRange(r) {
			match.null = true
		}
		if notNullRange(r) {
			match.anyValue = true
		}
		// Any other range is a NULL key under plain equality (the engine
		// sends [NULL, NULL]): it matches no row.
	}
	if match.anyValue || match.null && col.Nullable {
		return t.db.resolve(ctx, pushdown.FullScan(t.def)), match, nil
	}
	if len(keys) == 0 {
		return pushdown.Plan{Table: t.def, Empty: true, Exact: true}, match, nil
	}
	in := expression.NewInTuple(expression.NewGetField(0, ix.typ, ix.column, true), keys)
	// Join keys are looked up by retrieve or list filter, never by Search:
	// a join must see what was just written.
	return t.db.resolve(ctx, pushdown.Build(ctx, t.def, []sql.Expression{in}, pushdown.Options{})), match, nil
}

// emptyRange reports a range no value is in, as a comparison with NULL
// (b.x = NULL) gives a lookup: it matches nothing.
func emptyRange(ctx *sql.Context, r sql.Range) bool {
	mr, ok := r.(sql.MySQLRange)
	if !ok {
		return false
	}
	empty, err := mr.IsEmpty(ctx)
	return err == nil && empty
}

// notNullRange reports the range (NULL, ∞) of every non-NULL value, the
// shape the engine gives a NULL-safe lookup before it has a key.
func notNullRange(r sql.Range) bool {
	mr, ok := r.(sql.MySQLRange)
	if !ok || len(mr) != 1 {
		return false
	}
	_, lo := mr[0].LowerBound.(sql.AboveNull)
	_, hi := mr[0].UpperBound.(sql.AboveAll)
	return lo && hi
}

// nullRange reports the range [NULL, NULL] that a NULL-safe lookup of a
// NULL key asks for.
func nullRange(r sql.Range) bool {
	mr, ok := r.(sql.MySQLRange)
	if !ok || len(mr) != 1 {
		return false
	}
	_, lo := mr[0].LowerBound.(sql.BelowNull)
	_, hi := mr[0].UpperBound.(sql.AboveNull)
	return lo && hi
}

// planRanges carries a pushdown plan through the engine as the ranges of
// an index lookup; EXPLAIN prints it.
type planRanges struct {
	plan pushdown.Plan
	scan string // how the lists are read (scanNote)
	// mirror, when set, is what EXPLAIN shows instead: the plan is read
	// from the mirror (mirrorNote).
	mirror *mirrorNote
}

type planRange struct{ plan pushdown.Plan }

var (
	_ sql.RangeCollection = planRanges{}
	_ sql.Range           = planRange{}
)

// String is what EXPLAIN shows of a Stripe table access: its calls, and
// how far to trust them.
func (r planRanges) String() string {
	if r.mirror != nil {
		return r.mirror.String()
	}
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
	if r.scan != "" {
		s += " [" + r.scan + "]"
	}
	return s
}
func (r planRanges) DebugString(*sql.Context) string { return r.String() }
func (r planRanges) Len() int                        { return 1 }
func (r planRanges) ToRanges() []sql.Range           { return []sql.Range{planRange{plan: r.plan}} }
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
