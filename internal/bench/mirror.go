package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// The mirror scenarios (issue 13) measure the live mirror: a table
// backfilled once into a local store, then kept current from /v1/events.
//
//   - backfill: the seconds from the mirror's first request to the state
//     "ready" for a table of MirrorBackfill customers at the first
//     latency and the global limit, with --mirror-rate at that whole rate;
//     the bound is its pages at the rate.
//   - mirror: COUNT(*), a GROUP BY month aggregate and point queries by Id
//     over MirrorObjects mirrored charges, each compared with the live
//     bound for the same table (its pages at the global limit): the ratio
//     column is the speed-up. Also the server's peak RSS over the whole
//     run, backfill included.
//   - lag: LagChanges changes made at the emulator over HTTP, as another
//     Stripe client would, at random instants; for each, the time until a
//     point query through the mirror sees it.

// mirrorSource is the DSN parameter that makes every connection of a pool
// read the mirror (the driver runs SET stripe_source='mirror' on connect):
// 'mirror' fails a query the mirror cannot answer instead of reading
// Stripe, so the figures are the mirror's.
const mirrorSource = "stripe_source=%27mirror%27"

// peakLife labels the server's peak RSS over its whole life.
const peakLife = "server peak RSS"

// mirrorStatus is the SHOW STATUS of one mirrored table.
type mirrorStatus struct {
	State                              string
	Objects, Backfilled, EventsApplied int64
	LagMS                              int64
}

// readMirrorStatus reads Stripe_mirror_<table>_* from SHOW STATUS.
func readMirrorStatus(ctx context.Context, db *sql.DB, table string) (mirrorStatus, error) {
	prefix := "Stripe_mirror_" + table + "_"
	rows, err := db.QueryContext(ctx, "SHOW STATUS LIKE '"+prefix+"%'")
	if err != nil {
		return mirrorStatus{}, fmt.Errorf("mirror status: %w", err)
	}
	defer rows.Close()
	var st mirrorStatus
	for rows.Next() {
		var name, val string
		if err := rows.Scan(&name, &val); err != nil {
			return st, fmt.Errorf("mirror status: %w", err)
		}
		n, _ := strconv.ParseInt(val, 10, 64)
		switch strings.TrimPrefix(name, prefix) {
		case "state":
			st.State = val
		case "objects":
			st.Objects = n
		case "backfilled":
			st.Backfilled = n
		case "events_applied":
			st.EventsApplied = n
		case "lag_ms":
			st.LagMS = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("mirror status: %w", err)
	}
	if st.State == "" {
		return st, fmt.Errorf("mirror status: no %sstate in SHOW STATUS (is %s mirrored?)", prefix, table)
	}
	return st, nil
}

// waitReady polls the table's mirror state every 50 ms until it is ready,
// and returns when it saw that and the status then.
func waitReady(ctx context.Context, db *sql.DB, table string, timeout time.Duration) (time.Time, mirrorStatus, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := readMirrorStatus(ctx, db, table)
		now := time.Now()
		switch {
		case err != nil:
			return now, st, err
		case st.State == "ready":
			return now, st, nil
		case strings.HasPrefix(st.State, "failed"):
			return now, st, fmt.Errorf("mirror of %s: %s", table, st.State)
		case now.After(deadline):
			return now, st, fmt.Errorf("mirror of %s not ready after %s: %+v", table, timeout, st)
		}
		select {
		case <-ctx.Done():
			return now, st, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mirrorStage is a seeded emulator served over HTTP, with its requests
// timed, and a server mirroring one table of it.
type mirrorStage struct {
	emu    *emulator.Emulator
	base   string
	srv    *server
	mirror *sql.DB // a pool whose sessions read the mirror
	dir    string  // the store, removed at close unless kept
	keep   bool
	http   *http.Server
	served chan error

	started time.Time // when the server was started

	mu    sync.Mutex
	first time.Time // the first request the emulator received
}

// setUpMirror seeds an emulator, applies the limits c from the start (the
// backfill begins as the server starts) and starts a server mirroring
// table into dir (a new temporary directory if empty).
func setUpMirror(ctx context.Context, o Options, fx fixture, c conditions, table, dir string, extra ...string) (*mirrorStage, error) {
	e := emulator.New()
	if _, err := e.Seed(emulator.Seeding{Customers: fx.customers, Charges: fx.charges, Invoices: fx.invoices,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		return nil, err
	}
	ms := &mirrorStage{emu: e, dir: dir, keep: dir != "", served: make(chan error, 1)}
	if dir == "" {
		var err error
		if ms.dir, err = os.MkdirTemp("", "stripesql-bench-mirror"); err != nil {
			return nil, fmt.Errorf("mirror dir: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ms.removeDir()
		return nil, fmt.Errorf("emulator listen: %w", err)
	}
	ms.base = "http://" + ln.Addr().String()
	ms.http = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms.mu.Lock()
		if ms.first.IsZero() {
			ms.first = time.Now()
		}
		ms.mu.Unlock()
		e.ServeHTTP(w, r)
	})}
	go func() { ms.served <- ms.http.Serve(ln) }()
	e.SetLimits(emulator.Limits{Latency: c.latency, GlobalRate: c.global, EndpointRate: c.endpoint})
	endpoint := strconv.FormatFloat(c.endpoint, 'f', -1, 64)
	if c.endpoint <= 0 {
		endpoint = "-1"
	}
	args := append([]string{"--endpoint-rate", endpoint, "--mirror", table, "--mirror-dir", ms.dir}, extra...)
	args = append(args, o.ServerArgs...)
	ms.started = time.Now()
	if ms.srv, err = startServer(ctx, o.Exe, ms.base, c.global, args); err != nil {
		ms.close()
		return nil, err
	}
	if ms.mirror, err = sql.Open("mysql", "root@tcp("+ms.srv.addr+")/stripe?"+mirrorSource); err != nil {
		ms.close()
		return nil, err
	}
	return ms, nil
}

// firstRequest is when the mirror started working: the first request
// the emulator received, or the server's start if it received none (a
// store already backfilled).
func (ms *mirrorStage) firstRequest() time.Time {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.first.IsZero() {
		return ms.started
	}
	return ms.first
}

// readyAfter is how long the mirror took to be ready at readyAt, from
// its first request (from the server's start if it was ready before
// asking anything).
func (ms *mirrorStage) readyAfter(readyAt time.Time) time.Duration {
	from := ms.firstRequest()
	if from.After(readyAt) {
		from = ms.started
	}
	return readyAt.Sub(from)
}

func (ms *mirrorStage) removeDir() {
	if !ms.keep {
		os.RemoveAll(ms.dir)
	}
}

func (ms *mirrorStage) close() {
	if ms.mirror != nil {
		ms.mirror.Close()
	}
	if ms.srv != nil {
		ms.srv.stop()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms.http.Shutdown(shutdownCtx)
	<-ms.served
	ms.removeDir()
}

// liveRequests counts the requests of the log other than the mirror's
// event polls: the requests a query sent to Stripe.
func liveRequests(e *emulator.Emulator) (live, events int) {
	for _, r := range e.Requests() {
		if strings.HasPrefix(r.Path, "/v1/events") {
			events++
		} else {
			live++
		}
	}
	return live, events
}

// runBackfill measures the backfill of o.MirrorBackfill customers at the
// latency and global limit of c, the mirror allowed the whole rate.
func runBackfill(ctx context.Context, o Options, c conditions) (Result, error) {
	n := o.MirrorBackfill
	r := Result{Scenario: "backfill", Query: "--mirror Customers", Latency: c.latency, Limit: c.limit, Pages: pages(n)}
	r.Bound = c.bound(r.Pages)
	ms, err := setUpMirror(ctx, o, fixture{customers: n}, c, "Customers", "",
		"--mirror-rate", strconv.FormatFloat(c.global, 'f', -1, 64), "--mirror-interval", o.LagInterval.String())
	if err != nil {
		return r, err
	}
	defer ms.close()
	readyAt, st, err := waitReady(ctx, ms.srv.db, "Customers", 30*time.Minute)
	if err != nil {
		return r, fmt.Errorf("%w\nserver log: %s", err, tail(ms.srv.stderr.String(), 2000))
	}
	r.Seconds = ms.readyAfter(readyAt).Seconds()
	cpu, err := ms.srv.cpu()
	if err != nil {
		return r, err
	}
	stats := ms.emu.Stats()
	r.Requests, r.Limited = stats.Requests, stats.RateLimited
	if r.IdleRSS, r.PeakRSS, err = ms.srv.memory(); err != nil {
		return r, err
	}
	r.PeakLabel = peakLife
	ids, err := collectIDs(ctx, ms.mirror, "SELECT Id FROM Customers")
	if err != nil {
		return r, err
	}
	r.Rows = ids.rows
	r.Check, r.OK = ids.check(ms.emu.IDs("customer"))
	r.Check = fmt.Sprintf("%s (through the mirror; status: %d objects, %d backfilled); server CPU %.1f s", r.Check, st.Objects, st.Backfilled, cpu.Seconds())
	return r, nil
}

// runMirror measures queries over o.MirrorObjects mirrored charges.
func runMirror(ctx context.Context, o Options, c conditions) ([]Result, error) {
	n := o.MirrorObjects
	live := c.bound(pages(n)) // the live read of the whole table at the limit
	fx := fixture{customers: 100, charges: n}
	// The backfill itself runs without latency or limit (unless the store
	// is reused): at 100 req/s a million objects take 100 s at best, and
	// the backfill scenario already measures a backfill at the bound.
	fast := conditions{limit: "none"}
	rate := o.MirrorBackfillRate
	if rate <= 0 {
		rate = 1e6 // the mirror's share: as good as none
	}
	reused := false
	if o.MirrorStore != "" {
		entries, err := os.ReadDir(o.MirrorStore)
		reused = err == nil && len(entries) > 0
	}
	ms, err := setUpMirror(ctx, o, fx, fast, "Charges", o.MirrorStore,
		"--mirror-rate", strconv.FormatFloat(rate, 'f', -1, 64), "--mirror-interval", o.LagInterval.String())
	if err != nil {
		return nil, err
	}
	defer ms.close()
	readyAt, st, err := waitReady(ctx, ms.srv.db, "Charges", 60*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("%w\nserver log: %s", err, tail(ms.srv.stderr.String(), 2000))
	}
	cpu, err := ms.srv.cpu()
	if err != nil {
		return nil, err
	}
	stats := ms.emu.Stats()
	listed := 0
	for ep, k := range stats.ByEndpoint {
		if ep == "GET /v1/charges" {
			listed += k
		}
	}
	var how string
	if reused {
		how = fmt.Sprintf("store %s reused: %d list requests at start (0: no backfill), ready after %.1f s", o.MirrorStore, listed, ms.readyAfter(readyAt).Seconds())
	} else {
		how = fmt.Sprintf("backfilled in this run at 0 ms latency, no limit: %.1f s, %d requests", ms.readyAfter(readyAt).Seconds(), stats.Requests)
	}
	how += fmt.Sprintf("; server CPU %.1f s", cpu.Seconds())
	fill := Result{Scenario: "mirror", Query: "--mirror Charges (backfill)", Limit: fast.limit, Rows: st.Objects,
		Seconds: ms.readyAfter(readyAt).Seconds(), Requests: stats.Requests, Limited: stats.RateLimited,
		Pages: pages(n), OK: st.Objects == int64(ms.emu.Count("charge")), PeakLabel: peakLife,
		Check: fmt.Sprintf("status: %d objects, emulator %d; %s", st.Objects, ms.emu.Count("charge"), how)}
	if fill.IdleRSS, fill.PeakRSS, err = ms.srv.memory(); err != nil {
		return nil, err
	}
	out := []Result{fill}
	// From here the emulator answers as Stripe would, so the event polls
	// that go on during the queries cost what they cost.
	ms.emu.SetLimits(emulator.Limits{Latency: c.latency, GlobalRate: c.global, EndpointRate: c.endpoint})
	// The queries' rows report the peak RSS since the backfill (the
	// backfill row has the peak of the backfill).
	if err := ms.srv.resetPeak(); err != nil {
		return out, err
	}

	// Each query runs on one connection of the mirror pool, timed by the
	// client, with the requests it made at the emulator.
	timed := func(r *Result, fn func() error) error {
		idle, _, err := ms.srv.memory()
		if err != nil {
			return err
		}
		ms.emu.ResetRequests()
		start := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w\nserver log: %s", r.Query, err, tail(ms.srv.stderr.String(), 2000))
		}
		r.Seconds = time.Since(start).Seconds()
		r.Requests, _ = liveRequests(ms.emu)
		r.Latency, r.Limit, r.Pages, r.Bound, r.Speedup = c.latency, c.limit, pages(n), live, true
		_, r.PeakRSS, err = ms.srv.memory()
		r.IdleRSS, r.PeakLabel = idle, "server peak RSS since the backfill"
		return err
	}

	count := Result{Scenario: "mirror", Query: "SELECT COUNT(*) FROM Charges"}
	var got int64
	if err := timed(&count, func() error { return ms.mirror.QueryRowContext(ctx, count.Query).Scan(&got) }); err != nil {
		return out, err
	}
	want := int64(ms.emu.Count("charge"))
	count.Rows, count.OK = got, got == want
	count.Check = fmt.Sprintf("count %d, emulator %d", got, want)
	out = append(out, count)

	type sums struct{ n, sum int64 }
	wantMonths := map[string]sums{}
	ms.emu.Each("charge", func(ch map[string]any) {
		m := time.Unix(ch["created"].(int64), 0).UTC().Format("2006-01")
		a := wantMonths[m]
		a.n++
		a.sum += ch["amount"].(int64)
		wantMonths[m] = a
	})
	// Two monthly aggregates: the count alone needs only each object's
	// created time; the sum also needs its amount.
	for _, withSum := range []bool{false, true} {
		agg := Result{Scenario: "mirror", Query: "SELECT DATE_FORMAT(Created, '%Y-%m') AS Month, COUNT(*) FROM Charges GROUP BY Month ORDER BY Month"}
		if withSum {
			agg.Query = "SELECT DATE_FORMAT(Created, '%Y-%m') AS Month, COUNT(*), SUM(Amount) FROM Charges GROUP BY Month ORDER BY Month"
		}
		months := map[string]sums{}
		if err := timed(&agg, func() error {
			rows, err := ms.mirror.QueryContext(ctx, agg.Query)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var month, sum string
				var a sums
				dest := []any{&month, &a.n}
				if withSum {
					dest = append(dest, &sum)
				}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				if withSum {
					if a.sum, err = exactInt(sum); err != nil {
						return err
					}
				}
				months[month] = a
				agg.Rows++
			}
			return rows.Err()
		}); err != nil {
			return out, err
		}
		wrong := 0
		for m, a := range wantMonths {
			if !withSum {
				a.sum = 0
			}
			if months[m] != a {
				wrong++
			}
		}
		agg.OK = wrong == 0 && len(months) == len(wantMonths)
		agg.Check = fmt.Sprintf("%d months of %d charges, %d wrong of %d", len(months), n, wrong, len(wantMonths))
		out = append(out, agg)
	}

	point, err := pointQueries(ctx, ms, o.PointQueries, timed)
	if err != nil {
		return out, err
	}
	point.Bound = 0 // a live retrieve is one request: no table bound applies
	out = append(out, point)
	return out, nil
}

// pointQueries times k queries by Id of random charges, one at a time on
// one connection, and checks each returned its charge's amount.
func pointQueries(ctx context.Context, ms *mirrorStage, k int, timed func(*Result, func() error) error) (Result, error) {
	r := Result{Scenario: "mirror", Query: "SELECT Id, Amount FROM Charges WHERE Id = ?"}
	ids := ms.emu.IDs("charge")
	rng := rand.New(rand.NewPCG(7, 13))
	pick := make([]string, k)
	want := make(map[string]int64, k)
	for i := range pick {
		pick[i] = ids[rng.IntN(len(ids))]
		if ch := ms.emu.Get("charge", pick[i]); ch != nil {
			want[pick[i]], _ = ch["amount"].(int64)
		}
	}
	conn, err := ms.mirror.Conn(ctx)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	times := make([]time.Duration, 0, k)
	wrong := 0
	err = timed(&r, func() error {
		for _, id := range pick {
			// The id inlined: one round trip, as a client's text query
			// (the driver would otherwise prepare the statement first).
			start := time.Now()
			var gotID string
			var amount int64
			err := conn.QueryRowContext(ctx, "SELECT Id, Amount FROM Charges WHERE Id = '"+id+"'").Scan(&gotID, &amount)
			times = append(times, time.Since(start))
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			r.Rows++
			if gotID != id || amount != want[id] {
				wrong++
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	r.P50, r.P99 = percentile(times, 0.5), percentile(times, 0.99)
	r.Seconds = r.P50.Seconds()
	r.OK = wrong == 0 && int(r.Rows) == k
	r.Check = fmt.Sprintf("%d of %d rows right; median %s, p99 %s", int(r.Rows)-wrong, k, ms3(r.P50), ms3(r.P99))
	return r, nil
}

// percentile returns the q-quantile of ds (nearest rank).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// runLag makes o.LagChanges changes at the emulator over HTTP while the
// server mirrors Customers with --mirror-interval o.LagInterval, and
// measures for each the time from sending it to seeing it through the
// mirror.
func runLag(ctx context.Context, o Options, c conditions) (Result, error) {
	const seeded = 1000
	r := Result{Scenario: "lag", Query: "change at Stripe → visible through the mirror", Latency: c.latency, Limit: c.limit}
	ms, err := setUpMirror(ctx, o, fixture{customers: seeded}, c, "Customers", "",
		"--mirror-interval", o.LagInterval.String())
	if err != nil {
		return r, err
	}
	defer ms.close()
	if _, _, err := waitReady(ctx, ms.srv.db, "Customers", 10*time.Minute); err != nil {
		return r, fmt.Errorf("%w\nserver log: %s", err, tail(ms.srv.stderr.String(), 2000))
	}
	ms.mirror.SetMaxOpenConns(16)
	if r.IdleRSS, _, err = ms.srv.memory(); err != nil {
		return r, err
	}
	ms.emu.ResetRequests() // from here: the changes, and the mirror's polls
	ids := ms.emu.IDs("customer")
	hc := &http.Client{Timeout: 30 * time.Second}
	rng := rand.New(rand.NewPCG(42, uint64(o.LagChanges)))
	lags := make([]time.Duration, o.LagChanges)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(s string) {
		mu.Lock()
		failures = append(failures, s)
		mu.Unlock()
	}
	for i := range o.LagChanges {
		// At random instants: the changes fall anywhere in the poll cycle.
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(time.Duration(rng.Float64() * float64(o.LagInterval))):
		}
		sent := time.Now()
		id, visible, err := lagChange(ctx, hc, ms.base, i, ids[i])
		if err != nil {
			return r, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := sent.Add(60 * time.Second)
			for time.Now().Before(deadline) {
				name, found, err := lookUp(ctx, ms.mirror, id)
				if err != nil {
					fail(fmt.Sprintf("change %d (%s): %v", i, id, err))
					return
				}
				if visible(name, found) {
					lags[i] = time.Since(sent)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			fail(fmt.Sprintf("change %d (%s) not visible after 60 s", i, id))
		}()
	}
	wg.Wait()
	if _, r.PeakRSS, err = ms.srv.memory(); err != nil {
		return r, err
	}
	r.PeakLabel = peakLife
	r.Rows = int64(o.LagChanges)
	r.P50, r.P99 = percentile(lags, 0.5), percentile(lags, 0.99)
	r.Seconds = r.P99.Seconds()
	live, events := liveRequests(ms.emu)
	r.Requests = live + events // the changes themselves, and the polls
	r.OK = len(failures) == 0
	r.Check = fmt.Sprintf("%d changes (create, update, delete) every 0–%s, --mirror-interval %s: lag p50 %.2f s, p99 %.2f s, max %.2f s; %d event polls",
		o.LagChanges, o.LagInterval, o.LagInterval, r.P50.Seconds(), r.P99.Seconds(), slices.Max(append(lags, 0)).Seconds(), events)
	if !r.OK {
		r.Check += "; " + strings.Join(failures, "; ")
	}
	return r, nil
}

// lagChange makes change i at the emulator: a create, an update of the
// name or a delete (of seeded customer existing), and returns the id to
// look up and how to recognize the change.
func lagChange(ctx context.Context, hc *http.Client, base string, i int, existing string) (string, func(name string, found bool) bool, error) {
	name := fmt.Sprintf("Lag %d", i)
	var method, path string
	form := url.Values{}
	switch i % 3 {
	case 0:
		method, path = http.MethodPost, "/v1/customers"
		form.Set("name", name)
	case 1:
		method, path = http.MethodPost, "/v1/customers/"+existing
		form.Set("name", name)
	default:
		method, path = http.MethodDelete, "/v1/customers/"+existing
	}
	obj, err := stripeCall(ctx, hc, method, base+path, form)
	if err != nil {
		return "", nil, fmt.Errorf("change %d: %w", i, err)
	}
	id, _ := obj["id"].(string)
	if method == http.MethodDelete {
		return id, func(_ string, found bool) bool { return !found }, nil
	}
	return id, func(got string, found bool) bool { return found && got == name }, nil
}

// lookUp reads a customer's name through the mirror.
func lookUp(ctx context.Context, db *sql.DB, id string) (name string, found bool, err error) {
	var n sql.NullString
	err = db.QueryRowContext(ctx, "SELECT Name FROM Customers WHERE Id = '"+id+"'").Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return n.String, err == nil, err
}

// stripeCall sends a form request as a Stripe client does and decodes
// the object it returns. A 429 of the emulator's rate limit is retried,
// as Stripe's libraries do, with the same idempotency key.
func stripeCall(ctx context.Context, hc *http.Client, method, u string, form url.Values) (map[string]any, error) {
	key := fmt.Sprintf("bench-%d", rand.Int64())
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer sk_test_bench")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", key)
		obj, err := decodeResponse(hc, req)
		if err == nil || try == 5 || !strings.Contains(err.Error(), ": 429: ") {
			return obj, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
