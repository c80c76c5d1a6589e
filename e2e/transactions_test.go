package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// warnings reads SHOW WARNINGS on c as "code message" lines.
func (c *conn) warnings() []string {
	c.t.Helper()
	rows, _ := c.query("SHOW WARNINGS")
	var out []string
	for _, r := range rows {
		out = append(out, r["Code"]+" "+r["Message"])
	}
	return out
}

// database/sql's tx.Rollback() after an INSERT: the customer stays
// created, and the connection is told so by warning 1196 naming it.
func TestRollbackAfterInsertWarns(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	ctx := context.Background()
	tx, err := c.c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO Customers (Name) VALUES ('rolled back')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("tx.Rollback() = %v, want nil (a warning)", err)
	}
	id := e.emu.IDs("customer")[0]
	if got := e.emu.Get("customer", id)["name"]; got != "rolled back" {
		t.Fatalf("newest customer %s has name %v", id, got)
	}
	w := c.warnings()
	if len(w) != 1 || !strings.HasPrefix(w[0], "1196 ") || !strings.Contains(w[0], "INSERT Customers "+id) {
		t.Errorf("warnings after ROLLBACK = %q, want one 1196 naming INSERT Customers %s", w, id)
	}

	// A rollback with no write in the transaction says nothing; nor does
	// a ROLLBACK after an autocommitted INSERT (its transaction ended).
	c.exec("INSERT INTO Customers (Name) VALUES ('autocommitted')")
	c.exec("ROLLBACK")
	if w := c.warnings(); len(w) != 0 {
		t.Errorf("ROLLBACK after an autocommitted INSERT warned %q", w)
	}
	c.exec("START TRANSACTION")
	c.exec("ROLLBACK")
	if w := c.warnings(); len(w) != 0 {
		t.Errorf("empty transaction's ROLLBACK warned %q", w)
	}
}

// With stripe_rollback = 'error' the rollback fails with 1196, so a program
// that never reads warnings still learns the write stayed; the next
// transaction starts clean.
func TestRollbackErrorMode(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	ctx := context.Background()
	c.exec("SET stripe_rollback = 'error'")
	tx, err := c.c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO Customers (Name) VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	err = tx.Rollback()
	id := e.emu.IDs("customer")[0]
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1196 || !strings.Contains(me.Message, "INSERT Customers "+id) {
		t.Fatalf("tx.Rollback() = %v, want error 1196 naming %s", err, id)
	}
	c.exec("START TRANSACTION")
	c.exec("ROLLBACK")
}

// Savepoints: ROLLBACK TO SAVEPOINT names only the writes after the
// savepoint; an unknown savepoint is MySQL's error.
func TestRollbackToSavepoint(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	c.exec("START TRANSACTION")
	c.exec("INSERT INTO Customers (Name) VALUES ('before')")
	before := e.emu.IDs("customer")[0]
	c.exec("SAVEPOINT s1")
	c.exec("INSERT INTO Customers (Name) VALUES ('after')")
	after := e.emu.IDs("customer")[0]
	c.exec("ROLLBACK TO SAVEPOINT s1")
	w := c.warnings()
	if len(w) != 1 || !strings.Contains(w[0], "INSERT Customers "+after) || strings.Contains(w[0], before) {
		t.Errorf("warnings after ROLLBACK TO s1 = %q, want 1196 naming %s only", w, after)
	}
	if err, _ := c.fail("ROLLBACK TO SAVEPOINT nosuch"); !strings.Contains(err.Error(), "SAVEPOINT nosuch does not exist") {
		t.Errorf("unknown savepoint: %v", err)
	}
	c.exec("ROLLBACK")
	w = c.warnings()
	if len(w) != 1 || !strings.Contains(w[0], "2 stay written") || !strings.Contains(w[0], before) || !strings.Contains(w[0], after) {
		t.Errorf("warnings after ROLLBACK = %q, want both customers", w)
	}
}
