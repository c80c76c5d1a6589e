package server

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// GROUP BY … WITH ROLLUP (Metabase's and Superset's subtotals) is a syntax
// error to go-mysql-server's parser, and no engine version on hand takes
// it. rewriteRollup turns a SELECT with it into what MySQL computes: the
// UNION ALL of one grouping per level — all n columns, the first n-1, …,
// none — where the columns a level rolls up read NULL, in the order MySQL
// returns them (each group's rows, then its subtotal; the grand total
// last), or in the statement's ORDER BY with that order breaking ties.
// The statement is parsed with the engine's own parser once WITH ROLLUP is
// cut out, and each level is printed from that tree.

// withRollup finds WITH ROLLUP; rewriteRollup checks it is outside quotes.
var withRollup = regexp.MustCompile(`(?i)\bwith\s+rollup\b`)

// errRollup is ER_NOT_SUPPORTED_YET (1235) for a ROLLUP the rewrite does
// not cover, saying what to do instead.
func errRollup(format string, args ...any) error {
	return mysql.NewSQLError(1235, "42000", "WITH ROLLUP "+format+"; compute the subtotals with UNION ALL of GROUP BY queries instead", args...)
}

// rewriteRollup returns q with its WITH ROLLUP rewritten, q itself when it
// has none, or an error for one it cannot rewrite.
func rewriteRollup(q string) (string, error) {
	locs := withRollup.FindAllStringIndex(q, -1)
	if len(locs) == 0 {
		return q, nil
	}
	var cut []int // WITH ROLLUP outside quotes and comments
	for _, l := range locs {
		if !insideQuote(q, l[0]) {
			cut = append(cut, l[0], l[1])
		}
	}
	switch len(cut) {
	case 0:
		return q, nil
	case 2:
	default:
		return "", errRollup("is supported once in a statement")
	}
	stripped := q[:cut[0]] + " " + q[cut[1]:]
	stmt, err := sqlparser.Parse(stripped)
	if err != nil {
		return q, nil // the engine reports the syntax error
	}
	sel, ok := stmt.(*sqlparser.Select)
	if !ok || len(sel.GroupBy) == 0 {
		return "", errRollup("is supported on the GROUP BY of a plain SELECT")
	}
	if sel.With != nil || sel.Into != nil || (sel.Lock != nil && sel.Lock.Type != "") || sel.QueryOpts.Distinct {
		return "", errRollup("is not supported with WITH, INTO, DISTINCT or locking")
	}
	return rollupSQL(sel)
}

// insideQuote reports whether position p of q is inside a quoted string,
// a quoted name or a comment.
func insideQuote(q string, p int) bool {
	for i := 0; i < len(q) && i < p; {
		j := skipLiteral(q, i)
		switch {
		case j == i:
			i++
		case p < j:
			return true
		default:
			i = j
		}
	}
	return false
}

// rollupItem is one column of the select list.
type rollupItem struct {
	expr  sqlparser.Expr
	text  string // as the parser prints it
	alias string // the result column's name
	inner string // its name in the levels, unique among the columns
}

func rollupSQL(sel *sqlparser.Select) (string, error) {
	var items []rollupItem
	for _, se := range sel.SelectExprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return "", errRollup("is not supported with SELECT *")
		}
		it := rollupItem{expr: ae.Expr, text: sqlparser.String(ae.Expr)}
		switch {
		case !ae.As.IsEmpty():
			it.alias = ae.As.String()
		case strings.TrimSpace(ae.InputExpression) != "":
			it.alias = strings.TrimSpace(ae.InputExpression)
		default:
			if c, ok := ae.Expr.(*sqlparser.ColName); ok {
				it.alias = c.Name.String()
			} else {
				it.alias = it.text
			}
		}
		items = append(items, it)
	}
	// A level's column keeps its name, which HAVING may use, unless
	// another column has it too: the outer query could not tell them
	// apart.
	for i := range items {
		items[i].inner = items[i].alias
		unique := !strings.HasPrefix(strings.ToLower(items[i].alias), "_rollup")
		for j := range items {
			unique = unique && (j == i || !strings.EqualFold(items[j].alias, items[i].alias))
		}
		if !unique {
			items[i].inner = fmt.Sprintf("_rollup_c%d", i)
		}
	}
	// The grouping columns, as expressions: GROUP BY 2 and GROUP BY alias
	// name select-list columns.
	groups := make([]sqlparser.Expr, len(sel.GroupBy))
	for i, g := range sel.GroupBy {
		groups[i] = g
		if v, ok := g.(*sqlparser.SQLVal); ok && v.Type == sqlparser.IntVal {
			n, err := strconv.Atoi(string(v.Val))
			if err != nil || n < 1 || n > len(items) {
				return "", errRollup("names column %s of %d", string(v.Val), len(items))
			}
			groups[i] = items[n-1].expr
			continue
		}
		if c, ok := g.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
			for _, it := range items {
				if strings.EqualFold(it.alias, c.Name.String()) && it.text != sqlparser.String(g) {
					groups[i] = it.expr
					break
				}
			}
		}
	}
	groupTexts := make([]string, len(groups))
	for i, g := range groups {
		groupTexts[i] = sqlparser.String(g)
	}
	from := sqlparser.String(sel.From)
	where := sqlparser.String(sel.Where)
	// A prepared statement's parameters must each appear once (vitess
	// counts every occurrence as one more): the filtered table is then
	// read through a CTE under the table's own name, and the levels
	// select from it.
	var with string
	if params := countParams(sel); params > 0 {
		if sel.Where == nil || params != countParams(sel.Where) {
			return "", errRollup("takes parameters only in WHERE")
		}
		at, ok := singleTable(sel.From)
		if !ok {
			return "", errRollup("with parameters is supported on one table")
		}
		name := at.As.String()
		if name == "" {
			name = sqlparser.String(at.Expr.(sqlparser.TableName).Name)
		}
		with = "WITH `_rollup_src` AS (SELECT * FROM " + from + where + ") "
		from, where = "`_rollup_src` AS "+quoteIdent(name), ""
	}
	var branches []string
	for k := len(groups); k >= 0; k-- {
		rolled := groups[k:]
		var b strings.Builder
		b.WriteString("SELECT ")
		for i, it := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(rolledUp(it.expr, rolled) + " AS " + quoteIdent(it.inner))
		}
		for j, g := range groupTexts {
			key, isRolled := g, 0
			if j >= k {
				key, isRolled = "NULL", 1
			}
			fmt.Fprintf(&b, ", %s AS `_rollup_key%d`, %d AS `_rollup%d`", key, j, isRolled, j)
		}
		b.WriteString(" FROM " + from + where)
		if k > 0 {
			b.WriteString(" GROUP BY " + strings.Join(groupTexts[:k], ", "))
		}
		// The grand total is one row when there are rows to total, none
		// otherwise, as MySQL's: without GROUP BY, COUNT(*) > 0 makes it
		// one group.
		conds := []string{}
		if sel.Having != nil {
			conds = append(conds, "("+rolledUp(sel.Having.Expr, rolled)+")")
		}
		if k == 0 {
			conds = append(conds, "COUNT(*) > 0")
		}
		if len(conds) > 0 {
			b.WriteString(" HAVING " + strings.Join(conds, " AND "))
		}
		branches = append(branches, b.String())
	}
	var cols []string
	for _, it := range items {
		col := "`_rollup`." + quoteIdent(it.inner)
		if it.inner != it.alias {
			col += " AS " + quoteIdent(it.alias)
		}
		cols = append(cols, col)
	}
	var order []string
	for _, o := range sel.OrderBy {
		key, err := rollupOrderKey(o.Expr, items)
		if err != nil {
			return "", err
		}
		if strings.EqualFold(o.Direction, sqlparser.DescScr) {
			key += " DESC"
		}
		order = append(order, key)
	}
	for j := range groups {
		order = append(order, fmt.Sprintf("`_rollup%d`, `_rollup_key%d`", j, j))
	}
	return with + "SELECT " + strings.Join(cols, ", ") + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS `_rollup` ORDER BY " +
		strings.Join(order, ", ") + sqlparser.String(sel.Limit), nil
}

// rolledUp prints e as a level that rolls up the grouping expressions
// rolled reads it, as MySQL 8 evaluates a super-aggregate row: each
// occurrence of a rolled-up grouping expression outside an aggregate is
// NULL; inside an aggregate it is the group's rows' value, and a
// subquery is left whole (its names may be its own tables'). It works on
// the parsed tree, so a string literal spelling a column's name stays a
// string.
func rolledUp(e sqlparser.SQLNode, rolled []sqlparser.Expr) string {
	if len(rolled) == 0 {
		return sqlparser.String(e)
	}
	buf := sqlparser.NewTrackedBuffer(func(buf *sqlparser.TrackedBuffer, n sqlparser.SQLNode) {
		switch n := n.(type) {
		case *sqlparser.FuncExpr:
			if n.IsAggregate() && n.Over == nil {
				buf.WriteString(sqlparser.String(n))
				return
			}
		case *sqlparser.GroupConcatExpr, *sqlparser.Subquery:
			buf.WriteString(sqlparser.String(n))
			return
		}
		if x, ok := n.(sqlparser.Expr); ok {
			for _, g := range rolled {
				if sameGroupExpr(x, g) {
					buf.WriteString("NULL")
					return
				}
			}
		}
		n.Format(buf)
	})
	buf.Myprintf("%v", e)
	return buf.String()
}

// sameGroupExpr reports whether e is the grouping expression g: the same
// column (with or without its table's name), or the same expression.
func sameGroupExpr(e, g sqlparser.Expr) bool {
	ce, ok1 := e.(*sqlparser.ColName)
	cg, ok2 := g.(*sqlparser.ColName)
	if ok1 && ok2 {
		return ce.Name.Equal(cg.Name) && (ce.Qualifier.IsEmpty() || cg.Qualifier.IsEmpty() ||
			strings.EqualFold(sqlparser.String(ce.Qualifier), sqlparser.String(cg.Qualifier)))
	}
	return sqlparser.String(e) == sqlparser.String(g)
}

// rollupOrderKey is an ORDER BY key of a ROLLUP statement as the outer
// query names it: a selected column, by position, alias or expression.
func rollupOrderKey(e sqlparser.Expr, items []rollupItem) (string, error) {
	if v, ok := e.(*sqlparser.SQLVal); ok && v.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(string(v.Val))
		if err != nil || n < 1 || n > len(items) {
			return "", errRollup("ORDER BY names column %s of %d", string(v.Val), len(items))
		}
		return "`_rollup`." + quoteIdent(items[n-1].inner), nil
	}
	s := sqlparser.String(e)
	for _, it := range items {
		if s == it.text {
			return "`_rollup`." + quoteIdent(it.inner), nil
		}
	}
	if c, ok := e.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
		for _, it := range items {
			if strings.EqualFold(it.alias, c.Name.String()) {
				return "`_rollup`." + quoteIdent(it.inner), nil
			}
		}
	}
	return "", errRollup("ORDER BY %s: order by a selected column", s)
}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// countParams counts the parameters (?) in n.
func countParams(n sqlparser.SQLNode) int {
	count := 0
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if v, ok := n.(*sqlparser.SQLVal); ok && v.Type == sqlparser.ValArg {
			count++
		}
		return true, nil
	}, n)
	return count
}

// singleTable returns the one table of a FROM clause that names one.
func singleTable(from sqlparser.TableExprs) (*sqlparser.AliasedTableExpr, bool) {
	if len(from) != 1 {
		return nil, false
	}
	at, ok := from[0].(*sqlparser.AliasedTableExpr)
	if !ok {
		return nil, false
	}
	_, ok = at.Expr.(sqlparser.TableName)
	return at, ok
}
