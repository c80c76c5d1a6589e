package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Payment intents: requires_payment_method → requires_confirmation →
// (confirm) succeeded or requires_capture → (capture) succeeded; cancel from
// any unfinished state.

func paymentIntentDefaults(tx *tx, o object) {
	o["amount_capturable"] = int64(0)
	o["amount_received"] = int64(0)
	o["capture_method"] = "automatic_async"
	o["confirmation_method"] = "automatic"
	o["client_secret"] = str(o, "id") + "_secret_" + tx.s.randomString(25)
	o["payment_method_types"] = []any{"card"}
	o["status"] = "requires_payment_method"
}

// minimumAmount is Stripe's smallest chargeable amount (50 cents in USD).
const minimumAmount = 50

func createPaymentIntent(tx *tx, o object, p params) *apiError {
	amount, _ := p.int("amount")
	if amount < minimumAmount {
		e := invalidRequest("amount", "Amount must be at least 50 cents (%d %s given).", amount, strings.ToLower(p.str("currency")))
		e.code = "amount_too_small"
		return e
	}
	if id := p.str("customer"); id != "" {
		if _, err := tx.mustGet("customer", id, "customer"); err != nil {
			return err
		}
	}
	if id := p.str("payment_method"); id != "" {
		pm, err := tx.resolvePaymentMethod(id, "payment_method")
		if err != nil {
			return err
		}
		o["payment_method"] = pm["id"]
		o["status"] = "requires_confirmation"
	}
	if p.bool("confirm") {
		tx.insert(o) // a declined confirmation still leaves the intent behind
		if err := tx.confirm(o, p); err != nil {
			return err
		}
	}
	return nil
}

// updatePaymentIntent enforces that a finished intent's money fields are
// frozen and that a new payment method makes it ready to confirm.
func updatePaymentIntent(tx *tx, o object, p params) *apiError {
	status := str(o, "status")
	if status == "succeeded" || status == "canceled" {
		for _, k := range []string{"amount", "currency", "payment_method", "capture_method"} {
			if p.has(k) {
				return errState("payment_intent_unexpected_state",
					"You cannot update %s on a PaymentIntent with a status of %s.", k, status)
			}
		}
	}
	if id := p.str("payment_method"); id != "" {
		pm, err := tx.resolvePaymentMethod(id, "payment_method")
		if err != nil {
			return err
		}
		o["payment_method"] = pm["id"]
		if status == "requires_payment_method" {
			o["status"] = "requires_confirmation"
		}
	}
	return nil
}

// confirmable lists the statuses a payment intent can be confirmed from.
func confirmable() []string {
	return []string{"requires_payment_method", "requires_confirmation", "requires_action"}
}

func confirmPaymentIntent(tx *tx, r *record, p params) (any, *apiError) {
	if err := tx.confirm(r.obj, p); err != nil {
		return nil, err
	}
	return r.obj, nil
}

// confirm charges the intent's payment method: the intent succeeds (or
// awaits capture when capture_method is manual) and gets a charge; a
// declining test card leaves a failed charge and a 402 card_error.
func (tx *tx) confirm(pi object, p params) *apiError {
	status := str(pi, "status")
	if !slices.Contains(confirmable(), status) {
		return errState("payment_intent_unexpected_state",
			"You cannot confirm this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be confirmed: %s.",
			status, strings.Join(confirmable(), ", "))
	}
	if id := p.str("payment_method"); id != "" {
		pm, err := tx.resolvePaymentMethod(id, "payment_method")
		if err != nil {
			return err
		}
		pi["payment_method"] = pm["id"]
	}
	for _, k := range []string{"capture_method", "receipt_email", "setup_future_usage", "shipping"} {
		if v, ok := p[k]; ok {
			pi[k] = clone(v)
		}
	}
	pm := tx.get("payment_method", str(pi, "payment_method"))
	if pm == nil {
		return errState("payment_intent_unexpected_state",
			"You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment_method and then confirm it again.")
	}
	tc := testCard{network: str(pm, "type")}
	if card, ok := pm["card"].(map[string]any); ok {
		tc = cardFromDetails(card)
	}
	manual := str(pi, "capture_method") == "manual"
	ch := tx.newCharge(pi, pm, tc, !manual)
	pi["latest_charge"] = ch["id"]
	if code := tc.declineCode(); code != "" {
		pi["status"] = "requires_payment_method"
		pi["payment_method"] = nil
		pi["last_payment_error"] = object{
			"type": "card_error", "code": "card_declined", "decline_code": code,
			"message": "Your card was declined.", "charge": ch["id"], "payment_method": cloneObject(pm),
		}
		return &apiError{status: http.StatusPaymentRequired, typ: "card_error", code: "card_declined",
			message: "Your card was declined.",
			extra:   map[string]any{"decline_code": code, "charge": ch["id"], "payment_intent": cloneObject(pi)}}
	}
	pi["last_payment_error"] = nil
	if manual {
		pi["status"] = "requires_capture"
		pi["amount_capturable"] = pi["amount"]
	} else {
		pi["status"] = "succeeded"
		pi["amount_received"] = pi["amount"]
	}
	return nil
}

func capturePaymentIntent(tx *tx, r *record, p params) (any, *apiError) {
	pi := r.obj
	if s := str(pi, "status"); s != "requires_capture" {
		return nil, errState("payment_intent_unexpected_state",
			"This PaymentIntent could not be captured because it has a status of %s. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.", s)
	}
	capturable := intOf(pi, "amount_capturable")
	amount := capturable
	if n, ok := p.int("amount_to_capture"); ok {
		if n < 1 || n > capturable {
			e := invalidRequest("amount_to_capture", "The amount to capture (%d) must be at least 1 and at most the amount capturable (%d).", n, capturable)
			e.code = "amount_too_large"
			return nil, e
		}
		amount = n
	}
	if md := p.hash("metadata"); md != nil {
		merge(pi, object{"metadata": md}, false)
	}
	pi["amount_capturable"] = int64(0)
	pi["amount_received"] = amount
	pi["status"] = "succeeded"
	if ch := tx.get("charge", str(pi, "latest_charge")); ch != nil {
		ch["captured"] = true
		ch["amount_captured"] = amount
		tx.touchObj(ch)
		// Stripe refunds the part not captured, with a Refund object, so
		// the charge's amount_refunded is the sum of its refunds.
		if err := tx.refundUncaptured(ch, intOf(ch, "amount")-amount); err != nil {
			return nil, err
		}
	}
	return pi, nil
}

// cancelable lists the statuses a payment intent can be canceled from.
func cancelable() []string {
	return []string{"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}
}

func cancelPaymentIntent(tx *tx, r *record, p params) (any, *apiError) {
	pi := r.obj
	status := str(pi, "status")
	if !slices.Contains(cancelable(), status) {
		return nil, errState("payment_intent_unexpected_state",
			"You cannot cancel this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be canceled: %s.",
			status, strings.Join(cancelable(), ", "))
	}
	if status == "requires_capture" {
		// Releasing the authorization refunds the uncaptured charge.
		if ch := tx.get("charge", str(pi, "latest_charge")); ch != nil {
			if err := tx.refundUncaptured(ch, intOf(ch, "amount")-intOf(ch, "amount_refunded")); err != nil {
				return nil, err
			}
		}
	}
	pi["status"] = "canceled"
	pi["canceled_at"] = tx.unix()
	pi["amount_capturable"] = int64(0)
	if reason := p.str("cancellation_reason"); reason != "" {
		pi["cancellation_reason"] = reason
	}
	return pi, nil
}

// refundUncaptured refunds amount of an authorized charge that will not be
// captured (the rest of a partial capture, or all of a canceled one) as
// Stripe does: with a Refund object, which also adds to the charge's
// amount_refunded. Its id is the charge's with re_ for ch_ (a charge has
// at most one such refund), so that it draws nothing from the store's
// random stream and the ids of every later object stay as they were.
func (tx *tx) refundUncaptured(ch object, amount int64) *apiError {
	if amount <= 0 {
		return nil
	}
	res := tx.res("refund")
	o := blank(res.object)
	o["id"] = "re_" + strings.TrimPrefix(str(ch, "id"), "ch_")
	if tx.s.get(res.object, str(o, "id")) != nil {
		o["id"] = tx.s.newID(res.object, res.prefix, res.idLen)
	}
	if _, ok := o["created"]; ok {
		o["created"] = tx.unix()
	}
	if res.defaults != nil {
		res.defaults(tx, o)
	}
	p := params{"charge": str(ch, "id"), "amount": strconv.FormatInt(amount, 10)}
	if err := res.create(tx, o, p); err != nil {
		return err
	}
	tx.insert(o)
	return nil
}
