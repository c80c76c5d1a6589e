package stripeapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// testKey looks like a real key so that any leak of it is easy to grep for.
const testKey = "sk_test_51LeakCanary0123456789abcdefXYZ"

// seen is what the fake server recorded about one request.
type seen struct {
	Method, Path, RawQuery, Body string
	EscapedPath                  string // the path as sent on the wire
	Header                       http.Header
}

// fakeServer is an httptest server that records every request and answers
// with handle, which is told the 1-based number of the request.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.URL.EscapedPath(), r.Header.Clone()})
		n := len(s.reqs)
		s.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func (s *fakeServer) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// newTestClient returns a client for baseURL with no rate limit and
// millisecond backoffs, adjusted by mod.
func newTestClient(t *testing.T, baseURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:    baseURL,
		APIKey:     testKey,
		Rate:       -1,
		SearchRate: -1,
		MinBackoff: time.Millisecond,
		MaxBackoff: 4 * time.Millisecond,
		// Writes that may have executed retry for this long, not a minute.
		WriteRetryWindow: 20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// reply writes a JSON body with the given status.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_test")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// replyError writes a Stripe error body.
func replyError(w http.ResponseWriter, status int, typ, code string) {
	reply(w, status, fmt.Sprintf(`{"error":{"type":%q,"code":%q,"message":"failure %d"}}`, typ, code, status))
}

// dropConnection closes the connection without sending a response, as a
// network failure would.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}
