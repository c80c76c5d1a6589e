// Package metrics exposes what stripesql does to the Stripe account, and for
// its clients, as Prometheus metrics (--metrics-listen).
//
// Names (all prefixed stripesql_):
//
//	stripe_requests_total{method,endpoint,status}   HTTP attempts to Stripe, retries included; endpoint is the path
//	                                                with ids as {id}; status is the HTTP status or "error" (no response)
//	stripe_request_duration_seconds{method,endpoint} time on the wire per attempt (histogram)
//	stripe_retries_total{method,endpoint}           attempts that were retries of a failed one (429, 5xx, network)
//	stripe_throttle_wait_seconds_total              time calls waited for stripesql's own rate limiter
//	stripe_rate_limit_requests_per_second           the limiter's sustained rate (0: unlimited)
//	stripe_rate_in_use_requests_per_second          requests sent per second over the last 10 seconds
//	stripe_rate_utilization_ratio                   the two above divided (0 when unlimited)
//	queries_total{statement,outcome}                statements clients ran, by first keyword; outcome ok or error
//	query_duration_seconds{statement}               their duration (histogram)
//	rows_returned_total                             rows sent to clients
//	writes_total{statement,outcome}                 INSERT, UPDATE, DELETE and REPLACE statements; outcome ok or error
//
// plus the client library's standard go_* and process_* metrics.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stripesql/stripesql/stripeapi"
)

const namespace = "stripesql"

// Metrics holds one server's metrics in its own registry (not the
// library's global one), so servers and tests in one process do not mix.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	retries        *prometheus.CounterVec
	queries        *prometheus.CounterVec
	querySeconds   *prometheus.HistogramVec
	rows           prometheus.Counter
	writes         *prometheus.CounterVec
	recent         *rateWindow
}

// New returns the metrics, registered and at zero.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "stripe_requests_total",
			Help: "HTTP requests sent to Stripe (every attempt, retries included), by method, endpoint template and status.",
		}, []string{"method", "endpoint", "status"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "stripe_request_duration_seconds",
			Help:    "Time on the wire of each request to Stripe, excluding rate-limiter waits.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "stripe_retries_total",
			Help: "Requests to Stripe that retried a failed attempt (429, 5xx or a network error).",
		}, []string{"method", "endpoint"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "queries_total",
			Help: "Statements run by clients, by first keyword and outcome.",
		}, []string{"statement", "outcome"}),
		querySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "query_duration_seconds",
			Help:    "Duration of client statements, from receipt to the last row sent.",
			Buckets: []float64{.001, .01, .05, .1, .5, 1, 5, 15, 60, 300},
		}, []string{"statement"}),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "rows_returned_total",
			Help: "Rows sent to clients.",
		}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "writes_total",
			Help: "INSERT, UPDATE, DELETE and REPLACE statements, by statement and outcome.",
		}, []string{"statement", "outcome"}),
		recent: newRateWindow(10),
	}
	m.reg.MustRegister(m.requests, m.requestSeconds, m.retries, m.queries, m.querySeconds, m.rows, m.writes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one HTTP attempt; it has the signature of
// stripeapi.Config.OnRequest.
func (m *Metrics) ObserveRequest(_ context.Context, ev stripeapi.RequestEvent) {
	endpoint := stripeapi.EndpointTemplate(ev.Path)
	status := "error"
	if ev.Status != 0 {
		status = strconv.Itoa(ev.Status)
	}
	m.requests.WithLabelValues(ev.Method, endpoint, status).Inc()
	m.requestSeconds.WithLabelValues(ev.Method, endpoint).Observe(ev.Duration.Seconds())
	if ev.Attempt > 1 {
		m.retries.WithLabelValues(ev.Method, endpoint).Inc()
	}
	m.recent.add(time.Now())
}

// WatchClient adds the metrics read from c's own counters and limiter:
// throttle time, the rate limit and its use. Call it once, with the client
// whose requests ObserveRequest sees.
func (m *Metrics) WatchClient(c *stripeapi.Client) {
	inUse := func() float64 { return m.recent.perSecond(time.Now()) }
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "stripe_throttle_wait_seconds_total",
			Help: "Time calls spent waiting for stripesql's rate limiter before being sent to Stripe.",
		}, func() float64 { return c.Stats().ThrottledWait.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "stripe_rate_limit_requests_per_second",
			Help: "The sustained request rate stripesql allows itself towards Stripe (0: unlimited).",
		}, c.RateLimit),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "stripe_rate_in_use_requests_per_second",
			Help: "Requests sent to Stripe per second, over the last 10 seconds.",
		}, inUse),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "stripe_rate_utilization_ratio",
			Help: "Rate in use divided by the rate limit (0 when unlimited).",
		}, func() float64 {
			if l := c.RateLimit(); l > 0 {
				return inUse() / l
			}
			return 0
		}),
	)
}

// QueryDone records a client statement; it implements server.QueryObserver.
func (m *Metrics) QueryDone(statement string, d time.Duration, rows int64, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.queries.WithLabelValues(statement, outcome).Inc()
	m.querySeconds.WithLabelValues(statement).Observe(d.Seconds())
	m.rows.Add(float64(rows))
	switch statement {
	case "insert", "update", "delete", "replace":
		m.writes.WithLabelValues(statement, outcome).Inc()
	}
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Serve serves /metrics on ln until ctx is cancelled.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// rateWindow counts events per second over the last n whole seconds.
type rateWindow struct {
	mu      sync.Mutex
	seconds []int64 // unix second each bucket counts
	counts  []float64
}

func newRateWindow(n int) *rateWindow {
	return &rateWindow{seconds: make([]int64, n), counts: make([]float64, n)}
}

func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	i := int(s % int64(len(w.seconds)))
	w.mu.Lock()
	if w.seconds[i] != s {
		w.seconds[i], w.counts[i] = s, 0
	}
	w.counts[i]++
	w.mu.Unlock()
}

// perSecond is the mean rate over the n seconds before now's second.
func (w *rateWindow) perSecond(now time.Time) float64 {
	s := now.Unix()
	n := int64(len(w.seconds))
	var sum float64
	w.mu.Lock()
	for i, sec := range w.seconds {
		if sec < s && sec >= s-n {
			sum += w.counts[i]
		}
	}
	w.mu.Unlock()
	return sum / float64(n)
}
