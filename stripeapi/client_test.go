package stripeapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestModeOfKey(t *testing.T) {
	tests := []struct {
		key  string
		want Mode
	}{
		{"sk_live_abc", ModeLive},
		{"rk_live_abc", ModeLive},
		{"sk_test_abc", ModeTest},
		{"rk_test_abc", ModeTest},
		{"pk_live_abc", ModeTest}, // not a secret key: gets the stricter limits
		{"whatever", ModeTest},
	}
	for _, tt := range tests {
		if got := ModeOfKey(tt.key); got != tt.want {
			t.Errorf("ModeOfKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
	if ModeTest.String() != "test" || ModeLive.String() != "live" {
		t.Errorf("String() = %q, %q; want test, live", ModeTest, ModeLive)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"missing key", Config{}},
		{"key with newline", Config{APIKey: testKey + "\n"}},
		{"bad scheme", Config{APIKey: testKey, BaseURL: "ftp://example.com"}},
		{"no host", Config{APIKey: testKey, BaseURL: "http://"}},
		{"query", Config{APIKey: testKey, BaseURL: "http://example.com?x=1"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", tt.name)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{APIKey: "sk_test_x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.baseURL != DefaultBaseURL || c.Mode() != ModeTest {
		t.Errorf("baseURL, mode = %q, %v", c.baseURL, c.Mode())
	}
	if c.limiter.Limit() != 25 || c.search.Limit() != 20 || c.limiter.Burst() != defaultBurst || c.search.Burst() != defaultBurst {
		t.Errorf("test-mode limits = %v/%d, search %v/%d; want 25/5, 20/5",
			c.limiter.Limit(), c.limiter.Burst(), c.search.Limit(), c.search.Burst())
	}
	if c.maxRetries != 4 || c.minBackoff != 250*time.Millisecond || c.maxBackoff != 8*time.Second {
		t.Errorf("retries, backoff = %d, %v..%v", c.maxRetries, c.minBackoff, c.maxBackoff)
	}

	live, _ := New(Config{APIKey: "rk_live_x", BaseURL: "http://127.0.0.1:12111/"})
	if live.Mode() != ModeLive || live.limiter.Limit() != 100 || live.baseURL != "http://127.0.0.1:12111" {
		t.Errorf("live: mode %v, limit %v, base %q", live.Mode(), live.limiter.Limit(), live.baseURL)
	}

	custom, _ := New(Config{APIKey: "sk_test_x", Rate: -1, SearchRate: 3, Burst: 1, MaxRetries: -1})
	if custom.limiter.Limit() != rate.Inf || custom.search.Limit() != 3 || custom.limiter.Burst() != 1 || custom.maxRetries != -1 {
		t.Errorf("custom: limit %v, search %v, burst %d, retries %d",
			custom.limiter.Limit(), custom.search.Limit(), custom.limiter.Burst(), custom.maxRetries)
	}
}

func TestRequestHeaders(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"id":"cus_1","object":"customer"}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Account = "acct_default" })
	ctx := t.Context()

	var get Params
	get.Add("email", "a@b.c")
	get.AddNested("created", map[string]any{"gte": 1704067200})
	if _, err := c.Get(ctx, "/v1/customers", get); err != nil {
		t.Fatal(err)
	}
	var post Params
	post.Add("description", "")
	post.AddNested("metadata", map[string]string{"tier": "gold"})
	if _, err := c.Post(ctx, "/v1/customers/cus_1", post, WithAccount("acct_other")); err != nil {
		t.Fatal(err)
	}
	var del Params
	del.Add("invoice_now", "true")
	if _, err := c.Delete(ctx, "/v1/subscriptions/sub_1", del, WithAccount("")); err != nil {
		t.Fatal(err)
	}
	noAcct := newTestClient(t, srv.URL, nil)
	if _, err := noAcct.Get(ctx, "/v1/balance", nil); err != nil {
		t.Fatal(err)
	}

	reqs := srv.requests()
	want := []struct {
		method, path, query, body, account string
	}{
		{"GET", "/v1/customers", "email=a%40b.c&created%5Bgte%5D=1704067200", "", "acct_default"},
		{"POST", "/v1/customers/cus_1", "", "description=&metadata%5Btier%5D=gold", "acct_other"},
		{"DELETE", "/v1/subscriptions/sub_1", "invoice_now=true", "", "acct_default"},
		{"GET", "/v1/balance", "", "", ""},
	}
	if len(reqs) != len(want) {
		t.Fatalf("server saw %d requests, want %d", len(reqs), len(want))
	}
	for i, w := range want {
		r := reqs[i]
		if r.Method != w.method || r.Path != w.path || r.RawQuery != w.query || r.Body != w.body {
			t.Errorf("request %d = %s %s ? %q body %q; want %s %s ? %q body %q",
				i, r.Method, r.Path, r.RawQuery, r.Body, w.method, w.path, w.query, w.body)
		}
		h := r.Header
		if got := h.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("request %d: Authorization = %q", i, got)
		}
		if got := h.Get("Stripe-Version"); got != "2026-08-26.dahlia" {
			t.Errorf("request %d: Stripe-Version = %q", i, got)
		}
		if got := h.Get("User-Agent"); !strings.HasPrefix(got, "stripesql/") {
			t.Errorf("request %d: User-Agent = %q", i, got)
		}
		if got, ok := h["Stripe-Account"]; w.account == "" && ok || w.account != "" && h.Get("Stripe-Account") != w.account {
			t.Errorf("request %d: Stripe-Account = %q, want %q", i, got, w.account)
		}
		ct, idem := h.Get("Content-Type"), h.Get("Idempotency-Key")
		if w.method == "POST" {
			if ct != "application/x-www-form-urlencoded" {
				t.Errorf("POST Content-Type = %q", ct)
			}
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(idem) {
				t.Errorf("POST Idempotency-Key = %q, want a UUIDv4", idem)
			}
		} else if ct != "" || idem != "" || h.Get("Idempotency-Key") != "" {
			t.Errorf("%s carries Content-Type %q, Idempotency-Key %q; want neither", w.method, ct, idem)
		}
	}
}

func TestWithExpandAndIdempotencyKey(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, nil)
	var p Params
	p.Add("amount", "1099")
	if _, err := c.Post(t.Context(), "/v1/payment_intents", p,
		WithExpand("customer", "latest_charge"), WithIdempotencyKey("order-6735")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), "/v1/charges", nil, WithExpand("data.customer"), WithIdempotencyKey("ignored")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if got, want := reqs[0].Body, "amount=1099&expand%5B%5D=customer&expand%5B%5D=latest_charge"; got != want {
		t.Errorf("POST body = %q, want %q", got, want)
	}
	if got := reqs[0].Header.Get("Idempotency-Key"); got != "order-6735" {
		t.Errorf("Idempotency-Key = %q, want the caller's", got)
	}
	if got, want := reqs[1].RawQuery, "expand%5B%5D=data.customer"; got != want {
		t.Errorf("GET query = %q, want %q", got, want)
	}
	if got := reqs[1].Header.Get("Idempotency-Key"); got != "" {
		t.Errorf("GET Idempotency-Key = %q, want none", got)
	}
	if len(p) != 1 {
		t.Errorf("caller's Params modified: %v", p)
	}
}

func TestResponseNumbersKeepPrecision(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"id":"in_1","amount_due":12345678901234567890,"lines":{"data":[{"amount":1.10}]}}`)
	})
	obj, err := newTestClient(t, srv.URL, nil).Get(t.Context(), "/v1/invoices/in_1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := obj["amount_due"].(json.Number); !ok || got != "12345678901234567890" {
		t.Errorf("amount_due = %#v, want json.Number(12345678901234567890)", obj["amount_due"])
	}
	if obj.ID() != "in_1" {
		t.Errorf("ID() = %q", obj.ID())
	}
}

func TestBadResponseAndPath(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `[1,2]`) })
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Get(t.Context(), "/v1/x", nil); err == nil || !strings.Contains(err.Error(), "GET /v1/x") {
		t.Errorf("non-object 200: err = %v, want a decoding error naming GET /v1/x", err)
	}
	if srv.hits() != 1 {
		t.Errorf("undecodable 200 was retried: %d hits", srv.hits())
	}
	for _, path := range []string{"v1/customers", "/v1/customers?limit=3", ""} {
		if _, err := c.Get(t.Context(), path, nil); err == nil {
			t.Errorf("Get(%q) succeeded, want a path error", path)
		}
	}
	if srv.hits() != 1 {
		t.Errorf("invalid paths reached the server: %d hits", srv.hits())
	}
}

func TestEscapeIDAndOddPaths(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		replyError(w, 404, "invalid_request_error", "resource_missing")
	})
	c := newTestClient(t, srv.URL, nil)
	for _, id := range []string{"cus_1", "x/../../v1/charges", "a?limit=1#f", "..", "100%"} {
		if _, err := c.Get(t.Context(), "/v1/customers/"+EscapeID(id), nil); !IsNotFound(err) {
			t.Errorf("id %q: err = %v, want a 404 from the server", id, err)
		}
	}
	var got []string
	for _, r := range srv.requests() {
		got = append(got, r.EscapedPath)
		if r.RawQuery != "" {
			t.Errorf("id leaked into the query string: %q", r.RawQuery)
		}
	}
	want := []string{
		"/v1/customers/cus_1",
		"/v1/customers/x%2F..%2F..%2Fv1%2Fcharges",
		"/v1/customers/a%3Flimit=1%23f",
		"/v1/customers/%2E%2E",
		"/v1/customers/100%25",
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths on the wire = %q\nwant                 %q", got, want)
	}

	// A '%' in the path must not be read as a formatting verb in errors.
	bad := newTestClient(t, "http://127.0.0.1:1", func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err := bad.Get(t.Context(), "/v1/customers/a%2Fb", nil)
	if err == nil || !strings.Contains(err.Error(), "GET /v1/customers/a%2Fb: ") {
		t.Errorf("err = %v, want it to name the path verbatim", err)
	}
}

func TestInvalidHeaderValuesFailFast(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Get(t.Context(), "/v1/x", nil, WithAccount("acct_1\r\nX-Evil: 1")); err == nil {
		t.Error("Stripe-Account with CRLF accepted")
	}
	if _, err := c.Post(t.Context(), "/v1/x", nil, WithIdempotencyKey("k\n")); err == nil {
		t.Error("Idempotency-Key with LF accepted")
	}
	if srv.hits() != 0 || c.Stats().Requests != 0 {
		t.Errorf("invalid headers reached the wire: %d hits", srv.hits())
	}
}
