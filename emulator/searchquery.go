package emulator

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses Stripe's Search query language:
//
//	query  = clause { [ "AND" | "OR" ] clause }      (juxtaposition means AND)
//	clause = [ "-" ] field op value
//	field  = name { "." name } | "metadata[" string "]"
//	op     = ":" | "~" | ">" | "<" | ">=" | "<=" | "="
//	value  = string | number | "null"
//
// Strings are quoted with " or ', and a backslash escapes the next
// character. AND and OR are case-insensitive and cannot be mixed; a query
// has at most maxClauses clauses. Whether a field exists and supports an
// operator is checked against the resource in search.go.

const maxClauses = 10

// A clause is one parsed field-op-value condition.
type clause struct {
	negate bool
	field  string // "email", "payment_method_details.card.last4", or "metadata"
	key    string // the metadata key, for field "metadata"
	op     string
	value  string
	quoted bool // value was a quoted string
	null   bool // the value was the bare word null
}

// A searchQuery is a parsed query: clauses joined all by AND or all by OR.
type searchQuery struct {
	clauses []clause
	or      bool
}

// A queryError is a syntax error; search.go reports it as a 400.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func queryErrorf(format string, args ...any) *queryError {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

type queryParser struct {
	s   string
	pos int
}

func parseQuery(s string) (*searchQuery, error) {
	p := &queryParser{s: s}
	q := &searchQuery{}
	sawAnd, sawOr := false, false
	p.skipSpace()
	if p.eof() {
		return nil, queryErrorf("The search query is empty.")
	}
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		q.clauses = append(q.clauses, c)
		hadSpace := p.skipSpace()
		if p.eof() {
			break
		}
		switch {
		case p.keyword("AND"):
			sawAnd = true
		case p.keyword("OR"):
			sawOr = true
		case hadSpace:
			sawAnd = true // juxtaposition
		default:
			return nil, queryErrorf("Unexpected character %q at position %d of the search query.", p.s[p.pos], p.pos)
		}
		p.skipSpace()
		if p.eof() {
			return nil, queryErrorf("The search query ends with a dangling AND or OR.")
		}
	}
	if sawAnd && sawOr {
		return nil, queryErrorf("Search queries cannot combine AND and OR; use only one of them.")
	}
	if len(q.clauses) > maxClauses {
		return nil, queryErrorf("Search queries can contain at most %d clauses; this one has %d.", maxClauses, len(q.clauses))
	}
	q.or = sawOr
	return q, nil
}

func (p *queryParser) eof() bool { return p.pos >= len(p.s) }

func (p *queryParser) skipSpace() bool {
	start := p.pos
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
	return p.pos > start
}

// keyword consumes a case-insensitive AND/OR followed by whitespace.
func (p *queryParser) keyword(kw string) bool {
	end := p.pos + len(kw)
	if end >= len(p.s) || !strings.EqualFold(p.s[p.pos:end], kw) {
		return false
	}
	if c := p.s[end]; c != ' ' && c != '\t' && c != '\n' {
		return false
	}
	p.pos = end
	return true
}

func (p *queryParser) clause() (clause, error) {
	var c clause
	if !p.eof() && p.s[p.pos] == '-' {
		c.negate = true
		p.pos++
	}
	start := p.pos
	for !p.eof() && isFieldChar(p.s[p.pos]) {
		p.pos++
	}
	c.field = p.s[start:p.pos]
	if c.field == "" {
		return c, queryErrorf("Expected a field name at position %d of the search query.", start)
	}
	if c.field == "metadata" {
		if p.eof() || p.s[p.pos] != '[' {
			return c, queryErrorf("Metadata must be queried as metadata[\"key\"].")
		}
		p.pos++
		key, err := p.quoted()
		if err != nil {
			return c, err
		}
		if p.eof() || p.s[p.pos] != ']' {
			return c, queryErrorf("Expected ] after the metadata key at position %d.", p.pos)
		}
		p.pos++
		c.key = key
	}
	for _, op := range []string{">=", "<=", ":", "~", ">", "<", "="} {
		if strings.HasPrefix(p.s[p.pos:], op) {
			c.op = op
			p.pos += len(op)
			break
		}
	}
	if c.op == "" {
		return c, queryErrorf("Expected an operator (:, ~, >, <, >=, <=, =) after %s at position %d.", c.field, p.pos)
	}
	if p.eof() {
		return c, queryErrorf("Expected a value after %s%s.", c.field, c.op)
	}
	if q := p.s[p.pos]; q == '"' || q == '\'' {
		v, err := p.quoted()
		if err != nil {
			return c, err
		}
		c.value, c.quoted = v, true
		return c, nil
	}
	start = p.pos
	for !p.eof() && p.s[p.pos] != ' ' && p.s[p.pos] != '\t' && p.s[p.pos] != '\n' {
		p.pos++
	}
	c.value = p.s[start:p.pos]
	switch {
	case c.value == "null" && c.op == ":":
		c.null = true
	case isNumber(c.value):
	default:
		return c, queryErrorf("The value %q for %s must be quoted.", c.value, c.field)
	}
	return c, nil
}

// quoted reads a '…' or "…" string; a backslash escapes the next character.
func (p *queryParser) quoted() (string, error) {
	start := p.pos
	if p.eof() || (p.s[p.pos] != '"' && p.s[p.pos] != '\'') {
		return "", queryErrorf("Expected a quoted string at position %d of the search query.", p.pos)
	}
	quote := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.s):
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case c == quote:
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", queryErrorf("Unterminated string starting at position %d of the search query.", start)
}

func isFieldChar(c byte) bool {
	return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
