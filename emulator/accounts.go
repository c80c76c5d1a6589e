package emulator

import "slices"

// Connect accounts.

func accountDefaults(tx *tx, o object) {
	requirements := object{"alternatives": []any{}, "current_deadline": nil, "currently_due": []any{}, "disabled_reason": nil,
		"errors": []any{}, "eventually_due": []any{}, "past_due": []any{}, "pending_verification": []any{}}
	o["business_profile"] = object{"annual_revenue": nil, "estimated_worker_count": nil, "mcc": nil, "name": nil,
		"product_description": nil, "support_address": nil, "support_email": nil, "support_phone": nil, "support_url": nil, "url": nil}
	o["capabilities"] = object{}
	o["charges_enabled"] = false
	o["controller"] = object{"is_controller": true, "type": "application"}
	o["country"] = "US"
	o["default_currency"] = "usd"
	o["details_submitted"] = false
	o["external_accounts"] = listObject("/v1/accounts/"+str(o, "id")+"/external_accounts", nil)
	o["future_requirements"] = clone(requirements)
	o["payouts_enabled"] = false
	o["requirements"] = requirements
	o["settings"] = object{
		"dashboard": object{"display_name": nil, "timezone": "Etc/UTC"},
		"payouts":   object{"debit_negative_balances": true, "schedule": object{"delay_days": int64(2), "interval": "daily"}, "statement_descriptor": nil},
	}
	o["tos_acceptance"] = object{"date": nil, "ip": nil, "user_agent": nil}
}

// createAccount needs a type (or a controller, which makes the type "none").
func createAccount(tx *tx, o object, p params) *apiError {
	typ := p.str("type")
	switch {
	case typ == "" && p.hash("controller") == nil:
		return errMissingParam("type")
	case typ == "":
		typ = "none"
		merge(o, object{"controller": p.hash("controller")}, false)
	case !slices.Contains([]string{"custom", "express", "none", "standard"}, typ):
		return invalidRequest("type", "Invalid type: must be one of custom, express, or standard")
	}
	o["type"] = typ
	if str(o, "default_currency") == "" {
		o["default_currency"] = "usd"
	}
	return updateAccount(tx, o, p)
}

// updateAccount records requested capabilities (as inactive until
// onboarding completes) and ToS acceptance.
func updateAccount(tx *tx, o object, p params) *apiError {
	caps := o["capabilities"].(map[string]any)
	for name, v := range p.hash("capabilities") {
		if req, _ := v.(map[string]any); req != nil && req["requested"] == true {
			if _, ok := caps[name]; !ok {
				caps[name] = "inactive"
			}
		} else if req != nil && req["requested"] == false {
			delete(caps, name)
		}
	}
	if tos := p.hash("tos_acceptance"); tos != nil {
		merge(o, object{"tos_acceptance": tos}, false)
	}
	return nil
}
