package mirror

import (
	"slices"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/stripespec"
)

// TestEventTypesMatchSpec checks the curated event map against the event
// types of the spec the catalog is generated from.
func TestEventTypesMatchSpec(t *testing.T) {
	spec, err := stripespec.Load()
	if err != nil {
		t.Fatal(err)
	}
	op := spec.Paths["/v1/webhook_endpoints"].Post
	body, _ := spec.BodySchema(op)
	prop := spec.Resolve(body.Properties["enabled_events"])
	items := spec.Resolve(prop.Items)
	inSpec := map[string]bool{}
	for _, v := range stripespec.EnumStrings(items) {
		if v != "*" {
			inSpec[v] = true
		}
	}
	if len(inSpec) < 200 {
		t.Fatalf("%d event types in the spec, want the full enum (200+)", len(inSpec))
	}
	curated := map[string]bool{}
	for prefix, e := range eventTypes {
		for _, v := range e.verbs {
			curated[prefix+"."+v] = true
		}
	}
	for typ := range inSpec {
		if !curated[typ] {
			t.Errorf("event type %s of the spec is not in eventTypes", typ)
		}
	}
	for typ := range curated {
		if !inSpec[typ] {
			t.Errorf("eventTypes names %s, which the spec does not have", typ)
		}
	}
}

func TestMirrorable(t *testing.T) {
	cat := catalog.All()
	objects := map[string]bool{}
	for _, e := range eventTypes {
		for _, o := range splitObjects(e.object) {
			objects[o] = true
		}
	}
	var names []string
	for _, tb := range Mirrorable(cat) {
		names = append(names, tb.Name)
		if !objects[tb.Object] {
			t.Errorf("%s is mirrorable, but no event carries a %s", tb.Name, tb.Object)
		}
	}
	for name := range mirrorable {
		if _, ok := cat.Lookup(name); !ok {
			t.Errorf("mirrorable names %s, which the catalog does not have", name)
		}
	}
	for name := range notMirrorable {
		if _, ok := cat.Lookup(name); !ok {
			t.Errorf("notMirrorable names %s, which the catalog does not have", name)
		}
	}
	for _, want := range []string{"Customers", "Invoices", "Subscriptions", "Charges", "Cards", "Prices"} {
		if !slices.Contains(names, want) {
			t.Errorf("Mirrorable lacks %s", want)
		}
	}
	for _, not := range []string{"PaymentIntents", "Events", "Balance", "InvoiceItems"} {
		tb, _ := cat.Lookup(not)
		if slices.Contains(names, not) || NotMirrorable(tb) == "" {
			t.Errorf("%s is mirrorable, want not (with a reason)", not)
		}
	}
	tb, _ := cat.Lookup("PaymentIntents")
	if r := NotMirrorable(tb); !strings.Contains(r, "payment_intent.updated") {
		t.Errorf("NotMirrorable(PaymentIntents) = %q, want the missing event named", r)
	}
}
