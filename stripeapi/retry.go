package stripeapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// CallInfo is how a call went; see WithCallInfo.
type CallInfo struct {
	// Attempts is the number of HTTP attempts sent.
	Attempts int
	// Ambiguous reports that some attempt of a write (POST, DELETE) may
	// have executed without a definitive answer: its request may have
	// reached Stripe, and it got no response, a 409, a 429 or a 5xx.
	Ambiguous bool
	// RequestID is Stripe's Request-Id of the last response, if any.
	RequestID string
	// IdempotencyKey is the key every attempt of a POST carried.
	IdempotencyKey string
	// Elapsed is the time from the first attempt to the end of the call.
	Elapsed time.Duration
	// ServerTime is the Date header of the last response (whole seconds),
	// zero without one: Stripe's clock, which event times follow.
	ServerTime time.Time
}

// OutcomeUnknownError is the failure of a write that may have executed
// but got no definitive answer before its retries ran out (the write
// retry window, or the call's context): Stripe may or may not have
// applied it. Repeating a POST with the same IdempotencyKey is safe: it
// either replays the first execution's answer or executes once.
type OutcomeUnknownError struct {
	Method, Path   string
	IdempotencyKey string
	Attempts       int
	Elapsed        time.Duration
	Err            error // the last attempt's failure
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("stripe: %s %s: outcome unknown after %d %s in %v: %v",
		e.Method, e.Path, e.Attempts, pluralAttempts(e.Attempts), e.Elapsed.Round(time.Millisecond), e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

func pluralAttempts(n int) string {
	if n == 1 {
		return "attempt"
	}
	return "attempts"
}

// IsOutcomeUnknown reports whether err is, or wraps, an
// *OutcomeUnknownError.
func IsOutcomeUnknown(err error) bool {
	var e *OutcomeUnknownError
	return errors.As(err, &e)
}

// unknownOr returns an *OutcomeUnknownError if r is a write that may have
// executed, and otherwise final: the call failed without reaching Stripe,
// or Stripe's last answer settles it.
func (r *request) unknownOr(attempts int, first time.Time, last, final error) error {
	if r.method == http.MethodGet || !r.info.Ambiguous {
		return final
	}
	return &OutcomeUnknownError{
		Method: r.method, Path: r.path, IdempotencyKey: r.idempotencyKey,
		Attempts: attempts, Elapsed: time.Since(first), Err: last,
	}
}

// mayHaveExecuted reports whether an attempt may have been executed by
// Stripe without its answer saying so. A connection that was never made
// (or a proxy that refused the tunnel) sent nothing; any other transport
// failure may have lost the response of an executed request. Stripe
// documents 429 and 409 as not executed, but a proxy between stripesql and
// Stripe can answer them for a request Stripe executed, and a 5xx is
// indeterminate by Stripe's own account, so none of them settles it.
func (res *response) mayHaveExecuted() bool {
	if res.err != nil {
		return !neverSent(res.err)
	}
	return res.retryableStatus()
}

// retryableStatus reports whether the status is one that a retry may
// change: 409, 429 and 5xx.
func (res *response) retryableStatus() bool {
	return res.status == http.StatusConflict || res.status == http.StatusTooManyRequests || res.status >= 500
}

// neverSent reports whether a transport error happened before the
// request could reach Stripe: dialling (or resolving) failed, or a proxy
// refused to connect onwards.
func neverSent(err error) bool {
	if _, ok := errors.AsType[*ProxyError](err); ok {
		return true
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	_, dns := errors.AsType[*net.DNSError](err)
	return dns
}

// nextRetry decides whether attempt (which failed with res) is retried,
// and after what delay. Reads, and writes that cannot have executed, get
// MaxRetries retries. A write that may have executed keeps being retried
// while the write retry window, counted from its first attempt, has room
// for the delay: giving up early would leave its outcome unknown. A
// Retry-After header lengthens the delay.
func (c *Client) nextRetry(ctx context.Context, r *request, attempt int, first time.Time, res response) (time.Duration, bool) {
	if !res.retryable(ctx) {
		return 0, false
	}
	delay := c.backoff(attempt)
	if ra, ok := retryAfter(res.header, time.Now()); ok {
		delay = max(delay, ra)
	}
	if r.info.Ambiguous && c.window > 0 {
		return delay, time.Since(first)+delay <= c.window
	}
	if attempt > c.maxRetries {
		return 0, false
	}
	if ra, ok := retryAfter(res.header, time.Now()); ok && ra > c.maxBackoff {
		// A read told to wait longer than any backoff: give the answer
		// back rather than hold the query.
		return 0, false
	}
	return delay, true
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// retryable reports whether another attempt could succeed where res failed.
//
// Stripe's Stripe-Should-Retry header, when present, decides. Otherwise
// network failures, 409 (a concurrent request with the same idempotency key),
// 429 (rate_limit, and lock_timeout on a contended object) and 5xx are
// retried; other 4xx responses would fail again identically. Retrying a POST
// is safe because every attempt carries the same Idempotency-Key.
func (res *response) retryable(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if res.err != nil {
		return transient(res.err)
	}
	switch res.header.Get("Stripe-Should-Retry") {
	case "true":
		return true
	case "false":
		return false
	}
	return res.status == http.StatusConflict ||
		res.status == http.StatusTooManyRequests ||
		res.status >= 500
}

// transient reports whether a transport error may go away on its own.
// Connection refusals and resets, EOFs and timeouts may; a certificate that
// fails verification, or a proxy refusing a tunnel other than with a 5xx,
// will not, and retrying would only delay the report.
func transient(err error) bool {
	if pe, ok := errors.AsType[*ProxyError](err); ok {
		return pe.StatusCode >= 500 // a refused CONNECT (407, 403) stays refused
	}
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return !errors.As(err, &verify) &&
		!errors.As(err, &unknownCA) &&
		!errors.As(err, &hostname) &&
		!errors.As(err, &invalid)
}

// backoff returns the wait before retry number n (1 for the first retry).
// The ceiling doubles from minBackoff up to maxBackoff, and the wait is drawn
// from [ceiling/2, ceiling] ("equal jitter") and then kept within
// [minBackoff, maxBackoff]. The jitter spreads out clients that failed
// together, so they do not hit Stripe's limiter again in lockstep; keeping
// half of the ceiling guarantees that waits still grow.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.minBackoff
	for i := 1; i < n && ceiling < c.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	d := ceiling/2 + rand.N(ceiling/2+1)
	return max(d, c.minBackoff)
}

// sleep waits for d, or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
