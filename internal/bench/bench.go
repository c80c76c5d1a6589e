// Package bench measures stripesql against Stripe's physical limits: it
// serves a seeded emulator with latency and Stripe's rate limits over
// HTTP, runs the stripesql server as a child process against it, and
// reports for each query the seconds, the requests and 429s the emulator
// saw, the bound the rate limits set, rows/s and the server's memory, and
// checks the rows against the emulator's own data.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// Options choose the scenarios and their sizes.
type Options struct {
	Exe        string   // the stripesql binary, run as the server (serve)
	ServerArgs []string // more flags for the server
	Scenarios  []string // names (see Scenarios); empty runs all

	Customers     int             // rows of the Customers scans and the SQL tax
	Charges       int             // rows of the monthly charges aggregate
	JoinCustomers int             // customers of the join
	JoinInvoices  int             // invoices of the join
	StreamRows    int             // rows of the streaming scan
	Latencies     []time.Duration // of the Customers scans; the first also for the aggregate and the join
	Rate          float64         // the server-side global limit, req/s
	EndpointRate  float64         // the server-side per-endpoint limit of the second limit set, req/s
	// StreamLatency and StreamRate are the looser conditions of the
	// streaming scan, which is about memory: a million rows at 100 req/s
	// would take 100 s for no more insight.
	StreamLatency time.Duration
	StreamRate    float64
	Joins         int // joins in a row of the joins scenario
	// GCWait bounds the wait for the server's next garbage collection
	// before reading its heap (the runtime forces one every 2 minutes).
	GCWait time.Duration
	// EmulatorGOGC is the garbage collector's GOGC in this process, which
	// runs the emulator, while the scenarios run; 0 leaves it as it is.
	// The emulator stands in for Stripe's servers, but here it shares the
	// machine's cores with the server under test, and it builds, expands
	// and encodes every page it serves: its collections are CPU that
	// Stripe would never take from a client. A lighter collector leaves
	// the server those cycles. The server's own settings are untouched.
	EmulatorGOGC int

	// The mirror scenarios (mirror.go).
	MirrorBackfill int // customers the backfill scenario mirrors
	MirrorObjects  int // charges the mirror scenario queries
	// MirrorBackfillRate is the --mirror-rate of the mirror scenario's
	// backfill, which runs without latency or server-side limit; 0 for
	// none. MirrorStore, if set, is the --mirror-dir it uses and keeps, so
	// that a later run can reuse a store already backfilled.
	MirrorBackfillRate float64
	MirrorStore        string
	PointQueries       int           // point queries by Id of the mirror scenario
	LagChanges         int           // changes the lag scenario makes at the emulator
	LagInterval        time.Duration // --mirror-interval of the mirror scenarios
}

// Defaults are the sizes of issue 9's acceptance.
func Defaults() Options {
	return Options{
		Customers: 100_000, Charges: 30_000, JoinCustomers: 2_000, JoinInvoices: 10_000, StreamRows: 1_000_000,
		Latencies: []time.Duration{100 * time.Millisecond, 300 * time.Millisecond},
		Rate:      100, EndpointRate: 25, StreamLatency: 10 * time.Millisecond, StreamRate: 1000, Joins: 10,
		GCWait: 150 * time.Second, EmulatorGOGC: 400,
		MirrorBackfill: 100_000, MirrorObjects: 1_000_000, PointQueries: 200, LagChanges: 100, LagInterval: 2 * time.Second,
	}
}

// Quick are small sizes for a run of seconds (and the smoke test).
func Quick() Options {
	o := Defaults()
	o.Customers, o.Charges, o.JoinCustomers, o.JoinInvoices, o.StreamRows = 2_000, 2_000, 300, 1_000, 20_000
	o.Latencies = []time.Duration{20 * time.Millisecond}
	o.StreamLatency = 0
	o.Joins = 3
	o.GCWait = 5 * time.Second
	o.MirrorBackfill, o.MirrorObjects, o.PointQueries, o.LagChanges = 2_000, 20_000, 50, 6
	return o
}

// Scenarios names the scenarios in the order they run.
var Scenarios = []string{"count", "select", "charges", "join", "stream", "joins", "tax", "backfill", "mirror", "lag"}

// MirrorScenarios are the scenarios of the live mirror (stripesql bench
// --mirror).
var MirrorScenarios = []string{"backfill", "mirror", "lag"}

// A Result is one measured query.
type Result struct {
	Scenario string
	// Run is "cold" for a query's first run on a fresh server, "warm" for
	// the same query again on that server (its scans planned from the
	// statistics the first left); "" for a scenario run once.
	Run      string
	Query    string
	Latency  time.Duration
	Limit    string // the server-side limits, e.g. "100/s" or "25/s/endpoint, 100/s"
	Rows     int64  // rows the query returned (or counted, for COUNT(*))
	Seconds  float64
	Requests int     // requests the emulator saw
	Limited  int     // of which answered 429 by its rate limits
	Pages    int     // list pages the data fills: the fewest requests a scan can make
	Bound    float64 // seconds the rate limits allow at best; 0 without a limit
	IdleRSS  int64   // the server's RSS before the query, bytes
	PeakRSS  int64   // the server's peak RSS, bytes
	AfterRSS int64   // the server's RSS after the query (the joins scenario), bytes
	// IdleHeap and AfterHeap are the server's Go heap in use before the
	// first and after the last join of the joins scenario, bytes.
	IdleHeap, AfterHeap int64
	HeapAfterGC         bool   // AfterHeap was read right after a collection: it is the live heap
	Check               string // "ok: …" or what is wrong with the rows
	OK                  bool   // the rows are right
	// Bare is the seconds of a bare Go client reading the same pages (tax).
	Bare float64
	// Speedup marks a query answered by the mirror: its bound is the live
	// read's, and the ratio bound/seconds is how many times faster it is.
	Speedup bool
	// PeakLabel, if set, reports PeakRSS on its own under this name
	// ("server peak RSS"): the server's peak over its life, or since a
	// point the label says.
	PeakLabel string
	// P50 and P99 are the median and 99th percentile of the point
	// queries (mirror) or of the lag (lag).
	P50, P99 time.Duration
}

// Ratio is the share of the bound reached: bound / seconds.
func (r Result) Ratio() float64 {
	if r.Bound == 0 || r.Seconds == 0 {
		return 0
	}
	return r.Bound / r.Seconds
}

// Run runs the chosen scenarios, reporting each result to report as it
// completes, and returns them all.
func Run(ctx context.Context, o Options, report func(Result)) ([]Result, error) {
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(Scenarios, ", "))
		}
	}
	want := func(s string) bool { return len(o.Scenarios) == 0 || slices.Contains(o.Scenarios, s) }
	if o.EmulatorGOGC > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(o.EmulatorGOGC))
	}
	type limits struct {
		name           string
		global, perEnd float64
	}
	limitSets := []limits{{fmt.Sprintf("%g/s", o.Rate), o.Rate, 0}}
	if o.EndpointRate > 0 {
		limitSets = append(limitSets, limits{fmt.Sprintf("%g/s/endpoint, %g/s", o.EndpointRate, o.Rate), o.Rate, o.EndpointRate})
	}
	var out []Result
	add := func(r Result, err error) error {
		if err != nil {
			return fmt.Errorf("%s (%s): %w", r.Scenario, r.Query, err)
		}
		out = append(out, r)
		if report != nil {
			report(r)
		}
		return nil
	}
	addAll := func(rs []Result, err error) error {
		for i, r := range rs {
			if i == len(rs)-1 && err != nil {
				return add(r, err)
			}
			if err := add(r, nil); err != nil {
				return err
			}
		}
		return err
	}
	for _, sc := range []struct {
		name  string
		query string
	}{
		{"count", "SELECT COUNT(*) FROM Customers"},
		{"select", "SELECT * FROM Customers"},
	} {
		if !want(sc.name) {
			continue
		}
		for _, lat := range o.Latencies {
			for _, lim := range limitSets {
				fx := fixture{customers: o.Customers}
				cond := conditions{latency: lat, limit: lim.name, global: lim.global, endpoint: lim.perEnd}
				if err := addAll(runScan(ctx, o, sc.name, sc.query, fx, cond, coldWarm)); err != nil {
					return out, err
				}
			}
		}
	}
	first := limitSets[0]
	lat0 := time.Duration(0)
	if len(o.Latencies) > 0 {
		lat0 = o.Latencies[0]
	}
	cond0 := conditions{latency: lat0, limit: first.name, global: first.global}
	if want("charges") {
		if err := addAll(runCharges(ctx, o, cond0)); err != nil {
			return out, err
		}
	}
	if want("join") {
		if err := addAll(runColdWarmJoin(ctx, o, cond0)); err != nil {
			return out, err
		}
	}
	if want("stream") {
		fx := fixture{customers: o.StreamRows}
		cond := conditions{latency: o.StreamLatency, limit: "none", global: o.StreamRate}
		if o.StreamRate > 0 {
			cond.limit = fmt.Sprintf("%g/s", o.StreamRate)
		}
		if err := addAll(runScan(ctx, o, "stream", "SELECT * FROM Customers", fx, cond, []string{""})); err != nil {
			return out, err
		}
	}
	if want("joins") {
		if err := add(runJoin(ctx, o, conditions{limit: "none"}, o.Joins)); err != nil {
			return out, err
		}
	}
	if want("tax") {
		if err := add(runTax(ctx, o)); err != nil {
			return out, err
		}
	}
	if want("backfill") {
		if err := add(runBackfill(ctx, o, cond0)); err != nil {
			return out, err
		}
	}
	if want("mirror") {
		rs, err := runMirror(ctx, o, cond0)
		for _, r := range rs {
			add(r, nil)
		}
		if err != nil {
			return out, fmt.Errorf("mirror: %w", err)
		}
	}
	if want("lag") {
		if err := add(runLag(ctx, o, cond0)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// fixture is what an emulator is seeded with.
type fixture struct{ customers, charges, invoices int }

// conditions are the latency and server-side limits of a run.
type conditions struct {
	latency  time.Duration
	limit    string
	global   float64 // req/s, 0 for none
	endpoint float64 // req/s per endpoint, 0 for none
}

// bound is the best time the limits allow for reading pages, given the
// pages each endpoint serves.
func (c conditions) bound(pagesByEndpoint ...int) float64 {
	var b float64
	total := 0
	for _, p := range pagesByEndpoint {
		total += p
		if c.endpoint > 0 {
			b = max(b, float64(p)/c.endpoint)
		}
	}
	if c.global > 0 {
		b = max(b, float64(total)/c.global)
	}
	return b
}

func pages(rows int) int { return (rows + 99) / 100 }

// stage is a seeded emulator served over HTTP and a server child on it.
type stage struct {
	emu    *emulator.Emulator
	base   string
	srv    *server
	cancel context.CancelFunc
	served chan error
}

func setUp(ctx context.Context, o Options, fx fixture, c conditions) (*stage, error) {
	e := emulator.New()
	if _, err := e.Seed(emulator.Seeding{Customers: fx.customers, Charges: fx.charges, Invoices: fx.invoices,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator listen: %w", err)
	}
	st := &stage{emu: e, base: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	var sctx context.Context
	sctx, st.cancel = context.WithCancel(context.Background())
	go func() { st.served <- emulator.Serve(sctx, ln, e) }()
	// The server's rate is the server-side one: the client is told the
	// account's limit, as an operator would configure it for Stripe.
	// Likewise the per-endpoint limit: none (-1) when the set has none.
	endpoint := strconv.FormatFloat(c.endpoint, 'f', -1, 64)
	if c.endpoint <= 0 {
		endpoint = "-1"
	}
	args := append([]string{"--endpoint-rate", endpoint}, o.ServerArgs...)
	if st.srv, err = startServer(ctx, o.Exe, st.base, c.global, args); err != nil {
		st.close()
		return nil, err
	}
	// Limits apply from here: starting the server is not measured.
	e.SetLimits(emulator.Limits{Latency: c.latency, GlobalRate: c.global, EndpointRate: c.endpoint})
	e.ResetRequests()
	return st, nil
}

func (st *stage) close() {
	if st.srv != nil {
		st.srv.stop()
	}
	st.cancel()
	<-st.served
}

// measure runs fn (the query) and fills the timing, request and memory
// figures of r.
func (st *stage) measure(r *Result, fn func() error) error {
	idle, _, err := st.srv.memory()
	if err != nil {
		return err
	}
	st.emu.ResetRequests()
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%w\nserver log: %s", err, tail(st.srv.stderr.String(), 2000))
	}
	r.Seconds = time.Since(start).Seconds()
	stats := st.emu.Stats()
	r.Requests, r.Limited = stats.Requests, stats.RateLimited
	after, peak, err := st.srv.memory()
	if err != nil {
		return err
	}
	r.IdleRSS, r.PeakRSS, r.AfterRSS = idle, peak, after
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// coldWarm are the runs of a query measured twice on one server: first on
// the fresh server, then again, its scans planned from what the first
// learned (table statistics). Both are reported: the cold figure is what a
// first query costs.
var coldWarm = []string{"cold", "warm"}

// runScan runs a scan of Customers, COUNT(*) or SELECT *, once per run on
// one server (see coldWarm).
func runScan(ctx context.Context, o Options, name, query string, fx fixture, c conditions, runs []string) ([]Result, error) {
	base := Result{Scenario: name, Query: query, Latency: c.latency, Limit: c.limit, Pages: pages(fx.customers)}
	base.Bound = c.bound(base.Pages)
	st, err := setUp(ctx, o, fx, c)
	if err != nil {
		return []Result{base}, err
	}
	defer st.close()
	want := st.emu.IDs("customer")
	var out []Result
	for _, run := range runs {
		r := base
		r.Run = run
		var ids idSet
		var count int64
		err = st.measure(&r, func() error {
			if strings.Contains(query, "COUNT(*)") {
				return st.srv.db.QueryRowContext(ctx, query).Scan(&count)
			}
			ids, err = collectIDs(ctx, st.srv.db, query)
			return err
		})
		if err != nil {
			return append(out, r), err
		}
		if strings.Contains(query, "COUNT(*)") {
			r.Rows = count
			r.OK = count == int64(len(want))
			r.Check = fmt.Sprintf("count %d, emulator %d", count, len(want))
		} else {
			r.Rows = ids.rows
			r.Check, r.OK = ids.check(want)
		}
		out = append(out, r)
	}
	return out, nil
}

// runTax compares SELECT * through stripesql with a bare Go client that
// reads the same pages and decodes them into map[string]any, both at zero
// latency and without limits.
func runTax(ctx context.Context, o Options) (Result, error) {
	fx := fixture{customers: o.Customers}
	c := conditions{limit: "none"}
	r := Result{Scenario: "tax", Query: "SELECT * FROM Customers", Limit: c.limit, Pages: pages(fx.customers)}
	st, err := setUp(ctx, o, fx, c)
	if err != nil {
		return r, err
	}
	defer st.close()
	// The bare client first, so that both read a warm emulator.
	start := time.Now()
	n, err := bareScan(ctx, st.base)
	if err != nil {
		return r, err
	}
	r.Bare = time.Since(start).Seconds()
	var ids idSet
	if err := st.measure(&r, func() error {
		ids, err = collectIDs(ctx, st.srv.db, r.Query)
		return err
	}); err != nil {
		return r, err
	}
	r.Rows = ids.rows
	r.Check, r.OK = ids.check(st.emu.IDs("customer"))
	if n != len(st.emu.IDs("customer")) {
		r.OK = false
		r.Check += fmt.Sprintf("; the bare client read %d", n)
	}
	return r, nil
}

// bareScan reads every customer with one cursor, 100 a page, decoding
// each page into map[string]any as a plain Go client would.
func bareScan(ctx context.Context, base string) (int, error) {
	hc := &http.Client{}
	n, cursor := 0, ""
	for {
		u := base + "/v1/customers?limit=100"
		if cursor != "" {
			u += "&starting_after=" + cursor
		}
		page, err := getJSON(ctx, hc, u)
		if err != nil {
			return n, err
		}
		data, _ := page["data"].([]any)
		n += len(data)
		if page["has_more"] != true || len(data) == 0 {
			return n, nil
		}
		last, _ := data[len(data)-1].(map[string]any)
		cursor, _ = last["id"].(string)
	}
}

// ErrRows marks results whose rows were wrong.
var ErrRows = errors.New("rows differ from the emulator's")

// Print writes results as a Markdown table.
func Print(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| scenario | query | latency | server limit | rows | seconds | requests | pages | 429s | bound s | ratio | rows/s | idle MB | peak above idle MB | rows checked |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintln(w, Row(r))
	}
}

// Row formats one result as a Markdown table row.
func Row(r Result) string {
	bound, ratio := "–", "–"
	if r.Bound > 0 {
		bound, ratio = fmt.Sprintf("%.1f", r.Bound), fmt.Sprintf("%.2f", r.Ratio())
	}
	if r.Bare > 0 {
		ratio = fmt.Sprintf("tax %.2f (bare %.2f s)", r.Seconds/r.Bare, r.Bare)
	}
	if r.Speedup && r.Bound > 0 {
		bound, ratio = fmt.Sprintf("live %.1f", r.Bound), fmt.Sprintf("speed-up %.0f×", r.Ratio())
	}
	extra := ""
	if r.PeakLabel != "" {
		extra = fmt.Sprintf("; %s %.0f MB", r.PeakLabel, mb(r.PeakRSS))
	}
	if r.Scenario == "joins" {
		when := "after a GC"
		if !r.HeapAfterGC {
			when = "no GC yet, garbage included"
		}
		extra += fmt.Sprintf("; after the last: heap %.1f MB (%s; idle %.1f MB), RSS %.0f MB", mb(r.AfterHeap), when, mb(r.IdleHeap), mb(r.AfterRSS))
	}
	rowsPerSec := 0.0
	if r.Seconds > 0 {
		rowsPerSec = float64(r.Rows) / r.Seconds
	}
	scenario := r.Scenario
	if r.Run != "" {
		scenario += " " + r.Run
	}
	return fmt.Sprintf("| %s | `%s` | %s | %s | %d | %.2f | %d | %d | %d | %s | %s | %.0f | %.0f | %.0f | %s%s |",
		scenario, r.Query, r.Latency, r.Limit, r.Rows, r.Seconds, r.Requests, r.Pages, r.Limited, bound, ratio,
		rowsPerSec, mb(r.IdleRSS), mb(r.PeakRSS-r.IdleRSS), r.Check, extra)
}

func mb(b int64) float64 { return math.Round(float64(b)/(1<<20)*10) / 10 }
