package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stripesql/stripesql/stripeapi"
)

func TestRequestsAreLabelledByTemplate(t *testing.T) {
	m := New()
	m.ObserveRequest(t.Context(), stripeapi.RequestEvent{Method: "GET", Path: "/v1/customers/cus_A1", Attempt: 1, Status: 429})
	m.ObserveRequest(t.Context(), stripeapi.RequestEvent{Method: "GET", Path: "/v1/customers/cus_B2", Attempt: 2, Status: 200})
	m.ObserveRequest(t.Context(), stripeapi.RequestEvent{Method: "GET", Path: "/v1/charges", Attempt: 1, Status: 0})
	if v := testutil.ToFloat64(m.requests.WithLabelValues("GET", "/v1/customers/{id}", "429")); v != 1 {
		t.Errorf("429s %v", v)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues("GET", "/v1/charges", "error")); v != 1 {
		t.Errorf("network errors %v", v)
	}
	if v := testutil.ToFloat64(m.retries.WithLabelValues("GET", "/v1/customers/{id}")); v != 1 {
		t.Errorf("retries %v", v)
	}
	if n := testutil.CollectAndCount(m.requests); n != 3 {
		t.Errorf("%d request series, want 3 (one per template and status)", n)
	}
}

func TestQueriesAndWrites(t *testing.T) {
	m := New()
	m.QueryDone("select", 10*time.Millisecond, 250, nil)
	m.QueryDone("insert", time.Millisecond, 0, nil)
	m.QueryDone("update", time.Millisecond, 0, errors.New("refused"))
	if v := testutil.ToFloat64(m.rows); v != 250 {
		t.Errorf("rows %v", v)
	}
	want := `
# HELP stripesql_writes_total INSERT, UPDATE, DELETE and REPLACE statements, by statement and outcome.
# TYPE stripesql_writes_total counter
stripesql_writes_total{outcome="error",statement="update"} 1
stripesql_writes_total{outcome="ok",statement="insert"} 1
`
	if err := testutil.CollectAndCompare(m.writes, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if v := testutil.ToFloat64(m.queries.WithLabelValues("select", "ok")); v != 1 {
		t.Errorf("selects %v", v)
	}
}

func TestRateWindowAveragesTheLastSeconds(t *testing.T) {
	w := newRateWindow(10)
	base := time.Unix(1_000_000, 0)
	for i := range 30 {
		w.add(base.Add(time.Duration(i) * 100 * time.Millisecond)) // 10/s for 3s
	}
	// In the 4th second: 3 full seconds of 10 over a 10-second window.
	if got := w.perSecond(base.Add(3500 * time.Millisecond)); got != 3 {
		t.Errorf("rate %v, want 3", got)
	}
	// 20 seconds later the window is empty.
	if got := w.perSecond(base.Add(23 * time.Second)); got != 0 {
		t.Errorf("rate %v later, want 0", got)
	}
}
