package catalog

import (
	"strings"
	"testing"
)

func TestBuiltinHasTheContractTables(t *testing.T) {
	c := Builtin()
	want := []string{"Accounts", "Cards", "Charges", "Customers", "InvoiceItems", "Invoices",
		"PaymentIntents", "PaymentMethods", "Prices", "Products", "Quotes", "Refunds", "Subscriptions", "TestClocks"}
	var got []string
	for _, tbl := range c.Tables() {
		got = append(got, tbl.Name)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tables = %v, want %v", got, want)
	}
	for _, alias := range []struct{ alias, table string }{{"customer", "Customers"}, {"PAYMENTINTENT", "PaymentIntents"}, {"cards", "Cards"}} {
		tbl, ok := c.Lookup(alias.alias)
		if !ok || tbl.Name != alias.table {
			t.Errorf("Lookup(%q) = %v, %v; want %s", alias.alias, tbl, ok, alias.table)
		}
	}
}

// The connector contract names these columns; users' SQL depends on them.
func TestContractColumnNames(t *testing.T) {
	c := Builtin()
	for table, cols := range map[string][]string{
		"Invoices":       {"CustomerId", "Description"},
		"Quotes":         {"CustomerId"},
		"Cards":          {"CustomerId", "Token", "AddressCountry"},
		"InvoiceItems":   {"Customer", "Currency", "Amount", "Quantity"},
		"PaymentIntents": {"PaymentMethod", "Currency", "Amount", "Description"},
		"Prices":         {"Currency", "Product", "UnitAmount", "Nickname"},
		"Refunds":        {"Charge", "Amount"},
		"Accounts":       {"Type", "BusinessProfileName"},
		"Customers":      {"Name", "Email", "Metadata"},
	} {
		tbl, ok := c.Lookup(table)
		if !ok {
			t.Fatalf("no table %s", table)
		}
		for _, name := range cols {
			if _, ok := tbl.Column(name); !ok {
				t.Errorf("%s has no column %s", table, name)
			}
		}
	}
}

func TestNewRejectsInvalidTables(t *testing.T) {
	base := func() *Table {
		return &Table{Name: "T", Object: "t", ListPath: "/v1/t", Columns: []Column{idColumn()}}
	}
	cases := map[string]func(*Table){
		"filter on unknown column": func(t *Table) { t.Filters = []Filter{eq("Nope", "nope")} },
		"duplicate column":         func(t *Table) { t.Columns = append(t.Columns, idColumn()) },
		"missing id":               func(t *Table) { t.Columns = nil },
		"update path without id":   func(t *Table) { t.UpdatePath = "/v1/t" },
		"parent placeholder":       func(t *Table) { t.Parent = &Parent{Table: "T", Column: "Id", Placeholder: "{p}"} },
	}
	for name, mutate := range cases {
		tbl := base()
		mutate(tbl)
		if _, err := New(tbl); err == nil {
			t.Errorf("%s: New accepted an invalid table", name)
		}
	}
	if _, err := New(base(), base()); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate table names: err = %v", err)
	}
}

func TestTestClockVisibilityNeedsTheTestClocksTable(t *testing.T) {
	customers, _ := Builtin().Lookup("Customers")
	if _, err := New(customers); err == nil || !strings.Contains(err.Error(), "TestClocks") {
		t.Errorf("a catalog hiding test-clock objects without a TestClocks table: err = %v", err)
	}
}

func TestUnmappedListsFieldsNoColumnHolds(t *testing.T) {
	cards, _ := Builtin().Lookup("Cards")
	obj := map[string]any{
		"id": "card_1", "object": "card", "brand": "Visa", "metadata": map[string]any{"k": "v"},
		"networks":  map[string]any{"preferred": nil, "available": []any{"visa"}},
		"new_field": true,
	}
	got := strings.Join(cards.Unmapped(obj), ",")
	if got != "networks.available,new_field" {
		t.Errorf("Unmapped = %s, want networks.available,new_field", got)
	}
	customers, _ := Builtin().Lookup("Customers")
	if got := customers.Unmapped(map[string]any{"id": "cus_1", "address": map[string]any{"city": "x", "line1": "y"}, "shipping": map[string]any{"deep": map[string]any{}}}); len(got) != 0 {
		t.Errorf("Unmapped = %v, want none (flattened address, JSON shipping)", got)
	}
}
