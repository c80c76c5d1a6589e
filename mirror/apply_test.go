package mirror

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// applyAll applies events as one poll page would.
func applyAll(t *testing.T, m *Mirror, evs ...event) {
	t.Helper()
	if err := m.applyEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
}

func ev(id, typ string, created int64, obj map[string]any) event {
	return event{id: id, typ: typ, created: created, object: jsonObject(obj)}
}

func name(t *testing.T, m *Mirror, id string) any {
	t.Helper()
	got := all(t, m, "Customers", Query{IDs: []string{id}})
	if len(got) != 1 {
		return nil
	}
	return got[0]["name"]
}

func TestOlderSnapshotNeverOverwritesNewer(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	applyAll(t, m, ev("evt_2", "customer.updated", 110, cus("cus_x", 50, "name", "v2")))
	applyAll(t, m, ev("evt_1", "customer.created", 100, cus("cus_x", 50, "name", "v1"))) // late, older
	if got := name(t, m, "cus_x"); got != "v2" {
		t.Errorf("after a late older event name = %v, want v2", got)
	}
	applyAll(t, m, ev("evt_3", "customer.updated", 111, cus("cus_x", 50, "name", "v3")))
	if got := name(t, m, "cus_x"); got != "v3" {
		t.Errorf("after a newer event name = %v, want v3", got)
	}
	if n := count(t, m, "Customers"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	if len(e.fake.gets) != 0 {
		t.Errorf("re-fetches %v, want none (no tie)", e.fake.gets)
	}
}

func TestTombstoneStopsResurrection(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	applyAll(t, m,
		ev("evt_1", "customer.created", 100, cus("cus_x", 100, "name", "v1")),
		ev("evt_3", "customer.deleted", 120, cus("cus_x", 100, "name", "v2")),
	)
	// Late arrivals: an update from before the deletion, and even one
	// stamped after it (a deleted id never comes back on Stripe).
	applyAll(t, m,
		ev("evt_2", "customer.updated", 115, cus("cus_x", 100, "name", "v2")),
		ev("evt_4", "customer.updated", 130, cus("cus_x", 100, "name", "v3")),
	)
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Errorf("Objects = %v, want nothing (deleted)", ids(got))
	}
	if got := all(t, m, "Customers", Query{IDs: []string{"cus_x"}}); len(got) != 0 {
		t.Errorf("point read = %v, want nothing (deleted)", ids(got))
	}
	if n := count(t, m, "Customers"); n != 0 {
		t.Errorf("Count = %d, want 0", n)
	}
	// A deletion of an object never seen leaves a tombstone too.
	applyAll(t, m, ev("evt_6", "customer.deleted", 140, cus("cus_y", 90)))
	applyAll(t, m, ev("evt_5", "customer.created", 90, cus("cus_y", 90)))
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Errorf("Objects = %v, want nothing (cus_y deleted before its creation arrived)", ids(got))
	}
	// A cancelled subscription ("customer.subscription.deleted") stays.
	if (event{typ: "customer.subscription.deleted", object: map[string]any{"status": "canceled"}}).deletes() {
		t.Error("customer.subscription.deleted counted as a deletion; Stripe keeps cancelled subscriptions")
	}
}

func TestSameSecondConflictRefetches(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	e.fake.objects["/v1/customers/cus_x"] = cus("cus_x", 50, "name", "from stripe")
	applyAll(t, m, ev("evt_1", "customer.updated", 100, cus("cus_x", 50, "name", "a")))
	// Same second, same values: nothing to settle.
	applyAll(t, m, ev("evt_1b", "customer.updated", 100, cus("cus_x", 50, "name", "a")))
	if len(e.fake.gets) != 0 {
		t.Fatalf("re-fetches %v after an identical same-second snapshot, want none", e.fake.gets)
	}
	// Same second, other values: the order is unknown, Stripe decides.
	applyAll(t, m, ev("evt_2", "customer.updated", 100, cus("cus_x", 50, "name", "b")))
	if !slices.Equal(e.fake.gets, []string{"/v1/customers/cus_x"}) {
		t.Fatalf("re-fetches %v, want one of /v1/customers/cus_x", e.fake.gets)
	}
	if got := name(t, m, "cus_x"); got != "from stripe" {
		t.Errorf("name = %v, want the re-fetched one", got)
	}
	// The conflicting event counts as applied: seen again, it is skipped.
	applyAll(t, m, ev("evt_2", "customer.updated", 100, cus("cus_x", 50, "name", "b")))
	if len(e.fake.gets) != 1 {
		t.Errorf("re-fetches %v after the same event again, want still one", e.fake.gets)
	}
	// A re-fetch that finds nothing deletes.
	delete(e.fake.objects, "/v1/customers/cus_x")
	e.fake.objects["/v1/customers/cus_x"] = nil
	e.clock.add(0)
	sec := e.clock.now().Unix()
	applyAll(t, m, ev("evt_3", "customer.updated", sec, cus("cus_x", 50, "name", "c")))
	applyAll(t, m, ev("evt_4", "customer.updated", sec, cus("cus_x", 50, "name", "d")))
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Errorf("after a re-fetch 404 Objects = %v, want nothing", ids(got))
	}
}

func TestAppliedIsReadYourWrites(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	sec := e.clock.now().Unix()
	applyAll(t, m, ev("evt_1", "customer.updated", sec-10, cus("cus_x", 50, "name", "old")))
	if err := m.Applied(t.Context(), "Customers", jsonObject(cus("cus_x", 50, "name", "written")), false); err != nil {
		t.Fatal(err)
	}
	if got := name(t, m, "cus_x"); got != "written" {
		t.Fatalf("after Applied name = %v, want written", got)
	}
	// An event of the write's own second with the same snapshot changes
	// nothing; one of an earlier second is older.
	applyAll(t, m,
		ev("evt_2", "customer.updated", sec, cus("cus_x", 50, "name", "written")),
		ev("evt_0", "customer.updated", sec-5, cus("cus_x", 50, "name", "older")),
	)
	if got := name(t, m, "cus_x"); got != "written" {
		t.Errorf("name = %v, want written", got)
	}
	if len(e.fake.gets) != 0 {
		t.Errorf("re-fetches %v, want none", e.fake.gets)
	}
}

func TestNestedEventsAndCascade(t *testing.T) {
	e := newEnv(t, "Customers", "Cards")
	m := e.openStore()
	card := func(id, customer string) map[string]any {
		return map[string]any{"id": id, "object": "card", "customer": customer, "last4": "4242"}
	}
	applyAll(t, m,
		ev("evt_1", "customer.created", 100, cus("cus_a", 100)),
		ev("evt_2", "customer.source.created", 101, card("card_1", "cus_a")),
		ev("evt_3", "customer.source.created", 101, card("card_2", "cus_a")),
		// A connected account's card is not one of Cards' rows.
		ev("evt_4", "account.external_account.created", 101, map[string]any{"id": "card_3", "object": "card", "account": "acct_1"}),
	)
	if got := sortedIDs(all(t, m, "Cards", Query{})); !slices.Equal(got, []string{"card_1", "card_2"}) {
		t.Fatalf("Cards = %v, want [card_1 card_2]", got)
	}
	if got := sortedIDs(all(t, m, "Cards", Query{Equal: map[string][]string{"customer": {"cus_a"}}})); !slices.Equal(got, []string{"card_1", "card_2"}) {
		t.Errorf("Cards of cus_a = %v, want [card_1 card_2]", got)
	}
	applyAll(t, m, ev("evt_5", "customer.source.deleted", 102, card("card_2", "cus_a")))
	if got := sortedIDs(all(t, m, "Cards", Query{})); !slices.Equal(got, []string{"card_1"}) {
		t.Errorf("after card_2 deleted Cards = %v, want [card_1]", got)
	}
	// Deleting the customer takes its cards: live reads list them through it.
	applyAll(t, m, ev("evt_6", "customer.deleted", 103, cus("cus_a", 100)))
	if got := all(t, m, "Cards", Query{}); len(got) != 0 {
		t.Errorf("after the customer's deletion Cards = %v, want none", ids(got))
	}
	if n := count(t, m, "Cards"); n != 0 {
		t.Errorf("Count(Cards) = %d, want 0", n)
	}
}

func TestEventOfAnObjectWithoutIDIsSkipped(t *testing.T) {
	e := newEnv(t, "Invoices")
	m := e.openStore()
	// invoice.upcoming carries a preview: an invoice without an id.
	applyAll(t, m,
		ev("evt_1", "invoice.upcoming", 100, map[string]any{"object": "invoice", "amount_due": 100}),
		ev("evt_2", "invoice.created", 101, map[string]any{"id": "in_1", "object": "invoice", "created": 101}),
	)
	if got := ids(all(t, m, "Invoices", Query{})); !slices.Equal(got, []string{"in_1"}) {
		t.Errorf("Invoices = %v, want [in_1]", got)
	}
	if n := appliedIDs(t, m); n != 2 {
		t.Errorf("%d events recorded as applied, want 2 (the preview is consumed, not retried)", n)
	}
}

// TestRefetchNotFoundIsASoftTombstone: a re-fetch that finds nothing hides
// the object, but a snapshot of a later second shows it again (Stripe may
// answer 404 for an object out of sight: a customer behind its test
// clock); a deletion event's tombstone stays final.
func TestRefetchNotFoundIsASoftTombstone(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	sec := e.clock.now().Unix()
	e.fake.objects["/v1/customers/cus_x"] = nil // 404
	applyAll(t, m, ev("evt_1", "customer.updated", sec, cus("cus_x", 50, "name", "a")))
	applyAll(t, m, ev("evt_2", "customer.updated", sec, cus("cus_x", 50, "name", "b")))
	if !slices.Equal(e.fake.gets, []string{"/v1/customers/cus_x"}) {
		t.Fatalf("re-fetches %v, want one of cus_x", e.fake.gets)
	}
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Fatalf("after a re-fetch 404 Objects = %v, want nothing", ids(got))
	}
	// An older snapshot does not bring it back; a later one does.
	applyAll(t, m, ev("evt_0", "customer.updated", sec-1, cus("cus_x", 50, "name", "old")))
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Errorf("an older snapshot brought it back: %v", ids(got))
	}
	applyAll(t, m, ev("evt_3", "customer.updated", sec+1, cus("cus_x", 50, "name", "d")))
	if got := name(t, m, "cus_x"); got != "d" {
		t.Errorf("after a later event name = %v, want d (the 404 was no deletion)", got)
	}
	if n := count(t, m, "Customers"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	// A deletion event is final.
	applyAll(t, m, ev("evt_4", "customer.deleted", sec+2, cus("cus_x", 50, "name", "d")))
	applyAll(t, m, ev("evt_5", "customer.updated", sec+3, cus("cus_x", 50, "name", "e")))
	if got := all(t, m, "Customers", Query{}); len(got) != 0 {
		t.Errorf("after a deletion event Objects = %v, want nothing", ids(got))
	}
}

func prod(id string, created int64, name string) map[string]any {
	return map[string]any{"id": id, "object": "product", "created": created, "name": name}
}

func productName(t *testing.T, m *Mirror, id string) any {
	t.Helper()
	got := all(t, m, "Products", Query{IDs: []string{id}})
	if len(got) != 1 {
		return nil
	}
	return got[0]["name"]
}

// TestChosenIDComesBackAfterItsDeletion: a product (like a coupon or a
// plan) takes an id its creator chooses, and one deleted can be created
// again with that id: its tombstone gives way to a later creation, a
// deletion of the stored snapshot's second is checked with Stripe, and a
// write's answer after the deletion shows.
func TestChosenIDComesBackAfterItsDeletion(t *testing.T) {
	e := newEnv(t, "Products", "Customers")
	m := e.openStore()
	sec := e.clock.now().Unix()

	// Seconds apart, seen out of order.
	applyAll(t, m,
		ev("evt_1", "product.created", sec-10, prod("prod_a", sec-10, "v1")),
		ev("evt_2", "product.deleted", sec-8, prod("prod_a", sec-10, "v1")),
	)
	if got := productName(t, m, "prod_a"); got != nil {
		t.Fatalf("after its deletion prod_a = %v, want none", got)
	}
	applyAll(t, m, ev("evt_3", "product.created", sec-5, prod("prod_a", sec-5, "v2")))
	if got := productName(t, m, "prod_a"); got != "v2" {
		t.Errorf("after its re-creation prod_a = %v, want v2", got)
	}
	applyAll(t, m, ev("evt_1b", "product.updated", sec-9, prod("prod_a", sec-10, "v1b"))) // late, before the deletion
	if got := productName(t, m, "prod_a"); got != "v2" {
		t.Errorf("after a late update of the first product prod_a = %v, want v2", got)
	}
	// Deleted again; a creation between the two deletions, seen late, is
	// older than the tombstone.
	applyAll(t, m, ev("evt_6", "product.deleted", sec-3, prod("prod_a", sec-5, "v2")))
	applyAll(t, m, ev("evt_5", "product.created", sec-4, prod("prod_a", sec-4, "v3")))
	if got := productName(t, m, "prod_a"); got != nil {
		t.Errorf("after the second deletion and a late creation before it prod_a = %v, want none", got)
	}
	if len(e.fake.gets) != 0 {
		t.Errorf("re-fetches %v, want none (no two changes of one second)", e.fake.gets)
	}

	// A deletion and a creation of one second: Stripe decides.
	e.fake.objects["/v1/products/prod_b"] = prod("prod_b", sec, "from stripe")
	applyAll(t, m,
		ev("evt_7", "product.created", sec, prod("prod_b", sec, "b")),
		ev("evt_8", "product.deleted", sec, prod("prod_b", sec, "b")),
	)
	if got := productName(t, m, "prod_b"); got != "from stripe" {
		t.Errorf("after a creation and a deletion of one second prod_b = %v, want the re-fetched (it exists)", got)
	}
	e.fake.objects["/v1/products/prod_c"] = nil // 404: deleted
	applyAll(t, m,
		ev("evt_9", "product.created", sec, prod("prod_c", sec, "c")),
		ev("evt_10", "product.deleted", sec, prod("prod_c", sec, "c")),
	)
	if got := productName(t, m, "prod_c"); got != nil {
		t.Errorf("prod_c = %v, want none (Stripe has it deleted)", got)
	}
	e.fake.objects["/v1/products/prod_c"] = prod("prod_c", sec, "again") // created again in that second
	applyAll(t, m, ev("evt_11", "product.created", sec, prod("prod_c", sec, "again")))
	if got := productName(t, m, "prod_c"); got != "again" {
		t.Errorf("after its re-creation in the second of its deletion prod_c = %v, want again", got)
	}
	if want := []string{"/v1/products/prod_b", "/v1/products/prod_c", "/v1/products/prod_c"}; !slices.Equal(e.fake.gets, want) {
		t.Errorf("re-fetches %v, want %v", e.fake.gets, want)
	}

	// Read your writes: deleted and created again through stripesql.
	ctx := t.Context()
	for i, step := range []struct {
		obj     map[string]any
		deleted bool
	}{{prod("prod_w", sec, "w1"), false}, {map[string]any{"id": "prod_w", "object": "product", "deleted": true}, true}, {prod("prod_w", sec, "w2"), false}} {
		e.clock.add(time.Millisecond)
		if err := m.Applied(ctx, "Products", jsonObject(step.obj), step.deleted); err != nil {
			t.Fatalf("Applied step %d: %v", i, err)
		}
	}
	if got := productName(t, m, "prod_w"); got != "w2" {
		t.Errorf("after a write deleted and created again prod_w = %v, want w2", got)
	}
	if n := count(t, m, "Products"); n != 3 {
		t.Errorf("Count(Products) = %d, want 3 (prod_b, prod_c, prod_w)", n)
	}
	// An id Stripe made is never used again: a write's answer after its
	// deletion is not shown, and Applied says so.
	if err := m.Applied(ctx, "Customers", jsonObject(cus("cus_d", 1)), true); err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Second)
	if err := m.Applied(ctx, "Customers", jsonObject(cus("cus_d", 1, "name", "late")), false); !errors.Is(err, ErrDeletedInMirror) || !strings.Contains(err.Error(), "Customers cus_d") {
		t.Errorf("Applied of a deleted customer = %v, want %v naming it", err, ErrDeletedInMirror)
	}
}
