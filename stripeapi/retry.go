package stripeapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

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
