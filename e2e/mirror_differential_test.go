package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/mirror"
)

// mirrorDiffTables are the demo's tables with data that the workload
// writes to or that follow from its writes; the test mirrors every
// mirrorable table and needs these to have rows live.
var mirrorDiffTables = []string{
	"Customers", "Products", "Prices", "Invoices", "Subscriptions",
	"Charges", "Refunds", "TestClocks", "Cards",
}

// mirrorDiffOps is the number of writes of the workload; mirrorDiffWheres
// the number of random WHERE clauses compared afterwards (the issue asks
// for 1,000; 200 with -short; STRIPESQL_MIRROR_DIFF_CASES sets it).
// STRIPESQL_MIRROR_DIFF_SEED replays one run.
const (
	mirrorDiffOps    = 160
	mirrorDiffWheres = 1000
)

// TestMirrorDifferential is issue 13's differential test: while the mirror
// of every mirrorable table follows Stripe's events (made late and out of
// order by the emulator, the events list failing now and then), a random
// workload writes through stripesql (some writes losing their answer after
// they committed, some ending with an unknown outcome) and directly at the
// emulator, as another Stripe client would (some of those answers lost
// too). Every write stripesql reports as applied must be visible through
// the mirror at once, from another session, without a Stripe call. After
// the mirror catches up, every table read through the mirror must equal
// the same table read live, row for row, and 1,000 random WHERE clauses
// (genWhere, as the pushdown differential test makes them) must select the
// same ids on both, or fail alike, each read through the mirror costing no
// Stripe call; at least half of the clauses must be answered on both, or
// the comparison shows little. Closing the mirror at the end checks that
// every store iterator a query opened was closed.
//
//	STRIPESQL_MIRROR_DIFF_CASES=5000 STRIPESQL_MIRROR_DIFF_SEED=7 go test -run TestMirrorDifferential ./e2e
func TestMirrorDifferential(t *testing.T) {
	cat := catalog.Builtin()
	var names []string
	for _, def := range mirror.Mirrorable(cat) {
		names = append(names, def.Name)
	}
	for _, n := range mirrorDiffTables {
		def, ok := cat.Lookup(n)
		if !ok {
			t.Fatalf("no table %s", n)
		}
		if why := mirror.NotMirrorable(def); why != "" {
			t.Fatalf("%s is not mirrorable: %s", n, why)
		}
	}
	cases := mirrorDiffWheres
	if testing.Short() {
		cases = 200
	}
	if n, err := strconv.Atoi(os.Getenv("STRIPESQL_MIRROR_DIFF_CASES")); err == nil && n > 0 {
		cases = n
	}
	e := newEnv(t, withMirror(names...), withConns(8), withQuietLogs(), withWriteRetryWindow(300*time.Millisecond))
	waitMirrorReady(t, e, names...)

	seed := time.Now().UnixNano()
	if s := os.Getenv("STRIPESQL_MIRROR_DIFF_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (STRIPESQL_MIRROR_DIFF_SEED replays it)", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 13))

	live, routed, writer := pinnedConn(t, e), pinnedConn(t, e), pinnedConn(t, e)
	mustExec(t, live, "SET stripe_source = 'live'")
	mustExec(t, live, "SET stripe_search = 'off'") // Search is eventually consistent; the comparison needs exact reads
	mustExec(t, routed, "SET stripe_source = 'mirror'")

	// From here the emulator makes events visible late and out of order.
	e.emu.SetEventVisibility(emulator.EventVisibility{Delay: 50 * time.Millisecond, Reorder: 400 * time.Millisecond})

	w := &mirrorWorkload{t: t, e: e, r: r, writer: writer, routed: routed}
	for _, table := range []string{"Customers", "Products", "Prices", "Invoices"} {
		for _, row := range connRows(t, live, "SELECT Id FROM "+table) {
			w.ids(table).add(row[0])
		}
	}
	// Customers on a test clock are not deleted: a live read finds a
	// clock's objects only through the clock's customers (Stripe's lists
	// hide them otherwise), so the invoices of a deleted clock customer,
	// which Stripe keeps and the mirror keeps, cannot be read live at all.
	for _, row := range connRows(t, live, "SELECT Id FROM Customers WHERE TestClock IS NOT NULL") {
		w.ids("ClockCustomers").add(row[0])
	}
	for i := range mirrorDiffOps {
		if i%25 == 10 {
			// The mirror's poll of the events list fails too, and retries.
			kind := pickOne(r, []emulator.FaultKind{emulator.FaultRateLimit, emulator.FaultServerError, emulator.FaultDropConnection})
			e.emu.InjectFault(emulator.Fault{Method: http.MethodGet, Path: "/v1/events", Kind: kind, Times: 2})
		}
		w.step()
	}
	t.Logf("workload: %d writes through stripesql (%d applied, %d unknown, %d refused), %d directly at the emulator (%d answers lost); %d read-your-writes checks",
		w.sqlWrites, w.applied, w.unknown, w.refused, w.direct, w.directLost, w.checked)
	if w.applied == 0 || w.direct == 0 || w.unknown+w.directLost == 0 {
		t.Fatalf("the workload did not exercise every path (applied %d, direct %d, lost %d)", w.applied, w.direct, w.unknown+w.directLost)
	}
	if len(w.stale) > 0 {
		t.Errorf("%d writes reported applied were not visible through the mirror at once, e.g. %s", len(w.stale), w.stale[0])
	}

	// Let every event become visible, then let the mirror apply them all.
	e.emu.ClearFaults()
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := e.mirror.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}

	// Every table, row for row.
	samples := map[string][]map[string]any{}
	refs := map[string][]string{}
	var withRows []string
	for _, name := range names {
		def, _ := cat.Lookup(name)
		q := "SELECT * FROM " + name + " ORDER BY Id"
		want, got := connRows(t, live, q), connRows(t, routed, q)
		if len(want) == 0 && slices.Contains(mirrorDiffTables, name) {
			t.Errorf("%s: no rows live; the comparison shows nothing", name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s through the mirror differs from live: %s\nmirror status: %+v", name, rowsDiff(got, want), e.mirror.Status())
		}
		if n := statusValue(t, routed, "Stripe_calls"); n != "0" {
			t.Errorf("%s through the mirror: Stripe_calls = %s, want 0", q, n)
		}
		samples[name] = readTable(t, t.Context(), live, def)
		for _, row := range samples[name] {
			id, _ := row[catalog.PrimaryKey].(string)
			refs[name] = append(refs[name], id)
		}
		if len(samples[name]) > 0 {
			withRows = append(withRows, name)
		}
	}
	if t.Failed() {
		return
	}

	// Random WHERE clauses over the tables with rows select the same ids
	// on both, or fail alike; a routed read never calls Stripe.
	saved := diffRefIDs
	diffRefIDs = refs
	t.Cleanup(func() { diffRefIDs = saved })
	compared, idsCompared, errorsBoth, mismatches, withCalls := 0, 0, 0, 0, 0
	for i := range cases {
		name := withRows[i%len(withRows)]
		def, _ := cat.Lookup(name)
		q := "SELECT Id FROM " + name + " WHERE " + genWhere(r, def, samples[name])
		want, wantErr := idsOf(t.Context(), live, q)
		got, gotErr := idsOf(t.Context(), routed, q)
		if n := statusValue(t, routed, "Stripe_calls"); n != "0" {
			withCalls++
			if withCalls <= 5 {
				t.Errorf("%s: Stripe_calls = %s through the mirror, want 0", q, n)
			}
		}
		switch {
		case wantErr != nil || gotErr != nil:
			if wantErr == nil || gotErr == nil || normalizeError(wantErr) != normalizeError(gotErr) {
				mismatches++
				if mismatches <= 5 {
					t.Errorf("%s:\n live error %v\n mirror error %v", q, wantErr, gotErr)
				}
			} else {
				errorsBoth++
			}
		case !slices.Equal(got, want):
			compared++
			mismatches++
			if mismatches <= 5 {
				t.Errorf("%s:\n mirror %d ids %s\n live   %d ids %s", q, len(got), clip(got), len(want), clip(want))
			}
		default:
			compared++
			idsCompared += len(want)
		}
	}
	t.Logf("mirror differential: %d WHERE clauses over %d tables with rows (%d mirrored): %d compared (%d ids), %d failed alike on both, %d mismatches, %d routed reads with Stripe calls",
		cases, len(withRows), len(names), compared, idsCompared, errorsBoth, mismatches, withCalls)
	if compared < cases/2 || idsCompared == 0 {
		t.Errorf("only %d of %d WHERE clauses were compared (%d ids; %d failed alike on both): the test shows little", compared, cases, idsCompared, errorsBoth)
	}
}

// idsOf runs q and returns the ids it selects, sorted.
func idsOf(ctx context.Context, c *sql.Conn, q string) ([]string, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// rowsDiff names the first rows two sorted results disagree on.
func rowsDiff(got, want [][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mirror %d rows, live %d", len(got), len(want))
	gi, wi, shown := 0, 0, 0
	for (gi < len(got) || wi < len(want)) && shown < 3 {
		switch {
		case wi >= len(want) || (gi < len(got) && got[gi][0] < want[wi][0]):
			fmt.Fprintf(&b, "\n only in the mirror: %v", got[gi])
			gi++
			shown++
		case gi >= len(got) || want[wi][0] < got[gi][0]:
			fmt.Fprintf(&b, "\n only live: %v", want[wi])
			wi++
			shown++
		default:
			if !slices.Equal(got[gi], want[wi]) {
				fmt.Fprintf(&b, "\n %s differs:\n  mirror %v\n  live   %v", got[gi][0], got[gi], want[wi])
				shown++
			}
			gi++
			wi++
		}
	}
	return b.String()
}

// idSet is the ids a workload knows of one table, in the order learnt.
type idSet struct{ ids []string }

func (s *idSet) add(id string) {
	if id != "" && !slices.Contains(s.ids, id) {
		s.ids = append(s.ids, id)
	}
}

func (s *idSet) drop(id string) {
	if i := slices.Index(s.ids, id); i >= 0 {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
}

func (s *idSet) pick(r *rand.Rand) (string, bool) {
	if len(s.ids) == 0 {
		return "", false
	}
	return s.ids[r.IntN(len(s.ids))], true
}

// mirrorWorkload makes random writes through stripesql and directly at
// the emulator.
type mirrorWorkload struct {
	t      *testing.T
	e      *env
	r      *rand.Rand
	writer *sql.Conn
	routed *sql.Conn
	known  map[string]*idSet
	n      int

	sqlWrites, applied, unknown, refused int
	direct, directLost, checked          int
	stale                                []string
}

func (w *mirrorWorkload) ids(table string) *idSet {
	if w.known == nil {
		w.known = map[string]*idSet{}
	}
	if w.known[table] == nil {
		w.known[table] = &idSet{}
	}
	return w.known[table]
}

// A mirrorWrite is one write, as SQL and as the same request to Stripe.
type mirrorWrite struct {
	table  string
	id     string // the object written, "" for a create
	delete bool
	sql    string
	args   []any
	method string
	path   string
	form   url.Values
	// name is the value the write gives the column Name, checked through
	// the mirror when stripesql reports the write applied ("" to skip).
	name string
}

func (w *mirrorWorkload) step() {
	w.n++
	word := fmt.Sprintf("mirror-%d-%d", w.n, w.r.IntN(1000))
	var op mirrorWrite
	switch k := w.r.IntN(12); {
	case k < 3:
		op = mirrorWrite{table: "Customers", sql: "INSERT INTO Customers (Name, Email, Description) VALUES (?, ?, ?)",
			args: []any{word, word + "@example.com", "made by the workload"}, method: http.MethodPost, path: "/v1/customers",
			form: url.Values{"name": {word}, "email": {word + "@example.com"}, "description": {"made by the workload"}}, name: word}
	case k < 6:
		id, ok := w.ids("Customers").pick(w.r)
		if !ok {
			return
		}
		op = mirrorWrite{table: "Customers", id: id, sql: "UPDATE Customers SET Name = ?, Metadata = JSON_OBJECT('step', ?) WHERE Id = ?",
			args: []any{word, strconv.Itoa(w.n), id}, method: http.MethodPost, path: "/v1/customers/" + id,
			form: url.Values{"name": {word}, "metadata[step]": {strconv.Itoa(w.n)}}, name: word}
	case k < 7:
		id, ok := w.ids("Customers").pick(w.r)
		if !ok || slices.Contains(w.ids("ClockCustomers").ids, id) {
			return
		}
		op = mirrorWrite{table: "Customers", id: id, delete: true, sql: "DELETE FROM Customers WHERE Id = ?", args: []any{id},
			method: http.MethodDelete, path: "/v1/customers/" + id}
	case k < 8:
		op = mirrorWrite{table: "Products", sql: "INSERT INTO Products (Name, Description) VALUES (?, ?)", args: []any{word, "workload"},
			method: http.MethodPost, path: "/v1/products", form: url.Values{"name": {word}, "description": {"workload"}}, name: word}
	case k < 9:
		id, ok := w.ids("Products").pick(w.r)
		if !ok {
			return
		}
		active := w.r.IntN(2) == 0
		op = mirrorWrite{table: "Products", id: id, sql: "UPDATE Products SET Name = ?, Active = ? WHERE Id = ?", args: []any{word, active, id},
			method: http.MethodPost, path: "/v1/products/" + id, form: url.Values{"name": {word}, "active": {strconv.FormatBool(active)}}, name: word}
	case k < 10:
		product, ok := w.ids("Products").pick(w.r)
		if !ok {
			return
		}
		amount := strconv.Itoa(100 + w.r.IntN(9900))
		op = mirrorWrite{table: "Prices", sql: "INSERT INTO Prices (Product, Currency, UnitAmount, Nickname) VALUES (?, 'usd', ?, ?)",
			args: []any{product, amount, word}, method: http.MethodPost, path: "/v1/prices",
			form: url.Values{"product": {product}, "currency": {"usd"}, "unit_amount": {amount}, "nickname": {word}}}
	case k < 11:
		id, ok := w.ids("Prices").pick(w.r)
		if !ok {
			return
		}
		op = mirrorWrite{table: "Prices", id: id, sql: "UPDATE Prices SET Nickname = ? WHERE Id = ?", args: []any{word, id},
			method: http.MethodPost, path: "/v1/prices/" + id, form: url.Values{"nickname": {word}}}
	default:
		id, ok := w.ids("Invoices").pick(w.r)
		if !ok {
			return
		}
		op = mirrorWrite{table: "Invoices", id: id, sql: "UPDATE Invoices SET Description = ?, Metadata = JSON_OBJECT('step', ?) WHERE Id = ?",
			args: []any{word, strconv.Itoa(w.n), id}, method: http.MethodPost, path: "/v1/invoices/" + id,
			form: url.Values{"description": {word}, "metadata[step]": {strconv.Itoa(w.n)}}}
	}
	if w.r.IntN(3) == 0 {
		w.directWrite(op)
	} else {
		w.sqlWrite(op)
	}
}

// sqlWrite runs op through stripesql, sometimes with a fault on its
// request: the answer lost after the commit (retried with the same
// idempotency key: applied), or every answer lost (an unknown outcome).
func (w *mirrorWorkload) sqlWrite(op mirrorWrite) {
	w.sqlWrites++
	fault := w.r.IntN(8)
	switch fault {
	case 0:
		w.e.emu.InjectFault(emulator.Fault{Method: op.method, Path: op.path, Kind: emulator.FaultDropAfterCommit})
	case 1:
		w.e.emu.InjectFault(emulator.Fault{Method: op.method, Path: op.path, Kind: emulator.FaultCommitThenRateLimit, Times: emulator.Forever})
	case 2:
		w.e.emu.InjectFault(emulator.Fault{Method: op.method, Path: op.path, Kind: emulator.FaultRateLimit, Times: 2})
	}
	_, err := w.writer.ExecContext(w.t.Context(), op.sql, op.args...)
	w.e.emu.ClearFaults()
	switch {
	case err == nil:
		w.applied++
	case strings.Contains(err.Error(), "50001"):
		w.unknown++ // may have happened: the events tell the mirror
		return
	default:
		w.refused++ // Stripe refused (a deleted object, …): nothing happened
		if fault == 1 {
			w.t.Fatalf("%s under a lasting lost answer: %v, want the unknown-outcome error 50001", op.sql, err)
		}
		return
	}
	id := op.id
	if id == "" {
		id = connRows(w.t, w.writer, "SELECT stripe_last_insert_id()")[0][0]
		w.ids(op.table).add(id)
	}
	if op.delete {
		w.ids(op.table).drop(id)
	}
	w.checkVisible(op, id)
}

// checkVisible reads an applied write back through the mirror, in another
// session, at once, and without a call to Stripe.
func (w *mirrorWorkload) checkVisible(op mirrorWrite, id string) {
	w.checked++
	got := connRows(w.t, w.routed, "SELECT Id, "+cmpOr(op.name != "", "Name", "Id")+" FROM "+op.table+" WHERE Id = '"+id+"'")
	switch {
	case op.delete && len(got) != 0:
		w.stale = append(w.stale, fmt.Sprintf("%s: deleted %s still read %v", op.sql, id, got))
	case !op.delete && len(got) != 1:
		w.stale = append(w.stale, fmt.Sprintf("%s: %s read %d rows", op.sql, id, len(got)))
	case !op.delete && op.name != "" && got[0][1] != op.name:
		w.stale = append(w.stale, fmt.Sprintf("%s: %s has Name %q, want %q", op.sql, id, got[0][1], op.name))
	}
	if n := statusValue(w.t, w.routed, "Stripe_calls"); n != "0" {
		w.stale = append(w.stale, fmt.Sprintf("%s: reading %s back through the mirror cost %s Stripe calls", op.sql, id, n))
	}
}

func cmpOr(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// directWrite sends op to the emulator without stripesql, as another
// Stripe client would; sometimes its answer is lost after the commit.
func (w *mirrorWorkload) directWrite(op mirrorWrite) {
	w.direct++
	if w.r.IntN(5) == 0 {
		w.e.emu.InjectFault(emulator.Fault{Method: op.method, Path: op.path, Kind: emulator.FaultDropAfterCommit})
	}
	body := ""
	if op.form != nil {
		body = op.form.Encode()
	}
	req, err := http.NewRequestWithContext(w.t.Context(), op.method, w.e.direct+op.path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_e2e")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	w.e.emu.ClearFaults()
	if err != nil {
		w.directLost++
		if op.delete {
			w.ids(op.table).drop(op.id)
		}
		return
	}
	defer res.Body.Close()
	var obj map[string]any
	if decodeErr := json.NewDecoder(res.Body).Decode(&obj); decodeErr != nil || res.StatusCode != http.StatusOK {
		return // refused (a deleted object): nothing happened
	}
	if id, _ := obj["id"].(string); op.id == "" {
		w.ids(op.table).add(id)
	}
	if op.delete {
		w.ids(op.table).drop(op.id)
	}
}
