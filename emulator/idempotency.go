package emulator

import (
	"net/http"
	"net/url"
)

// A replay is the stored outcome of a POST sent with an Idempotency-Key.
type replay struct {
	fingerprint string // method, path and canonical body of the first request
	status      int
	body        []byte
}

// idempotencyScope keys stored responses per account, as Stripe does.
func idempotencyScope(account, key string) string { return account + "\x00" + key }

func fingerprint(method, path string, form url.Values) string {
	return method + " " + path + "?" + form.Encode()
}

// storable reports whether Stripe keeps a response for replay: it does once
// the endpoint started executing, so successes, declines and server errors
// are kept, but validation errors are not and may be retried with the same
// key.
func storable(status int) bool {
	return status < http.StatusBadRequest || status == http.StatusPaymentRequired || status >= http.StatusInternalServerError
}
