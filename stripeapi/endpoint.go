package stripeapi

import (
	"math"
	"strings"

	"golang.org/x/time/rate"
)

// EndpointTemplate returns path with its object ids replaced by {id}
// ("/v1/customers/cus_123/sources" becomes "/v1/customers/{id}/sources"),
// so that metrics and progress can group calls by endpoint without one
// series per object. A query string, if any, is dropped.
//
// Stripe's collection and action names are lower-case words joined by
// underscores; its ids carry digits or upper-case letters (cus_NffrFeUfNV2Hib).
// A segment with either is taken for an id; "v1" is the version.
func EndpointTemplate(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == "" || (i == 1 && s == "v1") {
			continue
		}
		if strings.IndexFunc(s, func(r rune) bool { return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') }) >= 0 {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// IsRetrieve reports whether a GET of path reads one object (its template
// ends in an id) rather than a page of a list or search.
func IsRetrieve(path string) bool {
	return strings.HasSuffix(EndpointTemplate(path), "/{id}")
}

// RateLimit is the sustained request rate the client allows itself, in
// requests per second; 0 means unlimited.
func (c *Client) RateLimit() float64 {
	l := c.limiter.configured // as configured; a 429 lowers the current rate for a while (limit.go)
	if l == rate.Inf || math.IsInf(float64(l), 1) {
		return 0
	}
	return float64(l)
}
