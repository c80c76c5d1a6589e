package stripeapi

import "testing"

func TestEndpointTemplate(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/customers":                                "/v1/customers",
		"/v1/customers/cus_NffrFeUfNV2Hib":             "/v1/customers/{id}",
		"/v1/customers/cus_Nffr/sources?limit=100":     "/v1/customers/{id}/sources",
		"/v1/payment_intents/pi_3MtwBw/capture":        "/v1/payment_intents/{id}/capture",
		"/v1/customers/search":                         "/v1/customers/search",
		"/v1/test_helpers/test_clocks/clock_1/advance": "/v1/test_helpers/test_clocks/{id}/advance",
		"/v1/billing/meters/mtr_61Q":                   "/v1/billing/meters/{id}",
	} {
		if got := EndpointTemplate(path); got != want {
			t.Errorf("EndpointTemplate(%q) = %q, want %q", path, got, want)
		}
	}
	if !IsRetrieve("/v1/charges/ch_1") || IsRetrieve("/v1/charges") || IsRetrieve("/v1/customers/cus_1/sources") {
		t.Error("IsRetrieve misclassifies")
	}
}
