package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testClock is a manual clock for deterministic created times.
type testClock struct{ t time.Time }

func newTestClock() *testClock { return &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// apiClient drives an http.Handler in-process.
type apiClient struct {
	t       *testing.T
	h       http.Handler
	headers map[string]string
}

func newClient(t *testing.T, h http.Handler) *apiClient {
	return &apiClient{t: t, h: h, headers: map[string]string{"Authorization": "Bearer sk_test_123"}}
}

// response is a decoded API response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (c *apiClient) do(method, path string, form url.Values, headers ...string) response {
	c.t.Helper()
	var body *strings.Reader
	if form != nil && method != http.MethodGet {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	if form != nil && method == http.MethodGet {
		path += "?" + form.Encode()
	}
	req := httptest.NewRequest(method, path, body)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
		c.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, rec.Body.String())
	}
	return res
}

func (c *apiClient) get(path string, q url.Values) response {
	c.t.Helper()
	return c.do("GET", path, q)
}
func (c *apiClient) post(path string, f url.Values) response {
	c.t.Helper()
	if f == nil {
		f = url.Values{}
	}
	return c.do("POST", path, f)
}
func (c *apiClient) del(path string) response { c.t.Helper(); return c.do("DELETE", path, nil) }

// mustOK fails the test unless the response is a 200 and returns its body.
func (r response) mustOK(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.raw)
	}
	return r.body
}

// wantError fails unless the response is an error with the given status,
// and, where non-empty, type, code and param.
func (r response) wantError(t *testing.T, status int, typ, code, param string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.raw)
	}
	for k, want := range map[string]string{"type": typ, "code": code, "param": param} {
		if want != "" && e[k] != want {
			t.Errorf("error.%s = %v, want %q (%s)", k, e[k], want, e["message"])
		}
	}
	return e
}

// ids returns the ids of a list or search response's data.
func ids(body map[string]any) []string {
	var out []string
	for _, d := range body["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func idOf(t *testing.T, r response) string {
	t.Helper()
	return r.mustOK(t)["id"].(string)
}
