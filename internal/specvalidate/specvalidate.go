// Package specvalidate checks HTTP requests against Stripe's OpenAPI spec by
// replaying them into an in-process stripe-mock, the validating-proxy
// pattern: stripe-mock knows every parameter name, type, enum and required
// parameter of every endpoint, but keeps no state; a stateful handler (the
// emulator) knows the semantics. Together they answer like Stripe and reject
// what Stripe would reject for a malformed request.
//
// It is meant for tests: loading the spec takes about a second and 30 MiB,
// and stripe-mock prints a few lines to standard output for every request.
// That output comes from fmt.Printf calls inside stripe-mock's server
// package; there is no option to turn it off short of redirecting the
// process's os.Stdout, which this package does not do. go test shows it
// only for failing tests or with -v.
package specvalidate

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/stripe/stripe-mock/embedded"
	"github.com/stripe/stripe-mock/server"
)

// stub loads stripe-mock once per process: the parsed spec is immutable and
// expensive to build, and a StubServer is safe for concurrent use.
var stub = sync.OnceValues(func() (*server.StubServer, error) {
	spec, err := server.LoadSpec(embedded.OpenAPISpec, "")
	if err != nil {
		return nil, err
	}
	fixtures, err := server.LoadFixtures(embedded.OpenAPIFixtures, "")
	if err != nil {
		return nil, err
	}
	return server.NewStubServer(fixtures, spec, false, false)
})

// StripeMock returns the plain in-process stripe-mock handler: stateless,
// answering every valid request with a canned object. Like stripe-mock, it
// requires a test-looking key (Authorization: Bearer sk_test_…).
func StripeMock() (http.Handler, error) {
	s, err := stub()
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(s.HandleRequest), nil
}

// Wrap returns a handler that first replays each request (its body
// buffered) into stripe-mock. If stripe-mock answers with a 4xx — an unknown
// or mistyped parameter, a missing required one, an unknown URL — that
// answer is returned verbatim and next never sees the request. Otherwise the
// request goes to next, which produces the response.
//
// Authentication is left to next: the replay carries a test key of its own,
// because stripe-mock accepts only keys that look like sk_test_….
//
// Two stripe-mock quirks show through. Paths are matched against the spec
// only, so GET /v1/refunds/search, which Stripe does not have, is routed to
// "retrieve refund search" and rejected for its query parameter (400)
// rather than answered with 404. And stripe-mock does not check limit
// ranges, search syntax, expand paths or cross-field rules; next must.
func Wrap(next http.Handler) (http.Handler, error) {
	s, err := stub()
	if err != nil {
		return nil, err
	}
	return &validator{stub: s, next: next}, nil
}

type validator struct {
	stub *server.StubServer
	next http.Handler
}

// testKey is the key the replayed request presents to stripe-mock.
const testKey = "Bearer sk_test_specvalidate"

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			http.Error(w, "specvalidate: reading request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body.Close()
	}

	probe := r.Clone(r.Context())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	probe.ContentLength = int64(len(body))
	probe.Header.Set("Authorization", testKey)
	rec := httptest.NewRecorder()
	v.stub.HandleRequest(rec, probe)

	if rec.Code >= 400 && rec.Code < 500 {
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	v.next.ServeHTTP(w, r)
}
