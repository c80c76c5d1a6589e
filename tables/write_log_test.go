package tables

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A log file read back on start: a write with an outcome line keeps it, a
// write without one (the server died before the answer) is unknown, a
// line cut short by the crash is skipped, and new writes number on.
func TestWriteLogLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "writes.log")
	content := strings.Join([]string{
		`{"seq":1,"time":"2026-11-28T09:00:00Z","verb":"INSERT","target":"Customers","row":1,"method":"POST","path":"/v1/customers","idempotency_key":"k:1","outcome":"pending"}`,
		`{"seq":1,"outcome":"applied","object_id":"cus_1","request_id":"req_1","attempts":1,"done":"2026-11-28T09:00:01Z"}`,
		`{"seq":2,"time":"2026-11-28T09:00:02Z","verb":"INSERT","target":"Customers","row":2,"method":"POST","path":"/v1/customers","idempotency_key":"k:2","outcome":"pending"}`,
		`{"seq":3,"time":"2026-11-28T09:00:0`,
	}, "\n")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	l := newWriteLog()
	if err := l.open(path); err != nil {
		t.Fatal(err)
	}
	defer l.file.Close()
	var got []string
	for _, r := range l.snapshot() {
		got = append(got, fmt.Sprintf("%d %s %s %s %s", r.Seq, r.Key, r.Outcome, r.ObjectID, r.Error))
	}
	want := []string{"1 k:1 applied cus_1 ", "2 k:2 unknown  stripesql stopped before Stripe's answer arrived"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("loaded\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	st := &writeStatement{verb: "DELETE", table: "Customers", text: "delete from Customers where Id = :redacted1"}
	seq, err := l.begin(st, &writeCall{row: 1, method: "DELETE", path: "/v1/customers/cus_1", id: "cus_1"})
	if err != nil || seq != 3 {
		t.Fatalf("begin = %d, %v; want seq 3", seq, err)
	}
	l.finish(seq, writeResult{outcome: outcomeRefused, err: fmt.Errorf("card 4242 4242 4242 4242 declined"), attempts: 1})
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"seq":3,`) || !strings.Contains(last, `"outcome":"refused"`) || strings.Contains(last, "4242") {
		t.Errorf("outcome line %s: want seq 3, refused, the card number masked", last)
	}
	if pending := lines[len(lines)-2]; !strings.Contains(pending, `"outcome":"pending"`) || !strings.Contains(pending, `"object_id":"cus_1"`) {
		t.Errorf("line before the outcome %s: want the pending write", pending)
	}
}

// The memory keeps the newest maxWriteRecords writes.
func TestWriteLogBounded(t *testing.T) {
	l := newWriteLog()
	l.now = func() time.Time { return time.Unix(0, 0) }
	st := &writeStatement{verb: "INSERT", table: "Customers"}
	for i := range maxWriteRecords + 5 {
		seq, _ := l.begin(st, &writeCall{row: i + 1, method: "POST", path: "/v1/customers"})
		l.finish(seq, writeResult{outcome: outcomeApplied, id: fmt.Sprint("cus_", i+1)})
	}
	recs := l.snapshot()
	if len(recs) != maxWriteRecords || recs[0].Seq != 6 || recs[len(recs)-1].ObjectID != fmt.Sprint("cus_", maxWriteRecords+5) {
		t.Errorf("%d records from seq %d; want %d from 6", len(recs), recs[0].Seq, maxWriteRecords)
	}
}

// StripeWrites lists the writes of the session with their outcome and key,
// refuses writes of its own, and a key the session sets that Stripe could
// not take is refused before any request.
func TestStripeWritesTable(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.mustExec("SET stripe_idempotency_key = 'order-1'")
	e.mustExec("INSERT INTO Customers (Name) VALUES ('a'), ('b')")
	e.wantErr("INSERT INTO Customers (Name) VALUES ('FAIL')", "stopped at row 1")
	rows := e.mustExec("SELECT `Row`, Verb, Target, Method, Path, IdempotencyKey, Outcome, ObjectId, Statement FROM StripeWrites ORDER BY Id")
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprint(r[:8]...))
	}
	if len(got) != 3 || got[0] != "1INSERTCustomersPOST/v1/customersorder-1:1appliedcus_1" ||
		got[1] != "2INSERTCustomersPOST/v1/customersorder-1:2appliedcus_2" ||
		!strings.HasPrefix(got[2], "1INSERTCustomersPOST/v1/customers") || !strings.Contains(got[2], "refused") {
		t.Errorf("StripeWrites:\n  %s", strings.Join(got, "\n  "))
	}
	if s := rows[0][8]; s != "insert into Customers(`Name`) values (:redacted1), (:redacted2)" {
		t.Errorf("statement recorded as %v", s)
	}
	// The key was taken by the first statement: the second had its own.
	if k := fmt.Sprint(e.mustExec("SELECT IdempotencyKey FROM StripeWrites WHERE Id = 3")[0][0]); !strings.HasPrefix(k, "sq_") || !strings.HasSuffix(k, ":1") {
		t.Errorf("second statement's key %s, want a random sq_…:1", k)
	}
	e.wantErr("DELETE FROM StripeWrites", "table doesn't support DELETE")
	e.wantErr("INSERT INTO StripeWrites (Verb) VALUES ('x')", "table doesn't support INSERT")

	e.fake.writes()
	e.mustExec("SET stripe_idempotency_key = '" + strings.Repeat("k", maxKeyBase+1) + "'")
	e.wantErr("INSERT INTO Customers (Name) VALUES ('c')", "stripe_idempotency_key must be at most 160")
	sameLines(t, "requests after a bad key", e.fake.writes(), nil)

	// A refused key stays set until the session changes it.
	e.mustExec("SET stripe_idempotency_key = ''")
	// A write on a Connect account records the account.
	e.mustExec("SET stripe_account = 'acct_1'")
	e.mustExec("INSERT INTO Customers (Name) VALUES ('on connect')")
	rows = e.mustExec("SELECT Account, Outcome FROM StripeWrites ORDER BY Id DESC LIMIT 1")
	if fmt.Sprint(rows[0]...) != "acct_1applied" {
		t.Errorf("last write: %v, want acct_1 applied", rows[0])
	}
}
