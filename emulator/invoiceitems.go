package emulator

import (
	"math"
	"strconv"
	"strings"
)

// Invoice items: pending until attached to a draft invoice, frozen once
// that invoice is finalized.

func invoiceItemDefaults(tx *tx, o object) {
	now := tx.unix()
	o["date"] = now
	o["discountable"] = true
	o["discounts"] = []any{}
	o["period"] = object{"start": now, "end": now}
	o["proration"] = false
	o["quantity"] = int64(1)
	o["quantity_decimal"] = "1"
	o["tax_rates"] = []any{}
}

// pendingFilter is invoiceitems?pending=: true selects items not yet on an
// invoice.
func pendingFilter() filter {
	return filter{param: "pending", parse: func(param string, raw any) (func(object) bool, *apiError) {
		want, _ := raw.(string)
		if want != "true" && want != "false" {
			return nil, invalidRequest(param, "Invalid boolean: %v", raw)
		}
		return func(o object) bool { return (o["invoice"] == nil) == (want == "true") }, nil
	}}
}

func createInvoiceItem(tx *tx, o object, p params) *apiError {
	custID, cust, err := tx.requiredCustomer(p)
	if err != nil {
		return err
	}
	o["customer"] = custID
	o["test_clock"] = cust["test_clock"]
	var inv object
	if id := p.str("invoice"); id != "" {
		if inv, err = tx.editableInvoice(id, "invoice"); err != nil {
			return err
		}
		if str(inv, "customer") != custID {
			return invalidRequest("invoice", "The invoice %s belongs to a different customer.", id)
		}
		o["invoice"] = id
	}
	if c := p.str("currency"); c != "" {
		o["currency"] = strings.ToLower(c)
	}
	if err := tx.priceInvoiceItem(o, p, true); err != nil {
		return err
	}
	if o["currency"] == nil {
		if c := str(cust, "currency"); c != "" {
			o["currency"] = c
		} else {
			return errMissingParam("currency")
		}
	}
	if period := p.hash("period"); period != nil {
		o["period"] = object{"start": period["start"], "end": period["end"]}
	}
	if sub := p.str("subscription"); sub != "" {
		o["parent"] = object{"type": "subscription_details",
			"subscription_details": object{"subscription": sub, "subscription_item": nil}}
	}
	if inv != nil {
		tx.insert(o) // the invoice's lines are built from stored items
		tx.recomputeInvoice(inv)
		tx.touchObj(inv)
	}
	return nil
}

// priceInvoiceItem sets amount, quantity and pricing from amount,
// pricing[price], price_data or unit_amount_decimal; amount = unit × quantity.
func (tx *tx) priceInvoiceItem(o object, p params, creating bool) *apiError {
	quantity := intOf(o, "quantity")
	if n, ok := p.int("quantity"); ok {
		if n < 0 {
			return invalidRequest("quantity", "Invalid quantity: must be at least 0")
		}
		quantity = n
	}
	pricing, _ := o["pricing"].(map[string]any)
	unit, hasUnit := 0.0, false
	if pricing != nil {
		unit, hasUnit = decimal(pricing["unit_amount_decimal"])
	}
	var priceDetails any
	if pricing != nil {
		priceDetails = pricing["price_details"]
	}
	switch {
	case p.has("amount"):
		amount, _ := p.int("amount")
		if quantity == 0 {
			quantity = 1
		}
		unit, hasUnit = float64(amount)/float64(quantity), true
		priceDetails = nil
	case str(p.hash("pricing"), "price") != "":
		id := str(p.hash("pricing"), "price")
		price, err := tx.mustGet("price", id, "pricing[price]")
		if err != nil {
			return err
		}
		if price["unit_amount"] == nil {
			return invalidRequest("pricing[price]", "The price %s has no unit_amount.", id)
		}
		unit, hasUnit = float64(intOf(price, "unit_amount")), true
		priceDetails = object{"price": id, "product": price["product"]}
		o["currency"] = price["currency"]
	case p.hash("price_data") != nil:
		pd := p.hash("price_data")
		if _, err := tx.mustGet("product", str(pd, "product"), "price_data[product]"); err != nil {
			return err
		}
		if n, ok := asInt(pd["unit_amount"]); ok {
			unit, hasUnit = float64(n), true
		} else if f, ok := decimal(pd["unit_amount_decimal"]); ok {
			unit, hasUnit = f, true
		}
		if c := str(pd, "currency"); c != "" {
			o["currency"] = strings.ToLower(c)
		}
	case p.has("unit_amount_decimal"):
		f, ok := decimal(p["unit_amount_decimal"])
		if !ok {
			return invalidRequest("unit_amount_decimal", "Invalid decimal: %v", p["unit_amount_decimal"])
		}
		unit, hasUnit = f, true
	}
	if !hasUnit {
		if creating {
			return errMissingParam("amount")
		}
		return nil
	}
	amount := int64(math.Round(unit * float64(quantity)))
	o["amount"] = amount
	o["net_amount"] = amount
	o["quantity"] = quantity
	o["quantity_decimal"] = strconv.FormatInt(quantity, 10)
	typ := any(nil)
	if priceDetails != nil {
		typ = "price_details"
	}
	o["pricing"] = object{"price_details": priceDetails, "type": typ, "unit_amount_decimal": strconv.FormatFloat(unit, 'f', -1, 64)}
	return nil
}

func decimal(v any) (float64, bool) {
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return asFloat(v)
}

// editableInvoice returns a draft invoice, the only kind whose items may change.
func (tx *tx) editableInvoice(id, param string) (object, *apiError) {
	inv, err := tx.mustGet("invoice", id, param)
	if err != nil {
		return nil, err
	}
	if s := str(inv, "status"); s != "draft" {
		return nil, errState("invoice_not_editable", "The invoice %s is %s; invoice items can only be added to, changed on or removed from draft invoices.", id, s)
	}
	return inv, nil
}

func updateInvoiceItem(tx *tx, o object, p params) *apiError {
	var inv object
	if id := str(o, "invoice"); id != "" {
		var err *apiError
		if inv, err = tx.editableInvoice(id, "id"); err != nil {
			return err
		}
	}
	if err := tx.priceInvoiceItem(o, p, false); err != nil {
		return err
	}
	if period := p.hash("period"); period != nil {
		o["period"] = object{"start": period["start"], "end": period["end"]}
	}
	if inv != nil {
		// Other params (description, metadata) are merged after this hook;
		// merge them first so the rebuilt line shows them.
		tx.copyParams(tx.res("invoiceitem"), o, p)
		tx.recomputeInvoice(inv)
		tx.touchObj(inv)
	}
	return nil
}

func deleteInvoiceItem(tx *tx, r *record, p params) (any, *apiError) {
	var inv object
	if id := str(r.obj, "invoice"); id != "" {
		var err *apiError
		if inv, err = tx.editableInvoice(id, "id"); err != nil {
			return nil, err
		}
	}
	out, err := deleteRemove(tx, r, p)
	if inv != nil {
		tx.recomputeInvoice(inv)
		tx.touchObj(inv)
	}
	return out, err
}
