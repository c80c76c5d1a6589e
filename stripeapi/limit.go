package stripeapi

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// wait blocks until the limiters governing a call each grant it a token, or
// until ctx is done. Every HTTP attempt calls it, so retries are paced too.
//
// A search call needs a token from both the search limiter and the global
// one. Both are reserved at once and the call waits for the later of the two,
// rather than queueing on one and then the other. If ctx ends first the
// reservations are cancelled, returning their tokens for other calls.
func (c *Client) wait(ctx context.Context, search bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lims := [2]*rate.Limiter{c.limiter}
	if search {
		lims[1] = c.search
	}
	now := time.Now()
	var (
		res   [2]*rate.Reservation
		delay time.Duration
	)
	for i, l := range lims {
		if l != nil {
			res[i] = l.ReserveN(now, 1) // always OK: burst >= 1
			delay = max(delay, res[i].DelayFrom(now))
		}
	}
	if delay == 0 {
		return nil
	}
	err := sleep(ctx, delay)
	if err != nil {
		for _, r := range res {
			if r != nil {
				r.Cancel()
			}
		}
	}
	c.throttled.Add(int64(time.Since(now)))
	return err
}
