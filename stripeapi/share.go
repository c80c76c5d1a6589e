package stripeapi

import (
	"context"

	"golang.org/x/time/rate"
)

// A share limiter caps what one part of the program spends of the client's
// rate budget. The mirror runs its backfill and event polling under one, so
// it never uses more than the operator's --mirror-rate and live queries keep
// the rest: every request made with the context waits on the share too, in
// addition to the client's global and endpoint limiters. Carrying it in the
// context, rather than in a second client, keeps one client (one global
// limiter, one set of adaptive endpoint limits) for the whole process, and
// reaches the requests made deep inside a reader (range scans, fan-outs)
// without changing their signatures.

type shareKey struct{}

// WithShare returns a context under which every request also waits on lim.
// A nil lim returns ctx unchanged. Nested shares do not stack: the innermost
// one applies.
func WithShare(ctx context.Context, lim *rate.Limiter) context.Context {
	if lim == nil {
		return ctx
	}
	return context.WithValue(ctx, shareKey{}, lim)
}

// shareOf returns the share limiter ctx carries, or nil.
func shareOf(ctx context.Context) *rate.Limiter {
	lim, _ := ctx.Value(shareKey{}).(*rate.Limiter)
	return lim
}
