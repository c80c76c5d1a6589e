package e2e

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/metrics"
)

// scrape fetches the metrics page and returns its sample lines by series.
func scrape(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsShowRetriesAndThrottling scans customers with two injected
// 429s under a tight rate limit, then scrapes /metrics for what it caused.
func TestMetricsShowRetriesAndThrottling(t *testing.T) {
	m := metrics.New()
	// 50 requests/s, burst 1: every request after the first waits ~20ms.
	e := newEnv(t, withMetrics(m), withRate(50, 1))
	e.emu.InjectFault(emulator.Fault{Method: "GET", Path: "/v1/customers", Kind: emulator.FaultRateLimit, Times: 2, After: 1})
	e.emu.ResetRequests()
	rows := e.query(t, "SELECT Id FROM Customers")
	sent := len(e.emu.Requests())

	got := scrape(t, m)
	series := func(prefix string) float64 {
		sum := 0.0
		for k, v := range got {
			if strings.HasPrefix(k, prefix) {
				sum += v
			}
		}
		return sum
	}
	if v := got[`stripesql_stripe_requests_total{endpoint="/v1/customers",method="GET",status="429"}`]; v != 2 {
		t.Errorf("429s on /v1/customers: %v, want 2", v)
	}
	if v := got[`stripesql_stripe_retries_total{endpoint="/v1/customers",method="GET"}`]; v != 2 {
		t.Errorf("retries on /v1/customers: %v, want 2", v)
	}
	if v := series("stripesql_stripe_requests_total{"); int(v) != sent {
		t.Errorf("requests_total sums to %v, the emulator received %d", v, sent)
	}
	// At 50/s with a burst of 1, requests sent back to back wait ~20ms
	// each (retry backoffs absorb some waits): at least one did.
	if v := got["stripesql_stripe_throttle_wait_seconds_total"]; v < 0.015 {
		t.Errorf("throttle wait %vs for %d requests at 50/s", v, sent)
	}
	if v := got["stripesql_stripe_rate_limit_requests_per_second"]; v != 50 {
		t.Errorf("rate limit %v, want 50", v)
	}
	if v := got[`stripesql_queries_total{outcome="ok",statement="select"}`]; v < 1 {
		t.Errorf("select queries %v", v)
	}
	if v := got["stripesql_rows_returned_total"]; v < float64(len(rows)) {
		t.Errorf("rows returned %v, want at least %d", v, len(rows))
	}
	if got["stripesql_query_duration_seconds_count{statement=\"select\"}"] < 1 {
		t.Error("no select in the query duration histogram")
	}
	t.Logf("%d rows, %d requests, 429s %v, retries %v, throttle %.3fs", len(rows), sent,
		got[`stripesql_stripe_requests_total{endpoint="/v1/customers",method="GET",status="429"}`],
		got[`stripesql_stripe_retries_total{endpoint="/v1/customers",method="GET"}`],
		got["stripesql_stripe_throttle_wait_seconds_total"])

	// A write is counted by outcome.
	if _, err := e.db.Exec("INSERT INTO Customers (Name) VALUES ('Metered')"); err != nil {
		t.Fatal(err)
	}
	e.db.Exec("INSERT INTO Customers (NoSuchColumn) VALUES ('x')")
	got = scrape(t, m)
	if got[`stripesql_writes_total{outcome="ok",statement="insert"}`] != 1 || got[`stripesql_writes_total{outcome="error",statement="insert"}`] != 1 {
		t.Errorf("writes: ok %v, error %v; want 1 and 1", got[`stripesql_writes_total{outcome="ok",statement="insert"}`], got[`stripesql_writes_total{outcome="error",statement="insert"}`])
	}
	if got[`stripesql_stripe_requests_total{endpoint="/v1/customers",method="POST",status="200"}`] != 1 {
		t.Error("the insert's POST is not counted")
	}

	// SHOW STATUS totals are server-wide: a brand-new connection that has
	// run nothing sees the requests so far.
	fresh, err := sql.Open("mysql", "root@tcp("+e.addr+")/stripe")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var name, value string
	if err := fresh.QueryRow("SHOW STATUS LIKE 'Stripe_requests'").Scan(&name, &value); err != nil {
		t.Fatal(err)
	}
	total := series("stripesql_stripe_requests_total{")
	if value != strconv.Itoa(int(total)) {
		t.Errorf("a new session's Stripe_requests = %s, want the server's %v", value, total)
	}
	if err := fresh.QueryRow("SHOW GLOBAL STATUS LIKE 'Stripe_retries'").Scan(&name, &value); err != nil || value != "2" {
		t.Errorf("SHOW GLOBAL STATUS Stripe_retries = %q (%v), want 2", value, err)
	}
}

// gate holds the second page of the customer list until released.
type gate struct {
	next     http.Handler
	once     sync.Once
	reached  chan struct{}
	released chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/customers" && r.URL.Query().Get("starting_after") != "" && r.URL.Query().Get("test_clock") == "" {
		g.once.Do(func() { close(g.reached) })
		<-g.released
	}
	g.next.ServeHTTP(w, r)
}

// TestProcesslistShowsStripeProgress: while a scan waits for its second
// page, another connection's SHOW PROCESSLIST shows what it has done.
func TestProcesslistShowsStripeProgress(t *testing.T) {
	emu := emulator.NewDemo()
	g := &gate{next: emu, reached: make(chan struct{}), released: make(chan struct{})}
	e := startOn(t, emu, g, catalog.Builtin(), withConns(4))
	done := make(chan error, 1)
	go func() {
		rows, err := e.db.QueryContext(context.Background(), "SELECT Id, Email FROM Customers")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		done <- err
	}()
	<-g.reached
	var info []string
	for _, r := range e.query(t, "SHOW FULL PROCESSLIST") {
		info = append(info, r[7].String)
	}
	close(g.released)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^SELECT Id, Email FROM Customers /\* stripe: (\d+) calls \((\d+) pages, (\d+) retrieves\), (\d+) rows \*/$`)
	var m []string
	for _, i := range info {
		if m = re.FindStringSubmatch(i); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("no progress in SHOW PROCESSLIST's Info:\n%s", strings.Join(info, "\n"))
	}
	pages, _ := strconv.Atoi(m[2])
	rows, _ := strconv.Atoi(m[4])
	// The second page was asked for (and waits); the first page's 100 rows
	// were read.
	if pages < 2 || rows < 100 {
		t.Errorf("progress %q: want at least 2 pages and 100 rows", m[0])
	}
	t.Logf("SHOW PROCESSLIST Info: %s", m[0])
}
