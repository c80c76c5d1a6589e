package stripeapi

import (
	"net/http"
	"regexp"
)

// permissionRE finds the permission Stripe names in a 403 for a restricted
// key: "... Having the 'rak_customer_read' permission would allow this
// request to continue."
var permissionRE = regexp.MustCompile(`'(rak_[A-Za-z0-9_]+)'`)

// MissingPermission returns the restricted-key permission a 403 from
// Stripe names (e.g. "rak_customer_read"), or "" if there is none.
func (e *Error) MissingPermission() string {
	if e.HTTPStatus != http.StatusForbidden {
		return ""
	}
	if m := permissionRE.FindStringSubmatch(e.Message); m != nil {
		return m[1]
	}
	return ""
}

// authSummary is the plain-words prefix of Error for the statuses a user
// fixes in the configuration rather than in the query: a rejected key
// (401), a key without the permission (403), a proxy refusing its
// credentials (407). It is "" for any other status.
func (e *Error) authSummary() string {
	switch e.HTTPStatus {
	case http.StatusUnauthorized:
		return "authentication failed (Stripe rejected the API key): "
	case http.StatusForbidden:
		if p := e.MissingPermission(); p != "" {
			return "permission denied (the API key lacks the permission " + p + "): "
		}
		return "permission denied (the API key may not do this; a restricted key may lack a permission): "
	case http.StatusProxyAuthRequired:
		return "proxy authentication failed (the proxy did not accept the proxy user, password or auth scheme): "
	}
	return ""
}
