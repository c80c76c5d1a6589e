// Package mysqlfuncs supplies MySQL functions go-mysql-server lacks or gets
// wrong in ways BI tools hit: MAKEDATE (Metabase's year truncation) and
// STR_TO_DATE with week formats (its week truncation,
// str_to_date(concat(yearweek(x), ' Sunday'), '%X%V %W')). They are served
// through the server's function provider, ahead of the engine's built-ins
// (server.Config.Functions); no engine fork.
package mysqlfuncs

import (
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Functions returns the functions, for server.Config.Functions.
func Functions() []sql.Function {
	return []sql.Function{
		sql.Function2{Name: "makedate", Fn: newMakeDate},
		sql.Function2{Name: "str_to_date", Fn: newStrToDate},
		sql.Function2{Name: "date_format", Fn: newDateFormat},
		sql.Function0{Name: "cume_dist", Fn: newCumeDist},
		sql.Function2{Name: AssignFunction, Fn: newAssign},
		sql.Function2{Name: UserVarFunction, Fn: newUserVar},
	}
}

// call is a scalar function of evaluated arguments: NULL in, NULL out.
type call struct {
	name string
	args []sql.Expression
	typ  func(*sql.Context) sql.Type
	eval func(ctx *sql.Context, row sql.Row, args []any) (any, error)
	make func(ctx *sql.Context, args []sql.Expression) sql.Expression
}

var _ sql.FunctionExpression = (*call)(nil)

func (c *call) FunctionName() string { return c.name }
func (c *call) Description() string  { return "MySQL's " + strings.ToUpper(c.name) }
func (c *call) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}
func (c *call) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.String()
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}
func (c *call) Type(ctx *sql.Context) sql.Type { return c.typ(ctx) }
func (c *call) IsNullable(*sql.Context) bool   { return true }
func (c *call) Children() []sql.Expression     { return c.args }
func (c *call) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(c.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), len(c.args))
	}
	return c.make(ctx, children), nil
}

func (c *call) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	vals := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		vals[i] = v
	}
	return c.eval(ctx, row, vals)
}

// newMakeDate is MAKEDATE(year, dayofyear): the date that is day dayofyear
// of year, counting on into the next years past its end; NULL for a day
// below 1. Two-digit years mean 1970–2069, as in MySQL.
func newMakeDate(ctx *sql.Context, year, day sql.Expression) sql.Expression {
	return &call{
		name: "makedate",
		args: []sql.Expression{year, day},
		typ:  func(*sql.Context) sql.Type { return types.Date },
		make: func(ctx *sql.Context, a []sql.Expression) sql.Expression { return newMakeDate(ctx, a[0], a[1]) },
		eval: func(ctx *sql.Context, row sql.Row, v []any) (any, error) {
			y, _, err := types.Int64.Convert(ctx, v[0])
			if err != nil {
				return nil, fmt.Errorf("makedate: year: %w", err)
			}
			d, _, err := types.Int64.Convert(ctx, v[1])
			if err != nil {
				return nil, fmt.Errorf("makedate: day of year: %w", err)
			}
			year, day := y.(int64), d.(int64)
			if day <= 0 || year < 0 || year > 9999 {
				return nil, nil
			}
			if year < 70 {
				year += 2000
			} else if year < 100 {
				year += 1900
			}
			t := time.Date(int(year), time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(day-1))
			if t.Year() > 9999 {
				return nil, nil
			}
			return t, nil
		},
	}
}

// newStrToDate is STR_TO_DATE: the engine's, except for formats with week
// numbers (%X %V %x %v), which it does not know and answers with NULL.
func newStrToDate(ctx *sql.Context, date, format sql.Expression) sql.Expression {
	engine := function.NewStrToDate(ctx, date, format)
	return &call{
		name: "str_to_date",
		args: []sql.Expression{date, format},
		typ: func(ctx *sql.Context) sql.Type {
			// A week names a day: DATE, as MySQL's result.
			if l, ok := format.(*expression.Literal); ok {
				if f, ok := l.Value().(string); ok && hasWeekFormat(f) {
					return types.Date
				}
			}
			return engine.Type(ctx)
		},
		make: func(ctx *sql.Context, a []sql.Expression) sql.Expression { return newStrToDate(ctx, a[0], a[1]) },
		eval: func(ctx *sql.Context, row sql.Row, v []any) (any, error) {
			f, ok := v[1].(string)
			if ok && f == "%Y-%m-%d" {
				// Metabase's month and day buckets end here on every row
				// (str_to_date(concat(date_format(x, '%Y-%m'), '-01'),
				// '%Y-%m-%d')); the engine's takes some µs to parse the format.
				if s, ok := v[0].(string); ok {
					if t, ok := parseISODate(s); ok {
						return t, nil
					}
				}
			}
			if ok && hasWeekFormat(f) {
				s, ok := v[0].(string)
				if !ok {
					s = fmt.Sprint(v[0])
				}
				t, ok := parseWeekDate(s, f)
				if !ok {
					return nil, nil
				}
				return t, nil
			}
			return engine.Eval(ctx, row)
		},
	}
}
