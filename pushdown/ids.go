package pushdown

// possibleID reports whether s can be a Stripe object id. Stripe's ids are
// a prefix and letters, digits and underscores; the few objects whose ids a
// caller may choose (products, prices' lookup keys are not ids, coupons,
// plans) add hyphens and dots. Anything else — spaces, slashes, quotes, a
// percent sign — can equal no Id, so a WHERE Id = … with it needs no
// request, and must not become a path that means something else.
func possibleID(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return s != "." && s != ".."
}
