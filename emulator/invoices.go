package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// Invoices: draft → (finalize) open → (pay) paid | (void) void |
// (mark_uncollectible) uncollectible → (pay) paid | (void) void.
// Lines and totals are derived from the invoice items attached to the
// invoice (and, for subscription invoices, from the subscription's items).

func invoiceDefaults(tx *tx, o object) {
	for _, k := range []string{"amount_due", "amount_overpaid", "amount_paid", "amount_paid_off_stripe", "amount_remaining",
		"amount_shipping", "attempt_count", "post_payment_credit_notes_amount", "pre_payment_credit_notes_amount",
		"starting_balance", "subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"} {
		o[k] = int64(0)
	}
	o["account_country"] = "US"
	o["account_name"] = "StripeSQL Demo"
	o["account_tax_ids"] = nil
	o["auto_advance"] = false
	o["automatic_tax"] = object{"disabled_reason": nil, "enabled": false, "liability": nil, "provider": nil, "status": nil}
	o["billing_reason"] = "manual"
	o["collection_method"] = "charge_automatically"
	o["currency"] = "usd"
	o["customer_tax_ids"] = []any{}
	o["issuer"] = object{"type": "self"}
	o["lines"] = listObject("/v1/invoices/"+str(o, "id")+"/lines", nil)
	o["payment_settings"] = object{"default_mandate": nil, "payment_method_options": nil, "payment_method_types": nil}
	o["period_end"] = o["created"]
	o["period_start"] = o["created"]
	o["status"] = "draft"
	o["status_transitions"] = object{"finalized_at": nil, "marked_uncollectible_at": nil, "paid_at": nil, "voided_at": nil}
	o["total_discount_amounts"] = []any{}
	o["total_pretax_credit_amounts"] = []any{}
	o["total_taxes"] = []any{}
}

func createInvoice(tx *tx, o object, p params) *apiError {
	custID := p.str("customer")
	if subID := p.str("subscription"); subID != "" {
		sub, err := tx.mustGet("subscription", subID, "subscription")
		if err != nil {
			return err
		}
		if custID == "" {
			custID = str(sub, "customer")
		}
		o["parent"] = subscriptionParent(subID)
	}
	if custID == "" && !p.has("customer_account") {
		return errMissingParam("customer")
	}
	if custID != "" {
		cust, err := tx.mustGet("customer", custID, "customer")
		if err != nil {
			return err
		}
		setInvoiceCustomer(o, cust)
	}
	if err := setCollection(tx, o, p); err != nil {
		return err
	}
	if p.str("pending_invoice_items_behavior") == "include" {
		tx.insert(o) // items refer to the invoice
		pending := func(it object) bool {
			return str(it, "customer") == custID && it["invoice"] == nil && str(it, "currency") == str(o, "currency")
		}
		for _, r := range tx.s.live("invoiceitem", pending) {
			r.obj["invoice"] = o["id"]
			tx.touch(r)
		}
	}
	tx.recomputeInvoice(o)
	return nil
}

func subscriptionParent(subID string) object {
	return object{"type": "subscription_details", "quote_details": nil,
		"subscription_details": object{"metadata": nil, "subscription": subID}}
}

// setInvoiceCustomer copies the customer details Stripe snapshots onto an invoice.
func setInvoiceCustomer(o, cust object) {
	o["customer"] = cust["id"]
	o["customer_email"] = cust["email"]
	o["customer_name"] = cust["name"]
	o["customer_phone"] = cust["phone"]
	o["customer_address"] = clone(cust["address"])
	o["customer_shipping"] = clone(cust["shipping"])
	o["customer_tax_exempt"] = cust["tax_exempt"]
	o["test_clock"] = cust["test_clock"]
	o["starting_balance"] = cust["balance"]
	if c := str(cust, "currency"); c != "" {
		o["currency"] = c
	}
}

// setCollection applies currency, collection_method, due_date and
// days_until_due; send_invoice invoices are due 30 days out by default.
func setCollection(tx *tx, o object, p params) *apiError {
	if c := p.str("currency"); c != "" {
		o["currency"] = strings.ToLower(c)
	}
	if m := p.str("collection_method"); m != "" {
		o["collection_method"] = m
	}
	due, hasDue := p.int("due_date")
	days, hasDays := p.int("days_until_due")
	if str(o, "collection_method") != "send_invoice" {
		if hasDue || hasDays {
			return invalidRequest("due_date", "Invoices with collection_method=charge_automatically cannot have a due date.")
		}
		o["due_date"] = nil
		return nil
	}
	switch {
	case hasDue:
		o["due_date"] = due
	case hasDays:
		o["due_date"] = intOf(o, "created") + days*86400
	case o["due_date"] == nil:
		o["due_date"] = intOf(o, "created") + 30*86400
	}
	return nil
}

// finalizedEditable reports the invoice params Stripe still accepts after
// finalization; money and collection fields are frozen.
func finalizedEditable(param string) bool {
	switch param {
	case "metadata", "description", "footer", "custom_fields", "auto_advance",
		"default_payment_method", "default_source", "rendering", "payment_settings", "expand":
		return true
	}
	return false
}

func updateInvoice(tx *tx, o object, p params) *apiError {
	if status := str(o, "status"); status != "draft" {
		for k := range p {
			if !finalizedEditable(k) {
				return errState("invoice_not_editable",
					"You can only update %s on a draft invoice; this invoice's status is %s.", k, status)
			}
		}
		return nil
	}
	if err := setCollection(tx, o, p); err != nil {
		return err
	}
	tx.recomputeInvoice(o)
	return nil
}

func deleteInvoice(tx *tx, r *record, p params) (any, *apiError) {
	if status := str(r.obj, "status"); status != "draft" {
		return nil, errState("invoice_not_editable", "You can only delete draft invoices; this invoice's status is %s. Void it instead.", status)
	}
	for _, it := range tx.s.live("invoiceitem", func(o object) bool { return o["invoice"] == r.obj["id"] }) {
		it.obj["invoice"] = nil // back to pending
		tx.touch(it)
	}
	return deleteRemove(tx, r, p)
}

// invoiceState rejects an action unless the invoice has one of the statuses.
func invoiceState(o object, verb string, allowed ...string) *apiError {
	if status := str(o, "status"); !slices.Contains(allowed, status) {
		return errState("invoice_unexpected_state", "You cannot %s this invoice because it has a status of %s.", verb, status)
	}
	return nil
}

func finalizeInvoice(tx *tx, r *record, p params) (any, *apiError) {
	inv := r.obj
	if err := invoiceState(inv, "finalize", "draft"); err != nil {
		return nil, err
	}
	if v, ok := p["auto_advance"]; ok {
		inv["auto_advance"] = v
	}
	tx.finalize(inv)
	return inv, nil
}

// finalize numbers the invoice from its customer's sequence and opens it.
func (tx *tx) finalize(inv object) {
	if cust := tx.s.lookup("customer", str(inv, "customer")); cust != nil {
		seq := intOf(cust.obj, "next_invoice_sequence")
		inv["number"] = fmt.Sprintf("%s-%04d", str(cust.obj, "invoice_prefix"), seq)
		cust.obj["next_invoice_sequence"] = seq + 1
	}
	id := str(inv, "id")
	inv["status"] = "open"
	inv["effective_at"] = tx.unix()
	inv["hosted_invoice_url"] = "https://invoice.stripe.com/i/acct_stripesql/test_" + id
	inv["invoice_pdf"] = "https://pay.stripe.com/invoice/acct_stripesql/test_" + id + "/pdf"
	inv["status_transitions"].(map[string]any)["finalized_at"] = tx.unix()
	// Stripe sets ending_balance when it finalizes (null before): the
	// customer's balance after the invoice, which applies none of it here,
	// so it is the starting balance.
	if inv["ending_balance"] == nil {
		inv["ending_balance"] = intOf(inv, "starting_balance")
	}
	if inv["due_date"] == nil && str(inv, "collection_method") == "charge_automatically" {
		inv["next_payment_attempt"] = tx.unix() + 3600
	}
}

func payInvoice(tx *tx, r *record, p params) (any, *apiError) {
	inv := r.obj
	if err := invoiceState(inv, "pay", "open", "uncollectible"); err != nil {
		return nil, err
	}
	tx.markPaid(inv, p.bool("paid_out_of_band"))
	return inv, nil
}

func (tx *tx) markPaid(inv object, outOfBand bool) {
	due := intOf(inv, "amount_due")
	inv["status"] = "paid"
	inv["amount_paid"] = due
	inv["amount_remaining"] = int64(0)
	if outOfBand {
		inv["amount_paid_off_stripe"] = due
	} else {
		inv["attempted"] = true
		inv["attempt_count"] = intOf(inv, "attempt_count") + 1
	}
	inv["next_payment_attempt"] = nil
	inv["ending_balance"] = int64(0)
	inv["status_transitions"].(map[string]any)["paid_at"] = tx.unix()
}

func voidInvoice(tx *tx, r *record, _ params) (any, *apiError) {
	inv := r.obj
	if err := invoiceState(inv, "void", "open", "uncollectible"); err != nil {
		return nil, err
	}
	inv["status"] = "void"
	inv["next_payment_attempt"] = nil
	inv["status_transitions"].(map[string]any)["voided_at"] = tx.unix()
	return inv, nil
}

func markInvoiceUncollectible(tx *tx, r *record, _ params) (any, *apiError) {
	inv := r.obj
	if err := invoiceState(inv, "mark uncollectible", "open"); err != nil {
		return nil, err
	}
	inv["status"] = "uncollectible"
	inv["status_transitions"].(map[string]any)["marked_uncollectible_at"] = tx.unix()
	return inv, nil
}

func sendInvoice(tx *tx, r *record, _ params) (any, *apiError) {
	inv := r.obj
	if err := invoiceState(inv, "send", "open"); err != nil {
		return nil, err
	}
	if str(inv, "collection_method") != "send_invoice" {
		return nil, invalidRequest("", "You can only manually send an invoice if its collection method is 'send_invoice'.")
	}
	tx.note(r, "invoice.sent")
	return inv, nil
}

// recomputeInvoice rebuilds the invoice-item lines of an invoice and its
// totals; lines of other kinds (subscription items) are kept.
func (tx *tx) recomputeInvoice(inv object) {
	lines, _ := inv["lines"].(map[string]any)
	if lines == nil {
		lines = listObject("/v1/invoices/"+str(inv, "id")+"/lines", nil)
		inv["lines"] = lines
	}
	var data []any
	for _, l := range lines["data"].([]any) {
		if first(l, "parent.type") != "invoice_item_details" {
			data = append(data, l)
		}
	}
	items := tx.s.live("invoiceitem", func(o object) bool { return o["invoice"] == inv["id"] })
	slices.Reverse(items) // oldest first, as Stripe lists added items
	for _, it := range items {
		data = append(data, invoiceItemLine(it.obj))
	}
	var total int64
	for _, l := range data {
		total += intOf(l.(map[string]any), "amount")
	}
	lines["data"] = orEmpty(data)
	lines["total_count"] = int64(len(data))
	for _, k := range []string{"subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "amount_due"} {
		inv[k] = total
	}
	inv["amount_remaining"] = total - intOf(inv, "amount_paid")
}

// invoiceItemLine renders an invoice item as an invoice line item.
func invoiceItemLine(it object) object {
	id := str(it, "id")
	return object{
		"id": "il_" + id[len("ii_"):], "object": "line_item",
		"amount": it["amount"], "currency": it["currency"], "description": it["description"],
		"discount_amounts": []any{}, "discountable": it["discountable"], "discounts": []any{},
		"invoice": it["invoice"], "livemode": false, "metadata": clone(it["metadata"]),
		"parent": object{
			"type":                      "invoice_item_details",
			"invoice_item_details":      object{"invoice_item": id, "proration": false, "proration_details": object{"credited_items": nil}, "subscription": nil},
			"subscription_item_details": nil,
		},
		"period": clone(it["period"]), "pretax_credit_amounts": []any{}, "pricing": clone(it["pricing"]),
		"quantity": it["quantity"], "subscription": nil, "taxes": []any{},
	}
}

func orEmpty(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}
