package emulator

import "fmt"

// Charges (created by confirming payment intents, or directly from a
// token) and refunds.

func chargeDefaults(tx *tx, o object) {
	o["amount_captured"] = int64(0)
	o["amount_refunded"] = int64(0)
	o["billing_details"] = object{
		"address": object{"city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil},
		"email":   nil, "name": nil, "phone": nil, "tax_id": nil,
	}
	o["calculated_statement_descriptor"] = "STRIPESQL"
	o["captured"] = false
	o["disputed"] = false
	o["fraud_details"] = object{}
	o["paid"] = false
	o["refunded"] = false
	o["status"] = "pending"
}

// newCharge stores the charge a payment intent's confirmation creates.
func (tx *tx) newCharge(pi, pm object, tc testCard, capture bool) object {
	ch := tx.newObject(tx.res("charge"))
	chargeDefaults(tx, ch)
	for _, k := range []string{"amount", "currency", "customer", "description", "receipt_email", "shipping", "transfer_group"} {
		ch[k] = clone(pi[k])
	}
	ch["payment_intent"] = pi["id"]
	ch["payment_method"] = pm["id"]
	if bd, ok := pm["billing_details"].(map[string]any); ok {
		ch["billing_details"] = clone(bd)
	}
	var expMonth, expYear any
	if card, ok := pm["card"].(map[string]any); ok {
		expMonth, expYear = card["exp_month"], card["exp_year"]
	}
	settleCharge(ch, tc, capture, expMonth, expYear)
	tx.insert(ch)
	return ch
}

// settleCharge records the card network's answer on a charge.
func settleCharge(ch object, tc testCard, capture bool, expMonth, expYear any) {
	amount := intOf(ch, "amount")
	ch["payment_method_details"] = object{
		"type": "card",
		"card": object{
			"amount_authorized": amount, "brand": tc.network, "country": tc.country,
			"checks":    object{"address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "pass"},
			"exp_month": expMonth, "exp_year": expYear, "fingerprint": tc.fingerprint(), "funding": tc.funding,
			"last4": tc.last4, "network": tc.network, "three_d_secure": nil, "wallet": nil,
		},
	}
	if code := tc.declineCode(); code != "" {
		ch["status"] = "failed"
		ch["failure_code"] = "card_declined"
		ch["failure_message"] = "Your card was declined."
		ch["outcome"] = object{"network_status": "declined_by_network", "reason": code, "risk_level": "normal",
			"seller_message": "The bank did not return any further details with this decline.", "type": "issuer_declined"}
		return
	}
	ch["status"] = "succeeded"
	ch["paid"] = true
	ch["captured"] = capture
	if capture {
		ch["amount_captured"] = amount
	}
	ch["outcome"] = object{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal",
		"seller_message": "Payment complete.", "type": "authorized"}
	ch["receipt_url"] = fmt.Sprintf("https://pay.stripe.com/receipts/payment/%s", ch["id"])
}

// createCharge serves the legacy POST /v1/charges: a token (source=tok_visa),
// one of the customer's cards, or the customer's default source is charged.
func createCharge(tx *tx, o object, p params) *apiError {
	amount, ok := p.int("amount")
	if !ok {
		return errMissingParam("amount")
	}
	if !p.has("currency") {
		return errMissingParam("currency")
	}
	if amount < minimumAmount {
		e := invalidRequest("amount", "Amount must be at least 50 cents.")
		e.code = "amount_too_small"
		return e
	}
	var cust object
	if id := p.str("customer"); id != "" {
		var err *apiError
		if cust, err = tx.mustGet("customer", id, "customer"); err != nil {
			return err
		}
		o["customer"] = cust["id"]
	}
	source := p.str("source")
	if source == "" && cust != nil {
		source = str(cust, "default_source")
	}
	var tc testCard
	var expMonth, expYear any
	switch card := tx.get("card", source); {
	case source == "":
		return invalidRequest("source", "Must provide source or customer.")
	case card != nil:
		if cust == nil || str(card, "customer") != str(cust, "id") {
			return errNoSuch("source", source, "source")
		}
		tc = testCard{brand: str(card, "brand"), last4: str(card, "last4"), funding: str(card, "funding"), country: str(card, "country")}
		tc.network = networkOf(tc.brand)
		expMonth, expYear = card["exp_month"], card["exp_year"]
		o["payment_method"] = card["id"]
	default:
		var found bool
		if tc, found = testCardFor(source); !found {
			return errNoSuch("source", source, "source")
		}
		o["payment_method"] = "card_" + tx.s.randomString(24)
		expMonth, expYear = int64(tx.now.Month()), int64(tx.now.Year()+3)
	}
	capture := true
	if v, ok := p["capture"].(bool); ok {
		capture = v
	}
	settleCharge(o, tc, capture, expMonth, expYear)
	if code := tc.declineCode(); code != "" {
		tx.insert(o) // Stripe keeps failed charges
		return &apiError{status: 402, typ: "card_error", code: "card_declined", message: "Your card was declined.",
			extra: map[string]any{"decline_code": code, "charge": o["id"]}}
	}
	return nil
}

// networkOf maps a card object's brand ("American Express") to the network
// name payment methods and charges use ("amex").
func networkOf(brand string) string {
	switch brand {
	case "American Express":
		return "amex"
	case "MasterCard":
		return "mastercard"
	case "Diners Club":
		return "diners"
	case "JCB":
		return "jcb"
	case "UnionPay":
		return "unionpay"
	case "Discover":
		return "discover"
	}
	return "visa"
}

// chargeRefunded is the charges search field refunded: "true" when fully
// refunded, "false" when partially, null when not refunded at all.
func chargeRefunded(o object) []any {
	switch {
	case o["refunded"] == true:
		return []any{"true"}
	case intOf(o, "amount_refunded") > 0:
		return []any{"false"}
	}
	return []any{nil}
}

// refundCharge serves the legacy POST /v1/charges/{charge}/refund, which
// refunds and returns the charge.
func refundCharge(tx *tx, r *record, p params) (any, *apiError) {
	rp := params{"charge": r.obj["id"]}
	for _, k := range []string{"amount", "reason", "metadata", "instructions_email"} {
		if v, ok := p[k]; ok {
			rp[k] = v
		}
	}
	if _, err := tx.create(tx.res("refund"), "", rp); err != nil {
		return nil, err
	}
	return r.obj, nil
}

func refundDefaults(tx *tx, o object) {
	o["status"] = "succeeded"
}

// createRefund refunds (part of) a charge, named directly or through its
// payment intent's latest charge.
func createRefund(tx *tx, o object, p params) *apiError {
	chID, piID := p.str("charge"), p.str("payment_intent")
	if chID == "" && piID == "" {
		e := invalidRequest("charge", "One of the following params should be provided for this request: payment_intent or charge.")
		e.code = "parameter_missing"
		return e
	}
	if piID != "" {
		pi, err := tx.mustGet("payment_intent", piID, "payment_intent")
		if err != nil {
			return err
		}
		latest := str(pi, "latest_charge")
		if latest == "" || (chID != "" && chID != latest) {
			return invalidRequest("payment_intent", "This PaymentIntent does not have a successful charge to refund.")
		}
		chID = latest
	}
	ch, err := tx.mustGet("charge", chID, "charge")
	if err != nil {
		return err
	}
	if str(ch, "status") != "succeeded" {
		return errState("charge_not_refundable", "Charge %s cannot be refunded because its status is %s.", chID, str(ch, "status"))
	}
	remaining := intOf(ch, "amount") - intOf(ch, "amount_refunded")
	if remaining <= 0 {
		return errState("charge_already_refunded", "Charge %s has already been refunded.", chID)
	}
	amount := remaining
	if n, ok := p.int("amount"); ok {
		if n < 1 || n > remaining {
			e := invalidRequest("amount", "Refund amount (%d) is greater than unrefunded amount on charge (%d).", n, remaining)
			e.code = "amount_too_large"
			return e
		}
		amount = n
	}
	o["amount"] = amount
	o["charge"] = chID
	o["currency"] = ch["currency"]
	o["payment_intent"] = ch["payment_intent"]
	o["payment_method"] = ch["payment_method"]
	o["customer"] = ch["customer"]
	o["destination_details"] = object{"type": "card", "card": object{"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}}

	ch["amount_refunded"] = intOf(ch, "amount_refunded") + amount
	ch["refunded"] = intOf(ch, "amount_refunded") >= intOf(ch, "amount")
	tx.touchObj(ch)
	return nil
}
