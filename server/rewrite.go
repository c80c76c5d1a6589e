package server

import (
	"regexp"
	"strings"
	"unicode"
)

// Statements clients send that go-mysql-server's parser does not take, and
// the equivalent it does; each rewrite leaves every other text untouched.

// odbcEscapes are the ODBC escape sequences ({fn YEAR(x)}, {d '…'}, …)
// that the MariaDB ODBC driver passes through to the server (Tableau,
// Power BI and Excel send them), with MySQL's reading of each.
var odbcEscapes = map[string]string{
	"fn":     "",
	"d":      "DATE ",
	"t":      "TIME ",
	"ts":     "TIMESTAMP ",
	"oj":     "",
	"escape": "ESCAPE ",
	"call":   "CALL ",
}

// rewriteODBCEscapes replaces ODBC escape sequences outside quotes and
// comments by what MySQL reads them as: {fn F(x)} is F(x), {d '2020-01-02'}
// is DATE '2020-01-02', {ts …} TIMESTAMP, {t …} TIME, {oj …} the outer
// join inside it. Sequences nest ({fn UCASE({fn LEFT(x, 1)})}).
func rewriteODBCEscapes(q string) string {
	if !strings.Contains(q, "{") {
		return q
	}
	var b strings.Builder
	open := 0 // escapes open, whose "}" is dropped
	for i := 0; i < len(q); {
		if j := skipLiteral(q, i); j > i {
			b.WriteString(q[i:j])
			i = j
			continue
		}
		c := q[i]
		switch {
		case c == '{':
			k := i + 1
			for k < len(q) && q[k] == ' ' {
				k++
			}
			e := k
			for e < len(q) && unicode.IsLetter(rune(q[e])) {
				e++
			}
			repl, ok := odbcEscapes[strings.ToLower(q[k:e])]
			if !ok || e == k || e == len(q) || !(q[e] == ' ' || q[e] == '\'' || q[e] == '(') {
				b.WriteByte(c)
				i++
				continue
			}
			b.WriteString(repl)
			open++
			i = e
			for i < len(q) && q[i] == ' ' {
				i++
			}
		case c == '}' && open > 0:
			open--
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// skipQuoted returns the index after the quoted string starting at i,
// with MySQL's doubled-quote and backslash escapes.
func skipQuoted(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if quote != '`' {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// skipLiteral returns the index after the quoted string, quoted name or
// comment that starts at i (a # or -- comment's line end is not part of
// it), or i when none does: what the rewrites pass over unread.
func skipLiteral(q string, i int) int {
	switch c := q[i]; {
	case c == '\'' || c == '"' || c == '`':
		return skipQuoted(q, i)
	case c == '#' || (c == '-' && strings.HasPrefix(q[i:], "-- ")):
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(q)
	case c == '/' && strings.HasPrefix(q[i:], "/*"):
		if j := strings.Index(q[i+2:], "*/"); j >= 0 {
			return i + 2 + j + 2
		}
		return len(q)
	}
	return i
}

// helpStatement matches MySQL's server-side HELP 'topic' (the mysql client
// sends `help 'select'` for `help select`).
var helpStatement = regexp.MustCompile(`(?is)^\s*help\b[^;]*;?\s*$`)

// emptyHelp answers HELP as MySQL does with empty help tables: no rows, in
// the columns of a search result (the client then prints "Nothing found").
const emptyHelp = "SELECT name, description, example FROM mysql.help_topic WHERE FALSE"

// explainJSON matches EXPLAIN FORMAT=JSON (DBeaver's plan view).
var explainJSON = regexp.MustCompile("(?is)^\\s*(explain|describe|desc)\\s+format\\s*=\\s*['\"`]?json['\"`]?\\s+")

// setNamesCollate matches SET NAMES charset COLLATE collation, whose
// COLLATE go-mysql-server parses and drops (collation_connection stays the
// charset's default).
var setNamesCollate = regexp.MustCompile("(?is)^\\s*set\\s+names\\s+([`'\"]?\\w+[`'\"]?)\\s+collate\\s+([`'\"]?\\w+[`'\"]?)\\s*;?\\s*$")

// rewriteQuery returns q as the engine can take it, and whether its
// result is an EXPLAIN FORMAT=JSON document to assemble from the tree; an
// error is a MySQL error for a statement it cannot rewrite.
func rewriteQuery(q string) (string, bool, error) {
	if helpStatement.MatchString(q) {
		return emptyHelp, false, nil
	}
	if m := setNamesCollate.FindStringSubmatch(q); m != nil {
		return "SET NAMES " + m[1] + ", collation_connection = " + quoteName(m[2]), false, nil
	}
	q = rewriteODBCEscapes(q)
	q = rewriteAssignments(q)
	q, err := rewriteRollup(q)
	if err != nil {
		return "", false, err
	}
	if loc := explainJSON.FindStringIndex(q); loc != nil {
		return "EXPLAIN FORMAT=TREE " + q[loc[1]:], true, nil
	}
	return q, false, nil
}

// quoteName returns a collation name as a string literal.
func quoteName(n string) string {
	return "'" + strings.Trim(n, "`'\"") + "'"
}
