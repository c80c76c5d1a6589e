package e2e

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/internal/specvalidate"
	"github.com/stripesql/stripesql/tables"
)

// searchQueries returns the Search queries the emulator received, decoded.
func searchQueries(e *env) []string {
	var out []string
	for _, r := range e.emu.Requests() {
		if strings.HasSuffix(r.Path, "/search") {
			q, _ := url.ParseQuery(r.RawQuery)
			out = append(out, q.Get("query"))
		}
	}
	return out
}

// Values that look like Search syntax reach Stripe as literals: the query
// string holds them quoted and escaped, and only the exact object matches.
func TestSearchValuesCannotChangeTheQuery(t *testing.T) {
	e := newEnv(t)
	nasty := []string{
		`O"Brien`,
		`back\slash`,
		`x" OR name:"Alice Smith`,
		`a:b~c`,
		`trailing\`,
		`-name:null`,
	}
	for i, name := range nasty {
		id := "cus_nasty" + strconv.Itoa(i)
		e.emu.Put(map[string]any{"id": id, "object": "customer", "name": name, "created": int64(1735689600 + i), "livemode": false, "metadata": map[string]any{}})
	}
	for i, name := range nasty {
		e.emu.ResetRequests()
		var ids []string
		rows, err := e.db.Query("SELECT Id FROM Customers WHERE Name = ?", name)
		if err != nil {
			t.Fatalf("name %q: %v", name, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if want := "cus_nasty" + strconv.Itoa(i); len(ids) != 1 || ids[0] != want {
			t.Errorf("Name = %q: rows %v, want only %s", name, ids, want)
		}
		want := `name:"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
		if got := searchQueries(e); len(got) != 1 || got[0] != want {
			t.Errorf("Name = %q: search queries %q, want exactly %q", name, got, want)
		}
	}
	// A metadata key is quoted the same way.
	e.emu.ResetRequests()
	e.query(t, `SELECT Id FROM Customers WHERE Metadata->>'$."k\\"ey"' = 'v"al'`)
	if got := searchQueries(e); len(got) != 1 || got[0] != `metadata["k\"ey"]:"v\"al"` {
		t.Errorf("metadata search queries %q", got)
	}
}

// Search lags writes; SET stripe_search = 'off' trades calls for
// read-after-write consistency, and EXPLAIN says which one a query gets.
func TestSearchOffIsConsistent(t *testing.T) {
	emu := emulator.NewDemo(emulator.WithSearchLag(time.Hour))
	validated, err := specvalidate.Wrap(emu)
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, emu, validated, catalog.Builtin())
	ctx := context.Background()
	conn := pinnedConn(t, e)
	mustExec(t, conn, "INSERT INTO Customers (Name, Email) VALUES ('Fresh Customer', 'fresh@example.test')")
	count := func() int {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM Customers WHERE Name = 'Fresh Customer'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	explain := func() string {
		var plan []string
		rows, err := conn.QueryContext(ctx, "EXPLAIN SELECT Id FROM Customers WHERE Name = 'Fresh Customer'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		return strings.Join(plan, "\n")
	}
	if n := count(); n != 0 {
		t.Errorf("with Search on, a customer created a moment ago was found %d times; the emulator's search lag should hide it", n)
	}
	if p := explain(); !strings.Contains(p, "eventually consistent") || !strings.Contains(p, "/v1/customers/search") {
		t.Errorf("EXPLAIN does not say the Search access is eventually consistent:\n%s", p)
	}
	mustExec(t, conn, "SET stripe_search = 'off'")
	if n := count(); n != 1 {
		t.Errorf("with Search off the new customer was found %d times, want 1", n)
	}
	if p := explain(); strings.Contains(p, "/search") || !strings.Contains(p, "[consistent") {
		t.Errorf("with Search off EXPLAIN still shows Search:\n%s", p)
	}
}

func TestExplainShowsTheStripeCall(t *testing.T) {
	e := newEnv(t)
	var lines []string
	for _, r := range e.query(t, "EXPLAIN SELECT * FROM Invoices WHERE CustomerId = 'cus_1' AND Created >= '2024-01-01'") {
		lines = append(lines, r[0].String)
	}
	plan := strings.Join(lines, "\n")
	if strings.Count(plan, "GET /v1/") != 1 || !strings.Contains(plan, "GET /v1/invoices?customer=cus_1&created[gte]=1704067200") {
		t.Errorf("EXPLAIN =\n%s\nwant one list call with customer=cus_1&created[gte]=1704067200", plan)
	}
	if !strings.Contains(plan, "[consistent; exact]") {
		t.Errorf("EXPLAIN does not say the access is consistent and exact:\n%s", plan)
	}
	// A full scan shows its calls too: the default-visibility scans of
	// Prices, and Customers' test-clock reads.
	for q, want := range map[string]string{
		"EXPLAIN SELECT * FROM Prices":     "GET /v1/prices?active=true; GET /v1/prices?active=false",
		"EXPLAIN SELECT Id FROM Customers": "GET /v1/customers?test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]",
	} {
		var got []string
		for _, r := range e.query(t, q) {
			got = append(got, r[0].String)
		}
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("%s =\n%s\nwant it to show %s", q, strings.Join(got, "\n"), want)
		}
	}
}

func TestCallBudget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conn := pinnedConn(t, e)
	mustExec(t, conn, "SET stripe_max_calls = 2")

	// Known in advance: three retrieves. Refused before any is sent.
	e.emu.ResetRequests()
	_, err := conn.QueryContext(ctx, "SELECT Id FROM Customers WHERE Id IN ('cus_a', 'cus_b', 'cus_c')")
	var me *mysql.MySQLError
	if !asMySQLError(err, &me) || me.Number != tables.ErrCodeCallBudget ||
		!strings.Contains(me.Message, "stripe_max_calls = 2") || !strings.Contains(me.Message, "needs at least 3 calls") || !strings.Contains(me.Message, "table Customers") {
		t.Errorf("err = %v; want error %d naming the budget, the 3 calls needed and the table", err, tables.ErrCodeCallBudget)
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests were sent for a query refused in advance", n)
	}

	// Known only while paging: the third page of customers is refused,
	// two were read. (An aggregate, so that no row has been sent when the
	// error comes: the wire protocol library cannot send an error after
	// rows, and drops the connection instead; see the README.)
	e.emu.ResetRequests()
	rows, err := conn.QueryContext(ctx, "SELECT COUNT(*) FROM Customers WHERE Description IS NULL")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if !asMySQLError(err, &me) || me.Number != tables.ErrCodeCallBudget || !strings.Contains(me.Message, "needs call 3") || !strings.Contains(me.Message, "table Customers") {
		t.Errorf("err = %v; want the budget error for call 3 of Customers", err)
	}
	if n := len(e.emu.Requests()); n != 2 {
		t.Errorf("%d requests sent under a budget of 2", n)
	}

	// Within the budget all is well, and SHOW STATUS reports the calls.
	mustExec(t, conn, "SET stripe_max_calls = 0")
	var id string
	if err := conn.QueryRowContext(ctx, "SELECT Id FROM Customers WHERE Id = 'cus_dnn4hfeQ2l7KeV'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	srows, err := conn.QueryContext(ctx, "SHOW STATUS LIKE 'stripe%'")
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var k, v string
		srows.Scan(&k, &v)
		status[k] = v
	}
	srows.Close()
	if status["Stripe_calls"] != "1" {
		t.Errorf("Stripe_calls = %q after a one-retrieve query, want 1 (all: %v)", status["Stripe_calls"], status)
	}
	if n, _ := strconv.Atoi(status["Stripe_requests"]); n < 3 {
		t.Errorf("Stripe_requests = %q, want the client's total so far (at least 3)", status["Stripe_requests"])
	}
	for _, k := range []string{"Stripe_retries", "Stripe_throttled_ms"} {
		if _, ok := status[k]; !ok {
			t.Errorf("SHOW STATUS lacks %s", k)
		}
	}
}

func asMySQLError(err error, target **mysql.MySQLError) bool {
	me, ok := err.(*mysql.MySQLError)
	if ok {
		*target = me
	}
	return ok
}

// SET stripe_account switches the Connect account of one session's reads.
func TestAccountPerSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := pinnedConn(t, e), pinnedConn(t, e)
	accountsOf := func(conn *sql.Conn, q string) []string {
		e.emu.ResetRequests()
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		var out []string
		for _, r := range e.emu.Requests() {
			out = append(out, r.Account)
		}
		return out
	}
	mustExec(t, a, "SET stripe_account = 'acct_connected1'")
	var current string
	a.QueryRowContext(ctx, "SELECT @@stripe_account").Scan(&current)
	if current != "acct_connected1" {
		t.Errorf("@@stripe_account = %q", current)
	}
	for _, acct := range accountsOf(a, "SELECT Id FROM Customers WHERE Id = 'cus_dnn4hfeQ2l7KeV'") {
		if acct != "acct_connected1" {
			t.Errorf("session a sent Stripe-Account %q", acct)
		}
	}
	for _, acct := range accountsOf(b, "SELECT Id FROM Customers WHERE Id = 'cus_dnn4hfeQ2l7KeV'") {
		if acct != "" {
			t.Errorf("session b sent Stripe-Account %q; only a switched", acct)
		}
	}
	mustExec(t, a, "SET stripe_account = DEFAULT")
	if got := accountsOf(a, "SELECT Id FROM Customers WHERE Id = 'cus_dnn4hfeQ2l7KeV'"); len(got) != 1 || got[0] != "" {
		t.Errorf("after SET stripe_account = DEFAULT session a sent %q", got)
	}
}
