package catalog

import "fmt"

// builtinTables are the tables of Builtin: the nine of the connector
// contract plus Products, Charges, PaymentMethods, Subscriptions and
// TestClocks (which the others' full reads need).
var builtinTables = []string{
	"Accounts", "Cards", "Charges", "Customers", "InvoiceItems", "Invoices", "PaymentIntents",
	"PaymentMethods", "Prices", "Products", "Quotes", "Refunds", "Subscriptions", "TestClocks",
}

// curatedTables returns every table: the generated ones with the curated layer
// applied, by name. Each call builds fresh values, which callers may
// modify.
func curatedTables() map[string]*Table {
	byName := map[string]*Table{}
	for _, t := range generatedTables() {
		byName[t.Name] = t
	}
	curate(byName)
	return byName
}

// All returns the catalog of every Stripe resource the spec lists, as
// generated from Stripe's OpenAPI spec and curated (curated.go), with the
// spec's action endpoints as actions.
func All() *Catalog {
	byName := curatedTables()
	list := make([]*Table, 0, len(byName))
	for _, t := range byName {
		list = append(list, t)
	}
	c, err := NewWithActions(list, curateActions(generatedActions()))
	if err != nil {
		// The entries are constants of this package; an invalid one is a
		// programming error caught by the package's tests.
		panic(err)
	}
	return c
}

// Builtin returns the catalog of the connector contract's tables (see
// builtinTables), without actions: the tables the embedded emulator
// serves.
func Builtin() *Catalog {
	byName := curatedTables()
	list := make([]*Table, 0, len(builtinTables))
	for _, name := range builtinTables {
		t, ok := byName[name]
		if !ok {
			panic(fmt.Sprintf("catalog: builtin table %s is not generated", name))
		}
		list = append(list, t)
	}
	c, err := New(list...)
	if err != nil {
		panic(err)
	}
	return c
}
