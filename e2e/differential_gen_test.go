package e2e

// The WHERE-clause generator of the pushdown differential test
// (differential_test.go): random, seeded, deterministic conditions over a
// catalog table's columns, built from the table's real rows and from edge
// values chosen to probe where Stripe's filters and MySQL's comparison
// rules part ways (case, trailing spaces, type conversion, NULL, fractional
// seconds, wildcards, quoting).

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stripesql/stripesql/catalog"
)

// cond is a generated WHERE clause as a tree, so that a failing clause can
// be shrunk to the smallest one that still fails.
type cond struct {
	op   string // "atom", "AND", "OR" or "NOT"
	text string // an atom's SQL
	// alts are simpler atoms to try while shrinking (one element of an IN
	// list, one side of a BETWEEN).
	alts []string
	kids []*cond
	// bare drops the parentheses around this AND or OR where precedence
	// allows (an AND under an OR, or under an operator of its own kind), so
	// that precedence is exercised as well.
	bare bool
}

func (c *cond) String() string { return c.render("") }

func (c *cond) render(parent string) string {
	switch c.op {
	case "NOT":
		return "NOT (" + c.kids[0].render("NOT") + ")"
	case "AND", "OR":
		s := c.kids[0].render(c.op) + " " + c.op + " " + c.kids[1].render(c.op)
		if parent == "" || (c.bare && (parent == c.op || (c.op == "AND" && parent == "OR"))) {
			return s
		}
		return "(" + s + ")"
	}
	return c.text
}

// size counts the nodes of the tree (the shrinker prefers smaller trees).
func (c *cond) size() int {
	n := 1
	for _, k := range c.kids {
		n += k.size()
	}
	return n
}

// diffRefIDs holds, per table, the ids of its rows, so that reference
// columns (CustomerId, Invoice, …) and Id can be compared with real ids of
// the referenced table, also those no row of this table holds. The
// differential test sets it once, before generating; it is read-only after.
var diffRefIDs map[string][]string

// genWhere returns a random WHERE clause (without the keyword) over the
// columns of def, with values drawn from sample (the table's rows, keyed by
// column name: string, int64, bool, time.Time, decoded JSON or nil) and
// from edge values. The same r state always yields the same clause.
func genWhere(r *rand.Rand, def *catalog.Table, sample []map[string]any) string {
	return genCond(r, def, sample).String()
}

// genCond is genWhere as a tree.
func genCond(r *rand.Rand, def *catalog.Table, sample []map[string]any) *cond {
	g := &whereGen{r: r, def: def, sample: sample}
	return g.cond(0)
}

type whereGen struct {
	r      *rand.Rand
	def    *catalog.Table
	sample []map[string]any
}

const maxCondDepth = 3

func (g *whereGen) chance(pct int) bool { return g.r.IntN(100) < pct }

func pickOne[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (g *whereGen) cond(depth int) *cond {
	if depth == 0 {
		// Most random clauses leave the planner nothing to push; these
		// shapes make sure it has something to do.
		switch n := g.r.IntN(100); {
		case n < 25:
			return &cond{op: "AND", kids: []*cond{g.pushable(), g.cond(1)}, bare: g.chance(50)}
		case n < 33:
			return &cond{op: "OR", kids: []*cond{g.pushable(), g.pushable()}, bare: g.chance(50)}
		case n < 43:
			return g.pushable()
		}
	}
	if depth >= maxCondDepth || g.chance(45) {
		return g.atom()
	}
	switch n := g.r.IntN(100); {
	case n < 42:
		return &cond{op: "AND", kids: []*cond{g.cond(depth + 1), g.cond(depth + 1)}, bare: g.chance(40)}
	case n < 80:
		return &cond{op: "OR", kids: []*cond{g.cond(depth + 1), g.cond(depth + 1)}, bare: g.chance(40)}
	default:
		return &cond{op: "NOT", kids: []*cond{g.cond(depth + 1)}}
	}
}

// hotColumns are the columns the planner can use: Id, the parent key,
// list filters and Search fields.
func hotColumns(def *catalog.Table) []*catalog.Column {
	var out []*catalog.Column
	add := func(name string) {
		c, ok := def.Column(name)
		if !ok {
			return
		}
		for _, o := range out {
			if o == c {
				return
			}
		}
		out = append(out, c)
	}
	add(catalog.PrimaryKey)
	if def.Parent != nil {
		add(def.Parent.Column)
	}
	for _, f := range def.Filters {
		add(f.Column)
	}
	if def.Search != nil {
		for _, f := range def.Search.Fields {
			add(f.Column)
		}
	}
	return out
}

// pushable is an atom the planner may turn into a Stripe call: a hot
// column compared the ways its list filter or Search field can express.
func (g *whereGen) pushable() *cond {
	if _, ok := g.def.Column("Metadata"); ok && g.def.Search != nil && g.chance(12) {
		return g.metadataAtom()
	}
	col := pickOne(g.r, hotColumns(g.def))
	ref := g.columnRef(col)
	lit := func() string { return g.literal(col) }
	eq := func() *cond {
		switch n := g.r.IntN(100); {
		case n < 35:
			return &cond{op: "atom", text: ref + " = " + lit()}
		case n < 50:
			return &cond{op: "atom", text: lit() + " = " + ref}
		case n < 80:
			return g.inAtom(ref, lit)
		default:
			return &cond{op: "atom", text: ref + " <=> " + lit()}
		}
	}
	cmp := func() *cond {
		op := pickOne(g.r, []string{"<", "<=", ">", ">="})
		switch n := g.r.IntN(100); {
		case n < 50:
			return &cond{op: "atom", text: ref + " " + op + " " + lit()}
		case n < 75:
			return &cond{op: "atom", text: lit() + " " + op + " " + ref}
		default:
			lo, hi := lit(), lit()
			return &cond{op: "atom", text: ref + " BETWEEN " + lo + " AND " + hi,
				alts: []string{ref + " >= " + lo, ref + " <= " + hi}}
		}
	}
	var search *catalog.SearchField
	if g.def.Search != nil {
		for i, f := range g.def.Search.Fields {
			if strings.EqualFold(f.Column, col.Name) {
				search = &g.def.Search.Fields[i]
			}
		}
	}
	f, hasFilter := g.def.Filter(col.Name)
	switch {
	case hasFilter && f.Ops&catalog.OpRange != 0 && g.chance(70):
		return cmp()
	case search != nil && search.Kind == catalog.SearchNumeric && g.chance(60):
		return cmp()
	case search != nil && search.Kind == catalog.SearchString && g.chance(50):
		return g.likeAtom(ref, col)
	case search != nil && g.chance(25):
		return &cond{op: "atom", text: ref + pickOne(g.r, []string{" != ", " <> "}) + lit()}
	}
	return eq()
}

func (g *whereGen) atom() *cond {
	switch n := g.r.IntN(100); {
	case n < 3:
		return &cond{op: "atom", text: pickOne(g.r, []string{"NULL", "TRUE", "FALSE", "1", "0", "NOT NULL", "NULL IS NULL", "'a' = 'A'", "1 = 1"})}
	case n < 15:
		if _, ok := g.def.Column("Metadata"); ok {
			return g.metadataAtom()
		}
	}
	var col *catalog.Column
	if hot := hotColumns(g.def); g.chance(65) && len(hot) > 0 {
		col = pickOne(g.r, hot)
	} else {
		col = &g.def.Columns[g.r.IntN(len(g.def.Columns))]
	}
	return g.columnAtom(col)
}

// columnRef renders the column, now and then through COLLATE or BINARY,
// which change how it compares.
func (g *whereGen) columnRef(col *catalog.Column) string {
	name := col.Name
	if g.chance(15) {
		name = strings.ToLower(name) // identifiers are case-insensitive
	}
	if strings.EqualFold(name, "Lines") || g.chance(10) {
		name = "`" + name + "`" // LINES is a reserved word
	}
	if (col.Type == catalog.String || col.Type == catalog.Text) && g.chance(4) {
		return pickOne(g.r, []string{
			name + " COLLATE utf8mb4_0900_ai_ci", name + " COLLATE utf8mb4_general_ci",
			name + " COLLATE utf8mb4_bin", "BINARY " + name,
		})
	}
	return name
}

func (g *whereGen) columnAtom(col *catalog.Column) *cond {
	ref := g.columnRef(col)
	if col.Type == catalog.JSON {
		// Nested objects and lists: presence only.
		return &cond{op: "atom", text: ref + pickOne(g.r, []string{" IS NULL", " IS NOT NULL"})}
	}
	lit := func() string { return g.literal(col) }
	switch n := g.r.IntN(100); {
	case n < 26:
		v := lit()
		if g.chance(35) {
			return &cond{op: "atom", text: v + " = " + ref}
		}
		return &cond{op: "atom", text: ref + " = " + v}
	case n < 33:
		op := pickOne(g.r, []string{" != ", " <> "})
		if g.chance(25) {
			return &cond{op: "atom", text: lit() + op + ref}
		}
		return &cond{op: "atom", text: ref + op + lit()}
	case n < 48:
		op := pickOne(g.r, []string{"<", "<=", ">", ">="})
		if g.chance(35) {
			return &cond{op: "atom", text: lit() + " " + op + " " + ref}
		}
		return &cond{op: "atom", text: ref + " " + op + " " + lit()}
	case n < 55:
		lo, hi := lit(), lit()
		not := ""
		if g.chance(15) {
			not = "NOT "
		}
		return &cond{op: "atom", text: ref + " " + not + "BETWEEN " + lo + " AND " + hi,
			alts: []string{ref + " >= " + lo, ref + " <= " + hi}}
	case n < 70:
		return g.inAtom(ref, lit)
	case n < 76:
		return &cond{op: "atom", text: ref + pickOne(g.r, []string{" IS NULL", " IS NOT NULL"})}
	case n < 83:
		v := lit()
		if g.chance(12) {
			v = "NULL"
		}
		if g.chance(25) {
			return &cond{op: "atom", text: v + " <=> " + ref}
		}
		return &cond{op: "atom", text: ref + " <=> " + v}
	default:
		return g.likeAtom(ref, col)
	}
}

func (g *whereGen) inAtom(ref string, lit func() string) *cond {
	n := 1 + g.r.IntN(5)
	var elems []string
	for i := 0; i < n; i++ {
		switch {
		case g.chance(12):
			elems = append(elems, "NULL")
		case i > 0 && g.chance(15):
			elems = append(elems, elems[i-1])
		default:
			elems = append(elems, lit())
		}
	}
	not := ""
	if g.chance(25) {
		not = "NOT "
	}
	c := &cond{op: "atom", text: ref + " " + not + "IN (" + strings.Join(elems, ", ") + ")"}
	for _, e := range elems {
		c.alts = append(c.alts, ref+" "+not+"IN ("+e+")")
	}
	return c
}

// values returns the non-NULL values of a column in the sample.
func (g *whereGen) values(col *catalog.Column) []any {
	var out []any
	for _, row := range g.sample {
		if v := row[col.Name]; v != nil {
			out = append(out, v)
		}
	}
	return out
}

// literal returns a SQL literal to compare col with: usually one of its
// real values in some spelling, sometimes NULL or an edge value.
func (g *whereGen) literal(col *catalog.Column) string {
	if g.chance(4) {
		return "NULL"
	}
	switch col.Type {
	case catalog.String, catalog.Text:
		return g.stringLiteral(col)
	case catalog.Integer, catalog.Float:
		return g.numberLiteral(col)
	case catalog.Boolean:
		return pickOne(g.r, []string{"TRUE", "FALSE", "TRUE", "FALSE", "1", "0", "1", "0", "'true'", "'false'", "'1'", "'0'", "2", "-1", "1.0", "''", "'yes'", "0.4"})
	case catalog.Timestamp:
		return g.timeLiteral(col)
	}
	return "NULL"
}

// stringEdges are strings that are awkward for quoting, for Stripe's
// Search syntax, for URLs and for MySQL's conversions.
var stringEdges = []string{
	"", " ", "O'Brien", `back\slash`, `a"b`, `a" OR status:"paid`, `x:y`, `a~b`, "%", "_", `\`, `\%`,
	"null", "NULL", "0", "1", "12abc", "1e3", " 5", "a OR b", "gold", "GOLD", "usd", "USD",
	"paid", "PAID", "Paid", "active", "Active", "succeeded", "canceled", "draft", "open", "void",
	"card", "visa", "one_time", "recurring", "month", "always", "limited", "send_invoice",
	"charge_automatically", "all", "ended", "true", "false", "ümlaut", "日本語", "a\tb",
	"a/b", "..", "?x=1", "#frag", "x&y=z", "%2F", "a b", strings.Repeat("x", 300),
}

// idPrefix is the "cus_" of a table's ids.
func (g *whereGen) idPrefix() string {
	for _, row := range g.sample {
		if id, ok := row[catalog.PrimaryKey].(string); ok {
			if i := strings.IndexByte(id, '_'); i > 0 {
				return id[:i+1]
			}
		}
	}
	return strings.ToLower(g.def.Object[:3]) + "_"
}

func (g *whereGen) stringValue(col *catalog.Column) string {
	vals := g.values(col)
	isKey := strings.EqualFold(col.Name, catalog.PrimaryKey) || col.Ref != ""
	if isKey && g.chance(30) {
		table := col.Ref
		if table == "" || g.chance(20) {
			// An id of another table, or of this one.
			table = pickOne(g.r, []string{g.def.Name, "Customers", "Invoices", "Charges", "Products"})
		}
		if ids := diffRefIDs[table]; len(ids) > 0 {
			return pickOne(g.r, ids)
		}
	}
	if isKey && g.chance(15) {
		prefix := g.idPrefix()
		if col.Ref != "" {
			if ids := diffRefIDs[col.Ref]; len(ids) > 0 {
				if i := strings.IndexByte(ids[0], '_'); i > 0 {
					prefix = ids[0][:i+1]
				}
			}
		}
		return pickOne(g.r, []string{prefix + "doesnotexist", prefix, prefix + "x/y", prefix + "x y", prefix + "..", prefix + "x?expand[]=y", prefix + "x%00"})
	}
	if len(vals) == 0 || g.chance(18) {
		return pickOne(g.r, stringEdges)
	}
	return textOf(pickOne(g.r, vals))
}

// textOf renders a sample value as MySQL's text protocol shows it.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format(time.DateTime)
	}
	return fmt.Sprint(v)
}

func (g *whereGen) stringLiteral(col *catalog.Column) string {
	s := g.stringValue(col)
	switch n := g.r.IntN(100); {
	case n < 55:
	case n < 63:
		s = strings.ToUpper(s)
	case n < 70:
		s = strings.ToLower(s)
	case n < 74:
		s = swapCase(s)
	case n < 78:
		s += " "
	case n < 80:
		s = " " + s
	case n < 86:
		// A number compared with a string column compares numerically.
		if _, err := strconv.ParseFloat(s, 64); err == nil && s != "" && !strings.ContainsAny(s, " \t") {
			return s
		}
		return pickOne(g.r, []string{"0", "1", "-1", "2.5", "1e3", "0.0"})
	case n < 91:
		if len(s) > 1 {
			s = s[:len(s)-1]
		}
	case n < 95:
		s += pickOne(g.r, []string{"'", `\`, `"`, "%", "_"})
	default:
		s = pickOne(g.r, stringEdges)
	}
	q := sqlQuote(s, g.chance(30))
	if g.chance(6) {
		// The same string through introducers, collations and functions,
		// which the engine may or may not fold into a literal, and which
		// may change how it compares.
		return pickOne(g.r, []string{
			"_utf8mb4" + q, "_latin1" + q, "_binary" + q, "BINARY " + q, "N" + q,
			"CONVERT(" + q + " USING utf8mb4)", q + " COLLATE utf8mb4_0900_ai_ci", q + " COLLATE utf8mb4_bin",
			"CAST(" + q + " AS CHAR)", "CONCAT(" + q + ", '')", "LOWER(" + q + ")", "UPPER(" + q + ")",
			fmt.Sprintf("X'%x'", s), "TRIM(" + q + ")",
		})
	}
	return q
}

func swapCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r - 'A' + 'a')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sqlQuote renders s as a MySQL string literal: backslashes doubled, and
// single quotes doubled or, with backslashQuote, backslash-escaped.
func sqlQuote(s string, backslashQuote bool) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			if backslashQuote {
				b.WriteString(`\'`)
			} else {
				b.WriteString("''")
			}
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func (g *whereGen) numberLiteral(col *catalog.Column) string {
	var v int64
	if vals := g.values(col); len(vals) > 0 && g.chance(85) {
		switch x := pickOne(g.r, vals).(type) {
		case int64:
			v = x
		case float64:
			v = int64(x)
		}
	} else {
		v = pickOne(g.r, []int64{0, 1, -1, 100, 1000, 2000, 5000, 10000, 12, 2025, 2030})
	}
	s := strconv.FormatInt(v, 10)
	switch n := g.r.IntN(100); {
	case n < 50:
		return s
	case n < 58:
		return strconv.FormatInt(v+1, 10)
	case n < 66:
		return strconv.FormatInt(v-1, 10)
	case n < 74:
		return sqlQuote(s, false) // '1000': numeric comparison after conversion
	case n < 78:
		return s + ".0"
	case n < 82:
		return s + ".5"
	case n < 85:
		return sqlQuote(s+".0", false)
	case n < 87:
		return sqlQuote(" "+s, false)
	case n < 89:
		return sqlQuote(s+"abc", false)
	case n < 91:
		return sqlQuote("abc", false)
	case n < 93:
		return strconv.FormatInt(-v, 10)
	case n < 95:
		return "1e3"
	case n < 97:
		return pickOne(g.r, []string{"9223372036854775807", "-9223372036854775808", "18446744073709551615", "9223372036854775808", "-9223372036854775809", "99999999999999999999"})
	case n < 98:
		return pickOne(g.r, []string{"TRUE", "FALSE", "0x10", "''"})
	default:
		return pickOne(g.r, []string{"CAST(" + sqlQuote(s, false) + " AS SIGNED)", s + " + 0", "-(-" + s + ")", "CAST(" + s + " AS DECIMAL(20,2))"})
	}
}

var timeEdges = []string{
	"'1970-01-01 00:00:00'", "'1970-01-01 00:00:01'", "'1969-12-31 23:59:59'", "'2038-01-19 03:14:07'",
	"'2038-01-19 03:14:08'", "'9999-12-31 23:59:59'", "'0000-00-00 00:00:00'", "'0000-00-00'",
	"'2024-02-30'", "'2024-13-01'", "'not a date'", "''", "'2024'", "'2024-01-01 24:00:00'",
	"'2025-06-30 23:59:60'", "'2024-01-01'", "'2025-06-30 23:59:59'", "'2025-07-01'", "'1960-01-01'",
	"'2040-01-01'", "0", "20240101", "1704067200", "'2024-01-01 00:00:00.000000'",
}

func (g *whereGen) timeLiteral(col *catalog.Column) string {
	vals := g.values(col)
	if len(vals) == 0 || g.chance(12) {
		return pickOne(g.r, timeEdges)
	}
	t, _ := pickOne(g.r, vals).(time.Time)
	switch n := g.r.IntN(100); {
	case n < 55:
	case n < 65:
		t = t.Add(-time.Second)
	case n < 75:
		t = t.Add(time.Second)
	case n < 80:
		t = t.Add(-24 * time.Hour)
	default:
		t = t.Add(time.Duration(g.r.IntN(7200)-3600) * time.Second)
	}
	t = t.UTC()
	q := func(s string) string { return "'" + s + "'" }
	switch n := g.r.IntN(100); {
	case n < 40:
		return q(t.Format(time.DateTime))
	case n < 52:
		return q(t.Format(time.DateOnly))
	case n < 60:
		return q(t.Format(time.DateTime) + ".5")
	case n < 63:
		return q(t.Format(time.DateTime) + ".000001")
	case n < 66:
		return q(t.Format(time.DateTime) + ".999999")
	case n < 68:
		return q(t.Format(time.DateTime) + ".0")
	case n < 71:
		return q(t.Format("2006-01-02T15:04:05"))
	case n < 73:
		return q(t.Format(time.DateTime) + pickOne(g.r, []string{"+00:00", "+05:30", "-08:00", "Z"}))
	case n < 76:
		return q(t.Format("20060102150405"))
	case n < 79:
		return t.Format("20060102150405")
	case n < 81:
		return t.Format("20060102")
	case n < 83:
		return strconv.FormatInt(t.Unix(), 10)
	case n < 86:
		return "TIMESTAMP(" + q(t.Format(time.DateTime)) + ")"
	case n < 88:
		return "CAST(" + q(t.Format(time.DateTime)) + " AS DATETIME)"
	case n < 90:
		return "FROM_UNIXTIME(" + strconv.FormatInt(t.Unix(), 10) + ")"
	case n < 93:
		return q(t.Format("2006-1-2 15:4:5"))
	case n < 95:
		return q(t.Format("2006/01/02 15:04:05"))
	case n < 96:
		return q(t.Format("2006-01-02 15:04"))
	case n < 97:
		return q(t.Format(time.DateTime) + ".5000000")
	case n < 98:
		return "DATE_ADD(" + q(t.Format(time.DateTime)) + ", INTERVAL 1 SECOND)"
	default:
		return pickOne(g.r, []string{"NOW()", "CURRENT_TIMESTAMP", "UTC_TIMESTAMP()", "CURDATE()"})
	}
}

// likeAtom is a LIKE over a substring of a real value (of at least three
// characters, or fewer, which Search cannot use), with wildcards, escapes
// and case changes.
func (g *whereGen) likeAtom(ref string, col *catalog.Column) *cond {
	s := ""
	if vals := g.values(col); len(vals) > 0 && g.chance(85) {
		s = textOf(pickOne(g.r, vals))
	} else {
		s = pickOne(g.r, stringEdges)
	}
	runes := []rune(s)
	if len(runes) > 0 && g.chance(80) {
		n := pickOne(g.r, []int{1, 2, 3, 3, 4, 5, 6, 8, len(runes)})
		n = min(n, len(runes))
		i := g.r.IntN(len(runes) - n + 1)
		runes = runes[i : i+n]
	}
	sub := string(runes)
	switch n := g.r.IntN(100); {
	case n < 15:
		sub = strings.ToUpper(sub)
	case n < 25:
		sub = strings.ToLower(sub)
	}
	esc := `\`
	escClause := ""
	if g.chance(6) {
		esc, escClause = "|", " ESCAPE '|'"
	}
	var b strings.Builder
	for _, r := range sub {
		if (r == '%' || r == '_' || string(r) == esc) && g.chance(90) {
			b.WriteString(esc)
		}
		b.WriteRune(r)
	}
	pat := b.String()
	if g.chance(15) && len(pat) > 1 {
		i := g.r.IntN(len([]rune(pat)))
		pr := []rune(pat)
		if pr[i] != '\\' && pr[i] != '|' && (i == 0 || (pr[i-1] != '\\' && pr[i-1] != '|')) {
			pr[i] = '_'
		}
		pat = string(pr)
	}
	switch n := g.r.IntN(100); {
	case n < 45:
		pat = "%" + pat + "%"
	case n < 65:
		pat += "%"
	case n < 80:
		pat = "%" + pat
	case n < 90:
	case n < 93:
		pat = "%"
	case n < 95:
		pat = ""
	default:
		pat = "%" + strings.Join(strings.SplitN(pat, "", 2), "%") + "%"
	}
	not := ""
	if g.chance(10) {
		not = "NOT "
	}
	return &cond{op: "atom", text: ref + " " + not + "LIKE " + sqlQuote(pat, g.chance(30)) + escClause}
}

var plainJSONKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// metadataAtom compares one metadata key (those in the sample, and some
// that no row has), in the forms Search can express and others.
func (g *whereGen) metadataAtom() *cond {
	keys := map[string][]string{}
	for _, row := range g.sample {
		if m, ok := row["Metadata"].(map[string]any); ok {
			for k, v := range m {
				if s, ok := v.(string); ok {
					keys[k] = append(keys[k], s)
				}
			}
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	names = append(names, "tier", "nope")
	key := pickOne(g.r, names)
	if g.chance(3) {
		key = pickOne(g.r, []string{"we ird", "a.b", `q"uote`})
	}
	value := pickOne(g.r, []string{"gold", "silver", "", "GOLD", "x"})
	if vs := keys[key]; len(vs) > 0 && g.chance(80) {
		value = pickOne(g.r, vs)
	}
	switch n := g.r.IntN(100); {
	case n < 12:
		value = strings.ToUpper(value)
	case n < 16:
		value += " "
	case n < 20:
		value = pickOne(g.r, stringEdges)
	}
	path := "$." + key
	if g.chance(15) || !plainJSONKey.MatchString(key) {
		path = `$."` + strings.ReplaceAll(key, `"`, `\"`) + `"`
	}
	pathLit := sqlQuote(path, false)
	expr := "Metadata->>" + pathLit
	switch n := g.r.IntN(100); {
	case n < 12:
		expr = "JSON_UNQUOTE(JSON_EXTRACT(Metadata, " + pathLit + "))"
	case n < 18:
		expr = "Metadata->" + pathLit
	case n < 21:
		expr = "metadata->>" + pathLit
	}
	v := sqlQuote(value, g.chance(30))
	if g.chance(5) {
		v = pickOne(g.r, []string{"NULL", "5", "0", "1001"})
	}
	switch n := g.r.IntN(100); {
	case n < 45:
		if g.chance(30) {
			return &cond{op: "atom", text: v + " = " + expr}
		}
		return &cond{op: "atom", text: expr + " = " + v}
	case n < 55:
		return &cond{op: "atom", text: expr + " != " + v}
	case n < 62:
		return &cond{op: "atom", text: "NOT (" + expr + " = " + v + ")"}
	case n < 72:
		other := sqlQuote(pickOne(g.r, append(slices.Clone(keys[key]), "gold", "silver")), false)
		return &cond{op: "atom", text: expr + " IN (" + v + ", " + other + ")",
			alts: []string{expr + " = " + v, expr + " = " + other}}
	case n < 82:
		r := []rune(value)
		if len(r) > 3 {
			i := g.r.IntN(len(r) - 2)
			r = r[i : i+3]
		}
		return &cond{op: "atom", text: expr + " LIKE " + sqlQuote("%"+string(r)+"%", false)}
	case n < 90:
		return &cond{op: "atom", text: expr + pickOne(g.r, []string{" IS NULL", " IS NOT NULL"})}
	default:
		return &cond{op: "atom", text: expr + " <=> " + v}
	}
}
