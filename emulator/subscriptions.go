package emulator

import (
	"fmt"
	"slices"
	"time"
)

// Subscriptions: created active (or trialing, or incomplete when the first
// invoice cannot be charged), canceled by DELETE, resumed from paused.

func subscriptionDefaults(tx *tx, o object) {
	now := tx.unix()
	o["automatic_tax"] = object{"disabled_reason": nil, "enabled": false, "liability": nil}
	o["billing_cycle_anchor"] = now
	o["billing_mode"] = object{"flexible": nil, "type": "classic"}
	o["billing_schedules"] = []any{}
	o["cancel_at_period_end"] = false
	o["cancellation_details"] = object{"comment": nil, "feedback": nil, "reason": nil}
	o["collection_method"] = "charge_automatically"
	o["currency"] = "usd"
	o["default_tax_rates"] = []any{}
	o["discounts"] = []any{}
	o["invoice_settings"] = object{"account_tax_ids": nil, "issuer": object{"type": "self"}}
	o["items"] = listObject("/v1/subscription_items?subscription="+str(o, "id"), nil)
	o["payment_settings"] = object{"payment_method_options": nil, "payment_method_types": nil, "save_default_payment_method": "off"}
	o["start_date"] = now
	o["status"] = "active"
	o["trial_settings"] = object{"end_behavior": object{"missing_payment_method": "create_invoice"}}
}

// isEnded reports whether a subscription is over: canceled or incomplete_expired.
func isEnded(o object) bool {
	s := str(o, "status")
	return s == "canceled" || s == "incomplete_expired"
}

// subscriptionStatus is subscriptions?status=: besides the statuses, "all"
// and "ended" (canceled or incomplete_expired); without it, ended
// subscriptions are hidden.
func subscriptionStatus() filter {
	statuses := []string{"active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"}
	f := oneOf("status", "status", statuses...)
	exact := f.parse
	f.parse = func(param string, raw any) (func(object) bool, *apiError) {
		switch raw {
		case "all":
			return func(object) bool { return true }, nil
		case "ended":
			return isEnded, nil
		}
		return exact(param, raw)
	}
	return f.withAbsent(func(o object) bool { return !isEnded(o) })
}

func createSubscription(tx *tx, o object, p params) *apiError {
	custID, cust, err := tx.requiredCustomer(p)
	if err != nil {
		return err
	}
	if len(p.list("items")) == 0 {
		return errMissingParam("items")
	}
	items, err := tx.subscriptionItems(o, p.list("items"))
	if err != nil {
		return err
	}
	extras, err := tx.oneTimeItems(p.list("add_invoice_items"))
	if err != nil {
		return err
	}
	o["customer"] = custID
	o["test_clock"] = cust["test_clock"]
	o["items"].(map[string]any)["data"] = items
	o["items"].(map[string]any)["total_count"] = int64(len(items))
	o["currency"] = first(items[0], "price.currency")
	o["cancel_at_period_end"] = p.bool("cancel_at_period_end")

	trialEnd := int64(0)
	if days, ok := p.int("trial_period_days"); ok && days > 0 {
		trialEnd = tx.unix() + days*86400
	}
	if n, ok := p.int("trial_end"); ok {
		trialEnd = n
	}
	if trialEnd > tx.unix() {
		o["trial_start"] = tx.unix()
		o["trial_end"] = trialEnd
		o["status"] = "trialing"
	}

	tx.insert(o) // the first invoice refers to the subscription
	inv := tx.subscriptionInvoice(o, "subscription_create", extras)
	o["latest_invoice"] = inv["id"]
	switch {
	case str(inv, "status") == "paid", str(o, "collection_method") == "send_invoice":
	case p.str("payment_behavior") == "default_incomplete" || !hasPaymentSource(cust, o):
		o["status"] = "incomplete"
	}
	return nil
}

// subscriptionItems validates items[i][price] and [quantity] and builds
// the subscription's items; all prices must be recurring and share a currency.
func (tx *tx) subscriptionItems(sub object, raw []any) ([]any, *apiError) {
	var out []any
	for i, it := range raw {
		item, _ := it.(map[string]any)
		param := fmt.Sprintf("items[%d][price]", i)
		id := str(item, "price")
		if id == "" {
			return nil, errMissingParam(param)
		}
		price, err := tx.mustGet("price", id, param)
		if err != nil {
			return nil, err
		}
		if str(price, "type") != "recurring" {
			return nil, invalidRequest(param, "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.")
		}
		if len(out) > 0 && first(out[0], "price.currency") != price["currency"] {
			return nil, invalidRequest(param, "All prices on a subscription must have the same currency.")
		}
		qty, ok := asInt(item["quantity"])
		if !ok {
			qty = 1
		}
		out = append(out, tx.subscriptionItem(sub, price, qty))
	}
	return out, nil
}

func (tx *tx) subscriptionItem(sub, price object, qty int64) object {
	start := intOf(sub, "billing_cycle_anchor")
	return object{
		"id": "si_" + tx.s.randomString(14), "object": "subscription_item",
		"billing_thresholds": nil, "created": tx.unix(),
		"current_period_start": start, "current_period_end": periodEnd(start, price),
		"discounts": []any{}, "metadata": object{}, "price": cloneObject(price), "quantity": qty,
		"subscription": sub["id"], "tax_rates": []any{},
	}
}

// periodEnd adds one billing interval of a recurring price to start.
func periodEnd(start int64, price object) int64 {
	count := int(intOf(price["recurring"].(map[string]any), "interval_count"))
	if count == 0 {
		count = 1
	}
	t := time.Unix(start, 0).UTC()
	switch first(price, "recurring.interval") {
	case "day":
		t = t.AddDate(0, 0, count)
	case "week":
		t = t.AddDate(0, 0, 7*count)
	case "year":
		t = t.AddDate(count, 0, 0)
	default:
		t = t.AddDate(0, count, 0)
	}
	return t.Unix()
}

// oneTimeItems validates add_invoice_items (one-time prices for the first invoice).
func (tx *tx) oneTimeItems(raw []any) ([]object, *apiError) {
	var out []object
	for i, it := range raw {
		item, _ := it.(map[string]any)
		param := fmt.Sprintf("add_invoice_items[%d][price]", i)
		price, err := tx.mustGet("price", str(item, "price"), param)
		if err != nil {
			return nil, err
		}
		qty, ok := asInt(item["quantity"])
		if !ok {
			qty = 1
		}
		out = append(out, object{"price": price["id"], "quantity": qty})
	}
	return out, nil
}

func hasPaymentSource(cust, sub object) bool {
	return sub["default_payment_method"] != nil || cust["default_source"] != nil ||
		first(cust, "invoice_settings.default_payment_method") != nil
}

// subscriptionInvoice creates, finalizes and, when the customer can pay,
// pays the invoice for the subscription's current period.
func (tx *tx) subscriptionInvoice(sub object, reason string, extras []object) object {
	inv := tx.newObject(tx.res("invoice"))
	invoiceDefaults(tx, inv)
	cust := tx.get("customer", str(sub, "customer"))
	setInvoiceCustomer(inv, cust)
	inv["currency"] = sub["currency"]
	inv["billing_reason"] = reason
	inv["collection_method"] = sub["collection_method"]
	inv["parent"] = subscriptionParent(str(sub, "id"))
	trialing := str(sub, "status") == "trialing"
	var lines []any
	for _, it := range sub["items"].(map[string]any)["data"].([]any) {
		item := it.(map[string]any)
		unit, _ := asInt(first(item, "price.unit_amount"))
		qty := intOf(item, "quantity")
		name := first(item, "price.nickname")
		if prod := tx.get("product", fmt.Sprint(first(item, "price.product"))); prod != nil {
			name = prod["name"]
		}
		total := unit * qty
		if trialing {
			total = 0
		}
		lines = append(lines, object{
			"id": "il_" + tx.s.randomString(24), "object": "line_item",
			"amount": total, "currency": sub["currency"], "description": fmt.Sprintf("%d × %v", qty, name),
			"discount_amounts": []any{}, "discountable": true, "discounts": []any{}, "invoice": inv["id"], "livemode": false, "metadata": object{},
			"parent": object{"type": "subscription_item_details", "invoice_item_details": nil,
				"subscription_item_details": object{"invoice_item": nil, "proration": false, "proration_details": object{"credited_items": nil},
					"subscription": sub["id"], "subscription_item": item["id"]}},
			"period":                object{"start": item["current_period_start"], "end": item["current_period_end"]},
			"pretax_credit_amounts": []any{},
			"pricing":               object{"price_details": object{"price": first(item, "price.id"), "product": first(item, "price.product")}, "type": "price_details", "unit_amount_decimal": fmt.Sprint(unit)},
			"quantity":              qty, "subscription": sub["id"], "taxes": []any{},
		})
	}
	inv["lines"].(map[string]any)["data"] = lines
	tx.insert(inv)
	for _, x := range extras {
		// Cannot fail: oneTimeItems checked the prices, and the invoice is a
		// draft of the subscription's customer.
		tx.create(tx.res("invoiceitem"), "", params{"customer": sub["customer"], "invoice": inv["id"],
			"quantity": x["quantity"], "pricing": map[string]any{"price": x["price"]}})
	}
	tx.recomputeInvoice(inv)
	tx.finalize(inv)
	if intOf(inv, "amount_due") == 0 || (str(inv, "collection_method") == "charge_automatically" && hasPaymentSource(cust, sub)) {
		tx.markPaid(inv, false)
	}
	return inv
}

func updateSubscription(tx *tx, o object, p params) *apiError {
	if isEnded(o) {
		for k := range p {
			if k != "metadata" && k != "cancellation_details" && k != "expand" {
				return errState("", "A canceled subscription can only update its cancellation_details and metadata.")
			}
		}
		return nil
	}
	if items := p.list("items"); items != nil {
		if err := tx.updateSubscriptionItems(o, items); err != nil {
			return err
		}
	}
	if v, ok := p["cancel_at_period_end"].(bool); ok {
		o["cancel_at_period_end"] = v
	}
	if n, ok := p.int("cancel_at"); ok {
		o["cancel_at"] = n
	} else if p.has("cancel_at") && p["cancel_at"] == nil {
		o["cancel_at"] = nil
	}
	if p.has("pause_collection") {
		o["pause_collection"] = clone(p["pause_collection"])
	}
	if p.str("trial_end") == "now" && str(o, "status") == "trialing" {
		o["trial_end"] = tx.unix()
		o["status"] = "active"
	} else if n, ok := p.int("trial_end"); ok {
		o["trial_end"] = n
	}
	return nil
}

// updateSubscriptionItems applies items[i] = {id, price, quantity, deleted}:
// an id updates (or with deleted=true removes) an item, no id adds one.
func (tx *tx) updateSubscriptionItems(o object, raw []any) *apiError {
	list := o["items"].(map[string]any)
	data := list["data"].([]any)
	for i, it := range raw {
		item, _ := it.(map[string]any)
		id := str(item, "id")
		idx := slices.IndexFunc(data, func(d any) bool { return d.(map[string]any)["id"] == id })
		if id != "" && idx < 0 {
			return errNoSuch("subscription_item", id, fmt.Sprintf("items[%d][id]", i))
		}
		if item["deleted"] == true {
			data = slices.Delete(data, idx, idx+1)
			continue
		}
		if id == "" {
			added, err := tx.subscriptionItems(o, []any{item})
			if err != nil {
				return err
			}
			data = append(data, added[0])
			continue
		}
		cur := data[idx].(map[string]any)
		if q, ok := asInt(item["quantity"]); ok {
			cur["quantity"] = q
		}
		if pid := str(item, "price"); pid != "" {
			price, err := tx.mustGet("price", pid, fmt.Sprintf("items[%d][price]", i))
			if err != nil {
				return err
			}
			cur["price"] = cloneObject(price)
		}
	}
	if len(data) == 0 {
		return invalidRequest("items", "A subscription must have at least one item.")
	}
	list["data"] = data
	list["total_count"] = int64(len(data))
	return nil
}

// cancelSubscription is DELETE /v1/subscriptions/{id}: the subscription
// is canceled at once and stays retrievable and listable (status=canceled).
func cancelSubscription(tx *tx, r *record, p params) (any, *apiError) {
	if isEnded(r.obj) {
		return nil, errState("", "This subscription has already been canceled.")
	}
	tx.endSubscription(r.obj)
	if d := p.hash("cancellation_details"); d != nil {
		merge(r.obj, object{"cancellation_details": d}, false)
	}
	tx.touch(r)
	return r.obj, nil
}

func (tx *tx) endSubscription(o object) {
	o["status"] = "canceled"
	o["canceled_at"] = tx.unix()
	o["ended_at"] = tx.unix()
	o["cancellation_details"].(map[string]any)["reason"] = "cancellation_requested"
}

func resumeSubscription(tx *tx, r *record, _ params) (any, *apiError) {
	if s := str(r.obj, "status"); s != "paused" {
		return nil, errState("", "Subscription cannot be resumed because its status is %s; only paused subscriptions can be resumed.", s)
	}
	r.obj["status"] = "active"
	r.obj["pause_collection"] = nil
	return r.obj, nil
}
