package e2e

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/tables"
)

// wantForeignKeys lists "Table.Column -> Parent.Id" for every catalog
// reference to a single table the catalog serves.
func wantForeignKeys(cat *catalog.Catalog) []string {
	var want []string
	for _, def := range cat.Tables() {
		for _, c := range def.Columns {
			if c.Ref == "" || c.Polymorphic {
				continue
			}
			if parent, ok := cat.Lookup(c.Ref); ok {
				want = append(want, def.Name+"."+c.Name+" -> "+parent.Name+".Id")
			}
		}
	}
	sort.Strings(want)
	return want
}

func TestEveryReferenceIsAForeignKeyAtZeroCalls(t *testing.T) {
	e := newEnv(t)
	want := wantForeignKeys(catalog.Builtin())
	if len(want) < 10 {
		t.Fatalf("only %d references in the catalog", len(want))
	}
	found := false
	for _, w := range want {
		found = found || w == "Invoices.CustomerId -> Customers.Id"
	}
	if !found {
		t.Fatalf("Invoices.CustomerId -> Customers.Id is not a catalog reference: %v", want)
	}

	e.emu.ResetRequests()
	var got []string
	for _, r := range e.query(t, `SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
		FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = 'stripe' AND REFERENCED_TABLE_NAME IS NOT NULL`) {
		got = append(got, r[0].String+"."+r[1].String+" -> "+r[2].String+"."+r[3].String)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("KEY_COLUMN_USAGE foreign keys:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	rc := e.query(t, `SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = 'stripe' AND TABLE_NAME = 'Invoices' AND REFERENCED_TABLE_NAME = 'Customers'`)
	if len(rc) != 1 || rc[0][0].String != "fk_Invoices_CustomerId" {
		t.Errorf("REFERENTIAL_CONSTRAINTS for Invoices -> Customers: %v", rc)
	}
	n := e.query(t, `SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'stripe'`)
	if n[0][0].String != strconv.Itoa(len(want)) {
		t.Errorf("%s REFERENTIAL_CONSTRAINTS, want %d", n[0][0].String, len(want))
	}

	create := e.query(t, "SHOW CREATE TABLE Invoices")[0][1].String
	if !strings.Contains(create, "CONSTRAINT `fk_Invoices_CustomerId` FOREIGN KEY (`CustomerId`) REFERENCES `Customers` (`Id`)") {
		t.Errorf("SHOW CREATE TABLE Invoices has no key to Customers:\n%s", create)
	}
	if reqs := e.emu.Requests(); len(reqs) != 0 {
		t.Errorf("metadata queries made %d Stripe calls: %v", len(reqs), reqs[0].Path)
	}
	t.Logf("%d foreign keys, 0 Stripe calls", len(got))
}

// TestForeignKeysAreNeverChecked: a write into a table with foreign keys
// sends only its own request, and a session that turns the engine's checks
// on is refused before any request.
func TestForeignKeysAreNeverChecked(t *testing.T) {
	e := newEnv(t)
	if v := e.query(t, "SELECT @@foreign_key_checks")[0][0].String; v != "0" {
		t.Errorf("@@foreign_key_checks = %s, want 0", v)
	}
	customer := e.list(t, "/v1/customers", "")[0]["id"].(string)
	ctx := context.Background()
	conn := pinnedConn(t, e)

	e.emu.ResetRequests()
	mustExec(t, conn, "INSERT INTO Invoices (CustomerId) VALUES ('"+customer+"')")
	var lines []string
	for _, r := range e.emu.Requests() {
		lines = append(lines, r.Method+" "+r.Path)
	}
	if strings.Join(lines, "\n") != "POST /v1/invoices" {
		t.Errorf("INSERT INTO Invoices sent:\n%s\nwant only POST /v1/invoices", strings.Join(lines, "\n"))
	}

	e.emu.ResetRequests()
	mustExec(t, conn, "SET foreign_key_checks = 1")
	_, err := conn.ExecContext(ctx, "INSERT INTO Invoices (CustomerId) VALUES ('"+customer+"')")
	me, ok := err.(*mysql.MySQLError)
	if !ok || me.Number != tables.ErrCodeForeignKeyDDL || !strings.Contains(me.Message, "SET foreign_key_checks = 0") {
		t.Errorf("INSERT with foreign_key_checks = 1: %v", err)
	}
	if reqs := e.emu.Requests(); len(reqs) != 0 {
		t.Errorf("a refused write sent %d requests", len(reqs))
	}
	_, err = conn.ExecContext(ctx, "ALTER TABLE Invoices DROP FOREIGN KEY fk_Invoices_CustomerId")
	if err == nil || !strings.Contains(err.Error(), "cannot be added, changed or dropped") {
		t.Errorf("DROP FOREIGN KEY: %v", err)
	}
}
