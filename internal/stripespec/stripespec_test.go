package stripespec

import "testing"

func TestLoadThePinnedSpec(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Version == "" || len(s.Endpoints()) < 500 || len(s.Schemas) < 1000 {
		t.Fatalf("version %q, %d endpoints, %d schemas", s.Version, len(s.Endpoints()), len(s.Schemas))
	}
	op := s.Operation("GET", "/v1/customers")
	items, ok := s.IsList(s.ResponseSchema(op))
	if !ok || s.ObjectName(items) != "customer" {
		t.Fatalf("GET /v1/customers: list %v of %q", ok, s.ObjectName(items))
	}
	cus := s.Resolve(items)
	if exp := s.Expansions(cus.Properties["test_clock"]); len(exp) != 1 || exp[0] != "test_helpers.test_clock" {
		t.Errorf("customer.test_clock expands to %v", exp)
	}
	addr, nullable := s.Unwrap(cus.Properties["address"])
	if addr == nil || addr.Properties["city"] == nil || !nullable {
		t.Errorf("customer.address unwraps to %+v (nullable %v)", addr, nullable)
	}
	if body, ct := s.BodySchema(s.Operation("POST", "/v1/customers")); body == nil || ct != "application/x-www-form-urlencoded" || body.Properties["email"] == nil {
		t.Errorf("POST /v1/customers body %v %q", body != nil, ct)
	}
	if got := s.ResponseType(s.Operation("POST", "/v1/invoices/{invoice}/finalize")); got != "invoice" {
		t.Errorf("finalize returns %q", got)
	}
}
