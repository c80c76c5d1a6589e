package mirror

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/stripeapi"
)

// TestFollowsTheEmulatorWithReorderedEvents writes customers at the
// emulator (creates, updates, deletes) while the mirror follows its event
// stream, whose events become visible late and out of order; afterwards
// the mirror holds exactly what a live list shows.
func TestFollowsTheEmulatorWithReorderedEvents(t *testing.T) {
	emu := emulator.New(emulator.WithEventDelay(100*time.Millisecond), emulator.WithEventReorder(700*time.Millisecond))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_mirror", Rate: -1, SearchRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	list := func(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
		it := client.List(ctx, "/v1/customers", nil)
		for it.Next() {
			if err := emit(it.Object()); err != nil {
				return err
			}
		}
		return it.Err()
	}
	create := func(name string) string {
		o, err := client.Post(ctx, "/v1/customers", stripeapi.Params{{Key: "name", Value: name}})
		if err != nil {
			t.Fatal(err)
		}
		return o.ID()
	}
	var live []string
	for i := range 20 {
		live = append(live, create(fmt.Sprint("before ", i)))
	}

	cat, tbs := testCatalogTables(t, "Customers")
	m, err := Open(ctx, Config{
		Dir: t.TempDir(), Tables: tbs, Catalog: cat, Client: client, Interval: 20 * time.Millisecond,
		ReadAll: list, Overlap: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		switch r := rng.IntN(10); {
		case r < 3 || len(live) == 0:
			live = append(live, create(fmt.Sprint("during ", i)))
		case r < 9:
			id := live[rng.IntN(len(live))]
			if _, err := client.Post(ctx, "/v1/customers/"+id, stripeapi.Params{{Key: "name", Value: fmt.Sprint("update ", i)}}); err != nil {
				t.Fatal(err)
			}
		default:
			k := rng.IntN(len(live))
			if _, err := client.Delete(ctx, "/v1/customers/"+live[k], nil); err != nil {
				t.Fatal(err)
			}
			live = slices.Delete(live, k, k+1)
		}
	}
	// Wait until every event is listable, then for the mirror to poll.
	var last time.Time
	for _, ev := range emu.Events() {
		if ev.VisibleAt.After(last) {
			last = ev.VisibleAt
		}
	}
	time.Sleep(time.Until(last))
	waitReady(t, m)

	want := map[string]string{}
	if err := list(ctx, "Customers", func(o stripeapi.Object) error {
		want[o.ID()], _ = o["name"].(string)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range all(t, m, "Customers", Query{}) {
		got[o.ID()], _ = o["name"].(string)
	}
	if len(got) != len(want) || len(want) != len(live) {
		t.Errorf("mirror holds %d customers, live %d (%d expected)", len(got), len(want), len(live))
	}
	for id, name := range want {
		if got[id] != name {
			t.Errorf("%s: mirror name %q, live %q", id, got[id], name)
		}
	}
	if n := count(t, m, "Customers"); n != int64(len(want)) {
		t.Errorf("Count = %d, want %d", n, len(want))
	}
	if st := m.Status()[0]; st.EventsApplied < 150 {
		t.Errorf("Status = %+v, want at least 150 events applied", st)
	}
}

// TestFollowsNestedCardsAtTheEmulator: a customer's cards come as
// customer.source.* events, go to Cards by their customer, and leave with
// the card's deletion or the customer's.
func TestFollowsNestedCardsAtTheEmulator(t *testing.T) {
	emu := emulator.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_mirror", Rate: -1, SearchRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cat, tbs := testCatalogTables(t, "Customers", "Cards")
	m, err := Open(ctx, Config{
		Dir: t.TempDir(), Tables: tbs, Catalog: cat, Client: client, Interval: 20 * time.Millisecond,
		ReadAll: func(context.Context, string, func(stripeapi.Object) error) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	waitReady(t, m)

	post := func(path string, params stripeapi.Params) stripeapi.Object {
		o, err := client.Post(ctx, path, params)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		return o
	}
	cusA := post("/v1/customers", nil).ID()
	cusB := post("/v1/customers", nil).ID()
	card1 := post("/v1/customers/"+cusA+"/sources", stripeapi.Params{{Key: "source", Value: "tok_visa"}}).ID()
	card2 := post("/v1/customers/"+cusA+"/sources", stripeapi.Params{{Key: "source", Value: "tok_mastercard"}}).ID()
	card3 := post("/v1/customers/"+cusB+"/sources", stripeapi.Params{{Key: "source", Value: "tok_visa"}}).ID()
	caughtUp(t, m)
	if got := sortedIDs(all(t, m, "Cards", Query{})); !slices.Equal(got, slices.Sorted(slices.Values([]string{card1, card2, card3}))) {
		t.Fatalf("Cards = %v, want %v", got, []string{card1, card2, card3})
	}
	if got := sortedIDs(all(t, m, "Cards", Query{Equal: map[string][]string{"customer": {cusB}}})); !slices.Equal(got, []string{card3}) {
		t.Errorf("Cards of %s = %v, want [%s]", cusB, got, card3)
	}

	if _, err := client.Delete(ctx, "/v1/customers/"+cusA+"/sources/"+card1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Delete(ctx, "/v1/customers/"+cusB, nil); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, m)
	if got := sortedIDs(all(t, m, "Cards", Query{})); !slices.Equal(got, []string{card2}) {
		t.Errorf("after deleting %s and customer %s: Cards = %v, want [%s]", card1, cusB, got, card2)
	}
	if got := sortedIDs(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{cusA}) {
		t.Errorf("Customers = %v, want [%s]", got, cusA)
	}
	if n := count(t, m, "Cards"); n != 1 {
		t.Errorf("Count(Cards) = %d, want 1", n)
	}
}

// TestProductWithAChosenIDDeletedAndCreatedAgainAtTheEmulator: a product
// created with an id of the caller's choosing, deleted and created again
// with that id, at the emulator directly (events late and out of order)
// and as a write through stripesql does (Stripe's answer handed to
// Applied): the mirror shows it every time.
func TestProductWithAChosenIDDeletedAndCreatedAgainAtTheEmulator(t *testing.T) {
	emu := emulator.New(emulator.WithEventDelay(50*time.Millisecond), emulator.WithEventReorder(300*time.Millisecond))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_mirror", Rate: -1, SearchRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cat, tbs := testCatalogTables(t, "Products")
	m, err := Open(ctx, Config{
		Dir: t.TempDir(), Tables: tbs, Catalog: cat, Client: client, Interval: 20 * time.Millisecond, Overlap: 5 * time.Second,
		ReadAll: func(ctx context.Context, _ string, emit func(stripeapi.Object) error) error {
			it := client.List(ctx, "/v1/products", nil)
			for it.Next() {
				if err := emit(it.Object()); err != nil {
					return err
				}
			}
			return it.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	waitReady(t, m)

	// settled waits until every event is listable and the mirror has read it.
	settled := func() {
		t.Helper()
		var last time.Time
		for _, ev := range emu.Events() {
			if ev.VisibleAt.After(last) {
				last = ev.VisibleAt
			}
		}
		time.Sleep(time.Until(last))
		caughtUp(t, m)
	}
	shown := func(id string) any {
		t.Helper()
		got := all(t, m, "Products", Query{IDs: []string{id}})
		if len(got) != 1 {
			return nil
		}
		return got[0]["name"]
	}
	create := func(id, name string) stripeapi.Object {
		t.Helper()
		o, err := client.Post(ctx, "/v1/products", stripeapi.Params{{Key: "id", Value: id}, {Key: "name", Value: name}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	del := func(id string) stripeapi.Object {
		t.Helper()
		o, err := client.Delete(ctx, "/v1/products/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	// At the emulator directly, a poll between each step, then with the
	// deletion and the re-creation in one second, several times.
	create("prod_mine", "first")
	settled()
	del("prod_mine")
	settled()
	if got := shown("prod_mine"); got != nil {
		t.Fatalf("after its deletion prod_mine = %v, want none", got)
	}
	create("prod_mine", "second")
	settled()
	if got := shown("prod_mine"); got != "second" {
		t.Errorf("created again at the emulator: prod_mine = %v, want second", got)
	}
	for i := range 5 {
		name := fmt.Sprint("again ", i)
		del("prod_mine")
		create("prod_mine", name)
		settled()
		if got := shown("prod_mine"); got != name {
			t.Errorf("round %d, deleted and created again at once: prod_mine = %v, want %q", i, got, name)
		}
	}

	// As stripesql writes: each answer is applied before the next step.
	for i := range 3 {
		name := fmt.Sprint("written ", i)
		if err := m.Applied(ctx, "Products", del("prod_mine"), true); err != nil {
			t.Fatal(err)
		}
		if got := shown("prod_mine"); got != nil {
			t.Errorf("round %d: after the DELETE's answer prod_mine = %v, want none", i, got)
		}
		if err := m.Applied(ctx, "Products", create("prod_mine", name), false); err != nil {
			t.Fatalf("round %d: Applied of the re-creation: %v", i, err)
		}
		if got := shown("prod_mine"); got != name {
			t.Errorf("round %d: after the INSERT's answer prod_mine = %v, want %q (read your writes)", i, got, name)
		}
		settled()
		if got := shown("prod_mine"); got != name {
			t.Errorf("round %d: after the events prod_mine = %v, want %q", i, got, name)
		}
	}
	if n := count(t, m, "Products"); n != 1 {
		t.Errorf("Count(Products) = %d, want 1", n)
	}
}
