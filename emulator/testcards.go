package emulator

import (
	"hash/fnv"
	"strings"
)

// A testCard is what one of Stripe's test tokens (tok_visa) or test
// payment methods (pm_card_visa) stands for.
type testCard struct {
	brand   string // as on card objects: "Visa"
	network string // as on payment methods and charges: "visa"
	last4   string
	funding string
	country string
}

// declineCode returns the decline_code charging the card yields, or "" if
// charges succeed. As with Stripe's test card numbers, the number decides.
func (tc testCard) declineCode() string {
	switch tc.last4 {
	case "0002":
		return "generic_decline"
	case "9995":
		return "insufficient_funds"
	}
	return ""
}

// testCardFor resolves tok_<name> and pm_card_<name> to the card Stripe's
// test mode associates with it.
func testCardFor(id string) (testCard, bool) {
	name, ok := strings.CutPrefix(id, "tok_")
	if !ok {
		if name, ok = strings.CutPrefix(id, "pm_card_"); !ok {
			return testCard{}, false
		}
	}
	switch name {
	case "visa":
		return testCard{"Visa", "visa", "4242", "credit", "US"}, true
	case "visa_debit":
		return testCard{"Visa", "visa", "5556", "debit", "US"}, true
	case "mastercard":
		return testCard{"MasterCard", "mastercard", "4444", "credit", "US"}, true
	case "mastercard_debit":
		return testCard{"MasterCard", "mastercard", "8210", "debit", "US"}, true
	case "amex":
		return testCard{"American Express", "amex", "8431", "credit", "US"}, true
	case "discover":
		return testCard{"Discover", "discover", "1117", "credit", "US"}, true
	case "jcb":
		return testCard{"JCB", "jcb", "0505", "credit", "JP"}, true
	case "unionpay":
		return testCard{"UnionPay", "unionpay", "0005", "credit", "CN"}, true
	case "chargeDeclined":
		return testCard{"Visa", "visa", "0002", "credit", "US"}, true
	case "chargeDeclinedInsufficientFunds":
		return testCard{"Visa", "visa", "9995", "credit", "US"}, true
	}
	return testCard{}, false
}

// fingerprint is stable per card number, as Stripe's is per account.
func (tc testCard) fingerprint() string {
	h := fnv.New64a()
	h.Write([]byte(tc.network + tc.last4 + tc.funding))
	n := h.Sum64()
	b := make([]byte, 16)
	for i := range b {
		b[i] = idAlphabet[n%uint64(len(idAlphabet))]
		n = n/uint64(len(idAlphabet)) + uint64(i)*2654435761
	}
	return string(b)
}

// cardFromDetails recovers test card data from a payment method's card hash.
func cardFromDetails(card map[string]any) testCard {
	tc, _ := testCardFor("tok_" + str(card, "brand"))
	tc.last4 = str(card, "last4")
	tc.funding = str(card, "funding")
	tc.country = str(card, "country")
	return tc
}

// paymentMethodCard is the card hash of a card payment method.
func (tc testCard) paymentMethodCard(expMonth, expYear int64) object {
	return object{
		"brand":                tc.network,
		"checks":               object{"address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "pass"},
		"country":              tc.country,
		"display_brand":        tc.network,
		"exp_month":            expMonth,
		"exp_year":             expYear,
		"fingerprint":          tc.fingerprint(),
		"funding":              tc.funding,
		"generated_from":       nil,
		"last4":                tc.last4,
		"networks":             object{"available": []any{tc.network}, "preferred": nil},
		"regulated_status":     "unregulated",
		"three_d_secure_usage": object{"supported": true},
		"wallet":               nil,
	}
}
