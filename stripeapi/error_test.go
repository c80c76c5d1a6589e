package stripeapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestErrorDecoding(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Request-Id", "req_123")
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"id",`+
			`"message":"No such customer: 'cus_x'","doc_url":"https://stripe.com/docs/error-codes/resource-missing"}}`)
	})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Get(t.Context(), "/v1/customers/cus_x", nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %#v, want *Error", err)
	}
	want := Error{HTTPStatus: 404, Type: "invalid_request_error", Code: "resource_missing", Param: "id",
		Message: "No such customer: 'cus_x'", RequestID: "req_123"}
	if *e != want {
		t.Errorf("error = %+v\nwant      %+v", *e, want)
	}
	if got, want := err.Error(), `stripe: invalid_request_error (resource_missing): No such customer: 'cus_x' [param id, request req_123, HTTP 404]`; got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	if !IsNotFound(err) || !IsNotFound(fmt.Errorf("loading row: %w", err)) {
		t.Error("IsNotFound = false for a 404 resource_missing")
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{HTTPStatus: 402, Type: "card_error", Code: "card_declined", DeclineCode: "insufficient_funds", Message: "Your card has insufficient funds."},
			"stripe: card_error (card_declined): Your card has insufficient funds. [decline_code insufficient_funds, HTTP 402]"},
		{Error{HTTPStatus: 500, Type: "api_error", Message: "Something went wrong.", RequestID: "req_9"},
			"stripe: api_error: Something went wrong. [request req_9, HTTP 500]"},
		{Error{HTTPStatus: 502, Message: "Bad Gateway: <html>"}, "stripe: Bad Gateway: <html> [HTTP 502]"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestNonJSONError(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		fmt.Fprint(w, "<html>\n<body>upstream\tdown</body></html>"+strings.Repeat("x", 500))
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err := c.Get(t.Context(), "/v1/customers", nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if e.HTTPStatus != 502 || !strings.HasPrefix(e.Message, "Bad Gateway: <html> <body>upstream down</body></html>xxx") {
		t.Errorf("error = %+v, want status 502 and a one-line message quoting the body", e)
	}
	if len(e.Message) > 300 {
		t.Errorf("message is %d bytes, want it truncated", len(e.Message))
	}
	if IsNotFound(err) {
		t.Error("IsNotFound(502) = true")
	}
}

func TestIsNotFound(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&Error{HTTPStatus: 404, Code: "resource_missing"}, true},
		{fmt.Errorf("wrapped: %w", &Error{HTTPStatus: 404, Code: "resource_missing"}), true},
		{&Error{HTTPStatus: 404, Type: "invalid_request_error", Message: "Unrecognized request URL"}, false},
		{&Error{HTTPStatus: 400, Code: "resource_missing"}, false},
		{errors.New("not found"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsNotFound(tt.err); got != tt.want {
			t.Errorf("IsNotFound(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
