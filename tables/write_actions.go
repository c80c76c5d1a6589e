package tables

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/stripeapi"
)

// What stored procedures (package procedures) need from the database: the
// same write guard and error mapping as INSERT, and rows in the tables'
// own column layout.

// Action makes one Stripe action call (method POST or DELETE on path) for
// the stored procedure named procedure. The live-mode guard applies as for
// any write; the call carries an idempotency key derived from the
// session's stripe_idempotency_key (or a random one), is recorded in
// StripeWrites, and fails with StripeError's MySQL error when Stripe
// refuses it, or with ErrWriteOutcomeUnknown when its outcome is unknown.
// A cancel, void or delete whose answer was lost, or whose retry Stripe
// answers "already canceled", is verified with a retrieve.
func (d *Database) Action(ctx *sql.Context, procedure, method, path string, params stripeapi.Params) (stripeapi.Object, error) {
	if err := d.checkWritable(); err != nil {
		return nil, err
	}
	if method != http.MethodPost && method != http.MethodDelete {
		return nil, fmt.Errorf("action %s %s: unsupported method", method, path)
	}
	st, err := d.beginStatement(ctx, "CALL", procedure)
	if err != nil {
		return nil, err
	}
	call := &writeCall{row: 1, method: method, path: path, params: params, verify: actionVerification(method, path)}
	if method == http.MethodPost {
		call.key = st.key("1")
	}
	res := d.write(ctx, st, call)
	switch res.outcome {
	case outcomeApplied:
		if res.obj == nil {
			// Verified after a lost answer: the object as it is now.
			obj, err := d.client.Get(ctx, call.verify.path, nil, accountOption(ctx))
			if err != nil {
				return stripeapi.Object{"id": res.id}, nil
			}
			return obj, nil
		}
		return res.obj, nil
	case outcomeUnknown:
		return nil, mysql.NewSQLError(ErrWriteOutcomeUnknown, StateWriteOutcomeUnknown,
			"outcome unknown: CALL %s%s: %v. %s", procedure, keyNote(call.key), res.err, st.retryAdvice())
	case outcomeNotSent:
		return nil, mysql.NewSQLError(1644, "45000", "CALL %s not sent: %v", procedure, res.err)
	}
	return nil, StripeError(res.err)
}

func keyNote(key string) string {
	if key == "" {
		return ""
	}
	return " (key " + key + ")"
}

// actionVerifications are the actions whose effect shows in the status
// of the object they act on, by the path's last segment.
var actionVerifications = map[string]string{
	"cancel":             "canceled",
	"void":               "void",
	"mark_uncollectible": "uncollectible",
}

// actionVerification is how to confirm an action took effect, or nil:
// a DELETE (of a subscription: a cancel) by a retrieve of the same path,
// a POST …/{id}/cancel (void, mark_uncollectible) by the object's status.
func actionVerification(method, path string) *verification {
	if method == http.MethodDelete {
		v := &verification{path: path}
		if strings.HasPrefix(path, "/v1/subscriptions/") {
			v.status = "canceled"
		}
		return v
	}
	i := strings.LastIndex(path, "/")
	status, ok := actionVerifications[path[i+1:]]
	if !ok || i <= len("/v1/") {
		return nil
	}
	return &verification{path: path[:i], status: status}
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
// of ResultColumns, TIMESTAMPs as the clock reads in zone (the session's
// time zone, as a SELECT shows them).
func (d *Database) ResultRow(table string, obj stripeapi.Object, zone *time.Location) (sql.Row, error) {
	def, ok := d.catalog.Lookup(table)
	if !ok {
		return nil, fmt.Errorf("no table %s", table)
	}
	return rowOf(def, obj, zone)
}
