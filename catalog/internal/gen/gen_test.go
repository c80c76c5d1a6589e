package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The generated files are committed; they must be exactly what the
// generator makes of the pinned spec. After changing the generator or
// bumping stripe-mock, run go generate ./catalog/...
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	files, bd, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./catalog/...)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("catalog/%s differs from what the generator produces: run go generate ./catalog/...", name)
		}
	}
	t.Logf("%d tables, %d actions, %d endpoints left out, of %d", len(bd.tables), len(bd.actions), len(bd.omitted), len(bd.spec.Endpoints()))
}

// Every endpoint of the spec is a table's, a procedure's or left out with
// a reason, exactly once.
func TestEveryEndpointIsAccountedFor(t *testing.T) {
	_, bd, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, tb := range bd.tables {
		for role, path := range tb.specPaths {
			method := map[string]string{"list": "GET", "retrieve": "GET", "create": "POST", "update": "POST", "delete": "DELETE"}[role]
			roles[method+" "+path]++
		}
		if tb.Search != nil {
			roles["GET "+tb.Search.Path]++
		}
	}
	for _, a := range bd.actions {
		roles[a.Method+" "+a.Path]++
	}
	for _, o := range bd.omitted {
		if o.Reason == "" {
			t.Errorf("%s %s is left out without a reason", o.Method, o.Path)
		}
		roles[o.Method+" "+o.Path]++
	}
	for _, e := range bd.spec.Endpoints() {
		if roles[e.String()] == 0 {
			t.Errorf("%s is not accounted for", e)
		}
		delete(roles, e.String())
	}
	for k := range roles {
		t.Errorf("%s is not a spec endpoint", k)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"unit_amount": "UnitAmount", "checkout.session": "CheckoutSession", "address_line1": "AddressLine1",
		"test_helpers.test_clock": "TestHelpersTestClock",
	} {
		if got := pascal(in); got != want {
			t.Errorf("pascal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Customer": "Customers", "Entry": "Entries", "Tax": "Taxes", "Day": "Days", "BalanceSettings": "BalanceSettings",
	} {
		if got := plural(in); got != want {
			t.Errorf("plural(%q) = %q, want %q", in, got, want)
		}
		if got := singular(want); got != in {
			t.Errorf("singular(%q) = %q, want %q", want, got, in)
		}
	}
	if got := summary("The customer's [email](https://stripe.com/x) `address`. More text.", 100); got != "The customer's email address." {
		t.Errorf("summary = %q", got)
	}
}
