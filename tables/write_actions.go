package tables

import (
	"fmt"
	"net/http"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/stripeapi"
)

// What stored procedures (package procedures) need from the database: the
// same write guard and error mapping as INSERT, and rows in the tables'
// own column layout.

// Action makes one Stripe action call (method POST or DELETE on path) for
// a stored procedure. The live-mode guard applies as for any write, and a
// Stripe failure is returned as StripeError's MySQL error.
func (d *Database) Action(ctx *sql.Context, method, path string, params stripeapi.Params) (stripeapi.Object, error) {
	if err := d.checkWritable(); err != nil {
		return nil, err
	}
	var obj stripeapi.Object
	var err error
	switch method {
	case http.MethodPost:
		obj, err = d.client.Post(ctx, path, params, accountOption(ctx))
	case http.MethodDelete:
		obj, err = d.client.Delete(ctx, path, params, accountOption(ctx))
	default:
		return nil, fmt.Errorf("action %s %s: unsupported method", method, path)
	}
	if err != nil {
		return nil, StripeError(err)
	}
	return obj, nil
}

// ResultColumns returns the columns of a table (by name or alias) for a
// result set that carries its rows: the table's schema, without the table
// as source and without key or default.
func (d *Database) ResultColumns(table string) (sql.Schema, error) {
	def, ok := d.catalog.Lookup(table)
	if !ok {
		return nil, fmt.Errorf("no table %s", table)
	}
	out := make(sql.Schema, 0, len(def.Columns))
	for _, c := range d.tables[def].schema {
		cp := *c
		cp.Source, cp.DatabaseSource, cp.PrimaryKey, cp.Default = "", "", false, nil
		cp.Nullable = true
		out = append(out, &cp)
	}
	return out, nil
}

// ResultRow converts a Stripe object of the table into values in the order
// of ResultColumns.
func (d *Database) ResultRow(table string, obj stripeapi.Object) (sql.Row, error) {
	def, ok := d.catalog.Lookup(table)
	if !ok {
		return nil, fmt.Errorf("no table %s", table)
	}
	return rowOf(def, obj)
}
