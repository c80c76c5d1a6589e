package server

import (
	"strings"
	"unicode"
)

// explainAsTree rewrites a plain EXPLAIN of a statement into EXPLAIN
// FORMAT=TREE. go-mysql-server answers plain EXPLAIN with a MySQL-style
// table whose columns it leaves NULL, which shows nothing of what a query
// costs; the tree shows every table access with the Stripe calls it makes.
// EXPLAIN with an explicit FORMAT, EXPLAIN PLAN/ANALYZE and DESCRIBE of a
// table are left alone.
func explainAsTree(query string) string {
	trimmed := strings.TrimLeftFunc(query, unicode.IsSpace)
	head, rest, ok := cutWord(trimmed)
	if !ok || !(strings.EqualFold(head, "explain") || strings.EqualFold(head, "describe") || strings.EqualFold(head, "desc")) {
		return query
	}
	if strings.HasPrefix(strings.TrimLeftFunc(rest, unicode.IsSpace), "(") {
		return "EXPLAIN FORMAT=TREE " + rest
	}
	next, _, _ := cutWord(rest)
	switch strings.ToLower(next) {
	case "select", "with", "insert", "update", "delete", "replace", "table":
		return "EXPLAIN FORMAT=TREE " + rest
	}
	return query
}

// cutWord splits off the leading word (letters only) of s.
func cutWord(s string) (word, rest string, ok bool) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end == -1 {
		end = len(s)
	}
	if end == 0 {
		return "", s, false
	}
	return s[:end], s[end:], true
}
