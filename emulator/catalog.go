package emulator

import (
	"strconv"
)

// Products and prices.

func productDefaults(tx *tx, o object) {
	o["active"] = true
	o["images"] = []any{}
	o["marketing_features"] = []any{}
	o["updated"] = o["created"]
}

// createProduct honours a caller-chosen id and creates the default price
// from default_price_data.
func createProduct(tx *tx, o object, p params) *apiError {
	if id := p.str("id"); id != "" {
		if tx.s.lookup("product", id) != nil {
			e := invalidRequest("id", "Product already exists.")
			e.code = "resource_already_exists"
			return e
		}
		o["id"] = id
	}
	data := p.hash("default_price_data")
	if data == nil {
		return nil
	}
	// The price refers to the product, so the product must exist first.
	tx.insert(o)
	pp := params(clone(data).(map[string]any))
	pp["product"] = o["id"]
	price, err := tx.create(tx.res("price"), "", pp)
	if err != nil {
		tx.s.remove("product", str(o, "id"))
		return prefixParam(err, "default_price_data")
	}
	o["default_price"] = price["id"]
	return nil
}

func updateProduct(tx *tx, o object, p params) *apiError {
	if id := p.str("default_price"); id != "" {
		price, err := tx.mustGet("price", id, "default_price")
		if err != nil {
			return err
		}
		if str(price, "product") != str(o, "id") {
			return invalidRequest("default_price", "The price %s does not belong to product %s.", id, str(o, "id"))
		}
		o["default_price"] = id
	} else if p.has("default_price") {
		o["default_price"] = nil
	}
	o["updated"] = tx.unix()
	return nil
}

// deleteProduct refuses, like Stripe, to delete a product that has prices.
func deleteProduct(tx *tx, r *record, p params) (any, *apiError) {
	id := str(r.obj, "id")
	if len(tx.s.live("price", func(o object) bool { return str(o, "product") == id })) > 0 {
		return nil, invalidRequest("", "This product cannot be deleted because it has one or more user-created prices. Archive it with active=false instead.")
	}
	return deleteRemove(tx, r, p)
}

func priceDefaults(tx *tx, o object) {
	o["active"] = true
	o["billing_scheme"] = "per_unit"
	o["tax_behavior"] = "unspecified"
	o["type"] = "one_time"
}

func createPrice(tx *tx, o object, p params) *apiError {
	productID, productData := p.str("product"), p.hash("product_data")
	switch {
	case productID == "" && productData == nil:
		e := invalidRequest("product", "You must specify either `product` or `product_data` when creating a price.")
		e.code = "parameter_missing"
		return e
	case productID != "":
		if _, err := tx.mustGet("product", productID, "product"); err != nil {
			return err
		}
	case str(productData, "name") == "":
		return errMissingParam("product_data[name]")
	}
	if err := setUnitAmount(o, p); err != nil {
		return err
	}
	if str(o, "billing_scheme") == "per_unit" && o["unit_amount_decimal"] == nil && o["custom_unit_amount"] == nil {
		return errMissingParam("unit_amount")
	}
	if rec := p.hash("recurring"); rec != nil {
		if str(rec, "interval") == "" {
			return errMissingParam("recurring[interval]")
		}
		count, ok := asInt(rec["interval_count"])
		if !ok {
			count = 1
		}
		usage := str(rec, "usage_type")
		if usage == "" {
			usage = "licensed"
		}
		o["recurring"] = object{"interval": rec["interval"], "interval_count": count, "meter": rec["meter"],
			"trial_period_days": nil, "usage_type": usage}
		o["type"] = "recurring"
	}
	if err := tx.claimLookupKey(o, p); err != nil {
		return err
	}
	if productData != nil {
		prod, err := tx.create(tx.res("product"), "", params(clone(productData).(map[string]any)))
		if err != nil {
			return prefixParam(err, "product_data")
		}
		productID = str(prod, "id")
	}
	o["product"] = productID
	return nil
}

// setUnitAmount keeps unit_amount and unit_amount_decimal consistent, as
// Stripe does: an integral decimal fills both.
func setUnitAmount(o object, p params) *apiError {
	if n, ok := p.int("unit_amount"); ok {
		if n < 0 {
			return invalidRequest("unit_amount", "Invalid unit_amount: must be at least 0")
		}
		o["unit_amount"] = n
		o["unit_amount_decimal"] = strconv.FormatInt(n, 10)
		return nil
	}
	if d := p.str("unit_amount_decimal"); d != "" {
		f, err := strconv.ParseFloat(d, 64)
		if err != nil || f < 0 {
			return invalidRequest("unit_amount_decimal", "Invalid decimal: %s", d)
		}
		o["unit_amount_decimal"] = d
		o["unit_amount"] = nil
		if f == float64(int64(f)) {
			o["unit_amount"] = int64(f)
		}
	}
	return nil
}

func updatePrice(tx *tx, o object, p params) *apiError {
	return tx.claimLookupKey(o, p)
}

// claimLookupKey enforces unique lookup keys among prices; with
// transfer_lookup_key=true the key moves from its current price.
func (tx *tx) claimLookupKey(o object, p params) *apiError {
	key := p.str("lookup_key")
	if key == "" {
		return nil
	}
	for _, r := range tx.s.live("price", func(pr object) bool { return str(pr, "lookup_key") == key && pr["id"] != o["id"] }) {
		if !p.bool("transfer_lookup_key") {
			return invalidRequest("lookup_key", "A price (`%s`) already uses that lookup key.", str(r.obj, "id"))
		}
		r.obj["lookup_key"] = nil
		tx.touch(r)
	}
	return nil
}

// prefixParam reports a nested creation's error under the parent param
// (product_data[name]).
func prefixParam(err *apiError, parent string) *apiError {
	if err.param != "" {
		e := *err
		e.param = parent + "[" + err.param + "]"
		return &e
	}
	return err
}
