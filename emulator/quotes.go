package emulator

import (
	"fmt"
	"slices"
)

// Quotes: draft → (finalize) open → (accept) accepted, producing an invoice
// (and a subscription for recurring prices); draft or open → (cancel)
// canceled.

const quoteValidity = 30 * 86400 // seconds a finalized quote stays valid by default

func quoteDefaults(tx *tx, o object) {
	zeroTotals := object{"amount_discount": int64(0), "amount_shipping": int64(0), "amount_tax": int64(0)}
	o["automatic_tax"] = object{"enabled": false, "liability": nil, "provider": nil, "status": nil}
	o["collection_method"] = "charge_automatically"
	o["computed"] = object{"recurring": nil, "upfront": object{"amount_subtotal": int64(0), "amount_total": int64(0), "total_details": clone(zeroTotals)}}
	o["currency"] = "usd"
	o["default_tax_rates"] = []any{}
	o["discounts"] = []any{}
	o["expires_at"] = intOf(o, "created") + quoteValidity
	o["invoice_settings"] = object{"days_until_due": nil, "issuer": object{"type": "self"}}
	o["line_items"] = listObject("/v1/quotes/"+str(o, "id")+"/line_items", nil)
	o["status"] = "draft"
	o["status_transitions"] = object{"accepted_at": nil, "canceled_at": nil, "finalized_at": nil}
	o["subscription_data"] = object{"billing_mode": object{"type": "classic"}, "description": nil, "effective_date": nil, "metadata": nil, "trial_period_days": nil}
	o["total_details"] = zeroTotals
}

// createQuote also handles test_clock: a quote without a customer can be
// put on a clock directly; one with a customer follows the customer's clock.
func createQuote(tx *tx, o object, p params) *apiError {
	clock := p.str("test_clock")
	if clock != "" {
		if err := tx.checkTestClock(clock); err != nil {
			return err
		}
	}
	if err := tx.applyQuoteParams(o, p); err != nil {
		return err
	}
	switch {
	case clock == "":
	case o["customer"] == nil:
		o["test_clock"] = clock
	case o["test_clock"] != clock:
		return invalidRequest("test_clock", "The test clock %s does not match the test clock of customer %s.", clock, str(o, "customer"))
	}
	return nil
}

// applyQuoteParams handles the params create and update share.
func (tx *tx) applyQuoteParams(o object, p params) *apiError {
	switch id := p.str("customer"); {
	case p.has("customer") && id == "":
		o["customer"], o["test_clock"] = nil, nil
	case id != "":
		cust, err := tx.mustGet("customer", id, "customer")
		if err != nil {
			return err
		}
		o["customer"] = id
		o["test_clock"] = cust["test_clock"]
	}
	if p.has("line_items") {
		if err := tx.setQuoteLines(o, p.list("line_items")); err != nil {
			return err
		}
	}
	if n, ok := p.int("expires_at"); ok {
		o["expires_at"] = n
	}
	for _, k := range []string{"subscription_data", "invoice_settings"} {
		if h := p.hash(k); h != nil {
			merge(o, object{k: h}, false)
		}
	}
	return nil
}

// setQuoteLines replaces the quote's line items and totals.
func (tx *tx) setQuoteLines(o object, items []any) *apiError {
	var data []any
	var total int64
	currency := ""
	for i, it := range items {
		item, _ := it.(map[string]any)
		param := fmt.Sprintf("line_items[%d][price]", i)
		id := str(item, "price")
		if id == "" {
			return errMissingParam(param)
		}
		price, err := tx.mustGet("price", id, param)
		if err != nil {
			return err
		}
		if currency != "" && str(price, "currency") != currency {
			return invalidRequest(param, "All prices on a quote must have the same currency.")
		}
		currency = str(price, "currency")
		qty, ok := asInt(item["quantity"])
		if !ok {
			qty = 1
		}
		amount := intOf(price, "unit_amount") * qty
		total += amount
		desc := any(nil)
		if prod := tx.get("product", str(price, "product")); prod != nil {
			desc = prod["name"]
		}
		data = append(data, object{
			"id": "li_" + tx.s.randomString(24), "object": "item",
			"amount_discount": int64(0), "amount_subtotal": amount, "amount_tax": int64(0), "amount_total": amount,
			"currency": currency, "description": desc, "discounts": []any{}, "price": cloneObject(price),
			"quantity": qty, "taxes": []any{},
		})
	}
	if currency != "" {
		o["currency"] = currency
	}
	lines := o["line_items"].(map[string]any)
	lines["data"] = orEmpty(data)
	lines["total_count"] = int64(len(data))
	o["amount_subtotal"] = total
	o["amount_total"] = total
	upfront := o["computed"].(map[string]any)["upfront"].(map[string]any)
	upfront["amount_subtotal"] = total
	upfront["amount_total"] = total
	return nil
}

func updateQuote(tx *tx, o object, p params) *apiError {
	if err := quoteState(o, "update", "draft"); err != nil {
		return err
	}
	return tx.applyQuoteParams(o, p)
}

func quoteState(o object, verb string, allowed ...string) *apiError {
	if status := str(o, "status"); !slices.Contains(allowed, status) {
		return errState("quote_unexpected_state", "You cannot %s this quote because it has a status of %s.", verb, status)
	}
	return nil
}

func finalizeQuote(tx *tx, r *record, p params) (any, *apiError) {
	q := r.obj
	if err := quoteState(q, "finalize", "draft"); err != nil {
		return nil, err
	}
	cust := tx.get("customer", str(q, "customer"))
	if cust == nil {
		return nil, invalidRequest("customer", "A customer must be set on the quote before it can be finalized.")
	}
	if n, ok := p.int("expires_at"); ok {
		q["expires_at"] = n
	}
	seq := 1
	seq += len(tx.s.live("quote", func(o object) bool { return o["customer"] == q["customer"] && o["number"] != nil }))
	q["number"] = fmt.Sprintf("QT-%s-%04d-1", str(cust, "invoice_prefix"), seq)
	q["status"] = "open"
	q["status_transitions"].(map[string]any)["finalized_at"] = tx.unix()
	return q, nil
}

// acceptQuote turns an open quote into a draft invoice of its one-time
// prices or, when it has recurring prices, into a subscription whose first
// invoice also carries the one-time prices.
func acceptQuote(tx *tx, r *record, _ params) (any, *apiError) {
	q := r.obj
	if err := quoteState(q, "accept", "open"); err != nil {
		return nil, err
	}
	var recurring, oneTime []any
	for _, l := range q["line_items"].(map[string]any)["data"].([]any) {
		line := l.(map[string]any)
		item := object{"price": first(line, "price.id"), "quantity": line["quantity"]}
		if first(line, "price.type") == "recurring" {
			recurring = append(recurring, item)
		} else {
			oneTime = append(oneTime, item)
		}
	}
	custID := str(q, "customer")
	if len(recurring) > 0 {
		sub, err := tx.create(tx.res("subscription"), "", params{
			"customer": custID, "items": recurring, "add_invoice_items": oneTime,
			"collection_method": q["collection_method"],
		})
		if err != nil {
			return nil, err
		}
		q["subscription"] = sub["id"]
		q["invoice"] = sub["latest_invoice"]
	} else {
		inv, err := tx.create(tx.res("invoice"), "", params{"customer": custID, "collection_method": q["collection_method"], "auto_advance": true})
		if err != nil {
			return nil, err
		}
		inv["billing_reason"] = "quote_accept"
		inv["parent"] = object{"type": "quote_details", "quote_details": object{"quote": q["id"]}, "subscription_details": nil}
		for _, it := range oneTime {
			item := it.(object)
			if _, err := tx.create(tx.res("invoiceitem"), "", params{
				"customer": custID, "invoice": inv["id"], "quantity": item["quantity"],
				"pricing": map[string]any{"price": item["price"]},
			}); err != nil {
				return nil, err
			}
		}
		q["invoice"] = inv["id"]
	}
	q["status"] = "accepted"
	q["status_transitions"].(map[string]any)["accepted_at"] = tx.unix()
	return q, nil
}

func cancelQuote(tx *tx, r *record, _ params) (any, *apiError) {
	q := r.obj
	if err := quoteState(q, "cancel", "draft", "open"); err != nil {
		return nil, err
	}
	q["status"] = "canceled"
	q["status_transitions"].(map[string]any)["canceled_at"] = tx.unix()
	return q, nil
}
