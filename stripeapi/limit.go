package stripeapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Stripe limits an account globally and, in newer documentation, each
// endpoint on its own (25 requests/s by default, counted within the global
// limit; stripe-api.md §5). An endpoint is one named operation, such as
// GET /v1/customers/{id} for every id. The client models both: every
// request takes a token from the global limiter and one from its
// endpoint's, so concurrent range scans of one table stay under that
// endpoint's limit while a join's two tables each use their own budget.
//
// A 429 whose Stripe-Rate-Limited-Reason names the limit that refused it
// lowers that limiter's rate (endpoint-rate: only that endpoint; global-rate:
// every call), and successful requests raise it back towards the configured
// rate: Stripe's limits are not exactly the documented ones, and a client
// that keeps sending at a rate Stripe refuses only collects more 429s.

const (
	// defaultEndpointRate is Stripe's documented per-endpoint limit, requests/s.
	defaultEndpointRate = 25
	// throttleFactor is what a rate-limit 429 multiplies its limiter's rate by.
	throttleFactor = 0.8
	// recoverShare is the share of the configured rate each success adds
	// back, so about 1/recoverShare requests undo one 429's cut.
	recoverShare = 0.01
	// minThrottledRate is the least a 429 can lower a limiter to, requests/s.
	minThrottledRate = 1.0
	// endpointBurst is the bucket size of an endpoint's limiter: no burst.
	// A token bucket lets through burst + rate × w requests in any window
	// w, and the requests reach Stripe's bucket with varying delays, which
	// can squeeze a window's requests into a shorter one. With a client
	// bucket as large as Stripe's (the endpoint limit is the tightest, 25/s,
	// and its bucket small), a scan that pauses while the engine catches up
	// and then resumes sends a full burst followed by requests at the rate,
	// and the first of those to arrive early is refused: 19 endpoint-rate
	// 429s in 1,040 requests of a benchmark scan. With no client burst,
	// arrivals may bunch by up to Stripe's burst - 1 requests' worth of
	// delay (160 ms at 25/s with a bucket of 5) before one is refused. The
	// global limiter keeps Config.Burst: Stripe's global bucket is larger.
	endpointBurst = 1
	// lateSlot is how long after its slot a paced request may still go
	// out; one later takes a new slot, at most maxLateSlots times.
	lateSlot     = 20 * time.Millisecond
	maxLateSlots = 3
)

// Reasons Stripe gives for a 429 in the Stripe-Rate-Limited-Reason header.
const (
	reasonEndpointRate = "endpoint-rate"
	reasonGlobalRate   = "global-rate"
)

// adaptive is a token bucket whose rate a 429 lowers and successes restore
// up to the configured rate. A configured rate of +Inf is never lowered:
// "unlimited" is the operator's word.
type adaptive struct {
	lim        *rate.Limiter
	configured rate.Limit
	// latency is an exponentially weighted mean of the time on the wire of
	// the successful requests, in nanoseconds (0 before the first).
	latency atomic.Int64
}

func newAdaptive(r, def float64, burst int) *adaptive {
	l := newLimiter(r, def, burst)
	return &adaptive{lim: l, configured: l.Limit()}
}

func (a *adaptive) throttle(now time.Time) {
	if a.configured == rate.Inf {
		return
	}
	a.lim.SetLimitAt(now, max(a.lim.Limit()*throttleFactor, rate.Limit(min(minThrottledRate, float64(a.configured)))))
}

func (a *adaptive) recover(now time.Time) {
	if l := a.lim.Limit(); l < a.configured {
		a.lim.SetLimitAt(now, min(a.configured, l+a.configured*recoverShare))
	}
}

func (a *adaptive) observe(d time.Duration) {
	for {
		old := a.latency.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if a.latency.CompareAndSwap(old, next) {
			return
		}
	}
}

// endpoints holds one adaptive limiter per endpoint, made on first use.
type endpoints struct {
	rate float64 // configured requests/s; +Inf for none
	mu   sync.Mutex
	m    map[string]*adaptive
}

func (e *endpoints) get(key string) *adaptive {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.m[key]
	if a == nil {
		r := e.rate
		if math.IsInf(r, 1) {
			r = -1
		}
		a = newAdaptive(r, r, endpointBurst)
		e.m[key] = a
	}
	return a
}

// endpointOf names the endpoint of a request as Stripe's limits count it:
// its method and its path with the ids replaced by {id}. Stripe's resource
// names are lower-case words joined by underscores ("payment_intents",
// "test_helpers"), and its ids are not ("cus_NffrFeUfNV2Hib", escaped ids
// included), so a segment with anything else in it is an id; "v1" is the
// version. Stripe's ids carry random mixed-case letters and digits after
// their prefix, so a real id is never taken for a name.
func endpointOf(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == "" || s == "v1" || s == "v2" {
			continue
		}
		if strings.ContainsFunc(s, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
			segs[i] = "{id}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// wait blocks until the limiters governing r each grant it a token, or
// until ctx is done. Every HTTP attempt calls it, so retries are paced too.
//
// Every call needs a token from the global limiter and from its endpoint's;
// a search call also from the search limiter, and a call whose context
// carries a share limiter (WithShare) from that one. All are reserved at once and
// the call waits for the latest of them, rather than queueing on one and
// then the next. If ctx ends first the reservations are cancelled,
// returning their tokens for other calls.
func (c *Client) wait(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lims := [4]*rate.Limiter{c.limiter.lim, c.endpoints.get(endpointOf(r.method, r.path)).lim}
	if r.search {
		lims[2] = c.search
	}
	lims[3] = shareOf(ctx)
	pause := c.pause
	if pause == nil {
		pause = sleep
	}
	start := time.Now()
	paused := false
	for attempt := 0; ; attempt++ {
		now := time.Now()
		var (
			res   [4]*rate.Reservation
			delay time.Duration
		)
		for i, l := range lims {
			if l != nil {
				res[i] = l.ReserveN(now, 1) // OK for the client's own (burst >= 1)
				if !res[i].OK() {
					// Only a share limiter of burst 0 (and a finite rate)
					// can refuse for ever: say so rather than hang.
					for _, r := range res[:i] {
						if r != nil {
							r.Cancel()
						}
					}
					return fmt.Errorf("stripe: %s %s: the share limiter of the context never grants a request (burst %d)", r.method, r.path, l.Burst())
				}
				delay = max(delay, res[i].DelayFrom(now))
			}
		}
		if delay == 0 {
			break
		}
		paused = true
		if err := pause(ctx, delay); err != nil {
			for _, r := range res {
				if r != nil {
					r.Cancel()
				}
			}
			c.throttled.Add(int64(time.Since(start)))
			return err
		}
		// A goroutine that wakes well after its slot (a busy process
		// schedules it late) would go out together with the requests of
		// the slots after it, and Stripe's bucket, which sees them arrive
		// at once, refuses some. Its slot has passed unused, as a request
		// refused would have used it: it takes a fresh one.
		if late := time.Since(now.Add(delay)); late <= lateSlot || attempt == maxLateSlots {
			break
		}
	}
	if paused {
		c.throttled.Add(int64(time.Since(start)))
	}
	return nil
}

// adapt tunes the limiters after an attempt: a rate-limit 429 lowers the
// rate of the limit that refused it, a success raises both of r's back
// towards their configured rates and feeds the endpoint's latency.
func (c *Client) adapt(r *request, res response, took time.Duration) {
	ep := c.endpoints.get(endpointOf(r.method, r.path))
	now := time.Now()
	switch {
	case res.err == nil && res.status == http.StatusTooManyRequests:
		switch res.header.Get("Stripe-Rate-Limited-Reason") {
		case reasonEndpointRate:
			ep.throttle(now)
		case reasonGlobalRate:
			c.limiter.throttle(now)
		}
	case res.err == nil && res.status >= 200 && res.status <= 299:
		ep.recover(now)
		c.limiter.recover(now)
		ep.observe(took)
	}
}

// RateFor returns the requests/s that calls of method on path may use at
// most now: the lower of the global rate and the endpoint's, +Inf when
// neither limits. A reader that splits work over concurrent calls sizes
// its concurrency from it.
func (c *Client) RateFor(method, path string) float64 {
	r := min(c.limiter.lim.Limit(), c.endpoints.get(endpointOf(method, path)).lim.Limit())
	if r == rate.Inf {
		return math.Inf(1)
	}
	return float64(r)
}

// LatencyOf returns the recent mean time on the wire of method on path's
// successful calls, or 0 before the first.
func (c *Client) LatencyOf(method, path string) time.Duration {
	return time.Duration(c.endpoints.get(endpointOf(method, path)).latency.Load())
}

// Limit and Burst are the limiter's current rate and bucket size.
func (a *adaptive) Limit() rate.Limit { return a.lim.Limit() }
func (a *adaptive) Burst() int        { return a.lim.Burst() }
