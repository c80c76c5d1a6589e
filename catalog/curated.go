package catalog

import (
	"fmt"
	"strings"
)

// The curated layer: what Stripe's spec cannot say, applied on top of the
// generated tables (zz_generated_tables.go). Each entry is a decision:
//
//   - the names users already know (the connector contract's CustomerId,
//     the singular aliases Customer and PaymentIntent, a card's write-only
//     Token), and the columns the hand-written catalog had that the spec's
//     shape does not give (BusinessProfileName beside the BusinessProfile
//     JSON, a price's Recurring as JSON beside its flattened columns);
//   - Stripe's default visibility: which list calls make up a whole table
//     (prices active and inactive, subscriptions of every status) and
//     which lists hide test-clock objects;
//   - what to do instead of an impossible DELETE (NoDeleteHint), and that
//     the email filter compares byte for byte (CaseSensitive);
//   - for the contract's tables, the order of list filters as the
//     hand-written catalog had it, which is the order their parameters
//     appear in requests.
//
// Everything else about a table (columns, types, filters, Search fields,
// endpoints, writability) comes from the spec.

// curate applies the hand-written layer to the generated tables, by name.
// It panics on an entry that no longer matches the generated tables, which
// the package's tests catch after a regeneration.
func curate(ts map[string]*Table) {
	t := func(name string) *curator {
		tbl, ok := ts[name]
		if !ok {
			panic("catalog: curated table " + name + " is not generated")
		}
		return &curator{t: tbl}
	}

	t("Customers").
		alias("Customer").
		caseSensitive("Email").
		testClocks(&TestClockVisibility{Param: "test_clock"}).
		filterOrder("Email", "Created", "TestClock")

	t("PaymentIntents").
		alias("PaymentIntent").
		rename("Customer", "CustomerId").
		notNull("Amount", "Currency").
		noDelete("Stripe cannot delete a payment intent; cancel it with CALL CancelPaymentIntent('pi_…')").
		filterOrder("CustomerId", "Created")

	t("Refunds").
		noDelete("Stripe cannot delete a refund; a pending refund can be canceled with CALL CancelRefund('re_…')").
		filterOrder("Charge", "PaymentIntent", "Created")

	t("Cards").
		add(Column{Name: "Token", Type: String, Nullable: true, CreateParam: "source",
			Comment: "write-only: a card token such as tok_visa, used by INSERT"}).
		comment("cards of a customer (WHERE CustomerId = … makes one call; without it every customer is visited)")

	t("Prices").
		scans([]Param{{"active", "true"}}, []Param{{"active", "false"}}).
		add(Column{Name: "Recurring", Type: JSON, Path: "recurring", Nullable: true, CreateParam: "recurring",
			Comment: "the recurring components of a price (interval, usage type) as JSON"}).
		noDelete("Stripe cannot delete a price; archive it with UPDATE Prices SET Active = false WHERE Id = …").
		filterOrder("Active", "Currency", "Product", "Type", "Created").
		comment("Stripe prices, active and inactive")

	t("Invoices").
		rename("Customer", "CustomerId").
		// Invoices no longer carry subscription or days_until_due at the
		// top level (API 2025-03-31); the columns, the subscription filter
		// and Search field stay for the queries that use them.
		add(Column{Name: "Subscription", Type: String, Path: "subscription", Nullable: true, CreateParam: "subscription", Ref: "Subscriptions",
			Comment: "the subscription the invoice was created for (a list filter and Search field)"}).
		add(Column{Name: "DaysUntilDue", Type: Integer, Path: "days_until_due", Nullable: true, CreateParam: "days_until_due", UpdateParam: "days_until_due",
			Comment: "days until a send_invoice invoice is due (write; reads NULL in this API version)"}).
		filter(Filter{Column: "Subscription", Param: "subscription", Ops: OpEq}).
		searchField(SearchField{Column: "Subscription", Field: "subscription", Kind: SearchString}).
		// The invoice list has no test_clock filter: a clock's invoices are
		// listed customer by customer.
		testClocks(&TestClockVisibility{ViaTable: "Customers", ViaParam: "customer", RevealedBy: []string{"customer"}}).
		filterOrder("CustomerId", "Status", "Subscription", "CollectionMethod", "Created", "DueDate")

	t("InvoiceItems").
		// Required but nullable, so that an INSERT without it reaches the
		// catalog's check ("column Customer is required") rather than the
		// engine's NOT NULL error.
		required("Customer").nullable("Customer").
		add(Column{Name: "Period", Type: JSON, Path: "period", Nullable: true, CreateParam: "period", UpdateParam: "period",
			Comment: "the period the item covers, {start, end}, as JSON"}).
		filterOrder("Customer", "Invoice")

	t("Quotes").
		rename("Customer", "CustomerId").
		testClocks(&TestClockVisibility{Param: "test_clock", RevealedBy: []string{"customer"}}).
		noDelete("Stripe cannot delete a quote; cancel it with CALL CancelQuote('qt_…')").
		filterOrder("CustomerId", "Status", "TestClock")

	t("Accounts").
		notNull("Created").
		add(Column{Name: "BusinessProfileName", Type: String, Path: "business_profile.name", Nullable: true,
			CreateParam: "business_profile[name]", UpdateParam: "business_profile[name]", Comment: "the customer-facing business name"}).
		add(Column{Name: "BusinessProfileUrl", Type: String, Path: "business_profile.url", Nullable: true,
			CreateParam: "business_profile[url]", UpdateParam: "business_profile[url]", Comment: "the business's publicly available website"}).
		add(Column{Name: "BusinessProfileSupportEmail", Type: String, Path: "business_profile.support_email", Nullable: true,
			CreateParam: "business_profile[support_email]", UpdateParam: "business_profile[support_email]", Comment: "a publicly available email address for customer support"})

	t("Products").
		filterOrder("Active", "Shippable", "Url", "Created")

	t("Charges").
		rename("Customer", "CustomerId").
		ref("PaymentMethod", "PaymentMethods").
		noDelete("Stripe cannot delete a charge; refund it with INSERT INTO Refunds (Charge) VALUES ('ch_…')").
		filterOrder("CustomerId", "PaymentIntent", "TransferGroup", "Created")

	t("PaymentMethods").
		rename("Customer", "CustomerId").
		add(Column{Name: "CardBrand", Type: String, Path: "card.brand", Nullable: true, Comment: "the card's brand (card payment methods)"}).
		add(Column{Name: "CardLast4", Type: String, Path: "card.last4", Nullable: true, Comment: "the card's last four digits"}).
		add(Column{Name: "CardExpMonth", Type: Integer, Path: "card.exp_month", Nullable: true, Comment: "the card's expiration month"}).
		add(Column{Name: "CardExpYear", Type: Integer, Path: "card.exp_year", Nullable: true, Comment: "the card's expiration year"}).
		noDelete("Stripe cannot delete a payment method; detach it with CALL DetachPaymentMethodFromCustomer('pm_…')").
		filterOrder("CustomerId", "Type", "AllowRedisplay")

	t("Subscriptions").
		rename("Customer", "CustomerId").
		required("CustomerId").
		testClocks(&TestClockVisibility{Param: "test_clock", RevealedBy: []string{"customer"}}).
		// The list endpoint hides canceled subscriptions unless asked.
		scans([]Param{{"status", "all"}}).
		filterOrder("CustomerId", "Status", "CollectionMethod", "TestClock", "Created").
		comment("Stripe subscriptions, including canceled ones")

	t(TestClocksTable).
		comment("Stripe test clocks (test mode): simulated time for the customers, invoices, quotes and subscriptions on them")

	// List filters whose parameter is not named after the field they
	// select by: the spec cannot say which field that is.
	t("PromotionCodes").
		filter(Filter{Column: "PromotionCoupon", Param: "coupon", Ops: OpEq})
	t("BillingAlerts").
		add(Column{Name: "UsageThresholdMeter", Type: String, Path: "usage_threshold.meter", Nullable: true, Ref: "BillingMeters",
			Comment: "the meter a usage alert watches (inside UsageThreshold)"}).
		filter(Filter{Column: "UsageThresholdMeter", Param: "meter", Ops: OpEq})
	t("ShippingRates").
		add(Column{Name: "FixedAmountCurrency", Type: String, Path: "fixed_amount.currency", Nullable: true,
			Comment: "the currency of a fixed-amount rate (inside FixedAmount)"}).
		filter(Filter{Column: "FixedAmountCurrency", Param: "currency", Ops: OpEq})
}

// curator edits one generated table; each method returns it for chaining.
type curator struct{ t *Table }

func (c *curator) col(name string) *Column {
	col, ok := c.t.Column(name)
	if !ok {
		panic(fmt.Sprintf("catalog: curated column %s.%s is not generated", c.t.Name, name))
	}
	return col
}

// alias adds a name the table also answers to.
func (c *curator) alias(names ...string) *curator {
	c.t.Aliases = append(c.t.Aliases, names...)
	return c
}

// rename gives a column the name users know, in its filters, Search
// fields and parent reference too.
func (c *curator) rename(from, to string) *curator {
	c.col(from).Name = to
	for i := range c.t.Filters {
		if c.t.Filters[i].Column == from {
			c.t.Filters[i].Column = to
		}
	}
	if s := c.t.Search; s != nil {
		for i := range s.Fields {
			if s.Fields[i].Column == from {
				s.Fields[i].Column = to
			}
		}
	}
	if p := c.t.Parent; p != nil && p.Column == from {
		p.Column = to
	}
	return c
}

// add appends a column the spec's shape does not give.
func (c *curator) add(col Column) *curator {
	if _, dup := c.t.Column(col.Name); dup {
		panic(fmt.Sprintf("catalog: curated column %s.%s is already generated", c.t.Name, col.Name))
	}
	c.t.Columns = append(c.t.Columns, col)
	return c
}

func (c *curator) notNull(names ...string) *curator {
	for _, n := range names {
		c.col(n).Nullable = false
	}
	return c
}

func (c *curator) nullable(names ...string) *curator {
	for _, n := range names {
		c.col(n).Nullable = true
	}
	return c
}

func (c *curator) required(names ...string) *curator {
	for _, n := range names {
		c.col(n).Required = true
	}
	return c
}

func (c *curator) ref(name, table string) *curator {
	c.col(name).Ref = table
	return c
}

func (c *curator) caseSensitive(column string) *curator {
	f, ok := c.t.Filter(column)
	if !ok {
		panic(fmt.Sprintf("catalog: curated filter %s.%s is not generated", c.t.Name, column))
	}
	f.CaseSensitive = true
	return c
}

// filter adds a list filter the generator could not match to a column;
// its parameter is then no longer one the planner leaves out.
func (c *curator) filter(f Filter) *curator {
	c.col(f.Column)
	c.t.Filters = append(c.t.Filters, f)
	kept := c.t.Unpushed[:0]
	for _, u := range c.t.Unpushed {
		if u.Param != f.Param {
			kept = append(kept, u)
		}
	}
	c.t.Unpushed = kept
	return c
}

func (c *curator) searchField(f SearchField) *curator {
	c.t.Search.Fields = append(c.t.Search.Fields, f)
	return c
}

func (c *curator) testClocks(v *TestClockVisibility) *curator {
	c.t.TestClocks = v
	return c
}

func (c *curator) scans(sets ...[]Param) *curator {
	c.t.Scans = sets
	return c
}

func (c *curator) noDelete(hint string) *curator {
	c.t.NoDeleteHint = hint
	return c
}

func (c *curator) comment(s string) *curator {
	c.t.Comment = s
	return c
}

// filterOrder puts the named filters first, in order: list parameters are
// sent in filter order.
func (c *curator) filterOrder(columns ...string) *curator {
	var first, rest []Filter
	for _, name := range columns {
		f, ok := c.t.Filter(name)
		if !ok {
			panic(fmt.Sprintf("catalog: curated filter %s.%s is not generated", c.t.Name, name))
		}
		first = append(first, *f)
	}
	for _, f := range c.t.Filters {
		in := false
		for _, name := range columns {
			in = in || strings.EqualFold(f.Column, name)
		}
		if !in {
			rest = append(rest, f)
		}
	}
	c.t.Filters = append(first, rest...)
	return c
}

// curateActions applies the hand-written layer to the generated actions;
// the contract's procedures themselves are in package procedures, which
// puts them in place of the generated ones for the same endpoints.
func curateActions(actions []*Action) []*Action { return actions }
