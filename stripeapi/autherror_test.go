package stripeapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthErrorsSayWhatToFix(t *testing.T) {
	const denied = "The provided key 'rk_test_***abcd' does not have the required permissions for this endpoint on account " +
		"'acct_1'. Having the 'rak_customer_read' permission would allow this request to continue."
	tests := []struct {
		err  Error
		want string
		perm string
	}{
		{Error{HTTPStatus: 401, Type: "invalid_request_error", Message: "Invalid API Key provided: sk_test_****abcd", RequestID: "req_1"},
			"stripe: authentication failed (Stripe rejected the API key): invalid_request_error: Invalid API Key provided: sk_test_****abcd [request req_1, HTTP 401]", ""},
		{Error{HTTPStatus: 403, Type: "invalid_request_error", Message: denied},
			"stripe: permission denied (the API key lacks the permission rak_customer_read): invalid_request_error: " + denied + " [HTTP 403]", "rak_customer_read"},
		{Error{HTTPStatus: 403, Type: "invalid_request_error", Message: "Forbidden."},
			"stripe: permission denied (the API key may not do this; a restricted key may lack a permission): invalid_request_error: Forbidden. [HTTP 403]", ""},
		{Error{HTTPStatus: 407, Message: "Proxy Authentication Required"},
			"stripe: proxy authentication failed (the proxy did not accept the proxy user, password or auth scheme): Proxy Authentication Required [HTTP 407]", ""},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
		if got := tt.err.MissingPermission(); got != tt.perm {
			t.Errorf("MissingPermission() = %q, want %q", got, tt.perm)
		}
	}
}

// TestRestrictedKeyDenied runs a call with a restricted key against a
// server answering as Stripe does for a missing permission.
func TestRestrictedKeyDenied(t *testing.T) {
	const key = "rk_live_51RestrictedCanary"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 403, `{"error":{"type":"invalid_request_error","message":"The provided key 'rk_live_***nary' does not have the `+
			`required permissions for this endpoint on account 'acct_1'. Having the 'rak_invoice_write' permission would allow this request to continue."}}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.APIKey = key })
	if c.Mode() != ModeLive {
		t.Errorf("mode of %s = %v", key, c.Mode())
	}
	_, err := c.Post(t.Context(), "/v1/invoices/in_1/finalize", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "stripe: permission denied (the API key lacks the permission rak_invoice_write): ") {
		t.Fatalf("err = %v", err)
	}
	if srv.hits() != 1 {
		t.Errorf("%d attempts; a 403 is not retried", srv.hits())
	}
	if got := srv.requests()[0].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q", got)
	}
}
