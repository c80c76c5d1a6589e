package mirror

import (
	"github.com/stripesql/stripesql/catalog"
)

// Which tables can be mirrored. A mirror is only as good as the event
// stream that keeps it: a table can be mirrored if Stripe reports, as
// events carrying the object, its creation and every later change. The
// spec the catalog is generated from (stripe-mock's, 2026-08-26.dahlia)
// lists the event types that exist — the enum of a webhook endpoint's
// enabled_events — but not which object each one carries, so the mapping
// from event types to objects is curated here, and TestEventTypesMatchSpec
// checks it against that enum: every event type of the spec is accounted
// for below, and every one named below exists.
//
// eventTypes maps the prefix of each event type of the spec (the type
// without its last segment) to the object type its data.object holds ("" for
// objects no table holds) and the verbs Stripe sends.
var eventTypes = map[string]struct {
	object string
	verbs  []string
}{
	"account":                                 {"account", []string{"updated"}},
	"account.application":                     {"", []string{"authorized", "deauthorized"}},
	"account.external_account":                {"bank_account|card", []string{"created", "deleted", "updated"}},
	"application_fee":                         {"application_fee", []string{"created", "refunded"}},
	"application_fee.refund":                  {"fee_refund", []string{"updated"}},
	"balance":                                 {"balance", []string{"available"}},
	"balance_settings":                        {"balance_settings", []string{"updated"}},
	"billing.alert":                           {"billing.alert", []string{"triggered"}},
	"billing.credit_balance_transaction":      {"billing.credit_balance_transaction", []string{"created"}},
	"billing.credit_grant":                    {"billing.credit_grant", []string{"created", "updated"}},
	"billing.meter":                           {"billing.meter", []string{"created", "deactivated", "reactivated", "updated"}},
	"billing_portal.configuration":            {"billing_portal.configuration", []string{"created", "updated"}},
	"billing_portal.session":                  {"", []string{"created"}},
	"capability":                              {"", []string{"updated"}},
	"cash_balance":                            {"", []string{"funds_available"}},
	"charge":                                  {"charge", []string{"captured", "expired", "failed", "pending", "refunded", "succeeded", "updated"}},
	"charge.dispute":                          {"dispute", []string{"closed", "created", "funds_reinstated", "funds_withdrawn", "updated"}},
	"charge.refund":                           {"refund", []string{"updated"}},
	"checkout.session":                        {"checkout.session", []string{"async_payment_failed", "async_payment_succeeded", "completed", "expired"}},
	"climate.order":                           {"climate.order", []string{"canceled", "created", "delayed", "delivered", "product_substituted"}},
	"climate.product":                         {"climate.product", []string{"created", "pricing_updated"}},
	"coupon":                                  {"coupon", []string{"created", "deleted", "updated"}},
	"credit_note":                             {"credit_note", []string{"created", "updated", "voided"}},
	"customer":                                {"customer", []string{"created", "deleted", "updated"}},
	"customer.discount":                       {"", []string{"created", "deleted", "updated"}},
	"customer.source":                         {"bank_account|card", []string{"created", "deleted", "expiring", "updated"}},
	"customer.subscription":                   {"subscription", []string{"created", "deleted", "paused", "pending_update_applied", "pending_update_expired", "resumed", "trial_will_end", "updated"}},
	"customer.tax_id":                         {"tax_id", []string{"created", "deleted", "updated"}},
	"customer_cash_balance_transaction":       {"customer_cash_balance_transaction", []string{"created"}},
	"entitlements.active_entitlement_summary": {"", []string{"updated"}},
	"file":                                {"file", []string{"created"}},
	"financial_connections.account":       {"financial_connections.account", []string{"account_numbers_updated", "created", "deactivated", "disconnected", "expected_deactivation_date_updated", "reactivated", "refreshed_balance", "refreshed_ownership", "refreshed_transactions", "supported_payment_method_types_updated", "upcoming_account_number_expiry", "upcoming_deactivation"}},
	"financial_connections.authorization": {"", []string{"expected_deactivation_date_updated", "upcoming_deactivation"}},
	"identity.verification_session":       {"identity.verification_session", []string{"canceled", "created", "processing", "redacted", "requires_input", "verified"}},
	"invoice":                             {"invoice", []string{"created", "deleted", "finalization_failed", "finalized", "marked_uncollectible", "overdue", "overpaid", "paid", "payment_action_required", "payment_attempt_required", "payment_failed", "payment_succeeded", "sent", "upcoming", "updated", "voided", "will_be_due"}},
	"invoice_payment":                     {"invoice_payment", []string{"paid"}},
	"invoiceitem":                         {"invoiceitem", []string{"created", "deleted"}},
	"issuing_authorization":               {"issuing.authorization", []string{"created", "request", "updated"}},
	"issuing_card":                        {"issuing.card", []string{"created", "updated"}},
	"issuing_cardholder":                  {"issuing.cardholder", []string{"created", "updated"}},
	"issuing_dispute":                     {"issuing.dispute", []string{"closed", "created", "funds_reinstated", "funds_rescinded", "submitted", "updated"}},
	"issuing_personalization_design":      {"issuing.personalization_design", []string{"activated", "deactivated", "rejected", "updated"}},
	"issuing_token":                       {"issuing.token", []string{"created", "updated"}},
	"issuing_transaction":                 {"issuing.transaction", []string{"created", "purchase_details_receipt_updated", "updated"}},
	"mandate":                             {"", []string{"updated"}},
	"payment_intent":                      {"payment_intent", []string{"amount_capturable_updated", "canceled", "created", "partially_funded", "payment_failed", "processing", "requires_action", "succeeded"}},
	"payment_link":                        {"payment_link", []string{"created", "updated"}},
	"payment_method":                      {"payment_method", []string{"attached", "automatically_updated", "detached", "updated"}},
	"payout":                              {"payout", []string{"canceled", "created", "failed", "paid", "reconciliation_completed", "updated"}},
	"person":                              {"person", []string{"created", "deleted", "updated"}},
	"plan":                                {"plan", []string{"created", "deleted", "updated"}},
	"price":                               {"price", []string{"created", "deleted", "updated"}},
	"product":                             {"product", []string{"created", "deleted", "updated"}},
	"promotion_code":                      {"promotion_code", []string{"created", "updated"}},
	"quote":                               {"quote", []string{"accepted", "canceled", "created", "finalized"}},
	"radar.early_fraud_warning":           {"radar.early_fraud_warning", []string{"created", "updated"}},
	"refund":                              {"refund", []string{"created", "failed", "updated"}},
	"reporting.report_run":                {"reporting.report_run", []string{"failed", "succeeded"}},
	"reporting.report_type":               {"", []string{"updated"}},
	"reserve.hold":                        {"", []string{"created", "updated"}},
	"reserve.plan":                        {"", []string{"created", "disabled", "expired", "updated"}},
	"reserve.release":                     {"", []string{"created"}},
	"review":                              {"review", []string{"closed", "opened"}},
	"setup_intent":                        {"setup_intent", []string{"canceled", "created", "requires_action", "setup_failed", "succeeded"}},
	"sigma.scheduled_query_run":           {"scheduled_query_run", []string{"created"}},
	"source":                              {"", []string{"canceled", "chargeable", "failed", "mandate_notification", "refund_attributes_required"}},
	"source.transaction":                  {"", []string{"created", "updated"}},
	"subscription_schedule":               {"subscription_schedule", []string{"aborted", "canceled", "completed", "created", "expiring", "released", "updated"}},
	"tax.settings":                        {"tax.settings", []string{"updated"}},
	"tax_rate":                            {"tax_rate", []string{"created", "updated"}},
	"terminal.reader":                     {"terminal.reader", []string{"action_failed", "action_succeeded", "action_updated"}},
	"test_helpers.test_clock":             {"test_helpers.test_clock", []string{"advancing", "created", "deleted", "internal_failure", "ready"}},
	"topup":                               {"topup", []string{"canceled", "created", "failed", "reversed", "succeeded"}},
	"transfer":                            {"transfer", []string{"created", "reversed", "updated"}},
	"treasury.credit_reversal":            {"treasury.credit_reversal", []string{"created", "posted"}},
	"treasury.debit_reversal":             {"treasury.debit_reversal", []string{"completed", "created", "initial_credit_granted"}},
	"treasury.financial_account":          {"treasury.financial_account", []string{"closed", "created", "features_status_updated"}},
	"treasury.inbound_transfer":           {"treasury.inbound_transfer", []string{"canceled", "created", "failed", "succeeded"}},
	"treasury.outbound_payment":           {"treasury.outbound_payment", []string{"canceled", "created", "expected_arrival_date_updated", "failed", "posted", "returned", "tracking_details_updated"}},
	"treasury.outbound_transfer":          {"treasury.outbound_transfer", []string{"canceled", "created", "expected_arrival_date_updated", "failed", "posted", "returned", "tracking_details_updated"}},
	"treasury.received_credit":            {"treasury.received_credit", []string{"created", "failed", "succeeded"}},
	"treasury.received_debit":             {"treasury.received_debit", []string{"created"}},
}

// mirrorable are the tables whose objects' creation and every change come
// as events (see eventTypes for the object each event carries). Keyed by
// table name, for the reader; the reasons of the others are in notMirrorable.
var mirrorable = map[string]bool{
	"Customers": true, "Products": true, "Prices": true, "Plans": true, "Coupons": true,
	"TaxRates": true, "PromotionCodes": true, "Subscriptions": true, "SubscriptionSchedules": true,
	"Invoices": true, "CreditNotes": true, "Charges": true, "Refunds": true, "Disputes": true,
	"Payouts": true, "Transfers": true, "PaymentLinks": true, "ApplicationFees": true,
	"Reviews": true, "RadarEarlyFraudWarnings": true, "Files": true, "TestClocks": true,
	"BillingCreditGrants": true, "BillingCreditBalanceTransactions": true, "BillingMeters": true,
	"BillingPortalConfigurations": true, "SigmaScheduledQueryRuns": true,
	"IssuingAuthorizations": true, "IssuingCards": true, "IssuingCardholders": true,
	"IssuingDisputes": true, "IssuingTokens": true, "IssuingTransactions": true,
	// Nested in their parent's endpoints; their events name the parent.
	"Cards": true, "CustomerBankAccounts": true, "CustomerTaxIds": true,
	"CustomerCashBalanceTransactions": true, "AccountPersons": true,
	"AccountBankAccounts": true, "AccountCards": true,
}

// notMirrorable explains, for tables whose objects do have events, why
// those events are not enough.
var notMirrorable = map[string]string{
	"PaymentIntents":                 "Stripe sends no payment_intent.updated: changes made with an update (description, metadata, amount) come as no event",
	"SetupIntents":                   "Stripe sends no setup_intent.updated: changes made with an update come as no event",
	"Quotes":                         "Stripe sends no quote.updated: edits of a draft quote come as no event",
	"Topups":                         "Stripe sends no topup.updated: changes made with an update come as no event",
	"InvoiceItems":                   "Stripe sends no invoiceitem.updated (only created and deleted): updates, and an item's attachment to an invoice, come as no event",
	"InvoicePayments":                "Stripe sends only invoice_payment.paid: payments are created, and change, without an event",
	"PaymentMethods":                 "a payment method's creation comes as no event (only attached, detached, updated)",
	"CheckoutSessions":               "a session's creation comes as no event (only completed, expired and async results)",
	"ClimateOrders":                  "Stripe sends no climate.order.updated: changes made with an update come as no event",
	"ClimateProducts":                "climate products are Stripe's catalogue; only creation and price changes come as events",
	"IdentityVerificationSessions":   "Stripe sends no identity.verification_session.updated: changes made with an update come as no event",
	"IssuingPersonalizationDesigns":  "a personalization design's creation comes as no event",
	"ReportingReportRuns":            "a report run's creation comes as no event (only succeeded and failed)",
	"FinancialConnectionsAccounts":   "Stripe sends no created-to-updated lifecycle for every change of a Financial Connections account",
	"Accounts":                       "a connected account's creation comes as no event (only account.updated)",
	"ApplicationFeeRefunds":          "a fee refund's creation comes as application_fee.refunded, which carries the fee, not the refund",
	"TaxIds":                         "only customers' tax ids have events (customer.tax_id.*): an account's own tax ids change without one (CustomerTaxIds is mirrorable)",
	"BillingAlerts":                  "only billing.alert.triggered exists: alerts are created and changed without an event",
	"TerminalReaders":                "only the readers' action events exist: readers are registered and changed without an event",
	"EntitlementsActiveEntitlements": "the events carry the customer's entitlement summary, not the entitlements",
	"TreasuryCreditReversals":        "Treasury events report status changes only, not every update",
	"TreasuryDebitReversals":         "Treasury events report status changes only, not every update",
	"TreasuryFinancialAccounts":      "Treasury events report status changes only, not every update",
	"TreasuryInboundTransfers":       "Treasury events report status changes only, not every update",
	"TreasuryOutboundPayments":       "Treasury events report status changes only, not every update",
	"TreasuryOutboundTransfers":      "Treasury events report status changes only, not every update",
	"TreasuryReceivedCredits":        "Treasury events report status changes only, not every update",
	"TreasuryReceivedDebits":         "Treasury events report status changes only, not every update",
}

// Mirrorable returns the tables of cat whose changes Stripe reports as
// events, which --mirror all mirrors, sorted by name.
func Mirrorable(cat *catalog.Catalog) []*catalog.Table {
	var out []*catalog.Table
	for _, t := range cat.Tables() {
		if NotMirrorable(t) == "" {
			out = append(out, t)
		}
	}
	return out
}

// NotMirrorable explains why t cannot be mirrored, or returns "" if it can:
// for the error of --mirror naming it, and for the documentation.
func NotMirrorable(t *catalog.Table) string {
	switch {
	case mirrorable[t.Name]:
		return ""
	case t.Singleton:
		return "a single object read in one call: a live read costs no more than a mirror would"
	case notMirrorable[t.Name] != "":
		return notMirrorable[t.Name]
	}
	for _, e := range eventTypes {
		for _, o := range splitObjects(e.object) {
			if o == t.Object {
				return "its events do not report its creation and every change"
			}
		}
	}
	return "Stripe reports no events for " + t.Object + " objects"
}

func splitObjects(s string) []string {
	var out []string
	for s != "" {
		i := 0
		for i < len(s) && s[i] != '|' {
			i++
		}
		out = append(out, s[:i])
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}
