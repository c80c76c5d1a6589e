package emulator

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// searchKind is a search field's type, which decides its operators.
type searchKind int

const (
	tokenField   searchKind = iota // exact match only
	textField                      // exact match and ~ substring
	numericField                   // exact match and comparisons
)

// A searchField is one field a resource's Search endpoint accepts.
type searchField struct {
	kind searchKind
	path string // dotted path in the object; defaults to the field name
	// value, if set, computes the field instead of reading path.
	value func(object) []any
}

func tokenAt(path string) searchField   { return searchField{kind: tokenField, path: path} }
func textAt(path string) searchField    { return searchField{kind: textField, path: path} }
func numericAt(path string) searchField { return searchField{kind: numericField, path: path} }

// search serves GET {path}/search.
func (tx *tx) search(rt route, p params, url string, lag func(*record) bool) (any, *apiError) {
	res := rt.res
	limit, err := parseLimit(p)
	if err != nil {
		return nil, err
	}
	q, perr := parseQuery(p.str("query"))
	if perr != nil {
		return nil, invalidRequest("query", "%s", perr.Error())
	}
	preds := make([]func(object) bool, len(q.clauses))
	for i, c := range q.clauses {
		pred, err := res.compileClause(c)
		if err != nil {
			return nil, err
		}
		preds[i] = pred
	}
	var rows []*record
	for _, r := range tx.s.listed(res.object) {
		if !lag(r) {
			continue
		}
		if matches(preds, q.or, tx.s.peek(r)) {
			rows = append(rows, r)
		}
	}
	total := len(rows)
	if page := p.str("page"); page != "" {
		i, ok := pageOffset(page, rows)
		if !ok {
			return nil, invalidRequest("page", "Invalid page: %s", page)
		}
		rows = rows[i:]
	}
	out := object{"object": "search_result", "url": url, "has_more": false, "next_page": nil}
	if len(rows) > limit {
		rows = rows[:limit]
		out["has_more"] = true
		out["next_page"] = pageToken(rows[len(rows)-1])
	}
	data := make([]any, len(rows))
	for i, r := range rows {
		data[i] = tx.s.peek(r)
	}
	out["data"] = data
	if slices.Contains(expandPaths(p), "total_count") {
		out["total_count"] = int64(total)
	}
	return out, nil
}

func matches(preds []func(object) bool, or bool, o object) bool {
	for _, pred := range preds {
		if pred(o) == or {
			return or
		}
	}
	return !or
}

// pageToken is the opaque next_page cursor: the last returned id, so that
// paging stays stable while newer objects are created.
func pageToken(r *record) string {
	return "page_" + base64.RawURLEncoding.EncodeToString([]byte(r.id))
}

func pageOffset(page string, rows []*record) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(page, "page_"))
	if err != nil || !strings.HasPrefix(page, "page_") {
		return 0, false
	}
	for i, r := range rows {
		if r.id == string(raw) {
			return i + 1, true
		}
	}
	return len(rows), true // the cursor object no longer matches: nothing after it is known
}

// compileClause checks a clause against the resource's search fields and
// returns its predicate.
func (res *resource) compileClause(c clause) (func(object) bool, *apiError) {
	var f searchField
	if c.field == "metadata" {
		f = searchField{kind: tokenField, value: func(o object) []any {
			if m, ok := o["metadata"].(map[string]any); ok {
				if v, ok := m[c.key]; ok {
					return []any{v}
				}
			}
			return nil
		}}
	} else {
		var ok bool
		if f, ok = res.search[c.field]; !ok {
			return nil, invalidRequest("query", "Field `%s` is an unsupported search field for resource `%s`. See https://stripe.com/docs/search#query-fields-for-%s for a list of supported fields.",
				c.field, res.plural(), strings.ReplaceAll(res.plural(), "_", "-"))
		}
		if f.path == "" {
			f.path = c.field
		}
	}
	values := f.value
	if values == nil {
		path := f.path
		values = func(o object) []any { return lookup(o, path) }
	}
	if c.null {
		return negate(c.negate, func(o object) bool {
			for _, v := range values(o) {
				if v != nil {
					return false
				}
			}
			return true
		}), nil
	}
	switch {
	case c.op == "~" && f.kind != textField:
		return nil, invalidRequest("query", "The `~` (substring) operator is not supported for field `%s`; it only applies to string fields.", c.field)
	case c.op == "~" && len([]rune(c.value)) < 3:
		return nil, invalidRequest("query", "Substring queries (`~`) need a value of at least 3 characters; `%s` is too short.", c.value)
	case c.op != ":" && c.op != "~" && f.kind != numericField:
		return nil, invalidRequest("query", "The `%s` operator is not supported for field `%s`; it only applies to numeric fields.", c.op, c.field)
	case f.kind == numericField && !isNumber(c.value):
		return nil, invalidRequest("query", "Field `%s` is numeric; `%s` is not a number.", c.field, c.value)
	case f.kind != numericField && !c.quoted:
		return nil, invalidRequest("query", "The value for field `%s` must be a quoted string.", c.field)
	}
	want := c.value
	var test func(v any) bool
	switch {
	case f.kind == numericField:
		n, _ := strconv.ParseFloat(want, 64)
		op := c.op
		test = func(v any) bool {
			x, ok := asFloat(v)
			if !ok {
				return false
			}
			switch op {
			case ">":
				return x > n
			case "<":
				return x < n
			case ">=":
				return x >= n
			case "<=":
				return x <= n
			}
			return x == n
		}
	case c.op == "~":
		lw := strings.ToLower(want)
		test = func(v any) bool {
			s, ok := text(v)
			return ok && strings.Contains(strings.ToLower(s), lw)
		}
	default:
		test = func(v any) bool {
			s, ok := text(v)
			return ok && strings.EqualFold(s, want)
		}
	}
	return negate(c.negate, func(o object) bool {
		for _, v := range values(o) {
			if test(v) {
				return true
			}
		}
		return false
	}), nil
}

func negate(neg bool, f func(object) bool) func(object) bool {
	if !neg {
		return f
	}
	return func(o object) bool { return !f(o) }
}

// plural is the resource's name in its URL ("payment_intents").
func (res *resource) plural() string {
	return res.segs[len(res.segs)-1]
}
