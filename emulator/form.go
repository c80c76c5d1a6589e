package emulator

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// parseForm turns Stripe's bracket-nested form encoding into nested values:
//
//	metadata[tier]=gold          → {"metadata": {"tier": "gold"}}
//	items[0][price]=price_1      → {"items": [{"price": "price_1"}]}
//	expand[]=a&expand[]=b        → {"expand": ["a", "b"]}
//
// Numeric segments index arrays (sparse indexes are compacted in order),
// except directly under metadata, whose keys are arbitrary strings. All
// leaves are strings; coerce converts them using the operation's schema.
func parseForm(v url.Values) map[string]any {
	root := map[string]any{}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		segs := splitKey(k)
		for _, val := range v[k] {
			setPath(root, segs, val)
		}
	}
	return compactArrays(root).(map[string]any)
}

// splitKey splits "a[b][c]" into ["a", "b", "c"] and "a[]" into ["a", ""].
// A malformed key is kept whole.
func splitKey(k string) []string {
	i := strings.IndexByte(k, '[')
	if i <= 0 || !strings.HasSuffix(k, "]") {
		return []string{k}
	}
	segs := []string{k[:i]}
	rest := k[i:]
	for rest != "" {
		if rest[0] != '[' {
			return []string{k}
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return []string{k}
		}
		segs = append(segs, rest[1:j])
		rest = rest[j+1:]
	}
	return segs
}

// sparse collects array elements by index while a form is parsed; appended
// ("[]") elements follow the indexed ones.
type sparse struct {
	byIndex  map[int]any
	appended []any
}

func setPath(m map[string]any, segs []string, val string) {
	head := segs[0]
	if len(segs) == 1 {
		m[head] = val
		return
	}
	next := segs[1]
	isIndex := next == "" || (head != "metadata" && isDigits(next))
	if !isIndex {
		child, ok := m[head].(map[string]any)
		if !ok {
			child = map[string]any{}
			m[head] = child
		}
		setPath(child, segs[1:], val)
		return
	}
	arr, ok := m[head].(*sparse)
	if !ok {
		arr = &sparse{byIndex: map[int]any{}}
		m[head] = arr
	}
	if next == "" {
		if len(segs) == 2 {
			arr.appended = append(arr.appended, val)
		} else {
			child := map[string]any{}
			setPath(child, segs[2:], val)
			arr.appended = append(arr.appended, child)
		}
		return
	}
	idx, _ := strconv.Atoi(next)
	if len(segs) == 2 {
		arr.byIndex[idx] = val
		return
	}
	child, ok := arr.byIndex[idx].(map[string]any)
	if !ok {
		child = map[string]any{}
		arr.byIndex[idx] = child
	}
	setPath(child, segs[2:], val)
}

func compactArrays(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = compactArrays(e)
		}
		return x
	case *sparse:
		idx := make([]int, 0, len(x.byIndex))
		for i := range x.byIndex {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, 0, len(idx)+len(x.appended))
		for _, i := range idx {
			out = append(out, compactArrays(x.byIndex[i]))
		}
		for _, e := range x.appended {
			out = append(out, compactArrays(e))
		}
		return out
	}
	return v
}

func isDigits(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
