package tables

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/rangescan"
)

// maxScanConcurrency caps the pages one list scan keeps in flight. At
// 100 requests/s and 300 ms, 30 in flight is the bare minimum; a slow
// answer or a busy server stretches the round trip, and with too few in
// flight the latency, not the rate, sets the pace again.
const maxScanConcurrency = 48

// scanNote is what EXPLAIN adds about how a plan's lists are read: a long
// list of a table whose endpoint filters created is split into created
// ranges read concurrently (how many at once follows from the endpoint's
// rate and the latency seen so far), any other long list is read one page
// ahead, and a list a LIMIT shrank or a newest-first merge is read page by
// page. Empty when the plan has no list.
func (d *Database) scanNote(plan pushdown.Plan) string {
	var list *pushdown.Call
	for i, c := range plan.Calls {
		if c.Kind == pushdown.List {
			list = &plan.Calls[i]
			break
		}
	}
	if plan.Empty || list == nil {
		return ""
	}
	seq := strconv.Itoa(rangescan.DefaultSeqPages)
	size := pageSize
	for _, p := range list.Params {
		if p.Key == "limit" {
			size = p.Value
		}
	}
	switch {
	case plan.Merge || size != pageSize:
		return "lists read page by page"
	case !splitsByCreated(d.catalog, plan.Table.Name):
		return "lists past " + seq + " pages read one page ahead"
	}
	rate := d.client.RateFor(http.MethodGet, list.Path)
	lat := d.client.LatencyOf(http.MethodGet, list.Path)
	var at string
	switch {
	case lat == 0:
		at = fmt.Sprintf("up to rate × latency × 1.5 at once (at most %d)", maxScanConcurrency)
	default:
		n := max(1, rangescan.Concurrency(rate, lat, maxScanConcurrency))
		at = fmt.Sprintf("%d at once (%.0f req/s × %v × 1.5)", n, rate, lat.Round(1e6))
	}
	return "lists past " + seq + " pages (past 1 whose span says the list is long) split into created ranges, " + at
}
