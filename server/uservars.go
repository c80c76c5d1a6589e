package server

import (
	"strings"

	"github.com/stripesql/stripesql/mysqlfuncs"
)

// go-mysql-server's parser does not take MySQL's user-variable assignment
// inside an expression, `@v := expr`. MariaDB ODBC's SQLColumns (Tableau,
// Power BI, Excel) assigns @dt, @ColSize and @tol in its select list and
// reads them in later columns of the same row. rewriteAssignments turns
// each assignment into stripe_assign('v', expr), a function that assigns
// and returns the value where the expression is evaluated (per row, left
// to right, as MySQL does), and each later read of a variable the
// statement assigns into stripe_user_var('v', expr), typed as the last
// assignment before it (the engine types a plain @v by the value it had
// when the statement was planned: NULL for a new variable).

// assignStops are the words that end the expression of an assignment at
// its own nesting level: `:=` binds loosest, so the expression runs until
// the clause, CASE branch or alias that follows it.
var assignStops = map[string]bool{
	"when": true, "then": true, "else": true, "end": true, "as": true,
	"from": true, "where": true, "group": true, "having": true, "order": true,
	"limit": true, "into": true, "union": true, "window": true, "for": true,
	"on": true, "using": true, "join": true, "inner": true, "left": true,
	"right": true, "cross": true, "straight_join": true, "natural": true,
	"lock": true, "procedure": true, "except": true, "intersect": true,
}

// rewriteAssignments rewrites the assignments of a statement other than
// SET (which takes `:=` itself).
func rewriteAssignments(q string) string {
	if !strings.Contains(q, ":=") {
		return q
	}
	if w, _ := firstWord(q); strings.EqualFold(w, "set") {
		return q
	}
	last := map[string]string{} // variable → text of its last assignment
	return rewriteAssignRange(q, last)
}

// rewriteAssignRange rewrites q (a whole statement or an assigned
// expression), recording assignments in last.
func rewriteAssignRange(q string, last map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		if j := skipLiteral(q, i); j > i {
			b.WriteString(q[i:j])
			i = j
			continue
		}
		c := q[i]
		switch {
		case c == '@' && (i+1 >= len(q) || q[i+1] != '@') && (i == 0 || q[i-1] != '@'):
			name, end := userVarName(q, i+1)
			if name == "" {
				b.WriteByte(c)
				i++
				continue
			}
			k := end
			for k < len(q) && isSpace(q[k]) {
				k++
			}
			if strings.HasPrefix(q[k:], ":=") {
				exprEnd := assignedExprEnd(q, k+2)
				raw := q[k+2 : exprEnd]
				trimmed := strings.TrimRight(raw, " \t\r\n")
				expr := strings.TrimSpace(rewriteAssignRange(trimmed, last))
				b.WriteString(mysqlfuncs.AssignFunction + "(" + quoteString(name) + ", " + expr + ")")
				b.WriteString(raw[len(trimmed):]) // the space before what follows
				last[strings.ToLower(name)] = expr
				i = exprEnd
				continue
			}
			if expr, ok := last[strings.ToLower(name)]; ok {
				b.WriteString(mysqlfuncs.UserVarFunction + "(" + quoteString(name) + ", " + expr + ")")
			} else {
				b.WriteString(q[i:end])
			}
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// assignedExprEnd returns where the expression that starts at i ends.
func assignedExprEnd(q string, i int) int {
	depth, cases := 0, 0
	for i < len(q) {
		if j := skipLiteral(q, i); j > i {
			i = j
			continue
		}
		c := q[i]
		switch {
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case (c == ',' || c == ';') && depth == 0:
			return i
		case isWordStart(c) && (i == 0 || !isWordByte(q[i-1])):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := strings.ToLower(q[i:j])
			switch {
			case w == "case":
				cases++
			case w == "end" && cases > 0:
				cases--
			case depth == 0 && cases == 0 && assignStops[w]:
				return i
			}
			i = j
		default:
			i++
		}
	}
	return i
}

// userVarName reads the name of @name starting at i (unquoted, or quoted
// with `, ' or "), and returns it and where it ends.
func userVarName(q string, i int) (string, int) {
	if i >= len(q) {
		return "", i
	}
	if c := q[i]; c == '`' || c == '\'' || c == '"' {
		j := skipQuoted(q, i)
		if j-i < 3 {
			return "", i
		}
		return strings.ReplaceAll(q[i+1:j-1], string(c)+string(c), string(c)), j
	}
	j := i
	for j < len(q) && (isWordByte(q[j]) || q[j] == '.' || q[j] == '$') {
		j++
	}
	return q[i:j], j
}

// firstWord returns the statement's first word and where it ends.
func firstWord(q string) (string, int) {
	i := 0
	for i < len(q) && (isSpace(q[i]) || q[i] == '(') {
		i++
	}
	j := i
	for j < len(q) && isWordByte(q[j]) {
		j++
	}
	return q[i:j], j
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isWordByte(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') }
