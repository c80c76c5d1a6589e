package server

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// Statements clients send that go-mysql-server's parser does not take, and
// the equivalent it does; each rewrite leaves every other text untouched.

// odbcEscape is one kind of ODBC escape sequence ({fn YEAR(x)}, {d '…'},
// …) that the MariaDB ODBC driver passes through to the server (Tableau,
// Power BI and Excel send them): what MySQL reads it as.
type odbcEscape struct {
	prefix string // put before the escape's contents
	// literal: the prefix goes only before a string literal (MySQL reads
	// {d '2020-01-02'} as DATE '2020-01-02', {d expr} as expr).
	literal bool
	// probe is a statement that parses, with the contents in place of %s,
	// only if the contents are what the escape may hold.
	probe string
}

var odbcEscapes = map[string]odbcEscape{
	"fn":     {probe: "SELECT %s"},
	"d":      {prefix: "DATE ", literal: true, probe: "SELECT %s"},
	"t":      {prefix: "TIME ", literal: true, probe: "SELECT %s"},
	"ts":     {prefix: "TIMESTAMP ", literal: true, probe: "SELECT %s"},
	"oj":     {probe: "SELECT 1 FROM %s"},
	"escape": {prefix: "ESCAPE ", probe: "SELECT %s"},
	"call":   {prefix: "CALL ", probe: "CALL %s"},
}

// rewriteODBCEscapes replaces ODBC escape sequences outside quotes and
// comments by what MySQL reads them as: {fn F(x)} is F(x), {d '2020-01-02'}
// is DATE '2020-01-02', {ts …} TIMESTAMP, {t …} TIME, {oj …} the outer
// join inside it. Sequences nest ({fn UCASE({fn LEFT(x, 1)})}). MySQL's
// parser reads an escape as one expression (or join) in braces, so an
// escape that is not closed, or holds more than that, is left as sent
// for the engine's parser to refuse, as is a brace that belongs to no
// escape: dropping braces must not make a statement MySQL refuses run.
func rewriteODBCEscapes(q string) string {
	if !strings.Contains(q, "{") {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); {
		if j := skipLiteral(q, i); j > i {
			b.WriteString(q[i:j])
			i = j
			continue
		}
		if q[i] != '{' {
			b.WriteByte(q[i])
			i++
			continue
		}
		if repl, end, ok := rewriteODBCEscape(q, i); ok {
			b.WriteString(repl)
			i = end
			continue
		}
		// Not an escape: the brace, and what is inside it, as sent.
		b.WriteByte('{')
		i++
	}
	return b.String()
}

// rewriteODBCEscape rewrites the escape sequence whose "{" is at i: what
// MySQL reads it as and the index after its "}"; false if there is no
// whole escape there.
func rewriteODBCEscape(q string, i int) (string, int, bool) {
	k := i + 1
	for k < len(q) && isSpace(q[k]) {
		k++
	}
	e := k
	for e < len(q) && unicode.IsLetter(rune(q[e])) {
		e++
	}
	esc, ok := odbcEscapes[strings.ToLower(q[k:e])]
	if !ok || e == len(q) || !(isSpace(q[e]) || q[e] == '\'' || q[e] == '(') {
		return "", 0, false
	}
	end := closingBrace(q, i)
	if end < 0 {
		return "", 0, false
	}
	inner := strings.TrimSpace(rewriteODBCEscapes(q[e:end]))
	stmt, err := sqlparser.Parse(fmt.Sprintf(esc.probe, rewriteAssignments(inner)))
	if err != nil || !odbcProbeIsWhole(stmt) {
		return "", 0, false
	}
	prefix := esc.prefix
	if esc.literal {
		prefix = ""
		if v, ok := stmt.(*sqlparser.Select).SelectExprs[0].(*sqlparser.AliasedExpr).Expr.(*sqlparser.SQLVal); ok && v.Type == sqlparser.StrVal {
			prefix = esc.prefix
		}
	}
	return prefix + inner, end + 1, true
}

// odbcProbeIsWhole reports whether an escape's probe statement is only
// what the escape may hold: one unnamed expression, or one FROM clause,
// and nothing after it.
func odbcProbeIsWhole(stmt sqlparser.Statement) bool {
	sel, ok := stmt.(*sqlparser.Select)
	if !ok {
		_, ok = stmt.(*sqlparser.Call)
		return ok
	}
	if len(sel.From) > 0 {
		return sqlparser.String(sel) == "select 1 from "+sqlparser.String(sel.From)
	}
	if len(sel.SelectExprs) != 1 {
		return false
	}
	ae, ok := sel.SelectExprs[0].(*sqlparser.AliasedExpr)
	return ok && ae.As.IsEmpty() && sqlparser.String(sel) == "select "+sqlparser.String(ae.Expr)
}

// closingBrace returns the index of the "}" that closes the "{" at i
// (braces nest; quoted text and comments are passed over), or -1.
func closingBrace(q string, i int) int {
	depth := 0
	for i < len(q) {
		if j := skipLiteral(q, i); j > i {
			i = j
			continue
		}
		switch q[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return -1
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
