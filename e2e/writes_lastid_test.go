package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The id Stripe assigned reaches a database/sql client on the connection
// that inserted, with no Stripe call, and only there.
func TestLastInsertIDOnOneConn(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	if v := c.value("SELECT stripe_last_insert_id()"); v != "NULL" {
		t.Errorf("before any INSERT: stripe_last_insert_id() = %s, want NULL", v)
	}
	if v := c.value("SELECT stripe_last_insert_ids()"); v != "[]" {
		t.Errorf("before any INSERT: stripe_last_insert_ids() = %s, want []", v)
	}
	c.exec("INSERT INTO Customers (Name) VALUES ('first'), ('second')")
	ids := e.emu.IDs("customer")[:2] // newest first
	rows, reqs := c.query("SELECT stripe_last_insert_id() AS id, stripe_last_insert_ids() AS ids")
	wantLines(t, "the functions", reqs, nil)
	wantRow(t, "after a 2-row INSERT", rows[0], map[string]string{"id": ids[1], "ids": `["` + ids[1] + `", "` + ids[0] + `"]`})

	// The id is usable at once, in the same session.
	wantRow(t, "read back", c.row("SELECT Name FROM Customers WHERE Id = stripe_last_insert_id()"), map[string]string{"Name": "first"})

	other := e.conn(t)
	if v := other.value("SELECT stripe_last_insert_id()"); v != "NULL" {
		t.Errorf("another connection sees %s", v)
	}
}

// The stock mysql client gets the id in one invocation: INSERT and SELECT
// stripe_last_insert_id() as a multi-statement -e, as scripts run it.
func TestLastInsertIDThroughMySQLClient(t *testing.T) {
	mysqlCLI, err := exec.LookPath("mysql")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the mysql client is not installed; make test installs it")
		}
		t.Skip("the mysql client is not installed (make test installs it)")
	}
	e := newEnv(t)
	host, port, err := net.SplitHostPort(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), mysqlCLI, "-h", host, "-P", port, "-u", "root", "--batch", "stripe",
		"-e", "INSERT INTO Customers (Name) VALUES ('abc'); SELECT stripe_last_insert_id()").CombinedOutput()
	if err != nil {
		t.Fatalf("mysql: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	newest := e.emu.IDs("customer")[0]
	if len(lines) != 2 || lines[0] != "stripe_last_insert_id()" || lines[1] != newest {
		t.Errorf("mysql printed:\n%s\nwant the header and %s", out, newest)
	}
	if got := e.emu.Get("customer", newest)["name"]; got != "abc" {
		t.Errorf("customer %s has name %v", newest, got)
	}
}

// stripe_last_insert_id() is folded into its value before pushdown:
// WHERE Id = stripe_last_insert_id() is one retrieve, as a literal id is,
// and EXPLAIN shows that retrieve.
func TestLastInsertIDIsOneRetrieve(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	c.exec("INSERT INTO Customers (Name) VALUES ('folded')")
	id := c.lastID()
	rows, reqs := c.query("SELECT Name FROM Customers WHERE Id = stripe_last_insert_id()")
	wantLines(t, "WHERE Id = stripe_last_insert_id()", reqs, []string{"GET /v1/customers/" + id})
	if len(rows) != 1 || rows[0]["Name"] != "folded" {
		t.Errorf("rows = %v", rows)
	}
	plan, _ := c.query("EXPLAIN SELECT Name FROM Customers WHERE Id = stripe_last_insert_id()")
	var text []string
	for _, r := range plan {
		for _, v := range r {
			text = append(text, v)
		}
	}
	if !strings.Contains(strings.Join(text, "\n"), "GET /v1/customers/"+id) {
		t.Errorf("EXPLAIN does not show the retrieve of %s:\n%s", id, strings.Join(text, "\n"))
	}
	// Another INSERT moves it: the next statement reads the new id.
	c.exec("INSERT INTO Customers (Name) VALUES ('second')")
	if got := c.value("SELECT Name FROM Customers WHERE Id = stripe_last_insert_id()"); got != "second" {
		t.Errorf("after a second INSERT: %q", got)
	}
}

// The same fold in an UPDATE: one retrieve, then the update.
func TestLastInsertIDInUpdateIsOneRetrieve(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	c.exec("INSERT INTO Customers (Name) VALUES ('to update')")
	id := c.lastID()
	reqs := c.exec("UPDATE Customers SET Description = 'folded' WHERE Id = stripe_last_insert_id()")
	wantLines(t, "UPDATE … WHERE Id = stripe_last_insert_id()", reqs, []string{"GET /v1/customers/" + id, "POST /v1/customers/" + id + " description=folded"})
}
