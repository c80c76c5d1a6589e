package stripeapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		code        string
		shouldRetry string // Stripe-Should-Retry header, if any
		wantHits    int    // with MaxRetries 2 and a server that fails every time
	}{
		{"429 rate_limit", 429, "rate_limit", "", 3},
		{"429 lock_timeout", 429, "lock_timeout", "", 3},
		{"409 conflict", 409, "", "", 3},
		{"500", 500, "", "", 3},
		{"503", 503, "", "", 3},
		{"400", 400, "parameter_invalid_integer", "", 1},
		{"401", 401, "", "", 1},
		{"402 card declined", 402, "card_declined", "", 1},
		{"404", 404, "resource_missing", "", 1},
		{"400 with Should-Retry true", 400, "", "true", 3},
		{"500 with Should-Retry false", 500, "", "false", 1},
		{"429 with Should-Retry false", 429, "rate_limit", "false", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.shouldRetry != "" {
					w.Header().Set("Stripe-Should-Retry", tt.shouldRetry)
				}
				replyError(w, tt.status, "invalid_request_error", tt.code)
			})
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 2 })
			_, err := c.Get(t.Context(), "/v1/customers", nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != tt.status || apiErr.Code != tt.code {
				t.Fatalf("err = %v, want *Error with status %d code %q", err, tt.status, tt.code)
			}
			if got := srv.hits(); got != tt.wantHits {
				t.Errorf("server hits = %d, want %d", got, tt.wantHits)
			}
			if st := c.Stats(); st.Requests != int64(tt.wantHits) || st.Retries != int64(tt.wantHits-1) {
				t.Errorf("Stats = %+v, want %d requests, %d retries", st, tt.wantHits, tt.wantHits-1)
			}
		})
	}
}

func TestRetryThenSucceed(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 3 {
			replyError(w, 503, "api_error", "")
			return
		}
		reply(w, 200, `{"id":"cus_1"}`)
	})
	c := newTestClient(t, srv.URL, nil)
	obj, err := c.Get(t.Context(), "/v1/customers/cus_1", nil)
	if err != nil || obj.ID() != "cus_1" {
		t.Fatalf("Get = %v, %v; want cus_1", obj, err)
	}
	if st := c.Stats(); st.Requests != 3 || st.Retries != 2 {
		t.Errorf("Stats = %+v, want 3 requests, 2 retries", st)
	}
}

func TestMaxRetries(t *testing.T) {
	for _, tt := range []struct{ maxRetries, wantHits int }{{-1, 1}, {1, 2}, {0, 5}} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { replyError(w, 500, "api_error", "") })
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = tt.maxRetries })
		if _, err := c.Get(t.Context(), "/v1/x", nil); err == nil {
			t.Errorf("MaxRetries %d: Get succeeded against a failing server", tt.maxRetries)
		}
		if got := srv.hits(); got != tt.wantHits {
			t.Errorf("MaxRetries %d: %d hits, want %d", tt.maxRetries, got, tt.wantHits)
		}
	}
}

func TestIdempotencyKeyStableAcrossRetries(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.Header().Set("Connection", "close") // see TestRetryIsLogged
			replyError(w, 429, "invalid_request_error", "lock_timeout")
		case 2:
			dropConnection(t, w)
		case 3:
			replyError(w, 409, "idempotency_error", "")
		default:
			reply(w, 200, `{"id":"cus_1"}`)
		}
	})
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Post(t.Context(), "/v1/customers", Params{{"email", "a@b.c"}}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Retries != 3 {
		t.Errorf("Retries = %d, want 3", st.Retries)
	}
	if _, err := c.Post(t.Context(), "/v1/customers", Params{{"email", "a@b.c"}}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 5 {
		t.Fatalf("server saw %d requests, want 5", len(reqs))
	}
	first := reqs[0].Header.Get("Idempotency-Key")
	if first == "" {
		t.Fatal("POST without Idempotency-Key")
	}
	for i, r := range reqs[:4] {
		if got := r.Header.Get("Idempotency-Key"); got != first {
			t.Errorf("attempt %d Idempotency-Key = %q, want %q as on attempt 1", i+1, got, first)
		}
		if r.Body != "email=a%40b.c" {
			t.Errorf("attempt %d body = %q", i+1, r.Body)
		}
	}
	if got := reqs[4].Header.Get("Idempotency-Key"); got == first || got == "" {
		t.Errorf("second logical POST reused key %q", got)
	}
}

func TestIdempotencyKeyCallerAndGenerator(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n%2 == 1 {
			replyError(w, 500, "api_error", "")
			return
		}
		reply(w, 200, `{}`)
	})
	calls := 0
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.NewIdempotencyKey = func() string { calls++; return "generated" }
	})
	c.Post(t.Context(), "/v1/refunds", nil, WithIdempotencyKey("mine"))
	c.Post(t.Context(), "/v1/refunds", nil)
	c.Delete(t.Context(), "/v1/customers/cus_1", nil)
	c.Get(t.Context(), "/v1/customers/cus_1", nil)
	want := []string{"mine", "mine", "generated", "generated", "", "", "", ""}
	reqs := srv.requests()
	if len(reqs) != len(want) {
		t.Fatalf("server saw %d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != want[i] {
			t.Errorf("request %d (%s) Idempotency-Key = %q, want %q", i+1, r.Method, got, want[i])
		}
	}
	if calls != 1 {
		t.Errorf("NewIdempotencyKey called %d times, want once (one logical POST without a caller key)", calls)
	}
}

func TestRetryNetworkErrors(t *testing.T) {
	// A server that drops the connection before answering: EOF.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropConnection(t, w)
			return
		}
		reply(w, 200, `{"id":"cus_1"}`)
	})
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Get(t.Context(), "/v1/customers/cus_1", nil); err != nil {
		t.Fatalf("Get after a dropped connection: %v", err)
	}
	if st := c.Stats(); st.Retries != 1 {
		t.Errorf("Retries = %d, want 1", st.Retries)
	}

	// Nothing listening: connection refused on every attempt.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var events []RequestEvent
	c = newTestClient(t, "http://"+addr, func(cfg *Config) {
		cfg.MaxRetries = 2
		cfg.OnRequest = func(ctx context.Context, ev RequestEvent) { events = append(events, ev) }
	})
	_, err = c.Post(t.Context(), "/v1/customers", Params{{"email", "private@example.com"}})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want ECONNREFUSED in its chain", err)
	}
	if err != nil && (!strings.HasPrefix(err.Error(), "stripe: POST /v1/customers: after 3 attempts: ") ||
		strings.Contains(err.Error(), "private")) {
		t.Errorf("err = %q, want it wrapped with method, path and attempts, without params", err)
	}
	if len(events) != 3 {
		t.Fatalf("OnRequest called %d times, want 3", len(events))
	}
	for i, ev := range events {
		if ev.Attempt != i+1 || ev.Status != 0 || ev.Err == nil || ev.Method != "POST" || ev.Path != "/v1/customers" {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
	for n := 1; n <= 40; n++ {
		ceiling := min(c.minBackoff<<min(n-1, 10), c.maxBackoff)
		for range 50 {
			d := c.backoff(n)
			if d < c.minBackoff || d > c.maxBackoff || d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v] and [min, max]", n, d, ceiling/2, ceiling)
			}
		}
	}
	// Jitter: the draws for one retry number are not all equal.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[c.backoff(3)] = true
	}
	if len(seen) < 2 {
		t.Errorf("backoff(3) returned the same value 20 times: no jitter")
	}
}

func TestBackoffWaitHonoursCancel(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { replyError(w, 500, "api_error", "") })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Minute })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Get(ctx, "/v1/x", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Get returned after %v; the backoff wait ignored cancellation", el)
	}
	if srv.hits() != 1 {
		t.Errorf("%d hits, want 1", srv.hits())
	}
}

func TestRetryIsLogged(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			// A fresh connection for attempt 2: net/http itself silently
			// retries a request that failed on a reused keep-alive one.
			w.Header().Set("Connection", "close")
			replyError(w, 429, "invalid_request_error", "rate_limit")
		case 2:
			dropConnection(t, w)
		default:
			reply(w, 200, `{}`)
		}
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Logger = logger })
	if _, err := c.Post(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 {
		t.Fatalf("logged %d records, want 2:\n%s", len(recs), buf.String())
	}
	for i, m := range recs {
		if m["level"] != "DEBUG" || m["msg"] != "stripe request retry" || m["method"] != "POST" ||
			m["path"] != "/v1/customers" || m["attempt"] != float64(i+2) {
			t.Errorf("record %d = %v", i, m)
		}
	}
	if recs[0]["status"] != float64(429) || recs[0]["code"] != "rate_limit" || recs[0]["request_id"] != "req_test" {
		t.Errorf("API-error retry record lacks status/code/request_id: %v", recs[0])
	}
	if e, _ := recs[1]["error"].(string); e == "" {
		t.Errorf("network-error retry record lacks error: %v", recs[1])
	}
}

func TestCertificateErrorNotRetried(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reply(w, 200, `{}`) }))
	defer srv.Close()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	attempts := 0
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.OnRequest = func(ctx context.Context, ev RequestEvent) { attempts++ }
	})
	_, err := c.Get(t.Context(), "/v1/x", nil)
	var unknownCA *tls.CertificateVerificationError
	if !errors.As(err, &unknownCA) {
		t.Errorf("err = %v, want a certificate verification error", err)
	}
	if attempts != 1 {
		t.Errorf("%d attempts, want 1: a bad certificate will not fix itself", attempts)
	}
}
