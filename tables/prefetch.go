package tables

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// maxPrefetch bounds the retrieves one table access sends at once. The
// client's rate limiter paces them all the same; concurrency only stops a
// long Id IN (…) list from waiting on each round trip in turn.
const maxPrefetch = 8

// prefetch sends the retrieves of a plan concurrently and files their
// objects in the per-query cache, where the partitions then find them.
// Each retrieve is spent against the session's budget like any other call.
// A retrieve that fails is not filed: its partition sends it again and
// reports the error in its place in the rows.
func (d *Database) prefetch(ctx *sql.Context, table string, plan pushdown.Plan) {
	if ctx.Pid() == 0 || plan.Empty {
		return
	}
	var calls []pushdown.Call
	for _, c := range plan.Calls {
		if c.Kind == pushdown.Retrieve {
			if _, cached := d.cache.get(ctx.Pid(), c.String()); !cached {
				calls = append(calls, c)
			}
		}
	}
	if len(calls) < 2 {
		return
	}
	account := stripeapi.WithAccount(sessionOptions(ctx).account)
	slots := make(chan struct{}, maxPrefetch)
	var wg sync.WaitGroup
	for _, c := range calls {
		key := c.String()
		if err := d.ledger.spend(ctx, table, key); err != nil {
			break // the partitions report the budget error in order
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			obj, err := d.client.Get(ctx, c.Path, nil, account)
			switch {
			case stripeapi.IsNotFound(err):
				d.cache.put(ctx.Pid(), key, nil)
			case err == nil:
				d.cache.put(ctx.Pid(), key, []stripeapi.Object{obj})
			}
		}()
	}
	wg.Wait()
}
