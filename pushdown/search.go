package pushdown

import (
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/json"

	"github.com/stripesql/stripesql/catalog"
)

// Stripe's Search query language (stripe-api.md §4): clauses joined by AND
// or by OR (never both), at most ten, each `field:value` (exact,
// case-insensitive), `field~value` (substring of at least three characters,
// string fields only), `field>n` and friends (numeric fields), a leading `-`
// to negate, and `metadata["key"]:value`.
const (
	maxSearchClauses = 10
	minSubstring     = 3
)

// searchClauses turns the conjuncts Search can express into clauses that
// select a superset of the rows they are true for. Conjuncts it cannot
// express are left to the engine. or is the single OR query used when the
// only expressible conjunct is a disjunction.
func searchClauses(ctx *sql.Context, t *catalog.Table, conjuncts []sql.Expression) (and []string, or []string) {
	for _, e := range conjuncts {
		if c, ok := searchClause(ctx, t, e); ok {
			and = append(and, c)
			continue
		}
		if branches, ok := searchDisjunction(ctx, t, e); ok && or == nil {
			or = branches
		}
	}
	if len(and) > maxSearchClauses {
		and = and[:maxSearchClauses]
	}
	return and, or
}

// searchDisjunction expresses `a OR b OR …` when every branch is one clause.
func searchDisjunction(ctx *sql.Context, t *catalog.Table, e sql.Expression) ([]string, bool) {
	or, ok := e.(*expression.Or)
	if !ok {
		return nil, false
	}
	var out []string
	for _, branch := range []sql.Expression{or.LeftChild, or.RightChild} {
		if c, ok := searchClause(ctx, t, branch); ok {
			out = append(out, c)
			continue
		}
		sub, ok := searchDisjunction(ctx, t, branch)
		if !ok {
			return nil, false
		}
		out = append(out, sub...)
	}
	if len(out) > maxSearchClauses {
		return nil, false
	}
	return out, true
}

// searchClause expresses one conjunct as one clause, if it can.
func searchClause(ctx *sql.Context, t *catalog.Table, e sql.Expression) (string, bool) {
	switch e := e.(type) {
	case *expression.Equals:
		if key, lit, ok := metadataAndLiteral(t, e.Left(), e.Right()); ok {
			v, isString := lit.Value().(string)
			if !isString {
				return "", false
			}
			return "metadata[" + quote(key) + "]:" + quote(v), true
		}
		f, col, lit, ok := searchFieldAndLiteral(t, e.Left(), e.Right())
		if !ok || lit.Value() == nil {
			return "", false
		}
		if f.Kind == catalog.SearchNumeric {
			n, ok := searchNumber(ctx, col, lit.Value())
			if !ok {
				return "", false
			}
			return f.Field + ":" + n, true
		}
		v, ok := paramValue(col, lit.Value())
		if !ok {
			return "", false
		}
		return f.Field + ":" + quote(v), true
	case *expression.Not:
		eq, ok := e.Child.(*expression.Equals)
		if !ok {
			return "", false
		}
		// Only numbers negate safely. Search's `:` ignores case (and
		// matches words of string fields), while columns compare byte for
		// byte: -currency:"USD" would also drop the rows whose currency is
		// "usd", which `Currency != 'USD'` keeps. For numbers `:` is exact,
		// and `-amount:100` keeps objects without an amount: a superset of
		// `Amount != 100`, which the engine narrows.
		f, _, _, ok := searchFieldAndLiteral(t, eq.Left(), eq.Right())
		if !ok || f.Kind != catalog.SearchNumeric {
			return "", false
		}
		c, ok := searchClause(ctx, t, eq)
		if !ok {
			return "", false
		}
		return "-" + c, true
	case *expression.Like:
		f, _, lit, ok := searchFieldAndLiteral(t, e.Left(), e.Right())
		if !ok || f.Kind != catalog.SearchString || !isField(e.Left()) {
			return "", false
		}
		pattern, ok := lit.Value().(string)
		if !ok || !defaultEscape(e.Escape) {
			return "", false
		}
		needle := longestLiteralRun(pattern)
		if len([]rune(needle)) < minSubstring {
			return "", false
		}
		return f.Field + "~" + quote(needle), true
	case *expression.GreaterThan:
		return searchComparison(ctx, t, e.Left(), e.Right(), ">")
	case *expression.GreaterThanOrEqual:
		return searchComparison(ctx, t, e.Left(), e.Right(), ">=")
	case *expression.LessThan:
		return searchComparison(ctx, t, e.Left(), e.Right(), "<")
	case *expression.LessThanOrEqual:
		return searchComparison(ctx, t, e.Left(), e.Right(), "<=")
	}
	return "", false
}

func searchComparison(ctx *sql.Context, t *catalog.Table, left, right sql.Expression, op string) (string, bool) {
	f, col, lit, ok := searchFieldAndLiteral(t, left, right)
	if !ok || f.Kind != catalog.SearchNumeric || lit.Value() == nil {
		return "", false
	}
	if !isField(left) {
		op = flip(op)
	}
	if col.Type == catalog.Timestamp {
		// Whole seconds, widened like list ranges.
		w, last, fractional, ok := unixRange(ctx, lit.Value())
		if !ok {
			return "", false
		}
		switch {
		case fractional && (op == ">" || op == ">="):
			op = ">="
		case fractional:
			op, w = "<=", last+1
		case last != w && (op == ">" || op == ">="):
			op = ">=" // a repeated hour: from its first instant
		case last != w:
			op, w = "<=", last
		}
		return f.Field + op + strconv.FormatInt(w, 10), true
	}
	n, ok := searchNumber(ctx, col, lit.Value())
	if !ok {
		return "", false
	}
	return f.Field + op + n, true
}

// searchNumber renders an integer literal compared with an integer column.
// Anything else (a string, a fraction) compares by MySQL's conversion rules,
// which the engine applies; those are not pushed.
func searchNumber(ctx *sql.Context, col *catalog.Column, v any) (string, bool) {
	switch col.Type {
	case catalog.Timestamp:
		w, fractional, ok := unixSeconds(ctx, v)
		if !ok || fractional {
			return "", false
		}
		return strconv.FormatInt(w, 10), true
	case catalog.Integer:
		if n, ok := IntValue(v); ok {
			return strconv.FormatInt(n, 10), true
		}
		if n, ok := v.(uint64); ok {
			return strconv.FormatUint(n, 10), true
		}
	}
	return "", false
}

func isField(e sql.Expression) bool {
	_, ok := e.(*expression.GetField)
	return ok
}

// searchFieldAndLiteral matches `column OP literal` (either order) on a
// column the table's Search endpoint knows.
func searchFieldAndLiteral(t *catalog.Table, a, b sql.Expression) (catalog.SearchField, *catalog.Column, *expression.Literal, bool) {
	if t.Search == nil {
		return catalog.SearchField{}, nil, nil, false
	}
	col, lit, ok := columnAndLiteral(t, a, b)
	if !ok {
		return catalog.SearchField{}, nil, nil, false
	}
	for _, f := range t.Search.Fields {
		if strings.EqualFold(f.Column, col.Name) {
			return f, col, lit, true
		}
	}
	return catalog.SearchField{}, nil, nil, false
}

// metadataAndLiteral matches `Metadata->>'$.key' = 'v'` (either order).
func metadataAndLiteral(t *catalog.Table, a, b sql.Expression) (string, *expression.Literal, bool) {
	if t.Search == nil || !t.Search.Metadata {
		return "", nil, false
	}
	if _, ok := a.(*expression.Literal); ok {
		a, b = b, a
	}
	lit, ok := b.(*expression.Literal)
	if !ok {
		return "", nil, false
	}
	unquote, ok := a.(*json.JSONUnquote)
	if !ok {
		return "", nil, false
	}
	extract, ok := unquote.Child.(*json.JSONExtract)
	if !ok || len(extract.Paths) != 1 {
		return "", nil, false
	}
	gf, ok := extract.JSON.(*expression.GetField)
	if !ok || !strings.EqualFold(gf.Name(), "Metadata") {
		return "", nil, false
	}
	pathLit, ok := extract.Paths[0].(*expression.Literal)
	if !ok {
		return "", nil, false
	}
	path, ok := pathLit.Value().(string)
	if !ok {
		return "", nil, false
	}
	key, ok := simpleJSONKey(path)
	return key, lit, ok
}

// simpleJSONKey returns k for the JSON paths $.k and $."k" (one member of
// the top-level object), which is all metadata can hold.
func simpleJSONKey(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok || rest == "" {
		return "", false
	}
	if strings.HasPrefix(rest, `"`) {
		unq, err := strconv.Unquote(rest)
		if err != nil {
			return "", false
		}
		return unq, true
	}
	for _, r := range rest {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", false
		}
	}
	return rest, true
}

// defaultEscape reports a LIKE with MySQL's default escape character.
func defaultEscape(e sql.Expression) bool {
	if e == nil {
		return true
	}
	lit, ok := e.(*expression.Literal)
	if !ok {
		return false
	}
	s, ok := lit.Value().(string)
	return ok && s == `\`
}

// longestLiteralRun returns the longest run of pattern characters that
// must appear verbatim in every match of a LIKE pattern: the text between
// wildcards, with escapes resolved.
func longestLiteralRun(pattern string) string {
	var best, cur []rune
	runes := []rune(pattern)
	for i := 0; i < len(runes); i++ {
		switch r := runes[i]; {
		case r == '\\' && i+1 < len(runes):
			i++
			cur = append(cur, runes[i])
		case r == '%' || r == '_':
			if len(cur) > len(best) {
				best = cur
			}
			cur = nil
		default:
			cur = append(cur, r)
		}
	}
	if len(cur) > len(best) {
		best = cur
	}
	return string(best)
}

// quote renders a string as a Search string literal: double quotes, with
// backslashes and double quotes escaped, so that no value can end the
// literal and add clauses (OR, :, ~ and the like stay inside it).
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
