package stripeapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// The limiter guarantees a lower bound on elapsed time, so these tests assert
// only lower bounds (never that something is fast), which load cannot break.

func TestRateLimitPacesRequests(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 20, 1 })
	start := time.Now()
	for range 5 {
		if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	// Burst 1 at 20/s: 4 waits of 50ms after the first request.
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("5 requests at 20/s with burst 1 took %v, want >= 200ms", el)
	}
	if st := c.Stats(); st.ThrottledWait < 150*time.Millisecond || st.Requests != 5 {
		t.Errorf("Stats = %+v, want ThrottledWait ~200ms and 5 requests", st)
	}
}

func TestSearchLimiter(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"data":[]}`) })

	// Search calls are paced by the search limiter...
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = -1, 10, 1 })
	start := time.Now()
	for range 3 {
		if _, err := c.Get(t.Context(), "/v1/customers/search", Params{{"query", "email:'a@b.c'"}}); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("3 search calls at 10/s took %v, want >= 200ms", el)
	}

	// ...and take a token from the global one too.
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = 10, -1, 1 })
	start = time.Now()
	it := c.Search(t.Context(), "/v1/customers/search", Params{{"query", "name:'x'"}})
	for it.Next() {
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("a search then a list at global 10/s took %v, want >= 100ms", el)
	}

	// Non-search calls leave the search limiter alone.
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = -1, 0.001, 2 })
	for range 3 {
		if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
			t.Fatal(err)
		}
	}
	if tok := c.search.Tokens(); tok < 1.99 {
		t.Errorf("search limiter has %.2f tokens after 3 non-search calls, want 2", tok)
	}
}

func TestRetriesTakeTokens(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			replyError(w, 500, "api_error", "")
			return
		}
		reply(w, 200, `{}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 10, 1 })
	start := time.Now()
	if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("a call with one retry at 10/s burst 1 took %v, want >= 100ms", el)
	}
	if st := c.Stats(); st.Requests != 2 || st.Retries != 1 || st.ThrottledWait < 50*time.Millisecond {
		t.Errorf("Stats = %+v, want 2 requests, 1 retry, ~100ms throttled", st)
	}
}

func TestLimiterWaitHonoursCancel(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 0.01, 1 }) // a token per 100s
	if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "/v1/x", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Get returned after %v; the limiter wait ignored the deadline", el)
	}
	if srv.hits() != 1 {
		t.Errorf("%d hits, want 1", srv.hits())
	}
	if st := c.Stats(); st.ThrottledWait < 40*time.Millisecond {
		t.Errorf("ThrottledWait = %v, want the ~50ms spent waiting", st.ThrottledWait)
	}
}
