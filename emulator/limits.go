package emulator

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits make the emulator answer as slowly and as stingily as Stripe:
// a fixed latency on every response, and Stripe's rate limiter, which
// answers requests over the account's rate (global) or over one
// endpoint's rate with 429 rate_limit and a Stripe-Rate-Limited-Reason
// header (global-rate, endpoint-rate). An endpoint is a method and a path
// template, GET /v1/customers/{} for every customer; its requests count
// towards the global rate too. Rejected requests consume no rate.
// The zero Limits is the default: no latency, no limit.
type Limits struct {
	Latency      time.Duration // added before every answer, 429s included
	GlobalRate   float64       // requests per second for the account; 0 is unlimited
	EndpointRate float64       // requests per second for each endpoint; 0 is unlimited
	// Burst is how many requests beyond the rate a limiter lets through
	// at once; 0 picks a tenth of a second's worth, at least 5, so a
	// client pacing itself at the rate is not refused for jitter.
	Burst int
}

// limiter is the state of Limits. It has its own lock so that the latency
// can be read without waiting for a request that holds Emulator.mu.
type limiter struct {
	mu        sync.Mutex
	cfg       Limits
	global    *rate.Limiter
	endpoints map[string]*rate.Limiter // endpoint → limiter, made on first use
}

// SetLimits replaces the latency and rate limits; it may be called while
// the emulator serves requests. The limiters start full.
func (e *Emulator) SetLimits(l Limits) {
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	e.lim.cfg = l
	e.lim.global = newRateLimiter(l.GlobalRate, l.Burst)
	e.lim.endpoints = map[string]*rate.Limiter{}
}

// Limits returns the current limits.
func (e *Emulator) Limits() Limits {
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	return e.lim.cfg
}

func newRateLimiter(r float64, burst int) *rate.Limiter {
	if r <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(5, int(math.Ceil(r/10)))
	}
	return rate.NewLimiter(rate.Limit(r), burst)
}

// latency returns the current latency.
func (e *Emulator) latency() time.Duration {
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	return e.lim.cfg.Latency
}

// wait sleeps for d, or until ctx ends; it reports whether the full time
// passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Reasons a request is refused, as Stripe names them in the
// Stripe-Rate-Limited-Reason header.
const (
	reasonGlobalRate   = "global-rate"
	reasonEndpointRate = "endpoint-rate"
)

// admit takes a token for the request from its endpoint's limiter and the
// global one, or returns why it cannot (leaving both as they were).
func (e *Emulator) admit(method, path string, now time.Time) string {
	e.lim.mu.Lock()
	defer e.lim.mu.Unlock()
	var ep *rate.Reservation
	if e.lim.cfg.EndpointRate > 0 {
		key := e.endpoint(method, path)
		l := e.lim.endpoints[key]
		if l == nil {
			l = newRateLimiter(e.lim.cfg.EndpointRate, e.lim.cfg.Burst)
			e.lim.endpoints[key] = l
		}
		if ep = take(l, now); ep == nil {
			return reasonEndpointRate
		}
	}
	if g := e.lim.global; g != nil && take(g, now) == nil {
		if ep != nil {
			ep.CancelAt(now) // the request never ran: the endpoint keeps its token
		}
		return reasonGlobalRate
	}
	return ""
}

// take reserves a token available now, or returns nil (reserving nothing).
func take(l *rate.Limiter, now time.Time) *rate.Reservation {
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return nil
	}
	if r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return nil
	}
	return r
}

// endpoint names a request's endpoint: its method and path template.
func (e *Emulator) endpoint(method, path string) string {
	if rt, ok := e.reg.match(path); ok {
		return rt.res.template(method, rt.suffix)
	}
	return method + " " + path
}

// Endpoint returns the endpoint of a request as the rate limits count it,
// e.g. "GET /v1/customers" or "GET /v1/customers/{}".
func (e *Emulator) Endpoint(method, path string) string { return e.endpoint(method, path) }

// errRateLimit is Stripe's answer to a request over a rate limit.
func errRateLimit() *apiError {
	return &apiError{status: http.StatusTooManyRequests, typ: "invalid_request_error", code: "rate_limit",
		message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."}
}

// Stats counts the requests of the log.
type Stats struct {
	Requests    int            // every request logged
	RateLimited int            // answered 429 by the rate limits (not injected faults)
	ByReason    map[string]int // RateLimited by Stripe-Rate-Limited-Reason
	ByEndpoint  map[string]int // requests by endpoint
}

// Stats counts the request log.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Requests: len(e.log), ByReason: map[string]int{}, ByEndpoint: map[string]int{}}
	for _, r := range e.log {
		s.ByEndpoint[e.endpoint(r.Method, r.Path)]++
		if r.Limited != "" {
			s.RateLimited++
			s.ByReason[r.Limited]++
		}
	}
	return s
}
