package tables

// What ROLLBACK says about Stripe writes. A write goes to Stripe when its
// statement runs and cannot be taken back, so a transaction is only a
// bracket around statements: ROLLBACK (or ROLLBACK TO SAVEPOINT) after
// writes in that bracket keeps them, and says so as MySQL does for tables
// that cannot roll back (warning 1196), or, with
// SET stripe_rollback = 'error', fails with that code so that a program
// that does not read warnings cannot miss it. The server's sessions call
// Mark when a transaction or savepoint begins and RolledBack when it is
// rolled back; the record of writes (write_log.go) says what was written.

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// RollbackVariable: SET stripe_rollback = 'error' makes a ROLLBACK after
// writes an error (1196) rather than a warning (1196).
const RollbackVariable = "stripe_rollback"

// ErrNotRolledBack is MySQL's ER_WARNING_NOT_COMPLETE_ROLLBACK ("Some
// non-transactional changed tables couldn't be rolled back").
const ErrNotRolledBack = 1196

// maxRollbackNames bounds the objects one message names.
const maxRollbackNames = 20

var registerRollbackOnce sync.Once

// registerRollbackVariable adds stripe_rollback to GMS's process-wide
// registry of variables (see RegisterSystemVariables for why there).
func registerRollbackVariable() {
	registerRollbackOnce.Do(func() {
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
			&sql.MysqlSystemVariable{
				Name: RollbackVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemEnumType(RollbackVariable, "warning", "error"), Default: "warning",
			},
		})
	})
}

// Mark is a position in the record of writes: the writes made after it
// have sequence numbers at or above it.
func (d *Database) Mark() int64 {
	registerRollbackVariable()
	l := d.writes().log
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// RolledBack is told that connection conn rolled back to mark. When the
// connection wrote to Stripe since (applied, or possibly applied), it
// adds warning 1196 naming what stays written, or returns error 1196 if
// the session set stripe_rollback = 'error'.
func (d *Database) RolledBack(ctx *sql.Context, conn uint32, mark int64) error {
	kept := d.writtenSince(conn, mark)
	if len(kept) == 0 {
		return nil
	}
	msg := rollbackMessage(kept)
	if v, err := ctx.GetSessionVariable(ctx, RollbackVariable); err == nil && strings.EqualFold(toString(v), "error") {
		return mysql.NewSQLError(ErrNotRolledBack, "HY000", "%s", msg)
	}
	ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: ErrNotRolledBack, Message: msg})
	return nil
}

// writtenSince describes conn's writes from mark on that reached, or may
// have reached, Stripe: "created Customers cus_123".
func (d *Database) writtenSince(conn uint32, mark int64) []string {
	l := d.writes().log
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Seq < mark || r.Conn != conn {
			continue
		}
		switch r.Outcome {
		case outcomeApplied, outcomePending, outcomeUnknown:
		default:
			continue // refused or not sent: nothing to keep
		}
		s := r.Verb + " " + r.Target
		if r.ObjectID != "" {
			s += " " + r.ObjectID
		}
		if r.Outcome != outcomeApplied {
			s += " (" + string(r.Outcome) + ")"
		}
		out = append(out, s)
	}
	return out
}

func rollbackMessage(kept []string) string {
	names := kept
	more := ""
	if len(names) > maxRollbackNames {
		more = fmt.Sprintf(" and %d more (see StripeWrites)", len(names)-maxRollbackNames)
		names = names[:maxRollbackNames]
	}
	return fmt.Sprintf("Some non-transactional changed tables couldn't be rolled back: "+
		"Stripe writes happen when their statement runs, and %d stay written: %s%s",
		len(kept), strings.Join(names, ", "), more)
}
