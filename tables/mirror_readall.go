package tables

import (
	"context"
	"fmt"
	"io"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// ReadAll reads the whole of table live, as SELECT * reads it when
// routed to Stripe: the table's lists with their test-clock scans, a
// nested table's fan-out over its parents (each object naming its
// parent), long lists split into created ranges. emit gets every object
// of the table's type once per list that returns it; an error from emit
// stops the read and is returned.
//
// It serves the mirror's backfill (mirror.Config.ReadAll): its requests
// wait on the limiters ctx carries (stripeapi.WithShare), count against
// no session's call budget (stripe_max_calls), and belong to no query,
// so SHOW PROCESSLIST does not show them.
func (d *Database) ReadAll(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
	def, ok := d.catalog.Lookup(table)
	if !ok {
		return fmt.Errorf("read all of %s: no such table", table)
	}
	// A context of its own, with no process id: no per-query cache (a
	// backfill's pages are read once), no process list entry.
	sctx := sql.NewContext(context.WithValue(ctx, unbudgetedKey{}, true))
	plan := d.resolve(sctx, pushdown.FullScan(def))
	src := d.planObjects(sctx, plan)
	for {
		obj, err := src.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read all of %s: %w", table, err)
		}
		if kind, _ := obj["object"].(string); kind != "" && kind != def.Object {
			continue
		}
		if deleted, _ := obj["deleted"].(bool); deleted {
			continue
		}
		if err := emit(obj); err != nil {
			return err
		}
	}
}

// unbudgetedKey marks a context whose Stripe calls are the server's own
// (the mirror's backfill), spent from no session's budget.
type unbudgetedKey struct{}

func unbudgeted(ctx context.Context) bool {
	v, _ := ctx.Value(unbudgetedKey{}).(bool)
	return v
}
