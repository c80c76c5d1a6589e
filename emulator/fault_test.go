package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// faultServer serves e over real HTTP. Keep-alives are off so that a
// dropped connection is never silently retried by the transport.
func faultServer(t *testing.T, e *Emulator) (*httptest.Server, func(method, path string, form url.Values, headers ...string) (int, map[string]any, http.Header, error)) {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	do := func(method, path string, form url.Values, headers ...string) (int, map[string]any, http.Header, error) {
		reqBody := strings.NewReader(form.Encode())
		if method == http.MethodGet {
			path += "?" + form.Encode()
			reqBody = strings.NewReader("")
		}
		req, err := http.NewRequest(method, srv.URL+path, reqBody)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer sk_test_x")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			return 0, nil, nil, err
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("not JSON: %s", raw)
		}
		return res.StatusCode, body, res.Header, nil
	}
	return srv, do
}

func statuses(e *Emulator) []int {
	var out []int
	for _, r := range e.Requests() {
		out = append(out, r.Status)
	}
	return out
}

func TestFaultResponses(t *testing.T) {
	cases := []struct {
		kind         FaultKind
		status       int
		typ, code    string
		header, want string
	}{
		{FaultRateLimit, 429, "invalid_request_error", "rate_limit", "Stripe-Rate-Limited-Reason", "global-rate"},
		{FaultLockTimeout, 429, "invalid_request_error", "lock_timeout", "Stripe-Should-Retry", "true"},
		{FaultServerError, 500, "api_error", "", "Stripe-Should-Retry", "true"},
	}
	for _, tc := range cases {
		e := New()
		_, do := faultServer(t, e)
		e.InjectFault(Fault{Method: "POST", Path: "/v1/customers", Kind: tc.kind})
		status, body, h, err := do("POST", "/v1/customers", vals("name", "x"))
		if err != nil {
			t.Fatal(err)
		}
		errObj := body["error"].(map[string]any)
		if status != tc.status || errObj["type"] != tc.typ || (tc.code != "" && errObj["code"] != tc.code) || h.Get(tc.header) != tc.want {
			t.Errorf("kind %d: %d %v %s=%q", tc.kind, status, errObj, tc.header, h.Get(tc.header))
		}
		if e.Count("customer") != 0 {
			t.Errorf("kind %d: the request was executed", tc.kind)
		}
		if status, _, _, _ := do("POST", "/v1/customers", vals("name", "x")); status != 200 {
			t.Errorf("kind %d: the fault fired twice (%d)", tc.kind, status)
		}
		if got := statuses(e); !slices.Equal(got, []int{tc.status, 200}) {
			t.Errorf("kind %d: logged statuses %v", tc.kind, got)
		}
	}
}

func TestFaultDropConnection(t *testing.T) {
	e := New()
	_, do := faultServer(t, e)
	e.InjectFault(Fault{Path: "/v1/customers", Kind: FaultDropConnection})
	if _, _, _, err := do("POST", "/v1/customers", vals("name", "x")); err == nil {
		t.Fatal("no connection error")
	}
	if e.Count("customer") != 0 {
		t.Error("dropped request was executed")
	}
	if got := statuses(e); !slices.Equal(got, []int{0}) {
		t.Errorf("logged statuses %v", got)
	}
}

// TestFaultDropAfterCommit: the client sees a broken connection, yet the
// customer exists, and a retry under the same idempotency key replays the
// committed answer instead of creating a second customer.
func TestFaultDropAfterCommit(t *testing.T) {
	e := New()
	_, do := faultServer(t, e)
	e.InjectFault(Fault{Method: "POST", Path: "/v1/customers", Kind: FaultDropAfterCommit})
	if _, _, _, err := do("POST", "/v1/customers", vals("name", "x"), "Idempotency-Key", "retry-me"); err == nil {
		t.Fatal("no connection error")
	}
	if e.Count("customer") != 1 {
		t.Fatalf("%d customers after a committed drop, want 1", e.Count("customer"))
	}
	status, body, h, err := do("POST", "/v1/customers", vals("name", "x"), "Idempotency-Key", "retry-me")
	if err != nil || status != 200 || h.Get("Idempotent-Replayed") != "true" || body["id"] != e.IDs("customer")[0] {
		t.Fatalf("retry: %d %v replayed=%q err=%v", status, body["id"], h.Get("Idempotent-Replayed"), err)
	}
	if e.Count("customer") != 1 {
		t.Errorf("%d customers after the retry, want 1", e.Count("customer"))
	}
	if got := statuses(e); !slices.Equal(got, []int{0, 200}) {
		t.Errorf("logged statuses %v", got)
	}
}

func TestFaultMatching(t *testing.T) {
	e := New()
	_, do := faultServer(t, e)
	e.InjectFault(Fault{Path: "/v1/customers*", Kind: FaultRateLimit, Times: 2, After: 1})
	e.InjectFault(Fault{Method: "DELETE", Path: "/v1/products*", Kind: FaultServerError})
	for range 4 {
		do("GET", "/v1/customers/search", vals("query", `email:"x"`))
	}
	do("GET", "/v1/products", nil)
	do("DELETE", "/v1/products/prod_x", nil)
	do("DELETE", "/v1/products/prod_x", nil)
	want := []int{200, 429, 429, 200, 200, 500, 404}
	if got := statuses(e); !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	e.ResetRequests()
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

// The FaultCommitThen* kinds execute and commit the first request, answer
// it with the error, and answer the next ones with the error without
// executing them; once the fault is cleared, a retry with the same key
// replays the committed answer.
func TestFaultCommitThenError(t *testing.T) {
	for _, tc := range []struct {
		kind   FaultKind
		status int
	}{{FaultCommitThenRateLimit, 429}, {FaultCommitThenServerError, 500}} {
		e := New()
		_, do := faultServer(t, e)
		e.InjectFault(Fault{Method: "POST", Path: "/v1/customers", Kind: tc.kind, Times: Forever})
		for i := range 3 {
			status, body, _, err := do("POST", "/v1/customers", vals("name", "x"), "Idempotency-Key", "k")
			if err != nil || status != tc.status || body["error"] == nil {
				t.Errorf("kind %d, attempt %d: %d %v %v", tc.kind, i+1, status, body, err)
			}
		}
		if n := e.Count("customer"); n != 1 {
			t.Errorf("kind %d: %d customers, want 1 (the first attempt, committed)", tc.kind, n)
		}
		e.ClearFaults()
		status, body, h, err := do("POST", "/v1/customers", vals("name", "x"), "Idempotency-Key", "k")
		if err != nil || status != 200 || h.Get("Idempotent-Replayed") != "true" || body["id"] != e.IDs("customer")[0] {
			t.Errorf("kind %d: retry after clearing: %d %v replayed=%q %v", tc.kind, status, body["id"], h.Get("Idempotent-Replayed"), err)
		}
		if got := statuses(e); !slices.Equal(got, []int{tc.status, tc.status, tc.status, 200}) {
			t.Errorf("kind %d: logged statuses %v", tc.kind, got)
		}
	}
}

// FaultDropAfterCommit with Times Forever loses every answer: the first
// attempt creates, the others replay, and the client hears nothing.
func TestFaultDropAfterCommitForever(t *testing.T) {
	e := New()
	_, do := faultServer(t, e)
	e.InjectFault(Fault{Method: "POST", Path: "/v1/customers", Kind: FaultDropAfterCommit, Times: Forever})
	for range 4 {
		if _, _, _, err := do("POST", "/v1/customers", vals("name", "x"), "Idempotency-Key", "k"); err == nil {
			t.Fatal("an answer got through")
		}
	}
	if n := e.Count("customer"); n != 1 {
		t.Errorf("%d customers, want 1", n)
	}
}
