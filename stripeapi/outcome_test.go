package stripeapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A POST whose every attempt loses its connection is retried for the
// whole write retry window, well past MaxRetries, always with one key, and
// then fails as an unknown outcome naming that key.
func TestWriteDroppedEveryAttemptIsUnknown(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.MaxRetries = 1
		cfg.WriteRetryWindow = 40 * time.Millisecond
	})
	var info CallInfo
	_, err := c.Post(t.Context(), "/v1/customers", Params{{"name", "x"}}, WithIdempotencyKey("k-1"), WithCallInfo(&info))
	var unknown *OutcomeUnknownError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v (%T), want *OutcomeUnknownError", err, err)
	}
	if unknown.IdempotencyKey != "k-1" || unknown.Method != "POST" || unknown.Path != "/v1/customers" {
		t.Errorf("unknown = %+v", unknown)
	}
	if !strings.Contains(err.Error(), "outcome unknown after ") {
		t.Errorf("message %q does not say the outcome is unknown", err)
	}
	hits := srv.hits()
	if hits <= 2 || unknown.Attempts != hits || info.Attempts != hits || !info.Ambiguous {
		t.Errorf("%d requests, %d attempts reported, info %+v; want more than MaxRetries+1 = 2, all counted, ambiguous", hits, unknown.Attempts, info)
	}
	for i, r := range srv.requests() {
		if k := r.Header.Get("Idempotency-Key"); k != "k-1" {
			t.Errorf("attempt %d carried key %q", i+1, k)
		}
	}
}

// A 500 then a 404 on DELETE returns Stripe's 404, and the call info says
// an earlier attempt may have executed: the caller decides it was this
// call that deleted the object.
func TestDeleteAmbiguousThenNotFound(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 500, `{"error":{"type":"api_error","message":"boom"}}`)
			return
		}
		reply(w, 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer: 'cus_1'"}}`)
	})
	c := newTestClient(t, srv.URL, nil)
	var info CallInfo
	_, err := c.Delete(t.Context(), "/v1/customers/cus_1", nil, WithCallInfo(&info))
	if !IsNotFound(err) || IsOutcomeUnknown(err) {
		t.Fatalf("err = %v, want the 404", err)
	}
	if !info.Ambiguous || info.Attempts != 2 {
		t.Errorf("info = %+v, want ambiguous after 2 attempts", info)
	}

	// A 404 at once is a plain answer.
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer"}}`)
	})
	c = newTestClient(t, srv.URL, nil)
	info = CallInfo{}
	if _, err := c.Delete(t.Context(), "/v1/customers/cus_1", nil, WithCallInfo(&info)); !IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	if info.Ambiguous || info.Attempts != 1 {
		t.Errorf("info = %+v, want one unambiguous attempt", info)
	}
}

// Stripe-Should-Retry: false on a 500 stops the retries, and a POST that
// got only that 500 has an unknown outcome; on a GET it is a plain error.
func TestShouldRetryFalseOnWrite(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Stripe-Should-Retry", "false")
		reply(w, 500, `{"error":{"type":"api_error","message":"boom"}}`)
	})
	c := newTestClient(t, srv.URL, nil)
	var info CallInfo
	_, err := c.Post(t.Context(), "/v1/customers", nil, WithCallInfo(&info))
	if !IsOutcomeUnknown(err) || srv.hits() != 1 || info.RequestID != "req_test" {
		t.Errorf("POST: err = %v after %d requests, info %+v; want unknown after 1, request id kept", err, srv.hits(), info)
	}
	var apiErr *Error
	if _, err := c.Get(t.Context(), "/v1/customers/cus_1", nil); IsOutcomeUnknown(err) || !errors.As(err, &apiErr) || apiErr.HTTPStatus != 500 {
		t.Errorf("GET: err = %v, want the 500", err)
	}
}

// Only 429s (and a refused connection) on a POST that never reached
// Stripe... a 429 might come from a proxy after Stripe executed, so it is
// unknown; a refused connection sent nothing, so it is a plain failure
// (TestRetryNetworkErrors).
func TestRateLimitedWriteIsUnknown(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.WriteRetryWindow = 20 * time.Millisecond })
	_, err := c.Post(t.Context(), "/v1/customers", nil)
	if !IsOutcomeUnknown(err) {
		t.Errorf("err = %v, want unknown outcome", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "rate_limit" {
		t.Errorf("err = %v, want Stripe's last answer inside", err)
	}
}

// Retry-After lengthens a write's wait and may not be outlasted by a
// read: a read told to wait longer than MaxBackoff returns the error.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, "0": 0, "Thu, 01 Jan 2026 00:00:05 GMT": 5 * time.Second} {
		h := http.Header{"Retry-After": {v}}
		if d, ok := retryAfter(h, now); !ok || d != want {
			t.Errorf("Retry-After %q = %v, %v; want %v", v, d, ok, want)
		}
	}
	if _, ok := retryAfter(http.Header{"Retry-After": {"soon"}}, now); ok {
		t.Error("Retry-After: soon was read")
	}

	c := newTestClient(t, "http://127.0.0.1:1", func(cfg *Config) { cfg.WriteRetryWindow = time.Minute })
	res := response{status: 429, header: http.Header{"Retry-After": {"2"}}}
	write := &request{method: "POST", info: &CallInfo{Ambiguous: true}}
	if d, ok := c.nextRetry(t.Context(), write, 1, time.Now(), res); !ok || d != 2*time.Second {
		t.Errorf("write: retry %v after %v, want true after 2s", ok, d)
	}
	read := &request{method: "GET", info: &CallInfo{}}
	if d, ok := c.nextRetry(t.Context(), read, 1, time.Now(), res); ok {
		t.Errorf("read: retried after %v; want the 429 back", d)
	}
	// A wait beyond the window ends the write's retries.
	res.header.Set("Retry-After", "120")
	if _, ok := c.nextRetry(t.Context(), write, 1, time.Now(), res); ok {
		t.Error("write retried past its window")
	}
}

func TestCallInfoServerTime(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		reply(w, 200, `{"data":[],"has_more":false}`)
	})
	c := newTestClient(t, srv.URL, nil)
	var info CallInfo
	it := c.List(t.Context(), "/v1/events", nil, WithCallInfo(&info))
	for it.Next() {
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if want := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC); !info.ServerTime.Equal(want) {
		t.Errorf("ServerTime = %v, want %v (the Date header)", info.ServerTime, want)
	}
}
