package main

// The generator's explicit inputs: what Stripe's spec cannot say. Each
// entry is a decision about a spec endpoint; everything else follows from
// the spec by rule.

// skippedLists are list endpoints that get no table, and why.
var skippedLists = map[string]string{
	"/v1/accounts/{account}/people":                 "the same persons as /v1/accounts/{account}/persons (AccountPersons), under an older name",
	"/v1/balance/history":                           "the same balance transactions as /v1/balance_transactions (BalanceTransactions), under an older name",
	"/v1/linked_accounts":                           "the same accounts as /v1/financial_connections/accounts (FinancialConnectionsAccounts), under an older name",
	"/v1/linked_accounts/{account}/owners":          "the same owners as /v1/financial_connections/accounts/{account}/owners (FinancialConnectionsAccountOwners), under an older name",
	"/v1/charges/{charge}/refunds":                  "the same refunds as Refunds WHERE Charge = …, which the refunds list filter already reads",
	"/v1/customers/{customer}/payment_methods":      "the same payment methods as PaymentMethods WHERE CustomerId = …, which the payment methods list filter already reads",
	"/v1/customers/{customer}/subscriptions":        "the same subscriptions as Subscriptions WHERE CustomerId = …, which the subscriptions list filter already reads",
	"/v1/customers/{customer}/cards":                "the same cards as Cards, which reads them through /v1/customers/{customer}/sources?object=card, as the connector did",
	"/v1/credit_notes/preview/lines":                "previews the lines of a credit note that does not exist yet, from a dozen creation parameters: not a stored resource",
	"/v1/billing/meters/{id}/event_summaries":       "a usage report that requires a customer and a time window (start_time, end_time) on every call, not a stored resource",
	"/v1/accounts/{account}/capabilities":           "takes no limit or cursor (one unpaginated list); stripesql reads lists page by page, and Stripe rejects the paging parameters here",
	"/v1/reporting/report_types":                    "takes no limit or cursor (one unpaginated list); stripesql reads lists page by page, and Stripe rejects the paging parameters here",
	"/v1/tax/calculations/{calculation}/line_items": "the parent, a tax calculation, has no list endpoint, so the table could not be read without the calculation's id; use CALL CreateTaxCalculation and its line_items",
	"/v1/tax/transactions/{transaction}/line_items": "the parent, a tax transaction, has no list endpoint, so the table could not be read without the transaction's id",
	"/v1/sources/{source}/source_transactions":      "the parent, a source, has no list endpoint, so the table could not be read without the source's id",
}

// splitLists are polymorphic list endpoints without an enum object filter
// whose objects of the listed types each make a table (with object=type
// on every list call); the other types are left out.
var splitLists = map[string][]string{
	// A customer's sources mix cards, bank accounts and (legacy) sources;
	// bank accounts have their own list (CustomerBankAccounts).
	"/v1/customers/{customer}/sources": {"card"},
}

// tableNames overrides the name a list endpoint's table would get by rule
// (the object type, pluralised; nested tables prefixed by the parent).
var tableNames = map[string]string{
	"/v1/invoiceitems":                     "InvoiceItems",
	"/v1/test_helpers/test_clocks":         "TestClocks",
	"/v1/invoices/{invoice}/lines":         "InvoiceLineItems",
	"/v1/credit_notes/{credit_note}/lines": "CreditNoteLineItems",
	"/v1/customers/{customer}/sources":     "Cards",
	"/v1/sigma/scheduled_query_runs":       "SigmaScheduledQueryRuns",
}

// singletons are GET endpoints of one object, each a one-row table.
var singletons = []string{"/v1/account", "/v1/balance", "/v1/balance_settings", "/v1/tax/settings"}

// searchFields lists, per Search endpoint, the fields of Stripe's Search
// query language (stripe-api.md §4, from Stripe's documentation: the spec
// only says `query`). Fields without a column are left out; so is
// charges' `refunded`, whose Search meaning ("false" = partially refunded)
// is not the refunded column's.
var searchFields = map[string][][3]string{
	"/v1/charges/search": {
		{"amount", "amount", "SearchNumeric"}, {"created", "created", "SearchNumeric"},
		{"currency", "currency", "SearchToken"}, {"customer", "customer", "SearchToken"},
		{"disputed", "disputed", "SearchToken"}, {"status", "status", "SearchToken"},
	},
	"/v1/customers/search": {
		{"created", "created", "SearchNumeric"}, {"email", "email", "SearchString"},
		{"name", "name", "SearchString"}, {"phone", "phone", "SearchString"},
	},
	"/v1/invoices/search": {
		{"created", "created", "SearchNumeric"}, {"currency", "currency", "SearchToken"},
		{"customer", "customer", "SearchToken"}, {"number", "number", "SearchString"},
		{"receipt_number", "receipt_number", "SearchString"}, {"status", "status", "SearchString"},
		{"subscription", "subscription", "SearchString"}, {"total", "total", "SearchNumeric"},
	},
	"/v1/payment_intents/search": {
		{"amount", "amount", "SearchNumeric"}, {"created", "created", "SearchNumeric"},
		{"currency", "currency", "SearchToken"}, {"customer", "customer", "SearchToken"},
		{"status", "status", "SearchToken"},
	},
	"/v1/prices/search": {
		{"active", "active", "SearchToken"}, {"currency", "currency", "SearchToken"},
		{"lookup_key", "lookup_key", "SearchString"}, {"product", "product", "SearchString"},
		{"type", "type", "SearchToken"},
	},
	"/v1/products/search": {
		{"active", "active", "SearchToken"}, {"description", "description", "SearchString"},
		{"name", "name", "SearchString"}, {"shippable", "shippable", "SearchToken"},
		{"url", "url", "SearchString"},
	},
	"/v1/subscriptions/search": {
		{"canceled_at", "canceled_at", "SearchNumeric"}, {"created", "created", "SearchNumeric"},
		{"status", "status", "SearchToken"},
	},
}

// unpushedReasons explains list parameters that match no column, by
// "list path param" or by parameter name alone.
var unpushedReasons = map[string]string{
	"order_by":             "orders the list; it selects no rows",
	"contains":             "a substring match (LIKE '%…%'), which the planner does not push",
	"pending":              "no column says whether an invoice item is pending (its invoice is NULL until it is added to one)",
	"delivery_success":     "no column holds an event's webhook delivery outcome",
	"payout":               "no column holds the payout a balance transaction was paid out in",
	"price":                "a subscription's prices are inside its Items JSON column",
	"scheduled":            "no column says whether a schedule is scheduled (not yet started)",
	"transaction_refresh":  "selects transactions by a refresh id, which no column holds",
	"ids":                  "a list of ids; WHERE Id IN (…) retrieves each object instead",
	"lookup_keys":          "a list of values (lookup_keys[]); WHERE LookupKey = … is evaluated by the engine",
	"types":                "a list of values (types[]); WHERE Type = … uses the type filter instead",
	"created_after":        "half of a created range that Stripe only accepts as a pair; the engine evaluates Created",
	"created_before":       "half of a created range that Stripe only accepts as a pair; the engine evaluates Created",
	"current_period_end":   "a subscription's periods are on its items (Items JSON) since API version 2025-03-31",
	"current_period_start": "a subscription's periods are on its items (Items JSON) since API version 2025-03-31",
	"/v1/billing/credit_balance_transactions customer":         "selects by the credit grant's customer, which a credit balance transaction does not carry",
	"/v1/billing/credit_balance_transactions customer_account": "selects by the credit grant's customer account, which a credit balance transaction does not carry",
	"/v1/entitlements/features archived":                       "archived is the negation of Active: WHERE Active = … is evaluated by the engine",
	"/v1/financial_connections/accounts session":               "selects the accounts a Financial Connections session collected; no field holds the session",
	"/v1/treasury/debit_reversals resolution":                  "selects by the outcome (lost, won) of the reversal's dispute, which no field holds",
	"/v1/invoiceitems created":                                 "an invoice item has no created field (its Date is when it was added), so no column matches the filter",
	"/v1/invoice_payments payment":                             "selects by the payment's type and id together (payment[type] with payment[payment_intent] or payment[payment_record]); the engine evaluates the Payment JSON column",
}

// omittedEndpoints are endpoints left out on purpose, beyond those the
// rules classify, and why.
var omittedEndpoints = map[string]string{
	"POST /v1/accounts/{account}/bank_accounts":        "an older name of POST /v1/accounts/{account}/external_accounts (INSERT INTO AccountBankAccounts)",
	"GET /v1/accounts/{account}/bank_accounts/{id}":    "an older name of GET /v1/accounts/{account}/external_accounts/{id} (AccountBankAccounts)",
	"POST /v1/accounts/{account}/bank_accounts/{id}":   "an older name of POST /v1/accounts/{account}/external_accounts/{id} (UPDATE AccountBankAccounts)",
	"DELETE /v1/accounts/{account}/bank_accounts/{id}": "an older name of DELETE /v1/accounts/{account}/external_accounts/{id} (DELETE FROM AccountBankAccounts)",
	"POST /v1/linked_accounts/{account}/disconnect":    "an older name of POST /v1/financial_connections/accounts/{account}/disconnect (CALL DisconnectFinancialConnectionsAccount)",
	"POST /v1/linked_accounts/{account}/refresh":       "an older name of POST /v1/financial_connections/accounts/{account}/refresh (CALL RefreshFinancialConnectionsAccount)",
	"POST /v1/link_account_sessions":                   "an older name of POST /v1/financial_connections/sessions (CALL CreateFinancialConnectionsSession)",
	"GET /v1/quotes/{quote}/pdf":                       "returns a PDF file (from files.stripe.com), not JSON",
}
