package emulator

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// A filter is one list query parameter. Parsing turns the raw query value
// into a predicate on objects, so that a malformed value is rejected before
// any object is looked at.
type filter struct {
	param string
	parse func(param string, raw any) (func(object) bool, *apiError)
	// absent, if set, is the visibility rule Stripe applies when the
	// parameter is not given (e.g. prices: only active ones).
	absent func(object) bool
	// sortKey marks the created filter, whose field is the list order's
	// key: list narrows the walk to its bounds by binary search.
	sortKey bool
	// noCursor forbids combining the parameter with starting_after or
	// ending_before (products?ids[]=…).
	noCursor bool
}

// eq matches a field (a dotted path) by exact, case-sensitive equality of
// its string form, as Stripe's list filters do (customers?email= is
// case-sensitive). A path reaching several values matches if any does.
func eq(param, path string) filter {
	return filter{param: param, parse: func(param string, raw any) (func(object) bool, *apiError) {
		want, ok := raw.(string)
		if !ok {
			return nil, invalidRequest(param, "Invalid %s: must be a string", param)
		}
		return func(o object) bool { return anyText(o, path, want) }, nil
	}}
}

// flag matches a boolean field.
func flag(param, path string) filter {
	return filter{param: param, parse: func(param string, raw any) (func(object) bool, *apiError) {
		want, ok := raw.(string)
		if !ok || (want != "true" && want != "false") {
			return nil, invalidRequest(param, "Invalid boolean: %v", raw)
		}
		return func(o object) bool { return anyText(o, path, want) }, nil
	}}
}

// oneOf matches an enum field; values lists what the parameter accepts.
func oneOf(param, path string, values ...string) filter {
	return filter{param: param, parse: func(param string, raw any) (func(object) bool, *apiError) {
		want, _ := raw.(string)
		if !slices.Contains(values, want) {
			return nil, invalidRequest(param, "Invalid %s: must be one of %s", param, strings.Join(values, ", "))
		}
		return func(o object) bool { return anyText(o, path, want) }, nil
	}}
}

// inList matches a field against an array parameter (ids[]=…, lookup_keys[]=…).
func inList(param, path string, max int) filter {
	return filter{param: param, parse: func(param string, raw any) (func(object) bool, *apiError) {
		var want []string
		switch x := raw.(type) {
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, invalidRequest(param, "Invalid array")
				}
				want = append(want, s)
			}
		default:
			return nil, invalidRequest(param, "Invalid array")
		}
		if max > 0 && len(want) > max {
			return nil, invalidRequest(param, "Invalid %s: must contain at most %d elements", param, max)
		}
		return func(o object) bool {
			for _, v := range lookup(o, path) {
				if s, ok := text(v); ok && slices.Contains(want, s) {
					return true
				}
			}
			return false
		}, nil
	}}
}

// subfields matches a hash parameter key by key against the fields under
// path (prices?recurring[interval]=month, subscriptions?automatic_tax[enabled]=true).
func subfields(param, path string, keys ...string) filter {
	return filter{param: param, parse: func(param string, raw any) (func(object) bool, *apiError) {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, invalidRequest(param, "Invalid object")
		}
		var preds []func(object) bool
		for k, v := range m {
			want, isStr := v.(string)
			if !slices.Contains(keys, k) {
				return nil, errUnknownParam(param + "[" + k + "]")
			}
			if !isStr {
				return nil, invalidRequest(param+"["+k+"]", "Invalid string")
			}
			sub := path + "." + k
			preds = append(preds, func(o object) bool { return anyText(o, sub, want) })
		}
		return func(o object) bool {
			for _, p := range preds {
				if !p(o) {
					return false
				}
			}
			return true
		}, nil
	}}
}

// timeRange matches a Unix-timestamp field against either an exact integer
// (created=…) or a range hash (created[gte]=…&created[lt]=…).
func timeRange(param, path string) filter {
	return filter{param: param, sortKey: param == "created" && path == "created", parse: func(param string, raw any) (func(object) bool, *apiError) {
		bounds, err := parseBounds(param, raw)
		if err != nil {
			return nil, err
		}
		return func(o object) bool {
			for _, v := range lookup(o, path) {
				if t, ok := asInt(v); ok && inBounds(t, bounds) {
					return true
				}
			}
			return false
		}, nil
	}}
}

// parseBounds reads a timestamp parameter: an integer (bound "eq") or a
// hash of gt, gte, lt and lte.
func parseBounds(param string, raw any) (map[string]int64, *apiError) {
	bounds := map[string]int64{}
	switch x := raw.(type) {
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, invalidRequest(param, "Invalid integer: %s", x)
		}
		bounds["eq"] = n
	case map[string]any:
		for k, v := range x {
			if k != "gt" && k != "gte" && k != "lt" && k != "lte" {
				return nil, errUnknownParam(param + "[" + k + "]")
			}
			s, _ := v.(string)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, invalidRequest(param+"["+k+"]", "Invalid integer: %v", v)
			}
			bounds[k] = n
		}
	default:
		return nil, invalidRequest(param, "Invalid %s: must be an integer or a hash", param)
	}
	return bounds, nil
}

// span turns bounds into the closed interval [lo, hi] of seconds they
// admit (empty when lo > hi).
func span(b map[string]int64) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	for k, n := range b {
		switch k {
		case "eq":
			lo, hi = max(lo, n), min(hi, n)
		case "gt":
			if n == math.MaxInt64 {
				return 1, 0
			}
			lo = max(lo, n+1)
		case "gte":
			lo = max(lo, n)
		case "lt":
			if n == math.MinInt64 {
				return 1, 0
			}
			hi = min(hi, n-1)
		case "lte":
			hi = min(hi, n)
		}
	}
	return lo, hi
}

func inBounds(t int64, b map[string]int64) bool {
	for k, n := range b {
		switch {
		case k == "eq" && t != n,
			k == "gt" && t <= n,
			k == "gte" && t < n,
			k == "lt" && t >= n,
			k == "lte" && t > n:
			return false
		}
	}
	return true
}

// anyText reports whether any value at path renders as want.
func anyText(o object, path, want string) bool {
	for _, v := range lookup(o, path) {
		if s, ok := text(v); ok && s == want {
			return true
		}
	}
	return false
}

// withoutCursors marks a filter that cannot be combined with pagination cursors.
func (f filter) withoutCursors() filter {
	f.noCursor = true
	return f
}

// withAbsent attaches a default-visibility rule to a filter.
func (f filter) withAbsent(rule func(object) bool) filter {
	f.absent = rule
	return f
}
