package tables

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
)

// Row-count estimates for the engine's join planner, which otherwise knows
// nothing of what reading a Stripe table costs. They are orders of
// magnitude, never exact (so COUNT(*) still counts): a nested table read
// without its parent key visits every parent, so it is estimated as
// costing far more than a top-level table, and the planner prefers to
// reach it through its parent key (one scoped list per parent row).
const (
	estimatedRows       = 10_000
	estimatedNestedRows = 1_000_000
)

var _ sql.StatisticsTable = (*Table)(nil)

// RowCount implements sql.StatisticsTable with an estimate, or, for a
// table this session reads from the mirror, the exact count the mirror
// holds: the engine then answers a bare COUNT(*) with it (its
// replaceCountStar rule) without reading a row.
func (t *Table) RowCount(ctx *sql.Context) (uint64, bool, error) {
	if n, ok := t.db.mirrorCount(ctx, t.def); ok {
		return n, true, nil
	}
	if t.def.Parent != nil {
		return estimatedNestedRows, false, nil
	}
	return estimatedRows, false, nil
}

// DataLength implements sql.StatisticsTable; Stripe says nothing of size.
func (t *Table) DataLength(*sql.Context) (uint64, error) { return 0, nil }

// mirrorCount is the mirror's count of def's objects, when this session
// reads def from the mirror. The query's Stripe_calls starts at 0.
func (d *Database) mirrorCount(ctx *sql.Context, def *catalog.Table) (uint64, bool) {
	if ctx == nil || !d.routedAtPlan(ctx, def) {
		return 0, false
	}
	n, err := d.mirrorOf().Count(ctx, def.Name)
	if err != nil || n < 0 {
		return 0, false
	}
	d.ledger.begin(ctx)
	return uint64(n), true
}
