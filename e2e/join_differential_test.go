package e2e

// The join contract (issue #15), checked differentially: a join returns
// the rows the engine computes from the whole tables, whatever stripesql
// pushes into Stripe calls (lookups by join keys, expansions, keys
// narrowed by the other side, tables read once for a semi-join).
//
// Each case is a random two- or three-table join over the demo tables —
// inner, left, right, semi (IN, EXISTS) or anti (NOT IN, NOT EXISTS) —
// on a catalog reference (Invoices.CustomerId = Customers.Id) or on two
// arbitrary columns of one type, with = or <=>, and a random WHERE clause.
// It runs three ways and the sorted rows must agree:
//
//   - as written, with pushdown on;
//   - as written, with stripe_pushdown = 'off';
//   - with every table replaced by (SELECT * FROM T LIMIT 1000000), into
//     which no planner can push a filter, a lookup or an expansion: the
//     reference answer.
//
// The emulator is the demo plus, for every referencing column, objects
// whose reference is NULL and objects whose reference names nothing, so
// NULL and dangling keys occur in every join.
//
//	CGO_ENABLED=0 go test -tags gms_pure_go -run TestJoinDifferential ./e2e          # 5,000 cases
//	STRIPESQL_JOIN_DIFF_CASES=20000 STRIPESQL_JOIN_DIFF_SEED=3 go test …            # more, other seeds
//	CGO_ENABLED=0 go test -tags gms_pure_go -run '^$' -fuzz FuzzJoinDifferential -fuzztime 30s ./e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
)

const (
	joinDiffDefaultCases = 5000
	joinDiffShortCases   = 300
	// joinDiffMaxRows keeps a case's answer small: an edge between two
	// columns whose values would match more pairs than this is not used.
	joinDiffMaxRows = 3000
	// joinDiffWorkers is how many cases run at once.
	joinDiffWorkers = 2
)

// joinTable is a demo table with its rows (as strings; nil for NULL).
type joinTable struct {
	def  *catalog.Table
	rows []map[string]*string
}

// joinColumn is a column that can be a join key: a scalar of a type that
// compares as itself.
type joinColumn struct {
	table *joinTable
	col   catalog.Column
}

func (c joinColumn) String() string { return c.table.def.Name + "." + c.col.Name }

// joinEdge is a join condition between two tables' columns.
type joinEdge struct {
	a, b joinColumn
	// ref marks a catalog reference (a.col names a row of b by Id).
	ref bool
}

// joinEnv is the server, its sessions and the tables.
type joinEnv struct {
	ctx          context.Context
	db           *sql.DB
	on, off      *sql.Conn
	tables       []*joinTable
	edges        []joinEdge
	refEdges     []joinEdge
	byName       map[string]*joinTable
	dangling     int
	nullsPlanted int
}

// plantBrokenReferences adds, for every referencing column of a demo
// table, copies of two of its objects: one whose reference is NULL (where
// the column may be NULL) and one whose reference names no object.
func plantBrokenReferences(tb testing.TB, emu *emulator.Emulator) (dangling, nulls int) {
	tb.Helper()
	for _, def := range catalog.Builtin().Tables() {
		ids := emu.IDs(def.Object)
		if len(ids) == 0 || def.Parent.InPath() {
			continue
		}
		for _, col := range def.Columns {
			if col.Ref == "" || col.Path == "" || strings.Contains(col.Path, ".") || strings.EqualFold(col.Name, catalog.PrimaryKey) {
				continue
			}
			for i, broken := range []any{nil, "dangling_" + strings.ToLower(col.Name)} {
				if broken == nil && !col.Nullable {
					continue
				}
				// Stripe deletes a test clock's objects with it: an
				// object never names a clock that does not exist (it
				// would be hidden from every list, found only by id).
				if broken != nil && strings.EqualFold(col.Ref, catalog.TestClocksTable) {
					continue
				}
				obj := emu.Get(def.Object, ids[(i*7+len(col.Name))%len(ids)])
				delete(obj, "id")
				obj[col.Path] = broken
				emu.Put(obj)
				if broken == nil {
					nulls++
				} else {
					dangling++
				}
			}
		}
	}
	return dangling, nulls
}

func newJoinEnv(tb testing.TB) *joinEnv {
	tb.Helper()
	emu := emulator.NewDemo()
	dangling, nulls := plantBrokenReferences(tb, emu)
	// No spec validation here: the requests are those of the pushdown
	// suite and the sweeps, which validate them; this test sends many.
	// Nothing writes once the references are planted, so each distinct
	// GET is answered by the emulator once and replayed after.
	e := startOn(tb, emu, &replayGets{next: emu, seen: map[string]*recordedResponse{}}, catalog.Builtin(), withReadOnly(), withQuietLogs(), withConns(2*joinDiffWorkers))
	j := &joinEnv{ctx: context.Background(), db: e.db, byName: map[string]*joinTable{}, dangling: dangling, nullsPlanted: nulls}
	j.on, j.off = j.sessions(tb)
	for _, def := range catalog.Builtin().Tables() {
		t := &joinTable{def: def, rows: j.readRows(tb, def)}
		if len(t.rows) == 0 {
			continue
		}
		j.tables = append(j.tables, t)
		j.byName[strings.ToLower(def.Name)] = t
	}
	j.findEdges()
	return j
}

// sessions opens a session with pushdown on and one with it off.
func (j *joinEnv) sessions(tb testing.TB) (on, off *sql.Conn) {
	tb.Helper()
	var err error
	if on, err = j.db.Conn(j.ctx); err != nil {
		tb.Fatal(err)
	}
	if off, err = j.db.Conn(j.ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { on.Close(); off.Close() })
	if _, err := off.ExecContext(j.ctx, "SET stripe_pushdown = 'off'"); err != nil {
		tb.Fatal(err)
	}
	var v string
	if err := off.QueryRowContext(j.ctx, "SELECT @@stripe_pushdown").Scan(&v); err != nil || v != "off" {
		tb.Fatalf("pushdown-off session: @@stripe_pushdown = %q, %v", v, err)
	}
	return on, off
}

// readRows reads a whole table with pushdown off.
func (j *joinEnv) readRows(tb testing.TB, def *catalog.Table) []map[string]*string {
	tb.Helper()
	rows, err := j.off.QueryContext(j.ctx, "SELECT * FROM "+def.Name)
	if err != nil {
		tb.Fatalf("%s: %v", def.Name, err)
	}
	defer rows.Close()
	var out []map[string]*string
	for rows.Next() {
		vals := make([]sql.NullString, len(def.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		row := map[string]*string{}
		for i, c := range def.Columns {
			if vals[i].Valid {
				s := vals[i].String
				row[c.Name] = &s
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// keyColumns are the columns a join may use: scalars, not free text or
// JSON, nor booleans (a join on one is a near cross product).
func keyColumns(t *joinTable) []joinColumn {
	var out []joinColumn
	for _, c := range t.def.Columns {
		switch c.Type {
		case catalog.String, catalog.Integer, catalog.Timestamp:
			if c.Path != "" {
				out = append(out, joinColumn{table: t, col: c})
			}
		}
	}
	return out
}

// matches is how many pairs of rows an equality of a and b joins.
func matches(a, b joinColumn) int {
	freq := map[string]int{}
	for _, r := range b.table.rows {
		if v := r[b.col.Name]; v != nil {
			freq[*v]++
		}
	}
	n := 0
	for _, r := range a.table.rows {
		if v := r[a.col.Name]; v != nil {
			n += freq[*v]
		}
	}
	return n
}

// findEdges lists the catalog references between the demo tables, and the
// pairs of same-typed columns whose join stays small and matches something.
func (j *joinEnv) findEdges() {
	for _, t := range j.tables {
		for _, c := range keyColumns(t) {
			if ref := j.byName[strings.ToLower(c.col.Ref)]; c.col.Ref != "" && ref != nil {
				id, _ := ref.def.Column(catalog.PrimaryKey)
				j.refEdges = append(j.refEdges, joinEdge{a: c, b: joinColumn{table: ref, col: *id}, ref: true})
			}
		}
	}
	for _, a := range j.tables {
		for _, b := range j.tables {
			for _, ca := range keyColumns(a) {
				for _, cb := range keyColumns(b) {
					if ca.col.Type != cb.col.Type || (a == b && ca.col.Name == cb.col.Name) {
						continue
					}
					if m := matches(ca, cb); m > 0 && m <= joinDiffMaxRows {
						j.edges = append(j.edges, joinEdge{a: ca, b: cb})
					}
				}
			}
		}
	}
}

// joinCase is one generated query, as written and with its tables
// wrapped in LIMIT subqueries.
type joinCase struct {
	query, wrapped string
}

// genJoinCase makes the case of a seed.
func (j *joinEnv) genJoinCase(seed int64) joinCase {
	return joinCase{query: j.renderJoinCase(seed, false), wrapped: j.renderJoinCase(seed, true)}
}

// renderJoinCase draws a case from its seed and writes it, with its tables
// as they are or wrapped: both forms make the same random choices.
func (j *joinEnv) renderJoinCase(seed int64, wrap bool) string {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6a6f696e))
	var e joinEdge
	if r.IntN(2) == 0 {
		e = j.refEdges[r.IntN(len(j.refEdges))]
	} else {
		e = j.edges[r.IntN(len(j.edges))]
	}
	if r.IntN(2) == 0 { // either side may drive
		e.a, e.b = e.b, e.a
	}
	a, b := e.a.table, e.b.table
	op := "="
	if r.IntN(8) == 0 {
		op = "<=>"
	}
	on := fmt.Sprintf("b.%s %s a.%s", e.b.col.Name, op, e.a.col.Name)
	if r.IntN(2) == 0 {
		on = fmt.Sprintf("a.%s %s b.%s", e.a.col.Name, op, e.b.col.Name)
	}
	// from renders a table reference: as is, or wrapped.
	from := func(t *joinTable, alias string, wrap bool) string {
		if wrap {
			return fmt.Sprintf("(SELECT * FROM %s LIMIT 1000000) %s", t.def.Name, alias)
		}
		return t.def.Name + " " + alias
	}
	where := j.genCondition(r, map[string]*joinTable{"a": a, "b": b})
	{
		switch kind := r.IntN(8); kind {
		case 0, 1, 2:
			join := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN"}[kind]
			q := fmt.Sprintf("SELECT a.Id, b.Id FROM %s %s %s ON %s", from(a, "a", wrap), join, from(b, "b", wrap), on)
			return q + where
		case 3, 4, 5, 6:
			sub := j.genCondition(r, map[string]*joinTable{"b": b})
			sub = strings.TrimPrefix(sub, " WHERE ")
			outer := strings.TrimPrefix(where, " WHERE ")
			var cond string
			switch kind {
			case 3, 4: // IN, NOT IN
				not := []string{"", "NOT "}[kind-3]
				inner := fmt.Sprintf("SELECT b.%s FROM %s", e.b.col.Name, from(b, "b", wrap))
				if sub != "" {
					inner += " WHERE " + sub
				}
				cond = fmt.Sprintf("a.%s %sIN (%s)", e.a.col.Name, not, inner)
			default: // EXISTS, NOT EXISTS
				not := []string{"", "NOT "}[kind-5]
				inner := fmt.Sprintf("SELECT 1 FROM %s WHERE b.%s %s a.%s", from(b, "b", wrap), e.b.col.Name, op, e.a.col.Name)
				if sub != "" {
					inner += " AND (" + sub + ")"
				}
				cond = fmt.Sprintf("%sEXISTS (%s)", not, inner)
			}
			if outer = j.onlyAlias(outer, "a"); outer != "" {
				cond += " AND (" + outer + ")"
			}
			return fmt.Sprintf("SELECT a.Id FROM %s WHERE %s", from(a, "a", wrap), cond)
		default: // three tables: a third joined by a reference to a or b
			third := j.refEdgeFrom(r, a, b)
			if third == nil {
				return fmt.Sprintf("SELECT a.Id, b.Id FROM %s JOIN %s ON %s", from(a, "a", wrap), from(b, "b", wrap), on) + where
			}
			join2 := []string{"JOIN", "LEFT JOIN"}[r.IntN(2)]
			join1 := []string{"JOIN", "LEFT JOIN"}[r.IntN(2)]
			return fmt.Sprintf("SELECT a.Id, b.Id, c.Id FROM %s %s %s ON %s %s %s ON %s",
				from(a, "a", wrap), join1, from(b, "b", wrap), on, join2, from(third.table, "c", wrap), third.on) + where
		}
	}
}

// refEdgeFrom picks a catalog reference that joins a third table to a or b.
type thirdTable struct {
	table *joinTable
	on    string
}

func (j *joinEnv) refEdgeFrom(r *rand.Rand, a, b *joinTable) *thirdTable {
	var opts []thirdTable
	for _, e := range j.refEdges {
		for alias, t := range map[string]*joinTable{"a": a, "b": b} {
			switch {
			case e.a.table == t:
				opts = append(opts, thirdTable{table: e.b.table, on: fmt.Sprintf("c.%s = %s.%s", e.b.col.Name, alias, e.a.col.Name)})
			case e.b.table == t:
				opts = append(opts, thirdTable{table: e.a.table, on: fmt.Sprintf("c.%s = %s.%s", e.a.col.Name, alias, e.b.col.Name)})
			}
		}
	}
	if len(opts) == 0 {
		return nil
	}
	sort.Slice(opts, func(i, k int) bool { return opts[i].on+opts[i].table.def.Name < opts[k].on+opts[k].table.def.Name })
	o := opts[r.IntN(len(opts))]
	return &o
}

// onlyAlias keeps a condition only if it names no alias but the given one.
func (j *joinEnv) onlyAlias(cond, alias string) string {
	for _, other := range []string{"a.", "b.", "c."} {
		if other != alias+"." && strings.Contains(cond, other) {
			return ""
		}
	}
	return cond
}

// genCondition makes a WHERE clause of zero to two predicates over the
// given aliases' columns, with values taken from the rows.
func (j *joinEnv) genCondition(r *rand.Rand, aliases map[string]*joinTable) string {
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range aliases {
			if !yield(k) {
				return
			}
		}
	})
	n := r.IntN(3)
	var preds []string
	for range n {
		alias := names[r.IntN(len(names))]
		t := aliases[alias]
		cols := keyColumns(t)
		c := cols[r.IntN(len(cols))]
		row := t.rows[r.IntN(len(t.rows))]
		v := row[c.col.Name]
		lit := "NULL"
		if v != nil {
			lit = "'" + strings.ReplaceAll(*v, "'", "''") + "'"
		}
		ref := alias + "." + c.col.Name
		switch r.IntN(6) {
		case 0:
			preds = append(preds, ref+" IS NULL")
		case 1:
			preds = append(preds, ref+" IS NOT NULL")
		case 2:
			preds = append(preds, ref+" = "+lit)
		case 3:
			preds = append(preds, ref+" <> "+lit)
		case 4:
			other := t.rows[r.IntN(len(t.rows))][c.col.Name]
			olit := "NULL"
			if other != nil {
				olit = "'" + strings.ReplaceAll(*other, "'", "''") + "'"
			}
			preds = append(preds, fmt.Sprintf("%s IN (%s, %s)", ref, lit, olit))
		default:
			if c.col.Type == catalog.Integer || c.col.Type == catalog.Timestamp {
				preds = append(preds, ref+" >= "+lit)
			} else {
				preds = append(preds, ref+" IS NOT NULL")
			}
		}
	}
	if len(preds) == 0 {
		return ""
	}
	glue := " AND "
	if r.IntN(4) == 0 {
		glue = " OR "
	}
	return " WHERE " + strings.Join(preds, glue)
}

// answer runs a query on a session: its rows sorted, or its error.
func (j *joinEnv) answer(conn *sql.Conn, q string) ([]string, error) {
	ctx, cancel := context.WithTimeout(j.ctx, time.Minute)
	defer cancel()
	_, rows, err := scanText(conn.QueryContext(ctx, q))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, vals := range rows {
		parts := make([]string, len(vals))
		for j, v := range vals {
			parts[j] = nullText(v)
		}
		out[i] = strings.Join(parts, " ")
	}
	sort.Strings(out)
	return out, nil
}

// joinMismatch is a case whose answers disagree.
type joinMismatch struct {
	seed       int64
	query, why string
}

// check runs a case three ways; it reports false when the reference
// answer itself fails (the case is not counted).
func (j *joinEnv) check(on, off *sql.Conn, seed int64) (ran bool, m *joinMismatch) {
	c := j.genJoinCase(seed)
	want, err := j.answer(on, c.wrapped)
	if err != nil {
		return false, nil
	}
	for _, side := range []struct {
		name string
		conn *sql.Conn
	}{{"pushdown on", on}, {"pushdown off", off}} {
		got, err := j.answer(side.conn, c.query)
		if err != nil {
			return true, &joinMismatch{seed: seed, query: c.query, why: fmt.Sprintf("%s: error %v; the LIMIT-wrapped query returns %d rows", side.name, err, len(want))}
		}
		if !slices.Equal(got, want) {
			return true, &joinMismatch{seed: seed, query: c.query, why: fmt.Sprintf("%s: %d rows, the LIMIT-wrapped query %d; first difference: %s", side.name, len(got), len(want), firstDifference(got, want))}
		}
	}
	return true, nil
}

func firstDifference(got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			return "missing " + want[i]
		case i >= len(want):
			return "extra " + got[i]
		case got[i] != want[i]:
			return fmt.Sprintf("got %s, want %s", got[i], want[i])
		}
	}
	return "none"
}

func joinDiffCases(t *testing.T) int {
	if s := os.Getenv("STRIPESQL_JOIN_DIFF_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("STRIPESQL_JOIN_DIFF_CASES: %v", err)
		}
		return n
	}
	if testing.Short() {
		return joinDiffShortCases
	}
	return joinDiffDefaultCases
}

func TestJoinDifferential(t *testing.T) {
	// Every case decodes whole tables: collect garbage less often (the
	// heap stays small, well under the machine's memory).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	j := newJoinEnv(t)
	if j.dangling == 0 || j.nullsPlanted == 0 {
		t.Fatalf("planted %d dangling and %d NULL references; the demo should have both", j.dangling, j.nullsPlanted)
	}
	if len(j.refEdges) < 10 || len(j.edges) < 20 {
		t.Fatalf("%d reference edges and %d column edges between the demo tables: too few to test joins", len(j.refEdges), len(j.edges))
	}
	var base int64
	if s := os.Getenv("STRIPESQL_JOIN_DIFF_SEED"); s != "" {
		base, _ = strconv.ParseInt(s, 10, 64)
	}
	cases := joinDiffCases(t)
	// The cases run on two pairs of sessions at once: the machine's two
	// cores, each case reading whole tables through the emulator.
	type result struct {
		ran bool
		m   *joinMismatch
	}
	results := make([]result, cases)
	var wg sync.WaitGroup
	for w := range joinDiffWorkers {
		on, off := j.on, j.off
		if w > 0 {
			on, off = j.sessions(t)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cases; i += joinDiffWorkers {
				ran, m := j.check(on, off, base*1_000_000+int64(i))
				results[i] = result{ran, m}
			}
		}()
	}
	wg.Wait()
	var mismatches []*joinMismatch
	ran, skipped := 0, 0
	for _, r := range results {
		if !r.ran {
			skipped++
			continue
		}
		ran++
		if r.m != nil {
			mismatches = append(mismatches, r.m)
		}
	}
	for i, m := range mismatches {
		if i == 20 {
			t.Errorf("… and %d more", len(mismatches)-20)
			break
		}
		t.Errorf("seed %d: %s\n  %s", m.seed, m.query, m.why)
	}
	if ran < cases*9/10 {
		t.Errorf("only %d of %d cases ran (%d reference queries failed): the generator makes queries the engine cannot answer", ran, cases, skipped)
	}
	t.Logf("join differential: %d cases (%d reference, %d column edges; %d dangling and %d NULL references planted), %d skipped, %d mismatches",
		ran, len(j.refEdges), len(j.edges), j.dangling, j.nullsPlanted, skipped, len(mismatches))
	fmt.Printf("join differential: %d cases, %d mismatches\n", ran, len(mismatches))
}

func FuzzJoinDifferential(f *testing.F) {
	for _, s := range []int64{1, 2, 3, 42} {
		f.Add(s)
	}
	// The server is started once, outside the fuzz function: testing.F
	// allows its helpers only there.
	j := newJoinEnv(f)
	f.Fuzz(func(t *testing.T, seed int64) {
		if _, m := j.check(j.on, j.off, seed); m != nil {
			t.Errorf("seed %d: %s\n  %s", m.seed, m.query, m.why)
		}
	})
}

// replayGets answers a GET it has answered before with the same response:
// for a test whose Stripe data does not change, the emulator encodes each
// page once.
type replayGets struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]*recordedResponse
}

type recordedResponse struct {
	status int
	header http.Header
	body   []byte
}

func (g *replayGets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		g.next.ServeHTTP(w, r)
		return
	}
	key := r.Header.Get("Stripe-Account") + " " + r.URL.RequestURI()
	g.mu.Lock()
	rec, ok := g.seen[key]
	g.mu.Unlock()
	if !ok {
		rw := httptest.NewRecorder()
		g.next.ServeHTTP(rw, r)
		rec = &recordedResponse{status: rw.Code, header: rw.Header(), body: rw.Body.Bytes()}
		g.mu.Lock()
		g.seen[key] = rec
		g.mu.Unlock()
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body)
}
