package pushdown

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
)

// constraints is what the conjuncts of a WHERE clause say about the columns
// the catalog can push: the values a column may take, and ranges on
// timestamp columns. Keys are lower-cased column names.
type constraints struct {
	values map[string][]string
	bounds map[string]*bounds
	// never is set when the conjuncts cannot all be true (col = NULL,
	// disjoint IN lists, empty ranges).
	never bool
	// inexact is set when some conjunct is not captured exactly by the
	// values and bounds, so the engine's re-check may drop rows.
	inexact bool
}

func newConstraints() *constraints {
	return &constraints{values: map[string][]string{}, bounds: map[string]*bounds{}}
}

// add records what one conjunct says; a conjunct it cannot use is left to
// the engine, and marks the constraints inexact.
func (cs *constraints) add(ctx *sql.Context, t *catalog.Table, e sql.Expression) {
	if !cs.addExact(ctx, t, e) {
		cs.inexact = true
	}
}

// addExact records a conjunct and reports whether the values and bounds
// now capture it exactly.
func (cs *constraints) addExact(ctx *sql.Context, t *catalog.Table, e sql.Expression) bool {
	switch e := e.(type) {
	case *expression.Equals:
		col, lit, ok := columnAndLiteral(t, e.Left(), e.Right())
		if !ok {
			return false
		}
		if lit.Value() == nil {
			cs.never = true // col = NULL is never true
			return true
		}
		return cs.addEquals(ctx, t, col, lit)
	case *expression.NullSafeEquals:
		col, lit, ok := columnAndLiteral(t, e.Left(), e.Right())
		return ok && lit.Value() != nil && cs.addEquals(ctx, t, col, lit)
	case *expression.InTuple:
		return cs.addIn(ctx, t, e.Left(), e.Right())
	case *expression.HashInTuple:
		return cs.addIn(ctx, t, e.Left(), e.Right())
	case *expression.Or:
		return cs.addOr(ctx, t, e)
	case *expression.GreaterThan:
		return cs.addComparison(ctx, t, e.Left(), e.Right(), ">")
	case *expression.GreaterThanOrEqual:
		return cs.addComparison(ctx, t, e.Left(), e.Right(), ">=")
	case *expression.LessThan:
		return cs.addComparison(ctx, t, e.Left(), e.Right(), "<")
	case *expression.LessThanOrEqual:
		return cs.addComparison(ctx, t, e.Left(), e.Right(), "<=")
	case *expression.Between:
		if _, ok := e.Lower.(*expression.Literal); !ok {
			return false
		}
		if _, ok := e.Upper.(*expression.Literal); !ok {
			return false
		}
		lower := cs.addComparison(ctx, t, e.Val, e.Lower, ">=")
		upper := cs.addComparison(ctx, t, e.Val, e.Upper, "<=")
		return lower && upper
	}
	return false
}

// addEquals narrows a column to one value.
func (cs *constraints) addEquals(ctx *sql.Context, t *catalog.Table, col *catalog.Column, lit *expression.Literal) bool {
	// On a range-filterable number, equality is the range [v, v]: Stripe
	// does not take param=v and param[gte]=… together.
	if col.Type == catalog.Timestamp || (col.Type == catalog.Integer && rangeFilter(t, col) != nil) {
		if rangeFilter(t, col) == nil {
			return false
		}
		lower := cs.addComparison(ctx, t, getFieldFor(col), lit, ">=")
		upper := cs.addComparison(ctx, t, getFieldFor(col), lit, "<=")
		return lower && upper
	}
	if !eqPushable(t, col) {
		return false
	}
	v, ok := paramValue(col, lit.Value())
	if !ok || !acceptsValue(t, col, v) {
		return false
	}
	cs.narrow(col, []string{v})
	return true
}

// acceptsValue reports whether Stripe accepts v for the column's filter:
// it rejects a value outside the parameter's enum with an error, where
// SQL's answer may well be rows (or none), so such a value is not sent.
func acceptsValue(t *catalog.Table, col *catalog.Column, v string) bool {
	f, ok := t.Filter(col.Name)
	return !ok || len(f.Enum) == 0 || slices.Contains(f.Enum, v)
}

// addIn narrows a column to the values of an IN list. NULL elements match
// nothing and are dropped; any element that cannot be sent as a parameter
// makes the whole list unusable.
func (cs *constraints) addIn(ctx *sql.Context, t *catalog.Table, left, right sql.Expression) bool {
	gf, ok := left.(*expression.GetField)
	if !ok {
		return false
	}
	col, ok := t.Column(gf.Name())
	if !ok || !eqPushable(t, col) {
		return false
	}
	tuple, ok := right.(expression.Tuple)
	if !ok {
		return false
	}
	var vals []string
	for _, el := range tuple {
		lit, ok := el.(*expression.Literal)
		if !ok {
			return false
		}
		if lit.Value() == nil {
			continue
		}
		v, ok := paramValue(col, lit.Value())
		if !ok || !acceptsValue(t, col, v) {
			return false
		}
		vals = append(vals, v)
	}
	cs.narrow(col, vals)
	return true
}

// addOr handles a disjunction of equalities and IN lists on one column
// (Id = 'a' OR Id = 'b'), which is an IN list in disguise.
func (cs *constraints) addOr(ctx *sql.Context, t *catalog.Table, e sql.Expression) bool {
	var column string
	var vals []string
	var walk func(e sql.Expression) bool
	walk = func(e sql.Expression) bool {
		switch e := e.(type) {
		case *expression.Or:
			return walk(e.LeftChild) && walk(e.RightChild)
		case *expression.Equals, *expression.InTuple, *expression.HashInTuple:
			branch := newConstraints()
			branch.add(ctx, t, e)
			if branch.never {
				return true // a branch that is never true adds no rows
			}
			if branch.inexact || len(branch.values) != 1 || len(branch.bounds) != 0 {
				return false
			}
			for c, v := range branch.values {
				if column != "" && column != c {
					return false
				}
				column = c
				vals = append(vals, v...)
			}
			return true
		}
		return false
	}
	if !walk(e) {
		return false
	}
	if column == "" {
		cs.never = true
		return true
	}
	col, _ := t.Column(column)
	cs.narrow(col, vals)
	return true
}

func (cs *constraints) narrow(col *catalog.Column, vals []string) {
	key := strings.ToLower(col.Name)
	vals = sortedUnique(vals)
	if prev, ok := cs.values[key]; ok {
		vals = intersect(prev, vals)
	}
	cs.values[key] = vals
	if len(vals) == 0 {
		cs.never = true
	}
}

// addComparison records `left op right` where one side is a range-filterable
// timestamp or integer column and the other a literal (either order).
func (cs *constraints) addComparison(ctx *sql.Context, t *catalog.Table, left, right sql.Expression, op string) bool {
	col, lit, ok := columnAndLiteral(t, left, right)
	if !ok {
		return false
	}
	if _, isField := left.(*expression.GetField); !isField {
		op = flip(op) // 'x' < col  ==  col > 'x'
	}
	if (col.Type != catalog.Timestamp && col.Type != catalog.Integer) || rangeFilter(t, col) == nil {
		return false
	}
	if lit.Value() == nil {
		cs.never = true // a comparison with NULL is never true
		return true
	}
	var w, last int64
	var fractional bool
	if col.Type == catalog.Integer {
		// Only an integer literal: 2.5 or '3' compare as MySQL converts
		// them, which the engine is left to do.
		w, ok = IntValue(lit.Value())
		last = w
	} else {
		w, last, fractional, ok = unixRange(ctx, lit.Value())
	}
	if !ok {
		return false
	}
	key := strings.ToLower(col.Name)
	b := cs.bounds[key]
	if b == nil {
		b = &bounds{}
		cs.bounds[key] = b
	}
	// Objects carry whole seconds. A fractional bound is widened to the
	// enclosing whole seconds on both sides, whatever rounding the engine
	// applies to the literal: the calls return a superset, and the engine
	// re-checks every row.
	// A reading the session's zone repeats (the hour daylight saving
	// ends) bounds from below by its first instant and from above by its
	// last, inclusively, and is left for the engine to re-check.
	twice := last != w
	switch {
	case fractional && (op == ">" || op == ">="):
		b.addLower(w, true)
	case fractional:
		b.addUpper(last+1, true)
	case op == ">" || op == ">=":
		b.addLower(w, op == ">=" || twice)
	default:
		b.addUpper(last, op == "<=" || twice)
	}
	if b.empty() {
		cs.never = true
	}
	return !fractional && !twice
}

func flip(op string) string {
	switch op {
	case ">":
		return "<"
	case ">=":
		return "<="
	case "<":
		return ">"
	case "<=":
		return ">="
	}
	return op
}

// columnAndLiteral matches `column OP literal` in either operand order.
func columnAndLiteral(t *catalog.Table, a, b sql.Expression) (*catalog.Column, *expression.Literal, bool) {
	if gf, ok := a.(*expression.GetField); ok {
		if lit, ok := b.(*expression.Literal); ok {
			col, ok := t.Column(gf.Name())
			return col, lit, ok
		}
	}
	if gf, ok := b.(*expression.GetField); ok {
		if lit, ok := a.(*expression.Literal); ok {
			col, ok := t.Column(gf.Name())
			return col, lit, ok
		}
	}
	return nil, nil, false
}

func getFieldFor(col *catalog.Column) sql.Expression {
	return expression.NewGetField(0, types.Timestamp, col.Name, true)
}

// eqPushable reports whether equality on the column narrows Stripe calls:
// the primary key (retrieve), the parent key (path), or an equality filter.
func eqPushable(t *catalog.Table, col *catalog.Column) bool {
	if strings.EqualFold(col.Name, catalog.PrimaryKey) {
		return true
	}
	if t.Parent != nil && strings.EqualFold(col.Name, t.Parent.Column) {
		return true
	}
	f, ok := t.Filter(col.Name)
	return ok && f.Ops&catalog.OpEq != 0
}

func rangeFilter(t *catalog.Table, col *catalog.Column) *catalog.Filter {
	f, ok := t.Filter(col.Name)
	if !ok || f.Ops&catalog.OpRange == 0 {
		return nil
	}
	return f
}

// paramValue renders a literal as the list parameter Stripe compares with
// the column, only where SQL's comparison means the same thing. A string
// column compared with a number compares numerically in MySQL ('5.0' = 5),
// so only string literals are sent for string columns; a boolean column is
// sent only 0 or 1.
func paramValue(col *catalog.Column, v any) (string, bool) {
	switch col.Type {
	case catalog.String, catalog.Text:
		s, ok := v.(string)
		return s, ok
	case catalog.Integer:
		// An integer literal only: MySQL compares 5 = '5.0' numerically.
		if i, ok := IntValue(v); ok {
			return strconv.FormatInt(i, 10), true
		}
	case catalog.Boolean:
		switch n := v.(type) {
		case bool:
			if n {
				return "true", true
			}
			return "false", true
		default:
			if i, ok := IntValue(n); ok && (i == 0 || i == 1) {
				return strconv.FormatBool(i == 1), true
			}
		}
	}
	return "", false
}

// IntValue returns the value of an integer literal as the engine hands it
// over (any Go integer type); ok is false for anything else, and for
// unsigned values beyond int64.
func IntValue(v any) (n int64, ok bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// unixSeconds converts a literal the way the engine compares it with a
// TIMESTAMP column (a clock reading in the session's time zone), and
// returns its whole Unix seconds (rounded down) and whether a fraction of a
// second was cut off. A reading that names two instants (the hour repeated
// when daylight saving ends) counts as fractional: it is no exact bound.
func unixSeconds(ctx *sql.Context, v any) (int64, bool, bool) {
	lo, hi, fractional, ok := unixRange(ctx, v)
	return lo, fractional || lo != hi, ok
}

// unixRange is unixSeconds with both instants a reading may name: the
// first, for a lower bound, and the last, for an upper one.
func unixRange(ctx *sql.Context, v any) (first, last int64, fractional, ok bool) {
	if _, isString := v.(string); !isString {
		if _, isTime := v.(time.Time); !isTime {
			// Numbers compared with a TIMESTAMP follow MySQL's numeric date
			// rules (20240101); leave those to the engine.
			return 0, 0, false, false
		}
	}
	converted, _, err := types.DatetimeMaxPrecision.Convert(ctx, v)
	if err != nil || converted == nil {
		return 0, 0, false, false
	}
	tm, ok := converted.(time.Time)
	if !ok {
		return 0, 0, false, false
	}
	// The literal is a clock reading in the session's time zone.
	a, b := sqltime.Instants(tm, sqltime.Zone(ctx))
	return a.Unix(), b.Unix(), tm.Nanosecond() != 0, true
}
