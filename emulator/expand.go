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

// checkExpand validates expand paths against the object schemas before a
// request runs: each segment must be an expandable id of the object reached
// so far, and list and search responses expand "data.…" (search also
// total_count).
func checkExpand(objectName string, paths []string, isList bool) *apiError {
	for _, p := range paths {
		rest := p
		if isList {
			if p == "total_count" {
				continue
			}
			var ok bool
			if rest, ok = strings.CutPrefix(p, "data."); !ok {
				return invalidRequest("expand", "This property cannot be expanded (%s). You may want to try expanding 'data.%s' instead.", p, p)
			}
		}
		if strings.Count(p, ".") >= maxExpandDepth { // "data." counts as a level
			return invalidRequest("expand", "You cannot expand more than %d levels of a property. Property: %s", maxExpandDepth, p)
		}
		cur := objectName
		for _, seg := range strings.Split(rest, ".") {
			f, ok := field(cur, seg)
			if !ok || f.Type != "id" || len(f.Expands) == 0 {
				return invalidRequest("expand", "This property cannot be expanded (%s).", seg)
			}
			cur = f.Expands[0]
		}
	}
	return nil
}

// expandResponse applies checked expand paths to a handler's answer: a
// list or search result expands each element.
func (tx *tx) expandResponse(out any, paths []string) any {
	o, ok := out.(object)
	if !ok || len(paths) == 0 {
		return out
	}
	kind := str(o, "object")
	if kind != "list" && kind != "search_result" {
		return tx.expand(o, paths)
	}
	var inner []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, "data."); ok {
			inner = append(inner, rest)
		}
	}
	if len(inner) == 0 {
		return o
	}
	data := o["data"].([]any)
	expanded := make([]any, len(data))
	for i, d := range data {
		expanded[i] = tx.expand(d.(object), inner)
	}
	o = without(o, "data")
	o["data"] = expanded
	return o
}

// expand replaces the ids along the given dotted paths with copies of the
// objects they name (expand[]=customer, expand[]=latest_charge.customer).
// The stored object is never modified: the maps on expanded paths are
// copies. An id naming no stored object stays an id.
func (tx *tx) expand(o object, paths []string) object {
	groups := map[string][]string{}
	for _, p := range paths {
		head, rest, _ := strings.Cut(p, ".")
		groups[head] = append(groups[head], rest)
	}
	out := without(o)
	for head, rests := range groups {
		f, ok := field(str(o, "object"), head)
		id, isID := out[head].(string)
		if !ok || !isID {
			continue
		}
		target := tx.lookupAny(f.Expands, id)
		if target == nil {
			continue
		}
		var deeper []string
		for _, r := range rests {
			if r != "" {
				deeper = append(deeper, r)
			}
		}
		out[head] = tx.expand(cloneObject(target), deeper)
	}
	return out
}

// lookupAny finds id among the given object types.
func (tx *tx) lookupAny(objectNames []string, id string) object {
	for _, n := range objectNames {
		if o := tx.s.peekObj(n, id); o != nil { // read only: expand copies it
			return o
		}
	}
	return nil
}
