package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// --metrics-listen serves /metrics with what the server did: the demo's
// Stripe requests, the query and its rows.
func TestMetricsListen(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	r.waitFor(t, "serving Prometheus metrics")
	m := regexp.MustCompile(`url=(http://\S+/metrics)`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Fatalf("no metrics URL in the logs:\n%s", r.stderr)
	}
	db := openDB(t, addr, user, database)
	if got := queryString(t, db, "SELECT COUNT(*) FROM Charges"); got == "0" {
		t.Fatal("no charges")
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`stripesql_stripe_requests_total{endpoint="/v1/charges",method="GET",status="200"} 1`,
		`stripesql_queries_total{outcome="ok",statement="select"} 1`,
		`stripesql_rows_returned_total 1`,
		`stripesql_stripe_rate_limit_requests_per_second 25`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
