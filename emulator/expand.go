package emulator

import (
	"strings"
)

// maxExpandDepth is Stripe's limit on expansion path length.
const maxExpandDepth = 4

// expandPaths returns the expand[] parameter's paths.
func expandPaths(p params) []string {
	if s, ok := p["expand"].(string); ok && s != "" {
		return []string{s}
	}
	return p.strings("expand")
}

// expand replaces expandable ids along the given dotted paths with copies
// of the objects they name (expand[]=customer, expand[]=latest_charge.customer).
// The stored object is never modified: every map on an expanded path is
// copied first.
func (tx *tx) expand(o object, paths []string) (object, *apiError) {
	if len(paths) == 0 {
		return o, nil
	}
	groups := map[string][]string{}
	for _, p := range paths {
		if strings.Count(p, ".") >= maxExpandDepth {
			return nil, invalidRequest("expand", "You cannot expand more than %d levels of a property. Property: %s", maxExpandDepth, p)
		}
		head, rest, _ := strings.Cut(p, ".")
		if rest != "" {
			groups[head] = append(groups[head], rest)
		} else if _, ok := groups[head]; !ok {
			groups[head] = nil
		}
	}
	out := make(object, len(o))
	for k, v := range o {
		out[k] = v
	}
	objectName := str(o, "object")
	for head, rest := range groups {
		f, ok := field(objectName, head)
		if !ok || (f.Type != "id" && len(rest) == 0) {
			return nil, invalidRequest("expand", "This property cannot be expanded (%s).", head)
		}
		switch v := out[head].(type) {
		case string:
			target := tx.lookupAny(f.Expands, v)
			if target == nil {
				continue
			}
			exp, err := tx.expand(cloneObject(target), rest)
			if err != nil {
				return nil, err
			}
			out[head] = exp
		case map[string]any:
			exp, err := tx.expand(v, rest)
			if err != nil {
				return nil, err
			}
			out[head] = exp
		}
	}
	return out, nil
}

// expandList applies expand paths of a list or search response, which
// must start with "data.", to every element.
func (tx *tx) expandList(data []any, paths []string) ([]any, *apiError) {
	var inner []string
	for _, p := range paths {
		rest, ok := strings.CutPrefix(p, "data.")
		if !ok {
			if p == "total_count" {
				continue
			}
			return nil, invalidRequest("expand", "This property cannot be expanded (%s). You may want to try expanding 'data.%s' instead.", p, p)
		}
		inner = append(inner, rest)
	}
	if len(inner) == 0 {
		return data, nil
	}
	out := make([]any, len(data))
	for i, d := range data {
		exp, err := tx.expand(d.(object), inner)
		if err != nil {
			return nil, err
		}
		out[i] = exp
	}
	return out, nil
}

// lookupAny finds id among the given object types.
func (tx *tx) lookupAny(objectNames []string, id string) object {
	for _, n := range objectNames {
		if o := tx.get(n, id); o != nil {
			return o
		}
	}
	return nil
}
