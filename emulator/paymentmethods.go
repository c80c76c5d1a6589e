package emulator

import "strings"

// Payment methods: created from test cards, attached to and detached from
// customers.

func paymentMethodDefaults(tx *tx, o object) {
	o["allow_redisplay"] = "unspecified"
	o["billing_details"] = object{
		"address": object{"city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil},
		"email":   nil, "name": nil, "phone": nil, "tax_id": nil,
	}
}

// createPaymentMethod accepts type=card with card[token]=tok_… or
// card[number]=…; other types are stored with an empty type hash.
func createPaymentMethod(tx *tx, o object, p params) *apiError {
	typ := p.str("type")
	if typ == "" {
		return errMissingParam("type")
	}
	var cust object
	if id := p.str("customer"); id != "" {
		var err *apiError
		if cust, err = tx.mustGet("customer", id, "customer"); err != nil {
			return err
		}
	}
	if typ == "card" {
		tc, err := cardParam(p.hash("card"))
		if err != nil {
			return err
		}
		expMonth, expYear := int64(tx.now.Month()), int64(tx.now.Year()+3)
		if n, ok := asInt(p.hash("card")["exp_month"]); ok {
			expMonth = n
		}
		if n, ok := asInt(p.hash("card")["exp_year"]); ok {
			expYear = n
		}
		o["card"] = tc.paymentMethodCard(expMonth, expYear)
	} else if _, ok := o[typ]; ok {
		o[typ] = object{}
	}
	if cust != nil {
		o["customer"] = cust["id"]
	}
	return nil
}

// cardParam resolves a card hash: {token: tok_visa} or {number: 4242…}.
func cardParam(card map[string]any) (testCard, *apiError) {
	if card == nil {
		return testCard{}, errMissingParam("card")
	}
	if tok := str(card, "token"); tok != "" {
		tc, ok := testCardFor(tok)
		if !ok {
			return testCard{}, errNoSuch("token", tok, "card[token]")
		}
		return tc, nil
	}
	num := strings.ReplaceAll(str(card, "number"), " ", "")
	if len(num) < 12 {
		return testCard{}, errMissingParam("card[number]")
	}
	tc := testCard{brand: "Visa", network: "visa", funding: "credit", country: "US", last4: num[len(num)-4:]}
	switch {
	case strings.HasPrefix(num, "34"), strings.HasPrefix(num, "37"):
		tc.brand, tc.network = "American Express", "amex"
	case strings.HasPrefix(num, "5"), strings.HasPrefix(num, "2"):
		tc.brand, tc.network = "MasterCard", "mastercard"
	case strings.HasPrefix(num, "6"):
		tc.brand, tc.network = "Discover", "discover"
	}
	return tc, nil
}

func updatePaymentMethod(tx *tx, o object, p params) *apiError {
	card := p.hash("card")
	if card == nil {
		return nil
	}
	details, ok := o["card"].(map[string]any)
	if !ok {
		return invalidRequest("card", "You can only update card details on a card PaymentMethod.")
	}
	for _, k := range []string{"exp_month", "exp_year"} {
		if v, ok := card[k]; ok {
			details[k] = v
		}
	}
	return nil
}

func attachPaymentMethod(tx *tx, r *record, p params) (any, *apiError) {
	id, cust, err := tx.requiredCustomer(p)
	if err != nil {
		return nil, err
	}
	if r.spent {
		return nil, errState("payment_method_unexpected_state", "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.")
	}
	if cur := str(r.obj, "customer"); cur != "" && cur != id {
		return nil, errState("payment_method_unexpected_state", "The payment method you provided has already been attached to a customer.")
	}
	r.obj["customer"] = cust["id"]
	return r.obj, nil
}

func detachPaymentMethod(tx *tx, r *record, _ params) (any, *apiError) {
	if r.obj["customer"] == nil {
		return nil, errState("payment_method_unexpected_state", "The payment method you provided is not attached to a customer so detachment is impossible.")
	}
	r.obj["customer"] = nil
	r.spent = true
	return r.obj, nil
}

// resolvePaymentMethod returns the payment method a param names. Stripe's
// test payment methods (pm_card_visa) are materialized as new payment
// methods, as Stripe does.
func (tx *tx) resolvePaymentMethod(id, param string) (object, *apiError) {
	if pm := tx.get("payment_method", id); pm != nil {
		return pm, nil
	}
	tc, ok := testCardFor(id)
	if !ok || !strings.HasPrefix(id, "pm_card_") {
		return nil, errNoSuch("PaymentMethod", id, param)
	}
	pm := tx.newObject(tx.res("payment_method"))
	paymentMethodDefaults(tx, pm)
	pm["type"] = "card"
	pm["card"] = tc.paymentMethodCard(int64(tx.now.Month()), int64(tx.now.Year()+3))
	tx.insert(pm)
	return pm, nil
}
