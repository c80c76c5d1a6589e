package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/tables"
)

// The fault matrix of issue 10: the emulator executes and commits a
// write, and the client never learns it: every attempt loses its answer,
// or the first attempt's answer and every retry's are 429s, or 500s.
// Each fault lasts (Forever) beyond the client's write retry window, so
// the write's outcome is unknown to stripesql, which must say so (or
// verify it, for deletes and cancels) and never report the write failed.
var outcomeFaults = []struct {
	name string
	kind emulator.FaultKind
}{
	{"dropped after commit on every attempt", emulator.FaultDropAfterCommit},
	{"committed then 429s", emulator.FaultCommitThenRateLimit},
	{"committed then 500s", emulator.FaultCommitThenServerError},
}

// sqlError returns the MySQL error of err, failing the test if there is none.
func sqlError(t *testing.T, err error) *mysql.MySQLError {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a MySQL error", err, err)
	}
	return me
}

// wantUnknown checks that err is the unknown-outcome error and returns
// the key base it says to retry with.
func wantUnknown(t *testing.T, err error) (string, string) {
	t.Helper()
	me := sqlError(t, err)
	if me.Number != tables.ErrWriteOutcomeUnknown || string(me.SQLState[:]) != tables.StateWriteOutcomeUnknown {
		t.Fatalf("error %d (%s): %s; want %d (%s)", me.Number, me.SQLState, me.Message, tables.ErrWriteOutcomeUnknown, tables.StateWriteOutcomeUnknown)
	}
	m := regexp.MustCompile(`SET stripe_idempotency_key = '([^']+)' and run the same statement again`).FindStringSubmatch(me.Message)
	if m == nil {
		t.Fatalf("message does not say how to retry: %s", me.Message)
	}
	return m[1], me.Message
}

// customersNamed maps the names starting with prefix to the ids of the
// live customers that bear them.
func customersNamed(emu *emulator.Emulator, prefix string) map[string][]string {
	out := map[string][]string{}
	for _, id := range emu.IDs("customer") {
		if name, _ := emu.Get("customer", id)["name"].(string); strings.HasPrefix(name, prefix) {
			out[name] = append(out[name], id)
		}
	}
	return out
}

// writesOf returns the StripeWrites rows whose key starts with base, in
// order, as "row outcome object".
func (c *conn) writesOf(base string) []string {
	c.t.Helper()
	rows, _ := c.query("SELECT `Row`, Outcome, ObjectId FROM StripeWrites WHERE IdempotencyKey LIKE ? ORDER BY Id", base+":%")
	var out []string
	for _, r := range rows {
		out = append(out, r["Row"]+" "+r["Outcome"]+" "+r["ObjectId"])
	}
	return out
}

// An INSERT of one and of five rows, the first or third row's create
// committed but its outcome hidden from stripesql: the statement fails
// with the unknown-outcome error, which lists the rows applied before
// with their ids, names the row whose outcome is unknown and its key, and
// counts the rest as not sent, exactly as the emulator's state has it.
// Running the same statement again with the key it names creates the
// missing rows only, and names the ids of the first run.
func TestOutcomeInsert(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	for fi, f := range outcomeFaults {
		for _, n := range []int{1, 5} {
			t.Run(fmt.Sprintf("%s/%d rows", f.name, n), func(t *testing.T) {
				c.t = t
				prefix := fmt.Sprintf("outcome-%d-%d-", fi, n)
				faultRow := min(n, 3)
				var values []string
				for i := 1; i <= n; i++ {
					values = append(values, fmt.Sprintf("('%s%d')", prefix, i))
				}
				stmt := "INSERT INTO Customers (Name) VALUES " + strings.Join(values, ", ")

				e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/customers", Kind: f.kind, Times: emulator.Forever, After: faultRow - 1})
				err, _ := c.fail(stmt)
				e.emu.ClearFaults()
				base, msg := wantUnknown(t, err)
				t.Log(msg)

				// The report, row by row, against the emulator.
				named := customersNamed(e.emu, prefix)
				var applied []string
				for i := 1; i < faultRow; i++ {
					ids := named[fmt.Sprintf("%s%d", prefix, i)]
					if len(ids) != 1 {
						t.Fatalf("row %d: %d customers, want 1", i, len(ids))
					}
					applied = append(applied, ids[0])
				}
				want := fmt.Sprintf("outcome unknown: %d %s written", len(applied), map[bool]string{true: "row", false: "rows"}[len(applied) == 1])
				if len(applied) > 0 {
					want += " (" + strings.Join(applied, ", ") + ")"
				}
				want += fmt.Sprintf(", row %d unknown (key %s:%d): stripe: POST /v1/customers: outcome unknown after ", faultRow, base, faultRow)
				if !strings.HasPrefix(msg, want) {
					t.Errorf("message\n  %s\nwant it to start\n  %s", msg, want)
				}
				if n > faultRow && !strings.Contains(msg, fmt.Sprintf("; rows %d-%d not sent.", faultRow+1, n)) {
					t.Errorf("message does not count rows %d-%d as not sent: %s", faultRow+1, n, msg)
				}
				if ids := named[fmt.Sprintf("%s%d", prefix, faultRow)]; len(ids) != 1 {
					t.Errorf("the row whose outcome is unknown exists %d times, want once (committed)", len(ids))
				}
				for i := faultRow + 1; i <= n; i++ {
					if ids := named[fmt.Sprintf("%s%d", prefix, i)]; len(ids) != 0 {
						t.Errorf("row %d, reported not sent, exists: %v", i, ids)
					}
				}
				var wantLog []string
				for i, id := range applied {
					wantLog = append(wantLog, fmt.Sprintf("%d applied %s", i+1, id))
				}
				wantLog = append(wantLog, fmt.Sprintf("%d unknown NULL", faultRow))
				wantLines(t, "StripeWrites after the fault", c.writesOf(base), wantLog)

				// The same statement with the key: nothing twice, same ids.
				c.exec("SET stripe_idempotency_key = '" + base + "'")
				c.exec(stmt)
				var ids []string
				if err := json.Unmarshal([]byte(c.value("SELECT stripe_last_insert_ids()")), &ids); err != nil {
					t.Fatal(err)
				}
				named = customersNamed(e.emu, prefix)
				for i := 1; i <= n; i++ {
					got := named[fmt.Sprintf("%s%d", prefix, i)]
					if len(got) != 1 || len(ids) != n || ids[i-1] != got[0] {
						t.Errorf("row %d after the retry: customers %v, reported %v", i, got, ids)
					}
				}
				if !slices.Equal(ids[:len(applied)], applied) {
					t.Errorf("retry names %v, the first run applied %v", ids, applied)
				}
				if v := c.value("SELECT @@stripe_idempotency_key"); v != "" {
					t.Errorf("stripe_idempotency_key = %q after the statement, want it cleared", v)
				}
			})
		}
	}
}

// An UPDATE whose change Stripe applied but whose answer was lost is
// reported unknown with its key (base:id), never as not updated, and the
// emulator has the change.
func TestOutcomeUpdate(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	for fi, f := range outcomeFaults {
		t.Run(f.name, func(t *testing.T) {
			c.t = t
			c.exec(fmt.Sprintf("INSERT INTO Customers (Name) VALUES ('update-%d')", fi))
			id := c.lastID()
			e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/customers/" + id, Kind: f.kind, Times: emulator.Forever})
			err, _ := c.fail(fmt.Sprintf("UPDATE Customers SET Description = 'v2' WHERE Id = '%s'", id))
			e.emu.ClearFaults()
			base, msg := wantUnknown(t, err)
			if want := fmt.Sprintf("outcome unknown: 0 rows updated, row 1 (%s) unknown (key %s:%s): ", id, base, id); !strings.HasPrefix(msg, want) {
				t.Errorf("message\n  %s\nwant it to start\n  %s", msg, want)
			}
			if got := e.emu.Get("customer", id)["description"]; got != "v2" {
				t.Errorf("description = %v, want v2 (applied)", got)
			}
			wantLines(t, "StripeWrites", c.writesOf(base), []string{"1 unknown " + id})
			// Running it again finds nothing left to change.
			c.exec("SET stripe_idempotency_key = '" + base + "'")
			if reqs := c.exec(fmt.Sprintf("UPDATE Customers SET Description = 'v2' WHERE Id = '%s'", id)); slices.ContainsFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "POST") }) {
				t.Errorf("the repeated UPDATE sent %v", reqs)
			}
		})
	}
}

// A DELETE of one row and of nine, one delete's answer lost however the
// retries go: stripesql verifies with a retrieve that the customer is
// gone, counts the delete as applied, and carries on, so the statement
// succeeds and every row is deleted once.
func TestOutcomeDelete(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	for fi, f := range outcomeFaults {
		for _, n := range []int{1, 9} {
			t.Run(fmt.Sprintf("%s/%d rows", f.name, n), func(t *testing.T) {
				c.t = t
				prefix := fmt.Sprintf("delete-%d-%d-", fi, n)
				var values []string
				for i := 1; i <= n; i++ {
					values = append(values, fmt.Sprintf("('%s%d')", prefix, i))
				}
				c.exec("INSERT INTO Customers (Name) VALUES " + strings.Join(values, ", "))
				var ids []string
				if err := json.Unmarshal([]byte(c.value("SELECT stripe_last_insert_ids()")), &ids); err != nil {
					t.Fatal(err)
				}
				victim := ids[min(n, 3)-1]
				e.emu.InjectFault(emulator.Fault{Method: "DELETE", Path: "/v1/customers/" + victim, Kind: f.kind, Times: emulator.Forever})
				reqs := c.exec("DELETE FROM Customers WHERE Id IN ('" + strings.Join(ids, "', '") + "')")
				e.emu.ClearFaults()
				if left := customersNamed(e.emu, prefix); len(left) != 0 {
					t.Errorf("customers left after the DELETE: %v", left)
				}
				deletes := map[string]int{}
				for _, r := range reqs {
					if m, ok := strings.CutPrefix(r, "DELETE /v1/customers/"); ok {
						deletes[m]++
					}
				}
				if len(deletes) != n || deletes[victim] < 2 {
					t.Errorf("deletes sent %v: want each of the %d once, and the faulted one retried", deletes, n)
				}
				if !slices.Contains(reqs, "GET /v1/customers/"+victim) {
					t.Errorf("no retrieve verified %s: %v", victim, reqs)
				}
				rows, _ := c.query("SELECT ObjectId, Outcome FROM StripeWrites WHERE Verb = 'DELETE' AND ObjectId IN ('" + strings.Join(ids, "', '") + "')")
				if len(rows) != n {
					t.Errorf("StripeWrites has %d of the %d deletes", len(rows), n)
				}
				for _, r := range rows {
					if r["Outcome"] != "applied" {
						t.Errorf("StripeWrites: delete of %s %s, want applied", r["ObjectId"], r["Outcome"])
					}
				}
			})
		}
	}
}

// CALL under the same faults: CancelSubscription (a DELETE) and
// CancelPaymentIntent are verified canceled and succeed; FinalizeInvoice, which Stripe applied, is
// reported unknown with its key, and repeating it with that key replays
// Stripe's answer instead of failing on an invoice already finalized.
func TestOutcomeCall(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	active, _ := c.query("SELECT Id FROM Subscriptions WHERE Status = 'active' LIMIT 3")
	drafts, _ := c.query("SELECT Id FROM Invoices WHERE Status = 'draft' AND AutoAdvance = false LIMIT 3")
	intents, _ := c.query("SELECT Id FROM PaymentIntents WHERE Status = 'requires_payment_method' LIMIT 3")
	if len(active) < len(outcomeFaults) || len(drafts) < len(outcomeFaults) || len(intents) < len(outcomeFaults) {
		t.Fatalf("the demo data has %d active subscriptions and %d draft invoices, want %d", len(active), len(drafts), len(outcomeFaults))
	}
	for fi, f := range outcomeFaults {
		t.Run(f.name, func(t *testing.T) {
			c.t = t
			sub := active[fi]["Id"]
			e.emu.InjectFault(emulator.Fault{Method: "DELETE", Path: "/v1/subscriptions/" + sub, Kind: f.kind, Times: emulator.Forever})
			_, row, _ := c.call("CALL CancelSubscription('" + sub + "')")
			e.emu.ClearFaults()
			wantRow(t, "CancelSubscription", row, map[string]string{"Success": "true", "Status": "canceled"})
			if got := e.emu.Get("subscription", sub)["status"]; got != "canceled" {
				t.Errorf("subscription status %v", got)
			}

			// A POST action whose effect shows in the object's status.
			pi := intents[fi]["Id"]
			e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/payment_intents/" + pi + "/cancel", Kind: f.kind, Times: emulator.Forever})
			_, row, reqs := c.call("CALL CancelPaymentIntent('" + pi + "')")
			e.emu.ClearFaults()
			wantRow(t, "CancelPaymentIntent", row, map[string]string{"Success": "true", "Id": pi, "Status": "canceled"})
			if !slices.Contains(reqs, "GET /v1/payment_intents/"+pi) {
				t.Errorf("no retrieve verified the cancel: %v", reqs)
			}

			inv := drafts[fi]["Id"]
			e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/invoices/" + inv + "/finalize", Kind: f.kind, Times: emulator.Forever})
			err, _ := c.fail("CALL FinalizeInvoice('" + inv + "')")
			e.emu.ClearFaults()
			base, msg := wantUnknown(t, err)
			if want := fmt.Sprintf("outcome unknown: CALL FinalizeInvoice (key %s:1): ", base); !strings.HasPrefix(msg, want) {
				t.Errorf("message\n  %s\nwant it to start\n  %s", msg, want)
			}
			if got := e.emu.Get("invoice", inv)["status"]; got != "open" {
				t.Errorf("invoice status %v, want open (finalized)", got)
			}
			wantLines(t, "StripeWrites", c.writesOf(base), []string{"1 unknown NULL"})
			c.exec("SET stripe_idempotency_key = '" + base + "'")
			_, row, reqs = c.call("CALL FinalizeInvoice('" + inv + "')")
			wantRow(t, "FinalizeInvoice retried", row, map[string]string{"Success": "true", "Id": inv, "Status": "open"})
			wantLines(t, "retry", reqs, []string{"POST /v1/invoices/" + inv + "/finalize"})
			wantLines(t, "StripeWrites", c.writesOf(base), []string{"1 unknown NULL", "1 applied " + inv})
		})
	}
}

// A client sends a 20-row INSERT with its own key, loses its connection
// while stripesql is still writing, reconnects and sends the same
// statement with the same key: exactly 20 customers exist, and both runs
// name the same ids.
func TestClientRetryAfterLostConnection(t *testing.T) {
	// A long window: the first run is still retrying row 10 when the
	// client gives up on it.
	e := newEnv(t, withWriteRetryWindow(time.Minute), withConns(4))
	const prefix = "order-8812 item "
	var values []string
	for i := 1; i <= 20; i++ {
		values = append(values, fmt.Sprintf("('%s%02d')", prefix, i))
	}
	stmt := "INSERT INTO Customers (Name) VALUES " + strings.Join(values, ", ")

	first := e.conn(t)
	connID := first.value("SELECT CONNECTION_ID()")
	first.exec("SET stripe_idempotency_key = 'order-8812'")
	e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/customers", Kind: emulator.FaultDropAfterCommit, Times: emulator.Forever, After: 9})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := first.c.ExecContext(ctx, stmt)
		done <- err
	}()
	// Wait until row 10 has been committed and its answer lost, then
	// drop the connection, as a client timing out would.
	for {
		n := 0
		for _, r := range e.emu.Requests() {
			if r.IdempotencyKey == "order-8812:10" {
				n++
			}
		}
		if n >= 2 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the first run ended before the connection was lost: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the first run succeeded; want its connection lost")
	}
	e.emu.ClearFaults()

	// What the first run applied, as StripeWrites records it.
	second := e.conn(t)
	firstIDs := map[string]string{}
	rows, _ := second.query("SELECT IdempotencyKey, ObjectId FROM StripeWrites WHERE ConnectionId = ? AND Outcome = 'applied'", connID)
	for _, r := range rows {
		firstIDs[r["IdempotencyKey"]] = r["ObjectId"]
	}
	if len(firstIDs) < 9 {
		t.Fatalf("the first run applied %d rows before the connection was lost, want at least 9", len(firstIDs))
	}

	second.exec("SET stripe_idempotency_key = 'order-8812'")
	second.exec(stmt)
	var ids []string
	if err := json.Unmarshal([]byte(second.value("SELECT stripe_last_insert_ids()")), &ids); err != nil {
		t.Fatal(err)
	}
	named := customersNamed(e.emu, prefix)
	total := 0
	for _, got := range named {
		total += len(got)
	}
	if total != 20 || len(named) != 20 || len(ids) != 20 {
		t.Fatalf("%d customers (%d names), %d ids reported; want exactly 20", total, len(named), len(ids))
	}
	for i, id := range ids {
		if want := named[fmt.Sprintf("%s%02d", prefix, i+1)]; want[0] != id {
			t.Errorf("row %d: reported %s, the customer is %s", i+1, id, want[0])
		}
		if firstID, ok := firstIDs[fmt.Sprintf("order-8812:%d", i+1)]; ok && firstID != id {
			t.Errorf("row %d: the first run created %s, the second names %s", i+1, firstID, id)
		}
	}
	t.Logf("first run applied %d rows before the connection was lost; the second named the same ids", len(firstIDs))
}

// KILL QUERY ends a write being retried within a long window: the
// statement reports the write as unknown, with its key, and the retry
// with that key applies it once.
func TestKillQueryEndsWriteRetries(t *testing.T) {
	e := newEnv(t, withWriteRetryWindow(time.Hour), withConns(4))
	victim := e.conn(t)
	connID := victim.value("SELECT CONNECTION_ID()")
	e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/customers", Kind: emulator.FaultCommitThenServerError, Times: emulator.Forever})
	done := make(chan error, 1)
	go func() {
		_, err := victim.c.ExecContext(context.Background(), "INSERT INTO Customers (Name) VALUES ('killed-query')")
		done <- err
	}()
	for len(e.emu.Requests()) < 3 {
		select {
		case err := <-done:
			t.Fatalf("the INSERT ended before KILL QUERY: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	killer := e.conn(t)
	killer.exec("KILL QUERY " + connID)
	err := <-done
	e.emu.ClearFaults()
	base, msg := wantUnknown(t, err)
	if !strings.Contains(msg, "row 1 unknown (key "+base+":1)") {
		t.Errorf("message: %s", msg)
	}
	if n := len(customersNamed(e.emu, "killed-query")["killed-query"]); n != 1 {
		t.Fatalf("%d customers, want 1 (the first attempt committed)", n)
	}
	victim.exec("SET stripe_idempotency_key = '" + base + "'")
	victim.exec("INSERT INTO Customers (Name) VALUES ('killed-query')")
	if n := len(customersNamed(e.emu, "killed-query")["killed-query"]); n != 1 {
		t.Errorf("%d customers after the retry with the key, want 1", n)
	}
}

// A delete whose first answer is lost, and whose retry Stripe answers 404
// (the first attempt deleted it), is applied by this statement; the same
// for a subscription cancel answered "already canceled".
func TestDeleteRetryAnsweredNotFound(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	c.exec("INSERT INTO Customers (Name) VALUES ('gone-1'), ('gone-2'), ('gone-3')")
	var ids []string
	if err := json.Unmarshal([]byte(c.value("SELECT stripe_last_insert_ids()")), &ids); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(emulator.Fault{Method: "DELETE", Path: "/v1/customers/" + ids[1], Kind: emulator.FaultDropAfterCommit})
	e.emu.ResetRequests()
	c.exec("DELETE FROM Customers WHERE Id IN ('" + strings.Join(ids, "', '") + "')")
	var statuses []int
	for _, r := range e.emu.Requests() {
		if r.Method == "DELETE" && r.Path == "/v1/customers/"+ids[1] {
			statuses = append(statuses, r.Status)
		}
	}
	if !slices.Equal(statuses, []int{0, 404}) {
		t.Errorf("deletes of %s answered %v, want [0 404] (lost, then not found)", ids[1], statuses)
	}
	if left := customersNamed(e.emu, "gone-"); len(left) != 0 {
		t.Errorf("left: %v", left)
	}

	sub := c.value("SELECT Id FROM Subscriptions WHERE Status = 'active' LIMIT 1")
	e.emu.InjectFault(emulator.Fault{Method: "DELETE", Path: "/v1/subscriptions/" + sub, Kind: emulator.FaultDropAfterCommit})
	_, row, reqs := c.call("CALL CancelSubscription('" + sub + "')")
	wantRow(t, "CancelSubscription", row, map[string]string{"Success": "true", "Status": "canceled"})
	wantLines(t, "cancel, lost, then already canceled, then verified", reqs, []string{
		"DELETE /v1/subscriptions/" + sub, "DELETE /v1/subscriptions/" + sub, "GET /v1/subscriptions/" + sub, "GET /v1/subscriptions/" + sub,
	})
}
