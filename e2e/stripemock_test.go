package e2e

import (
	"strings"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/internal/specvalidate"
)

// Plain stripe-mock answers every endpoint with a canned object shaped
// exactly as Stripe's spec says: each table must decode one into a row.
func TestStripeMockObjectsDecodeForEveryTable(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, nil, mock, catalog.Builtin())
	for _, def := range catalog.Builtin().Tables() {
		if def.Name == "Cards" {
			continue // below
		}
		rows := e.query(t, "SELECT * FROM "+def.Name+" LIMIT 1")
		if len(rows) != 1 {
			t.Errorf("%s: %d rows from stripe-mock, want 1", def.Name, len(rows))
			continue
		}
		if id := rows[0][0].String; id == "" || !strings.Contains(id, "_") {
			t.Errorf("%s: Id = %q, want a Stripe id", def.Name, id)
		}
	}
}

// A customer's sources are polymorphic, and stateless stripe-mock answers
// /sources?object=card with a bank account (which Cards rightly skips). Its
// typed /cards endpoint returns the spec's card shape, so Cards' columns are
// checked against that.
func TestStripeMockCardDecodes(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	cards, _ := catalog.Builtin().Lookup("Cards")
	viaCards := *cards
	viaCards.ListPath = "/v1/customers/{customer}/cards"
	viaCards.ListParams = nil
	cat, err := catalog.New(&viaCards, mustLookup(t, "Customers"), mustLookup(t, "TestClocks"))
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, nil, mock, cat)
	rows := e.query(t, "SELECT Id, CustomerId, Brand, ExpYear FROM Cards WHERE CustomerId = 'cus_1' LIMIT 1")
	if len(rows) != 1 || !strings.HasPrefix(rows[0][0].String, "card_") || rows[0][1].String != "cus_1" || rows[0][2].String == "" || rows[0][3].String == "" {
		t.Fatalf("rows = %v", rows)
	}
	// Through /sources, stripe-mock's bank account is not a card: no row.
	e = startOn(t, nil, mock, catalog.Builtin())
	if rows := e.query(t, "SELECT Id FROM Cards WHERE CustomerId = 'cus_1'"); len(rows) != 0 {
		t.Errorf("a bank account became a Cards row: %v", rows)
	}
}

func mustLookup(t *testing.T, name string) *catalog.Table {
	t.Helper()
	def, ok := catalog.Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no table %s", name)
	}
	return def
}

// The spec check has teeth: a catalog entry with a misspelled list filter
// makes the query fail instead of silently reaching the emulator.
func TestMisspelledFilterIsRejectedBySpec(t *testing.T) {
	good := catalog.Builtin()
	customers, _ := good.Lookup("Customers")
	broken := *customers
	broken.Filters = append([]catalog.Filter(nil), customers.Filters...)
	for i := range broken.Filters {
		if broken.Filters[i].Param == "email" {
			broken.Filters[i].Param = "emial"
		}
	}
	cat, err := catalog.New(&broken, mustLookup(t, "TestClocks"))
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.NewDemo()
	validated, err := specvalidate.Wrap(emu)
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, emu, validated, cat)
	_, err = e.db.Query("SELECT * FROM Customers WHERE Email = 'a@b.c'")
	if err == nil || !strings.Contains(err.Error(), "emial") && !strings.Contains(err.Error(), "400") {
		t.Fatalf("err = %v; want stripe-mock's rejection of the emial parameter", err)
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.RawQuery, "emial") {
			t.Errorf("the misspelled request reached the emulator: %s?%s", r.Path, r.RawQuery)
		}
	}
}
