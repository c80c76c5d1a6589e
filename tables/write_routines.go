package tables

import (
	"errors"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// The engine lists stored procedures (SHOW PROCEDURE STATUS,
// information_schema.ROUTINES and PARAMETERS, SHOW CREATE PROCEDURE) from
// the database's sql.StoredProcedureDatabase methods only; the Go
// procedures it runs (sql.ExternalStoredProcedureDetails, served by the
// provider) never appear there. So the database also lists descriptions of
// those procedures: a CREATE PROCEDURE statement with the real parameter
// names and types and a comment saying what the procedure does. CALL still
// runs the Go procedure, which the engine resolves before it looks at the
// database; the listed body is never executed.

var _ sql.StoredProcedureDatabase = (*Database)(nil)

// errProceduresBuiltIn refuses CREATE and DROP PROCEDURE.
var errProceduresBuiltIn = errors.New("stripesql: stored procedures are built in (the Stripe actions); CREATE PROCEDURE and DROP PROCEDURE are not supported")

// ListProcedures sets the procedure descriptions the database lists.
func (d *Database) ListProcedures(procs []sql.StoredProcedureDetails) {
	w := d.writes()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.procedures = append([]sql.StoredProcedureDetails(nil), procs...)
}

// GetStoredProcedure implements sql.StoredProcedureDatabase.
func (d *Database) GetStoredProcedure(_ *sql.Context, name string) (sql.StoredProcedureDetails, bool, error) {
	w := d.writes()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procedures {
		if strings.EqualFold(p.Name, name) {
			return p, true, nil
		}
	}
	return sql.StoredProcedureDetails{}, false, nil
}

// GetStoredProcedures implements sql.StoredProcedureDatabase.
func (d *Database) GetStoredProcedures(*sql.Context) ([]sql.StoredProcedureDetails, error) {
	w := d.writes()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sql.StoredProcedureDetails(nil), w.procedures...), nil
}

// SaveStoredProcedure implements sql.StoredProcedureDatabase: refused.
func (d *Database) SaveStoredProcedure(*sql.Context, sql.StoredProcedureDetails) error {
	return errProceduresBuiltIn
}

// DropStoredProcedure implements sql.StoredProcedureDatabase: refused.
func (d *Database) DropStoredProcedure(*sql.Context, string) error {
	return errProceduresBuiltIn
}
