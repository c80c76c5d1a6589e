package stripeapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIKeyNeverLeaks drives every failure path (API errors, retries,
// network errors, cancellation, bad responses, a server that echoes the key)
// with Debug logging on, and checks that the key appears in no error string
// and no log line.
func TestAPIKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	record := func(err error) {
		if err == nil {
			t.Error("expected a failure, got none")
		}
		errs = append(errs, err)
	}
	cfg := func(cfg *Config) {
		cfg.Logger = logger
		cfg.MaxRetries = 2
		cfg.OnRequest = func(ctx context.Context, ev RequestEvent) {
			if ev.Err != nil {
				errs = append(errs, ev.Err)
			}
		}
	}

	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/v1/echo": // an error message quoting the key, as a careless server might
			reply(w, 401, fmt.Sprintf(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: %s"}}`, testKey))
		case "/v1/echo-html":
			w.WriteHeader(500)
			fmt.Fprintf(w, "<pre>Authorization: Bearer %s</pre>", testKey)
		case "/v1/echo-long": // key straddling the snippet cut
			w.WriteHeader(400)
			fmt.Fprint(w, strings.Repeat("a", maxErrorSnippet-30)+testKey)
		case "/v1/bad-json":
			reply(w, 200, `{"key":"`+testKey+`"`)
		case "/v1/drop":
			dropConnection(t, w)
		case "/v1/slow":
			<-r.Context().Done()
		default:
			replyError(w, 503, "api_error", "")
		}
	})
	c := newTestClient(t, srv.URL, cfg)
	ctx := t.Context()
	for _, path := range []string{"/v1/echo", "/v1/echo-html", "/v1/echo-long", "/v1/bad-json", "/v1/drop", "/v1/503"} {
		_, err := c.Post(ctx, path, Params{{"k", "v"}})
		record(err)
	}
	it := c.List(ctx, "/v1/echo", nil)
	for it.Next() {
	}
	record(it.Err())
	slow, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := c.Get(slow, "/v1/slow", nil)
	record(err)

	refused := newTestClient(t, "http://127.0.0.1:1", cfg)
	_, err = refused.Get(ctx, "/v1/customers", nil)
	record(err)

	_, err = New(Config{APIKey: testKey + " \n", BaseURL: srv.URL})
	record(err)
	_, err = New(Config{APIKey: testKey, BaseURL: "gopher://x"})
	record(err)

	if srv.hits() == 0 || srv.requests()[0].Header.Get("Authorization") != "Bearer "+testKey {
		t.Fatal("the key was not sent, so this test proves nothing")
	}
	if !strings.Contains(logs.String(), "stripe request retry") {
		t.Fatal("no retry was logged, so this test proves nothing")
	}
	// Any recognisable part of the key counts, not only the whole of it.
	const canary = "LeakCanary"
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error string leaks the API key: %q", err)
		}
	}
	if strings.Contains(logs.String(), canary) {
		t.Errorf("log output leaks the API key:\n%s", logs.String())
	}
}
