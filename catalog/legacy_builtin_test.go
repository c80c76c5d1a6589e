package catalog

// Builtin returns the catalog of hand-described tables: the nine of the
// connector contract plus Products, Charges, PaymentMethods, Subscriptions
// and TestClocks (which the others' full reads need).
func legacyBuiltin() *Catalog {
	c, err := New(
		customers(), paymentIntents(), refunds(), cards(), prices(), invoices(),
		invoiceItems(), quotes(), accounts(), products(), charges(),
		paymentMethods(), subscriptions(), testClocks(),
	)
	if err != nil {
		// The entries are constants of this package; an invalid one is a
		// programming error caught by the package's tests.
		panic(err)
	}
	return c
}

func customers() *Table {
	return crud(&Table{
		Name: "Customers", Aliases: []string{"Customer"}, Object: "customer",
		Comment:  "Stripe customers",
		ListPath: "/v1/customers",
		Columns: columns(
			idColumn(),
			col("Name", String, "name").rw("name"),
			col("Email", String, "email").rw("email"),
			col("Phone", String, "phone").rw("phone"),
			col("Description", Text, "description").rw("description"),
			col("Balance", Integer, "balance").rw("balance").doc("balance in minor units; negative is credit"),
			col("Currency", String, "currency"),
			col("Delinquent", Boolean, "delinquent"),
			address("Address", "address", "address"),
			col("Shipping", JSON, "shipping").rw("shipping"),
			col("InvoicePrefix", String, "invoice_prefix").rw("invoice_prefix"),
			col("PreferredLocales", JSON, "preferred_locales").rw("preferred_locales"),
			col("TaxExempt", String, "tax_exempt").rw("tax_exempt").doc("none, exempt or reverse"),
			col("DefaultSource", String, "default_source").update("default_source"),
			col("TestClock", String, "test_clock").create("test_clock").ref(TestClocksTable),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			{Column: "Email", Param: "email", Ops: OpEq, CaseSensitive: true},
			rng("Created", "created"),
			eq("TestClock", "test_clock"),
		},
		TestClocks: &TestClockVisibility{Param: "test_clock"},
		Search: &Search{Path: "/v1/customers/search", Metadata: true, Fields: []SearchField{
			sf("Created", "created", SearchNumeric),
			sf("Email", "email", SearchString),
			sf("Name", "name", SearchString),
			sf("Phone", "phone", SearchString),
		}},
	}, true, true, true)
}

func paymentIntents() *Table {
	return crud(&Table{
		Name: "PaymentIntents", Aliases: []string{"PaymentIntent"}, Object: "payment_intent",
		Comment:  "Stripe payment intents",
		ListPath: "/v1/payment_intents",
		Columns: columns(
			idColumn(),
			col("Amount", Integer, "amount").notNull().rw("amount").required().doc("amount in minor units"),
			col("AmountCapturable", Integer, "amount_capturable"),
			col("AmountReceived", Integer, "amount_received"),
			col("Currency", String, "currency").notNull().rw("currency").required(),
			col("CustomerId", String, "customer").rw("customer").ref("Customers"),
			col("PaymentMethod", String, "payment_method").rw("payment_method").ref("PaymentMethods"),
			col("Description", Text, "description").rw("description"),
			col("Status", String, "status").doc("requires_payment_method, requires_confirmation, requires_action, processing, requires_capture, canceled or succeeded"),
			col("CaptureMethod", String, "capture_method").rw("capture_method"),
			col("ConfirmationMethod", String, "confirmation_method").create("confirmation_method"),
			col("LatestCharge", String, "latest_charge").ref("Charges"),
			col("ReceiptEmail", String, "receipt_email").rw("receipt_email"),
			col("StatementDescriptor", String, "statement_descriptor").rw("statement_descriptor"),
			col("PaymentMethodTypes", JSON, "payment_method_types").rw("payment_method_types"),
			col("CanceledAt", Timestamp, "canceled_at"),
			col("CancellationReason", String, "cancellation_reason"),
			col("LastPaymentError", JSON, "last_payment_error"),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			rng("Created", "created"),
		},
		Search: &Search{Path: "/v1/payment_intents/search", Metadata: true, Fields: []SearchField{
			sf("Amount", "amount", SearchNumeric),
			sf("Created", "created", SearchNumeric),
			sf("Currency", "currency", SearchToken),
			sf("CustomerId", "customer", SearchToken),
			sf("Status", "status", SearchToken),
		}},
		NoDeleteHint: "Stripe cannot delete a payment intent; cancel it with CALL CancelPaymentIntent('pi_…')",
	}, true, true, false)
}

func refunds() *Table {
	return crud(&Table{
		Name: "Refunds", Object: "refund",
		Comment:  "Stripe refunds",
		ListPath: "/v1/refunds",
		Columns: columns(
			idColumn(),
			col("Amount", Integer, "amount").create("amount").doc("amount in minor units; defaults to the whole charge"),
			col("Charge", String, "charge").create("charge").ref("Charges"),
			col("PaymentIntent", String, "payment_intent").create("payment_intent").ref("PaymentIntents"),
			col("Currency", String, "currency"),
			col("Reason", String, "reason").create("reason").doc("duplicate, fraudulent or requested_by_customer"),
			col("Status", String, "status"),
			col("ReceiptNumber", String, "receipt_number"),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("Charge", "charge"),
			eq("PaymentIntent", "payment_intent"),
			rng("Created", "created"),
		},
		NoDeleteHint: "Stripe cannot delete a refund; a pending refund can be canceled with CALL CancelRefund('re_…')",
	}, true, true, false)
}

func cards() *Table {
	return &Table{
		Name: "Cards", Object: "card",
		Comment:    "cards of a customer (WHERE CustomerId = … makes one call; without it every customer is visited)",
		ListPath:   "/v1/customers/{customer}/sources",
		ListParams: []Param{{"object", "card"}},
		Parent:     &Parent{Table: "Customers", Column: "CustomerId", Placeholder: "{customer}"},
		Columns: columns(
			idColumn(),
			col("CustomerId", String, "customer").notNull().required().ref("Customers").doc("the customer the card belongs to; part of the endpoint path"),
			col("Token", String, "").create("source").doc("write-only: a card token such as tok_visa, used by INSERT"),
			col("Brand", String, "brand"),
			col("Last4", String, "last4"),
			col("ExpMonth", Integer, "exp_month").update("exp_month"),
			col("ExpYear", Integer, "exp_year").update("exp_year"),
			col("Funding", String, "funding"),
			col("Country", String, "country"),
			col("Fingerprint", String, "fingerprint"),
			col("Name", String, "name").update("name"),
			col("AddressLine1", String, "address_line1").update("address_line1"),
			col("AddressLine2", String, "address_line2").update("address_line2"),
			col("AddressCity", String, "address_city").update("address_city"),
			col("AddressState", String, "address_state").update("address_state"),
			col("AddressZip", String, "address_zip").update("address_zip"),
			col("AddressCountry", String, "address_country").update("address_country"),
			col("CvcCheck", String, "cvc_check"),
			metadataColumn().create("metadata"),
		),
		RetrievePath: "/v1/customers/{customer}/sources/{id}",
		CreatePath:   "/v1/customers/{customer}/sources",
		UpdatePath:   "/v1/customers/{customer}/sources/{id}",
		DeletePath:   "/v1/customers/{customer}/sources/{id}",
	}
}

func prices() *Table {
	return crud(&Table{
		Name: "Prices", Object: "price",
		Comment:  "Stripe prices, active and inactive",
		ListPath: "/v1/prices",
		Columns: columns(
			idColumn(),
			col("Active", Boolean, "active").notNull().rw("active"),
			col("Currency", String, "currency").notNull().create("currency").required(),
			col("Product", String, "product").create("product").ref("Products"),
			col("UnitAmount", Integer, "unit_amount").create("unit_amount").doc("amount in minor units"),
			col("Nickname", String, "nickname").rw("nickname"),
			col("LookupKey", String, "lookup_key").rw("lookup_key"),
			col("Type", String, "type").doc("one_time or recurring"),
			col("BillingScheme", String, "billing_scheme").create("billing_scheme"),
			col("Recurring", JSON, "recurring").create("recurring"),
			col("TaxBehavior", String, "tax_behavior").rw("tax_behavior"),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("Active", "active"),
			eq("Currency", "currency"),
			eq("Product", "product"),
			eq("Type", "type"),
			rng("Created", "created"),
		},
		// The list endpoint shows only active prices unless asked.
		Scans: [][]Param{{{"active", "true"}}, {{"active", "false"}}},
		Search: &Search{Path: "/v1/prices/search", Metadata: true, Fields: []SearchField{
			sf("Active", "active", SearchToken),
			sf("Currency", "currency", SearchToken),
			sf("LookupKey", "lookup_key", SearchString),
			sf("Product", "product", SearchString),
			sf("Type", "type", SearchToken),
		}},
		NoDeleteHint: "Stripe cannot delete a price; archive it with UPDATE Prices SET Active = false WHERE Id = …",
	}, true, true, false)
}

func invoices() *Table {
	return crud(&Table{
		Name: "Invoices", Object: "invoice",
		Comment:  "Stripe invoices",
		ListPath: "/v1/invoices",
		Columns: columns(
			idColumn(),
			col("CustomerId", String, "customer").create("customer").ref("Customers"),
			col("Status", String, "status").doc("draft, open, paid, uncollectible or void"),
			col("Number", String, "number"),
			col("Currency", String, "currency").create("currency"),
			col("AmountDue", Integer, "amount_due"),
			col("AmountPaid", Integer, "amount_paid"),
			col("AmountRemaining", Integer, "amount_remaining"),
			col("Subtotal", Integer, "subtotal"),
			col("Total", Integer, "total"),
			col("Description", Text, "description").rw("description"),
			col("CollectionMethod", String, "collection_method").rw("collection_method").doc("charge_automatically or send_invoice"),
			col("Subscription", String, "subscription").create("subscription").ref("Subscriptions"),
			col("AutoAdvance", Boolean, "auto_advance").rw("auto_advance"),
			col("DaysUntilDue", Integer, "days_until_due").rw("days_until_due"),
			col("DueDate", Timestamp, "due_date").rw("due_date"),
			col("CustomerEmail", String, "customer_email"),
			col("TestClock", String, "test_clock").ref(TestClocksTable),
			col("CustomerName", String, "customer_name"),
			col("HostedInvoiceUrl", Text, "hosted_invoice_url"),
			col("InvoicePdf", Text, "invoice_pdf"),
			col("Footer", Text, "footer").rw("footer"),
			col("PeriodStart", Timestamp, "period_start"),
			col("PeriodEnd", Timestamp, "period_end"),
			col("Lines", JSON, "lines"),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			eq("Status", "status"),
			eq("Subscription", "subscription"),
			eq("CollectionMethod", "collection_method"),
			rng("Created", "created"),
			rng("DueDate", "due_date"),
		},
		// The invoice list has no test_clock filter: a clock's invoices are
		// listed customer by customer.
		TestClocks: &TestClockVisibility{ViaTable: "Customers", ViaParam: "customer", RevealedBy: []string{"customer"}},
		Search: &Search{Path: "/v1/invoices/search", Metadata: true, Fields: []SearchField{
			sf("Created", "created", SearchNumeric),
			sf("Currency", "currency", SearchToken),
			sf("CustomerId", "customer", SearchToken),
			sf("Number", "number", SearchString),
			sf("Status", "status", SearchString),
			sf("Subscription", "subscription", SearchString),
			sf("Total", "total", SearchNumeric),
		}},
	}, true, true, true)
}

func invoiceItems() *Table {
	return crud(&Table{
		Name: "InvoiceItems", Object: "invoiceitem",
		Comment:  "Stripe invoice items",
		ListPath: "/v1/invoiceitems",
		Columns: columns(
			idColumn(),
			col("Customer", String, "customer").create("customer").required().ref("Customers"),
			col("Invoice", String, "invoice").create("invoice").ref("Invoices"),
			col("Amount", Integer, "amount").rw("amount").doc("amount in minor units"),
			col("Currency", String, "currency").create("currency"),
			col("Quantity", Integer, "quantity").rw("quantity"),
			col("Description", Text, "description").rw("description"),
			col("Discountable", Boolean, "discountable").rw("discountable"),
			col("Proration", Boolean, "proration"),
			col("Period", JSON, "period").rw("period"),
			col("Date", Timestamp, "date"),
			livemodeColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("Customer", "customer"),
			eq("Invoice", "invoice"),
		},
	}, true, true, true)
}

func quotes() *Table {
	return crud(&Table{
		Name: "Quotes", Object: "quote",
		Comment:  "Stripe quotes",
		ListPath: "/v1/quotes",
		Columns: columns(
			idColumn(),
			col("CustomerId", String, "customer").rw("customer").ref("Customers"),
			col("Status", String, "status").doc("draft, open, accepted or canceled"),
			col("Number", String, "number"),
			col("Currency", String, "currency"),
			col("AmountSubtotal", Integer, "amount_subtotal"),
			col("AmountTotal", Integer, "amount_total"),
			col("Description", Text, "description").rw("description"),
			col("Header", Text, "header").rw("header"),
			col("Footer", Text, "footer").rw("footer"),
			col("CollectionMethod", String, "collection_method").rw("collection_method"),
			col("ExpiresAt", Timestamp, "expires_at").rw("expires_at"),
			col("Invoice", String, "invoice").ref("Invoices"),
			col("Subscription", String, "subscription").ref("Subscriptions"),
			col("LineItems", JSON, "line_items").create("line_items"),
			col("TestClock", String, "test_clock").create("test_clock").ref(TestClocksTable),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			eq("Status", "status"),
			eq("TestClock", "test_clock"),
		},
		TestClocks:   &TestClockVisibility{Param: "test_clock", RevealedBy: []string{"customer"}},
		NoDeleteHint: "Stripe cannot delete a quote; cancel it with CALL CancelQuote('qt_…')",
	}, true, true, false)
}

func accounts() *Table {
	return crud(&Table{
		Name: "Accounts", Object: "account",
		Comment:  "Stripe Connect accounts",
		ListPath: "/v1/accounts",
		Columns: columns(
			idColumn(),
			col("Type", String, "type").create("type").doc("standard, express, custom or none"),
			col("Email", String, "email").rw("email"),
			col("Country", String, "country").create("country"),
			col("DefaultCurrency", String, "default_currency").rw("default_currency"),
			col("BusinessType", String, "business_type").rw("business_type"),
			col("BusinessProfileName", String, "business_profile.name").rw("business_profile[name]"),
			col("BusinessProfileUrl", String, "business_profile.url").rw("business_profile[url]"),
			col("BusinessProfileSupportEmail", String, "business_profile.support_email").rw("business_profile[support_email]"),
			col("ChargesEnabled", Boolean, "charges_enabled"),
			col("PayoutsEnabled", Boolean, "payouts_enabled"),
			col("DetailsSubmitted", Boolean, "details_submitted"),
			col("Capabilities", JSON, "capabilities"),
			col("Requirements", JSON, "requirements"),
			createdColumn().notNull(),
			metadataColumn(),
		),
		Filters: []Filter{rng("Created", "created")},
	}, true, true, true)
}

func products() *Table {
	return crud(&Table{
		Name: "Products", Object: "product",
		Comment:  "Stripe products",
		ListPath: "/v1/products",
		Columns: columns(
			idColumn(),
			col("Name", String, "name").notNull().rw("name").required(),
			col("Active", Boolean, "active").notNull().rw("active"),
			col("Description", Text, "description").rw("description"),
			col("DefaultPrice", String, "default_price").update("default_price").ref("Prices"),
			col("Shippable", Boolean, "shippable").rw("shippable"),
			col("StatementDescriptor", String, "statement_descriptor").rw("statement_descriptor"),
			col("UnitLabel", String, "unit_label").rw("unit_label"),
			col("Url", Text, "url").rw("url"),
			col("Images", JSON, "images").rw("images"),
			livemodeColumn(),
			createdColumn(),
			col("Updated", Timestamp, "updated"),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("Active", "active"),
			eq("Shippable", "shippable"),
			eq("Url", "url"),
			rng("Created", "created"),
		},
		Search: &Search{Path: "/v1/products/search", Metadata: true, Fields: []SearchField{
			sf("Active", "active", SearchToken),
			sf("Description", "description", SearchString),
			sf("Name", "name", SearchString),
			sf("Shippable", "shippable", SearchToken),
			sf("Url", "url", SearchString),
		}},
	}, true, true, true)
}

func charges() *Table {
	return crud(&Table{
		Name: "Charges", Object: "charge",
		Comment:  "Stripe charges",
		ListPath: "/v1/charges",
		Columns: columns(
			idColumn(),
			col("Amount", Integer, "amount").notNull().create("amount").doc("amount in minor units"),
			col("AmountCaptured", Integer, "amount_captured"),
			col("AmountRefunded", Integer, "amount_refunded"),
			col("Currency", String, "currency").notNull().create("currency"),
			col("CustomerId", String, "customer").rw("customer").ref("Customers"),
			col("PaymentIntent", String, "payment_intent").ref("PaymentIntents"),
			col("PaymentMethod", String, "payment_method").ref("PaymentMethods"),
			col("Description", Text, "description").rw("description"),
			col("Status", String, "status").doc("succeeded, pending or failed"),
			col("Paid", Boolean, "paid"),
			col("Captured", Boolean, "captured"),
			col("Refunded", Boolean, "refunded"),
			col("Disputed", Boolean, "disputed"),
			col("FailureCode", String, "failure_code"),
			col("FailureMessage", Text, "failure_message"),
			col("ReceiptEmail", String, "receipt_email").rw("receipt_email"),
			col("ReceiptUrl", Text, "receipt_url"),
			col("TransferGroup", String, "transfer_group").rw("transfer_group"),
			col("BillingDetails", JSON, "billing_details"),
			col("PaymentMethodDetails", JSON, "payment_method_details"),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			eq("PaymentIntent", "payment_intent"),
			eq("TransferGroup", "transfer_group"),
			rng("Created", "created"),
		},
		Search: &Search{Path: "/v1/charges/search", Metadata: true, Fields: []SearchField{
			sf("Amount", "amount", SearchNumeric),
			sf("Created", "created", SearchNumeric),
			sf("Currency", "currency", SearchToken),
			sf("CustomerId", "customer", SearchToken),
			sf("Status", "status", SearchToken),
		}},
		NoDeleteHint: "Stripe cannot delete a charge; refund it with INSERT INTO Refunds (Charge) VALUES ('ch_…')",
	}, true, true, false)
}

func paymentMethods() *Table {
	return crud(&Table{
		Name: "PaymentMethods", Object: "payment_method",
		Comment:  "Stripe payment methods",
		ListPath: "/v1/payment_methods",
		Columns: columns(
			idColumn(),
			col("Type", String, "type").notNull().create("type").doc("card, us_bank_account, sepa_debit, …"),
			col("CustomerId", String, "customer").ref("Customers"),
			col("Card", JSON, "card").create("card"),
			col("CardBrand", String, "card.brand"),
			col("CardLast4", String, "card.last4"),
			col("CardExpMonth", Integer, "card.exp_month"),
			col("CardExpYear", Integer, "card.exp_year"),
			col("BillingDetails", JSON, "billing_details").rw("billing_details"),
			col("AllowRedisplay", String, "allow_redisplay").rw("allow_redisplay"),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			eq("Type", "type"),
			eq("AllowRedisplay", "allow_redisplay"),
		},
		NoDeleteHint: "Stripe cannot delete a payment method; detach it with CALL DetachPaymentMethodFromCustomer('pm_…')",
	}, true, true, false)
}

func subscriptions() *Table {
	return crud(&Table{
		Name: "Subscriptions", Object: "subscription",
		Comment:  "Stripe subscriptions, including canceled ones",
		ListPath: "/v1/subscriptions",
		Columns: columns(
			idColumn(),
			col("CustomerId", String, "customer").notNull().create("customer").required().ref("Customers"),
			col("Status", String, "status").doc("incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid or paused"),
			col("Currency", String, "currency"),
			col("Description", Text, "description").rw("description"),
			col("CollectionMethod", String, "collection_method").rw("collection_method"),
			col("Items", JSON, "items").create("items"),
			col("DefaultPaymentMethod", String, "default_payment_method").rw("default_payment_method").ref("PaymentMethods"),
			col("LatestInvoice", String, "latest_invoice").ref("Invoices"),
			col("CancelAtPeriodEnd", Boolean, "cancel_at_period_end").update("cancel_at_period_end"),
			col("CancelAt", Timestamp, "cancel_at").rw("cancel_at"),
			col("CanceledAt", Timestamp, "canceled_at"),
			col("EndedAt", Timestamp, "ended_at"),
			col("StartDate", Timestamp, "start_date"),
			col("TrialStart", Timestamp, "trial_start"),
			col("TrialEnd", Timestamp, "trial_end").rw("trial_end"),
			col("DaysUntilDue", Integer, "days_until_due").rw("days_until_due"),
			col("TestClock", String, "test_clock").create("test_clock").ref(TestClocksTable),
			livemodeColumn(),
			createdColumn(),
			metadataColumn(),
		),
		Filters: []Filter{
			eq("CustomerId", "customer"),
			eq("Status", "status"),
			eq("CollectionMethod", "collection_method"),
			eq("TestClock", "test_clock"),
			rng("Created", "created"),
		},
		TestClocks: &TestClockVisibility{Param: "test_clock", RevealedBy: []string{"customer"}},
		// The list endpoint hides canceled subscriptions unless asked.
		Scans: [][]Param{{{"status", "all"}}},
		Search: &Search{Path: "/v1/subscriptions/search", Metadata: true, Fields: []SearchField{
			sf("CanceledAt", "canceled_at", SearchNumeric),
			sf("Created", "created", SearchNumeric),
			sf("Status", "status", SearchToken),
		}},
	}, true, true, true)
}

func testClocks() *Table {
	return crud(&Table{
		Name: TestClocksTable, Object: "test_helpers.test_clock",
		Comment:  "Stripe test clocks (test mode): simulated time for the customers, invoices, quotes and subscriptions on them",
		ListPath: "/v1/test_helpers/test_clocks",
		Columns: columns(
			idColumn(),
			col("Name", String, "name").create("name"),
			col("Status", String, "status").doc("advancing, internal_failure or ready"),
			col("FrozenTime", Timestamp, "frozen_time").notNull().create("frozen_time").required(),
			col("DeletesAfter", Timestamp, "deletes_after"),
			livemodeColumn(),
			createdColumn(),
		),
	}, true, false, true)
}
