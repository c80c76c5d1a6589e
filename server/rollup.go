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
	expr  string // as the parser prints it
	alias string // the result column's name
	agg   bool   // it contains an aggregate
}

func rollupSQL(sel *sqlparser.Select) (string, error) {
	var items []rollupItem
	for _, se := range sel.SelectExprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return "", errRollup("is not supported with SELECT *")
		}
		it := rollupItem{expr: sqlparser.String(ae.Expr), agg: hasAggregate(ae.Expr)}
		switch {
		case !ae.As.IsEmpty():
			it.alias = ae.As.String()
		case strings.TrimSpace(ae.InputExpression) != "":
			it.alias = strings.TrimSpace(ae.InputExpression)
		default:
			if c, ok := ae.Expr.(*sqlparser.ColName); ok {
				it.alias = c.Name.String()
			} else {
				it.alias = it.expr
			}
		}
		items = append(items, it)
	}
	// The grouping columns, as expressions: GROUP BY 2 and GROUP BY alias
	// name select-list columns.
	groups := make([]string, len(sel.GroupBy))
	for i, g := range sel.GroupBy {
		groups[i] = sqlparser.String(g)
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
				if strings.EqualFold(it.alias, c.Name.String()) && it.expr != groups[i] {
					groups[i] = it.expr
					break
				}
			}
		}
	}
	// nulled returns expr as level k (the first k groups kept) reads it.
	nulled := func(expr string, agg bool, k int) string {
		for j := k; j < len(groups); j++ {
			if expr == groups[j] {
				return "NULL"
			}
		}
		if agg {
			return expr
		}
		for j := k; j < len(groups); j++ {
			expr = replaceExpr(expr, groups[j])
		}
		return expr
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
	var having string
	var havingAgg bool
	if sel.Having != nil {
		having = sqlparser.String(sel.Having.Expr)
		havingAgg = hasAggregate(sel.Having.Expr)
	}
	var branches []string
	for k := len(groups); k >= 0; k-- {
		var b strings.Builder
		b.WriteString("SELECT ")
		for i, it := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(nulled(it.expr, it.agg, k) + " AS " + quoteIdent(it.alias))
		}
		for j, g := range groups {
			key, rolled := g, 0
			if j >= k {
				key, rolled = "NULL", 1
			}
			fmt.Fprintf(&b, ", %s AS `_rollup_key%d`, %d AS `_rollup%d`", key, j, rolled, j)
		}
		b.WriteString(" FROM " + from + where)
		if k > 0 {
			b.WriteString(" GROUP BY " + strings.Join(groups[:k], ", "))
		}
		// The grand total is one row when there are rows to total, none
		// otherwise, as MySQL's: without GROUP BY, COUNT(*) > 0 makes it
		// one group.
		conds := []string{}
		if having != "" {
			conds = append(conds, "("+nulled(having, havingAgg, k)+")")
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
		cols = append(cols, "`_rollup`."+quoteIdent(it.alias))
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

// rollupOrderKey is an ORDER BY key of a ROLLUP statement as the outer
// query names it: a selected column, by position, alias or expression.
func rollupOrderKey(e sqlparser.Expr, items []rollupItem) (string, error) {
	if v, ok := e.(*sqlparser.SQLVal); ok && v.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(string(v.Val))
		if err != nil || n < 1 || n > len(items) {
			return "", errRollup("ORDER BY names column %s of %d", string(v.Val), len(items))
		}
		return "`_rollup`." + quoteIdent(items[n-1].alias), nil
	}
	s := sqlparser.String(e)
	for _, it := range items {
		if s == it.expr {
			return "`_rollup`." + quoteIdent(it.alias), nil
		}
	}
	if c, ok := e.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
		for _, it := range items {
			if strings.EqualFold(it.alias, c.Name.String()) {
				return "`_rollup`." + quoteIdent(it.alias), nil
			}
		}
	}
	return "", errRollup("ORDER BY %s: order by a selected column", s)
}

// replaceExpr replaces whole occurrences of sub in expr by NULL.
func replaceExpr(expr, sub string) string {
	if sub == "" {
		return expr
	}
	var b strings.Builder
	for {
		i := strings.Index(expr, sub)
		if i < 0 {
			b.WriteString(expr)
			return b.String()
		}
		end := i + len(sub)
		whole := (i == 0 || !isWordByte(expr[i-1]) && expr[i-1] != '.') && (end == len(expr) || !isWordByte(expr[end]) && expr[end] != '(' && expr[end] != '.')
		if whole {
			b.WriteString(expr[:i] + "NULL")
		} else {
			b.WriteString(expr[:end])
		}
		expr = expr[end:]
	}
}

// hasAggregate reports whether e calls an aggregate function.
func hasAggregate(e sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.FuncExpr:
			if n.IsAggregate() && n.Over == nil {
				found = true
			}
		case *sqlparser.GroupConcatExpr:
			found = true
		}
		return !found, nil
	}, e)
	return found
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
