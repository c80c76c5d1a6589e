package emulator

import "strings"

// Customers and their cards (/v1/customers/{customer}/sources).

func customerDefaults(tx *tx, o object) {
	o["balance"] = int64(0)
	o["delinquent"] = false
	o["invoice_prefix"] = strings.ToUpper(tx.s.randomString(8))
	o["invoice_settings"] = object{"custom_fields": nil, "default_payment_method": nil, "footer": nil, "rendering_options": nil}
	o["next_invoice_sequence"] = int64(1)
	o["preferred_locales"] = []any{}
	o["tax_exempt"] = "none"
}

// createCustomer checks the test clock the customer is put on and
// attaches the card of a source token or an existing payment method, as
// Stripe does for those create params.
func createCustomer(tx *tx, o object, p params) *apiError {
	if id := p.str("test_clock"); id != "" {
		if err := tx.checkTestClock(id); err != nil {
			return err
		}
	}
	var tc testCard
	if tok := p.str("source"); tok != "" {
		var ok bool
		if tc, ok = testCardFor(tok); !ok {
			return errNoSuch("token", tok, "source")
		}
	}
	var pm object
	if id := p.str("payment_method"); id != "" {
		var err *apiError
		if pm, err = tx.mustGet("payment_method", id, "payment_method"); err != nil {
			return err
		}
	}
	if p.str("source") != "" {
		card := tx.newCard(str(o, "id"), tc)
		tx.insert(card)
		o["default_source"] = card["id"]
	}
	if pm != nil {
		pm["customer"] = o["id"]
		tx.touchObj(pm)
	}
	return nil
}

// updateCustomer handles source (adds a card and makes it the default) and
// default_source (must be one of the customer's cards).
func updateCustomer(tx *tx, o object, p params) *apiError {
	if id := p.str("default_source"); id != "" {
		card := tx.get("card", id)
		if card == nil || card["customer"] != o["id"] {
			return errNoSuch("source", id, "default_source")
		}
	}
	if tok := p.str("source"); tok != "" {
		tc, ok := testCardFor(tok)
		if !ok {
			return errNoSuch("token", tok, "source")
		}
		card := tx.newCard(str(o, "id"), tc)
		tx.insert(card)
		o["default_source"] = card["id"]
	}
	return nil
}

// deleteCustomer leaves a tombstone (Stripe still answers a retrieve of a
// deleted customer, with {"deleted": true}), removes its cards, detaches
// its payment methods and cancels its subscriptions.
func deleteCustomer(tx *tx, r *record, p params) (any, *apiError) {
	id := str(r.obj, "id")
	ofCustomer := func(o object) bool { return str(o, "customer") == id }
	for _, c := range tx.s.live("card", ofCustomer) {
		tx.s.remove("card", str(c.obj, "id"))
	}
	for _, pm := range tx.s.live("payment_method", ofCustomer) {
		pm.obj["customer"] = nil
		tx.touch(pm)
	}
	for _, sub := range tx.s.live("subscription", func(o object) bool { return ofCustomer(o) && !isEnded(o) }) {
		tx.endSubscription(sub.obj)
		tx.touch(sub)
	}
	return deleteTombstone(tx, r, p)
}

// createCard adds a card from a test token (source=tok_visa) to the
// customer in the path, making it the default source if there is none.
func createCard(tx *tx, o object, p params) *apiError {
	tok := p.str("source")
	if tok == "" {
		return errMissingParam("source")
	}
	tc, ok := testCardFor(tok)
	if !ok {
		return errNoSuch("token", tok, "source")
	}
	tx.fillCard(o, tc)
	if cust := tx.get("customer", str(o, "customer")); cust != nil && cust["default_source"] == nil {
		cust["default_source"] = o["id"]
		tx.touchObj(cust)
	}
	return nil
}

// newCard builds a card object for a customer from test card data.
func (tx *tx) newCard(customerID string, tc testCard) object {
	o := tx.newObject(tx.res("card"))
	o["customer"] = customerID
	tx.fillCard(o, tc)
	return o
}

// fillCard sets a card object's details from test card data.
func (tx *tx) fillCard(o object, tc testCard) {
	o["brand"] = tc.brand
	o["last4"] = tc.last4
	o["funding"] = tc.funding
	o["country"] = tc.country
	o["exp_month"] = int64(tx.now.Month())
	o["exp_year"] = int64(tx.now.Year() + 3)
	o["fingerprint"] = tc.fingerprint()
	o["cvc_check"] = "pass"
	o["regulated_status"] = "unregulated"
}

// detachCard removes a card (DELETE /v1/customers/{customer}/sources/{id})
// and moves the customer's default source to its newest remaining card.
func detachCard(tx *tx, r *record, _ params) (any, *apiError) {
	card := r.obj
	custID := str(card, "customer")
	tx.s.remove("card", str(card, "id"))
	if cust := tx.get("customer", custID); cust != nil && cust["default_source"] == card["id"] {
		cust["default_source"] = nil
		if cards := tx.s.live("card", func(o object) bool { return str(o, "customer") == custID }); len(cards) > 0 {
			cust["default_source"] = cards[0].obj["id"]
		}
		tx.touchObj(cust)
	}
	out := cloneObject(card)
	out["deleted"] = true
	return out, nil
}
