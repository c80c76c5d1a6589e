package mysqlfuncs

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/aggregation"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/types"
)

var registerWindow sync.Once

// RegisterWindowFunctions tells the engine's planner that CUME_DIST takes
// an OVER clause. The planner decides that by name through a package-level
// hook (planbuilder.IsWindowFunc, "to allow other dialects to declare
// additional window functions"), so this is process-wide; it runs once.
func RegisterWindowFunctions() {
	registerWindow.Do(func() {
		base := planbuilder.IsWindowFunc
		planbuilder.IsWindowFunc = func(ctx *sql.Context, name string) (bool, error) {
			if name == "cume_dist" {
				return true, nil
			}
			return base(ctx, name)
		}
	})
}

// cumeDist is CUME_DIST() OVER (…): the share of the partition's rows that
// sort before the current row or with it, from (0, 1].
type cumeDist struct {
	window *sql.WindowDefinition
	id     sql.ColumnId
}

var _ sql.WindowAdaptableExpression = (*cumeDist)(nil)
var _ sql.FunctionExpression = (*cumeDist)(nil)

func newCumeDist(*sql.Context) sql.Expression { return &cumeDist{} }

func (c *cumeDist) Id() sql.ColumnId { return c.id }
func (c *cumeDist) WithId(id sql.ColumnId) sql.IdExpression {
	n := *c
	n.id = id
	return &n
}
func (c *cumeDist) FunctionName() string { return "CUME_DIST" }
func (c *cumeDist) Description() string {
	return "returns the cumulative distribution of a value within its partition."
}
func (c *cumeDist) Window() *sql.WindowDefinition { return c.window }
func (c *cumeDist) Resolved() bool {
	if c.window == nil {
		return true
	}
	return expression.ExpressionsResolved(append(c.window.OrderBy.ToExpressions(), c.window.PartitionBy...)...)
}
func (c *cumeDist) String() string {
	if c.window == nil {
		return "cume_dist()"
	}
	return "cume_dist() " + c.window.String()
}
func (c *cumeDist) Type(*sql.Context) sql.Type   { return types.Float64 }
func (c *cumeDist) IsNullable(*sql.Context) bool { return false }
func (c *cumeDist) Eval(*sql.Context, sql.Row) (any, error) {
	return nil, sql.ErrWindowUnsupported.New(c.FunctionName())
}
func (c *cumeDist) Children() []sql.Expression {
	if c.window == nil {
		return nil
	}
	return c.window.ToExpressions()
}
func (c *cumeDist) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if c.window == nil {
		return c, nil
	}
	w, err := c.window.FromExpressions(ctx, children)
	if err != nil {
		return nil, err
	}
	return c.WithWindow(ctx, w), nil
}
func (c *cumeDist) WithWindow(_ *sql.Context, w *sql.WindowDefinition) sql.WindowAdaptableExpression {
	n := *c
	n.window = w
	return &n
}
func (c *cumeDist) NewWindowFunction(*sql.Context) (sql.WindowFunction, error) {
	var orderBy []sql.Expression
	if c.window != nil {
		orderBy = c.window.OrderBy.ToExpressions()
	}
	return &cumeDistFunc{orderBy: orderBy}, nil
}

// cumeDistFunc computes CUME_DIST over peer-group frames: the frame of a
// row is its peers (rows equal in the ORDER BY), so the rows up to the
// frame's end are those sorting before it or with it.
type cumeDistFunc struct {
	orderBy    []sql.Expression
	start, end int // the partition
}

func (f *cumeDistFunc) Dispose(*sql.Context) {}
func (f *cumeDistFunc) StartPartition(_ *sql.Context, in sql.WindowInterval, _ sql.WindowBuffer) error {
	f.start, f.end = in.Start, in.End
	return nil
}
func (f *cumeDistFunc) DefaultFramer() sql.WindowFramer {
	return aggregation.NewPeerGroupFramer(f.orderBy)
}
func (f *cumeDistFunc) NewSlidingFrameInterval(_, _ sql.WindowInterval) {}
func (f *cumeDistFunc) Compute(_ *sql.Context, in sql.WindowInterval, _ sql.WindowBuffer) (any, error) {
	if f.end <= f.start {
		return nil, nil
	}
	return float64(in.End-f.start) / float64(f.end-f.start), nil
}
