package emulator

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
)

// An object is a Stripe object as the emulator stores it: the decoded JSON
// shape, with integers as int64.
type object = map[string]any

// lookup returns the value at a dotted path ("billing_details.address.city").
// A path segment that meets a Stripe list object descends into its data,
// and a segment that meets an array yields the values of every element, so
// "items.data.price.id" on a subscription gathers each item's price id.
func lookup(v any, path string) []any {
	vals := []any{v}
	for _, seg := range strings.Split(path, ".") {
		var next []any
		for _, cur := range vals {
			switch c := cur.(type) {
			case map[string]any:
				if x, ok := c[seg]; ok {
					next = append(next, x)
				}
			case []any:
				for _, el := range c {
					if m, ok := el.(map[string]any); ok {
						if x, ok := m[seg]; ok {
							next = append(next, x)
						}
					}
				}
			}
		}
		vals = next
	}
	// Flatten a trailing array so that callers compare its elements.
	var out []any
	for _, v := range vals {
		if a, ok := v.([]any); ok {
			out = append(out, a...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// first returns the value at a dotted path, or nil.
func first(v any, path string) any {
	if vals := lookup(v, path); len(vals) > 0 {
		return vals[0]
	}
	return nil
}

// str returns o[key] as a string, or "" if it is absent or not a string.
func str(o object, key string) string {
	s, _ := o[key].(string)
	return s
}

// asInt converts the integer representations the emulator meets (Go ints,
// JSON numbers decoded as float64, json.Number) to int64.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// intOf returns o[key] as an int64, or 0.
func intOf(o object, key string) int64 {
	n, _ := asInt(o[key])
	return n
}

// asFloat converts any numeric value to float64.
func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	if i, ok := asInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

// text renders a scalar the way it appears in a query string, so that list
// filters and search tokens can compare booleans and numbers with the
// strings a client sends.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", false
	}
	if i, ok := asInt(v); ok {
		return strconv.FormatInt(i, 10), true
	}
	if f, ok := asFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// clone deep-copies maps and slices so that stored objects never share
// memory with a caller or with each other.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = clone(e)
		}
		return a
	}
	return v
}

func cloneObject(o object) object { return clone(o).(map[string]any) }

// merge applies an update's params to dst the way Stripe does: nested
// hashes are merged key by key, nil (a posted empty string) unsets a value,
// and inside metadata a nil deletes the key. Posting an empty metadata
// clears it.
func merge(dst map[string]any, src map[string]any, inMetadata bool) {
	for k, v := range src {
		switch {
		case v == nil && inMetadata:
			delete(dst, k)
		case v == nil && k == "metadata":
			dst[k] = map[string]any{}
		case v == nil:
			dst[k] = nil
		default:
			sub, isMap := v.(map[string]any)
			cur, curIsMap := dst[k].(map[string]any)
			if isMap && curIsMap {
				merge(cur, sub, inMetadata || k == "metadata")
				continue
			}
			if isMap {
				fresh := map[string]any{}
				merge(fresh, sub, inMetadata || k == "metadata")
				dst[k] = fresh
				continue
			}
			dst[k] = clone(v)
		}
	}
}

// listObject builds an embedded Stripe list such as invoice.lines.
func listObject(url string, data []any) object {
	if data == nil {
		data = []any{}
	}
	return object{"object": "list", "data": data, "has_more": false, "total_count": int64(len(data)), "url": url}
}

// without returns a copy of m lacking the given keys.
func without(m map[string]any, keys ...string) map[string]any {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}
