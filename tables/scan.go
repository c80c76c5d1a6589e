package tables

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/rangescan"
	"github.com/stripesql/stripesql/stripeapi"
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
//
// A list whose statistics plan its ranges (see scanStats) says so, with
// how many ranges and objects: such a scan splits at its first request.
func (d *Database) scanNote(ctx *sql.Context, plan pushdown.Plan) string {
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
	if note := d.plannedNote(ctx, *list, rate, lat); note != "" {
		return note
	}
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

// plannedNote is EXPLAIN's line for a list whose scan is planned from the
// statistics of its last complete scan, "" when it is not.
func (d *Database) plannedNote(ctx *sql.Context, list pushdown.Call, rate float64, lat time.Duration) string {
	params := make(stripeapi.Params, 0, len(list.Params)+1)
	for _, p := range list.Params {
		params.Add(p.Key, p.Value)
	}
	if _, ok := params.Get("limit"); !ok {
		params.Add("limit", pageSize)
	}
	var account string
	if ctx != nil {
		account = sessionOptions(ctx).account
	}
	st := d.stats.get(statsKey(account, list.Path, params))
	ranges, objects := rangescan.Planned(params, rangescan.Options{
		Split: true, Rate: rate, Latency: lat, MaxConcurrency: maxScanConcurrency, Stats: st,
	})
	if ranges == 0 {
		return ""
	}
	return fmt.Sprintf("ranges: %d concurrent, planned from the last scan: %s objects", ranges, thousands(objects))
}

// thousands formats n with commas: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
