package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/internal/specvalidate"
)

// A 10-row INSERT whose 6th row Stripe rejects creates the first five, is
// refused with a message naming them and the failing row, and sends
// nothing after it. The 6th amount passes every check of stripesql and of
// Stripe's spec; Stripe's minimum charge amount (50 cents) refuses it.
func TestInsertPartialFailure(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	before := e.emu.Count("payment_intent")
	var values []string
	for i := 1; i <= 10; i++ {
		amount := 1000 + i
		if i == 6 {
			amount = 10
		}
		values = append(values, fmt.Sprintf("('usd', %d)", amount))
	}
	err, reqs := c.fail("INSERT INTO PaymentIntents (Currency, Amount) VALUES " + strings.Join(values, ", "))
	t.Log(err)

	ids := e.emu.IDs("payment_intent")[:5] // newest first
	var created []string
	for i := len(ids) - 1; i >= 0; i-- {
		created = append(created, ids[i])
	}
	want := fmt.Sprintf("Error 1644 (45000): 5 rows written (%s), stopped at row 6: "+
		"stripe: invalid_request_error (amount_too_small): Amount must be at least 50 cents (10 usd given). [param amount, request req_",
		strings.Join(created, ", "))
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error:\n  %v\nwant it to start\n  %s", err, want)
	}
	if got := e.emu.Count("payment_intent"); got != before+5 {
		t.Errorf("%d payment intents created, want 5", got-before)
	}
	var wantReqs []string
	for i := 1; i <= 6; i++ {
		amount := 1000 + i
		if i == 6 {
			amount = 10
		}
		wantReqs = append(wantReqs, fmt.Sprintf("POST /v1/payment_intents amount=%d&currency=usd", amount))
	}
	wantLines(t, "partial INSERT", reqs, wantReqs) // nothing after row 6
	for i, id := range created {
		wantRow(t, "created "+id, c.row("SELECT Amount, Currency, Status FROM PaymentIntents WHERE Id = ?", id),
			map[string]string{"Amount": fmt.Sprint(1001 + i), "Currency": "usd", "Status": "requires_payment_method"})
	}
	if got := c.value("SELECT stripe_last_insert_ids()"); got != `["`+strings.Join(created, `", "`)+`"]` {
		t.Errorf("stripe_last_insert_ids() after the partial INSERT = %s", got)
	}
}

// A statement with a row that breaks the catalog's rules is refused
// before its first request, naming the column.
func TestInsertRefusedBeforeAnyRequest(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	before := e.emu.Count("customer")
	for q, msg := range map[string]string{
		`INSERT INTO Customers (Name, Delinquent) VALUES ('a', NULL), ('b', NULL), ('c', true)`: "Error 1348 (HY000): INSERT INTO Customers, row 3: column Delinquent cannot be set on INSERT: Stripe does not accept it when creating a customer",
		`INSERT INTO Customers (Id, Name) VALUES ('cus_mine', 'a')`:                             "Error 1348 (HY000): INSERT INTO Customers, row 1: column Id cannot be set: Stripe assigns it",
		`INSERT INTO InvoiceItems (Currency, Amount) VALUES ('usd', 1000)`:                      "Error 1364 (HY000): INSERT INTO InvoiceItems, row 1: column Customer is required to create a invoiceitem",
		`INSERT INTO Cards (Token) VALUES ('tok_visa')`:                                         "CustomerId",
		`INSERT INTO PaymentIntents (Currency) VALUES ('usd')`:                                  "Amount",
		`INSERT INTO Customers (Name, Created) VALUES ('a', NOW())`:                             "Error 1348 (HY000): INSERT INTO Customers, row 1: column Created cannot be set on INSERT",
	} {
		err, reqs := c.fail(q)
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("%s:\n  %v\nwant it to contain\n  %s", q, err, msg)
		}
		wantLines(t, q, reqs, nil)
	}
	if got := e.emu.Count("customer"); got != before {
		t.Errorf("%d customers created by refused statements", got-before)
	}
}

// UPDATE and DELETE without WHERE are refused unless the session allows
// them; a refused UPDATE or DELETE changes nothing.
func TestFullTableWritesNeedOptIn(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	for q, msg := range map[string]string{
		"UPDATE Quotes SET Description = 'x'":     "Error 1175 (HY000): UPDATE without WHERE would change every row of Quotes in Stripe; add a WHERE clause, or SET stripe_allow_full_table_writes = 1",
		"DELETE FROM Customers":                   "Error 1175 (HY000): DELETE without WHERE would delete every row of Customers in Stripe",
		"DELETE FROM Customers LIMIT 1":           "DELETE without WHERE",
		"UPDATE Customers SET Name = 'x' LIMIT 2": "UPDATE without WHERE",
	} {
		c.refused(q, msg)
	}
	// With the session variable, the whole table is written: the five
	// Connect accounts of the demo.
	c.exec("SET stripe_allow_full_table_writes = 1")
	if v := c.value("SELECT @@stripe_allow_full_table_writes"); v != "1" {
		t.Errorf("@@stripe_allow_full_table_writes = %s", v)
	}
	reqs := c.exec("UPDATE Accounts SET BusinessProfileUrl = 'https://example.com'")
	posts := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST /v1/accounts/acct_") && strings.HasSuffix(r, " business_profile[url]=https%3A%2F%2Fexample.com") {
			posts++
		}
	}
	if posts != 5 {
		t.Errorf("UPDATE of every account sent %d POSTs: %v", posts, reqs)
	}
	if v := c.value("SELECT COUNT(*) FROM Accounts WHERE BusinessProfileUrl = 'https://example.com'"); v != "5" {
		t.Errorf("%s accounts updated, want 5", v)
	}
	// Another session is still protected.
	other := e.conn(t)
	if err, _ := other.fail("DELETE FROM Customers"); !strings.Contains(err.Error(), "DELETE without WHERE") {
		t.Errorf("another session: %v", err)
	}
}

// UPDATE of a column Stripe cannot update, and DELETE of an object Stripe
// cannot delete, are refused with the reason and what to do instead.
func TestUpdateAndDeleteRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	customer := c.value("SELECT Id FROM Customers WHERE Email IS NOT NULL LIMIT 1")
	intent := c.value("SELECT Id FROM PaymentIntents LIMIT 1")
	for q, msg := range map[string]string{
		"UPDATE Customers SET Created = NOW() WHERE Id = '" + customer + "'":  "column Created cannot be changed: Stripe does not accept it when updating a customer",
		"UPDATE Customers SET Id = 'cus_other' WHERE Id = '" + customer + "'": "Error 1348 (HY000): UPDATE Customers, row 1 (" + customer + "): column Id cannot be changed",
		"DELETE FROM PaymentIntents WHERE Id = '" + intent + "'":              "DELETE FROM PaymentIntents: Stripe cannot delete a payment intent; cancel it with CALL CancelPaymentIntent('pi_…')",
		"DELETE FROM Refunds WHERE Id = (SELECT Id FROM Refunds LIMIT 1)":     "Stripe cannot delete a refund",
	} {
		c.refused(q, msg)
	}
}

// Metadata updates send only the keys that changed; NULL and ” unset.
func TestUpdateMetadataAndUnset(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	c.exec(`INSERT INTO Customers (Name, Description, Metadata) VALUES ('meta', 'd', '{"tier": "gold", "region": "eu"}')`)
	id := c.lastID()
	reqs := c.exec(`UPDATE Customers SET Metadata = JSON_SET(JSON_REMOVE(Metadata, '$.region'), '$.tier', 'silver', '$.seats', '3'), Description = NULL WHERE Id = '` + id + `'`)
	wantLines(t, "metadata update", reqs, []string{
		"GET /v1/customers/" + id,
		"POST /v1/customers/" + id + " description=&metadata[region]=&metadata[seats]=3&metadata[tier]=silver",
	})
	after := c.row("SELECT Metadata, Description FROM Customers WHERE Id = ?", id)
	var md map[string]string
	if err := json.Unmarshal([]byte(after["Metadata"]), &md); err != nil || len(md) != 2 || md["tier"] != "silver" || md["seats"] != "3" {
		t.Errorf("Metadata after the update = %s", after["Metadata"])
	}
	wantRow(t, "after", after, map[string]string{"Description": "NULL"})
}

// INSERT … RETURNING creates in Insert and returns Stripe's values.
func TestInsertReturning(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	rows, reqs := c.query(`INSERT INTO Customers (Name, Email) VALUES ('r1', 'r1@example.com'), ('r2', NULL) RETURNING Id, Name, Email, Balance`)
	if len(rows) != 2 || !strings.HasPrefix(rows[0]["Id"], "cus_") || rows[0]["Name"] != "r1" || rows[1]["Email"] != "NULL" || rows[1]["Balance"] != "0" {
		t.Errorf("RETURNING rows = %v", rows)
	}
	wantLines(t, "INSERT RETURNING", reqs, []string{"POST /v1/customers email=r1%40example.com&name=r1", "POST /v1/customers name=r2"})
	if got := c.value("SELECT stripe_last_insert_ids()"); got != `["`+rows[0]["Id"]+`", "`+rows[1]["Id"]+`"]` {
		t.Errorf("stripe_last_insert_ids() = %s", got)
	}
}

// --read-only refuses writes and actions; GMS refuses procedures not
// marked read-only.
func TestReadOnlyServerRefusesWrites(t *testing.T) {
	e := newEnv(t, withReadOnly())
	c := e.conn(t)
	customer := c.value("SELECT Id FROM Customers LIMIT 1")
	for _, q := range everyWrite(c, "ro") {
		err, reqs := c.fail(q)
		t.Logf("%s: %v", q, err)
		if !strings.Contains(err.Error(), "database server is set to read only mode") {
			t.Errorf("%s: %v", q, err)
		}
		wantLines(t, q, reqs, nil)
	}
	if v := c.value("SELECT COUNT(*) FROM Customers WHERE Id = ?", customer); v != "1" {
		t.Errorf("reads fail on a read-only server: %s", v)
	}
}

// everyWrite is one statement of each kind of write (INSERT, UPDATE,
// DELETE, an action), on c's first customer and first draft invoice, for
// the tests of servers that must refuse them all; name marks what they
// would write.
func everyWrite(c *conn, name string) []string {
	c.t.Helper()
	customer := c.value("SELECT Id FROM Customers LIMIT 1")
	invoice := c.value("SELECT Id FROM Invoices WHERE Status = 'draft' LIMIT 1")
	return []string{
		"INSERT INTO Customers (Name) VALUES ('" + name + "')",
		"UPDATE Customers SET Name = '" + name + "' WHERE Id = '" + customer + "'",
		"DELETE FROM Customers WHERE Id = '" + customer + "'",
		"CALL FinalizeInvoice('" + invoice + "')",
	}
}

// A live-mode key refuses every write unless --allow-live-writes.
func TestLiveModeGuard(t *testing.T) {
	e := newEnv(t, withAPIKey("sk_live_e2e"))
	c := e.conn(t)
	for _, q := range everyWrite(c, "live") {
		err, reqs := c.fail(q)
		t.Logf("%s: %v", q, err)
		want := "Error 1290 (HY000): stripesql: the API key is a live-mode key and the server runs without --allow-live-writes"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s:\n  %v\nwant\n  %s…", q, err, want)
		}
		wantOnlyReads(t, q, reqs)
	}

	allowed := newEnv(t, withAPIKey("sk_live_e2e"), withAllowLiveWrites())
	ac := allowed.conn(t)
	wantLines(t, "live INSERT with --allow-live-writes", ac.exec("INSERT INTO Customers (Name) VALUES ('live')"),
		[]string{"POST /v1/customers name=live"})
}

// dropFirstAttempts arms the emulator to drop the connection after
// committing the first attempt of each of the next n POSTs to path, and to
// let each one's retry through. A Fault counts only the requests no
// earlier fault fired on, so the k-th fault (from 0), skipping k requests,
// fires on the first attempt of the k-th create: before it come k retries
// that passed (and the first attempts that earlier faults took).
func dropFirstAttempts(emu *emulator.Emulator, path string, n int) {
	for k := range n {
		emu.InjectFault(emulator.Fault{Method: "POST", Path: path, Kind: emulator.FaultDropAfterCommit, Times: 1, After: k})
	}
}

// The emulator drops the connection after committing each of 50 creates;
// the client retries each with its Idempotency-Key and the emulator
// replays the stored answer, so the statement succeeds with exactly 50
// new customers and no duplicate.
func TestInsertSurvivesDropAfterCommit(t *testing.T) {
	emu := emulator.NewDemo()
	validated, err := specvalidate.Wrap(emu)
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, emu, validated, catalog.Builtin())
	c := e.conn(t)
	before := emu.Count("customer")
	dropFirstAttempts(emu, "/v1/customers", 50)

	var values []string
	for i := 1; i <= 50; i++ {
		values = append(values, fmt.Sprintf("('retry %02d')", i))
	}
	emu.ResetRequests()
	if _, err := c.c.ExecContext(t.Context(), "INSERT INTO Customers (Name) VALUES "+strings.Join(values, ", ")); err != nil {
		t.Fatalf("INSERT of 50 customers under drop-after-commit: %v", err)
	}
	t.Logf("%d customers created; %d requests", emu.Count("customer")-before, len(emu.Requests()))
	if got := emu.Count("customer"); got != before+50 {
		t.Errorf("%d customers created, want exactly 50", got-before)
	}
	// Every create was sent twice with one key: dropped after commit,
	// then replayed.
	keys := map[string][]int{}
	for _, r := range emu.Requests() {
		keys[r.IdempotencyKey] = append(keys[r.IdempotencyKey], r.Status)
	}
	if len(keys) != 50 {
		t.Errorf("%d idempotency keys, want 50", len(keys))
	}
	for k, statuses := range keys {
		if len(statuses) != 2 || statuses[0] != 0 || statuses[1] != 200 {
			t.Errorf("key %s: statuses %v, want [0 200] (dropped, then replayed)", k, statuses)
		}
	}
	// No duplicates: each name exists once in the emulator, and the 50 ids
	// stripesql reports are those customers.
	names := map[string]string{}
	for _, id := range emu.IDs("customer") {
		if name, _ := emu.Get("customer", id)["name"].(string); strings.HasPrefix(name, "retry ") {
			if other, dup := names[name]; dup {
				t.Errorf("%q created twice: %s and %s", name, other, id)
			}
			names[name] = id
		}
	}
	var ids []string
	if err := json.Unmarshal([]byte(c.value("SELECT stripe_last_insert_ids()")), &ids); err != nil {
		t.Fatal(err)
	}
	if len(names) != 50 || len(ids) != 50 {
		t.Fatalf("%d distinct names, %d ids reported; want 50 and 50", len(names), len(ids))
	}
	for i, id := range ids {
		if want := names[fmt.Sprintf("retry %02d", i+1)]; id != want {
			t.Errorf("id %d = %s, want %s", i+1, id, want)
		}
	}
	if n := c.value("SELECT COUNT(*) FROM Customers WHERE Id IN ('" + strings.Join(ids, "', '") + "')"); n != "50" {
		t.Errorf("%s of the 50 ids read back through SQL", n)
	}
}

// The WHERE check judges each statement of a multi-statement query on its
// own: the engine hands the editors the text from the current statement on.
func TestFullTableCheckInMultiStatements(t *testing.T) {
	e := newEnv(t)
	db, err := sql.Open("mysql", "root@tcp("+e.addr+")/stripe?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	customer := e.query(t, "SELECT Id FROM Customers WHERE Email IS NOT NULL LIMIT 1")[0][0].String

	e.emu.ResetRequests()
	_, err = db.Exec("UPDATE Customers SET Description = 'scoped' WHERE Id = '" + customer + "'; UPDATE Customers SET Description = 'everyone'")
	if err == nil || !strings.Contains(err.Error(), "UPDATE without WHERE would change every row of Customers") {
		t.Errorf("second, unscoped statement: err = %v", err)
	}
	var posts []string
	for _, l := range e.requestLines() {
		if !strings.HasPrefix(l, "GET ") {
			posts = append(posts, l)
		}
	}
	wantLines(t, "scoped then unscoped", posts, []string{"POST /v1/customers/" + customer + " description=scoped"})

	e.emu.ResetRequests()
	_, err = db.Exec("DELETE FROM Customers; SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "DELETE without WHERE") {
		t.Errorf("first, unscoped statement: err = %v", err)
	}
	for _, l := range e.requestLines() {
		if !strings.HasPrefix(l, "GET ") {
			t.Errorf("unscoped DELETE sent %s", l)
		}
	}
}

// Prepared statements are judged by their own text: client-side (the
// binary protocol) and SQL-level PREPARE … EXECUTE alike.
func TestFullTableCheckInPreparedStatements(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	customer := c.value("SELECT Id FROM Customers WHERE Email IS NOT NULL LIMIT 1")
	ctx := context.Background()

	if _, err := c.c.ExecContext(ctx, "UPDATE Customers SET Description = ? WHERE Id = ?", "prepared", customer); err != nil {
		t.Errorf("prepared scoped UPDATE: %v", err)
	}
	wantRow(t, "prepared UPDATE", c.row("SELECT Description FROM Customers WHERE Id = ?", customer), map[string]string{"Description": "prepared"})
	if _, err := c.c.ExecContext(ctx, "UPDATE Customers SET Description = ?", "everyone"); err == nil || !strings.Contains(err.Error(), "UPDATE without WHERE") {
		t.Errorf("prepared unscoped UPDATE: err = %v", err)
	}

	c.exec("PREPARE scoped FROM 'UPDATE Customers SET Description = ''sql-prepared'' WHERE Id = ?'")
	c.exec("SET @id = '" + customer + "'")
	c.exec("EXECUTE scoped USING @id")
	wantRow(t, "EXECUTE", c.row("SELECT Description FROM Customers WHERE Id = ?", customer), map[string]string{"Description": "sql-prepared"})
	c.exec("PREPARE everyone FROM 'DELETE FROM Customers'")
	if err, reqs := c.fail("EXECUTE everyone"); !strings.Contains(err.Error(), "DELETE without WHERE") {
		t.Errorf("EXECUTE of an unscoped DELETE: %v (%v)", err, reqs)
	}
}

// Writes act on the session's Connect account, as reads do.
func TestWritesUseTheSessionAccount(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	account := c.value("SELECT Id FROM Accounts LIMIT 1")
	c.exec("SET stripe_account = '" + account + "'")
	wantAccount := func(what string) {
		t.Helper()
		writes := 0
		for _, r := range e.emu.Requests() {
			if r.Method == "GET" {
				continue
			}
			writes++
			if r.Account != account {
				t.Errorf("%s: %s %s went to account %q, want %q", what, r.Method, r.Path, r.Account, account)
			}
		}
		if writes != 1 {
			t.Errorf("%s: %d writes logged, want 1", what, writes)
		}
	}
	c.exec("INSERT INTO Customers (Name) VALUES ('connected')")
	wantAccount("INSERT")
	c.fail("CALL FinalizeInvoice('in_nope')") // no such invoice there; the header is what counts
	wantAccount("CALL")
}
