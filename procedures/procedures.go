// Package procedures exposes Stripe actions (confirm a payment intent,
// finalize an invoice, …) as stored procedures:
//
//	CALL FinalizeInvoice('in_1OhnXRANHgX3SHp73ufStlXy');
//
// Each procedure is one row of the actions table below: its name, its SQL
// parameters, the Stripe call it makes and the result set it returns. A
// procedure returns one row: Success ('true') and, for actions on an object
// the catalog has as a table, that object's columns as Stripe returned
// them. A failed call is a MySQL error (1644, SQLSTATE 45000) carrying
// Stripe's error type, code and message.
//
// Arguments are converted by the engine to the parameter types (a string
// for an id, BIGINT for an amount), so a wrong-typed argument is refused
// before the procedure runs. The engine passes SQL NULL as the Go zero
// value, so a NULL or empty id is refused by the procedure, before any
// request.
package procedures

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// kind is the SQL type of an optional parameter.
type kind int

const (
	text    kind = iota // a Go string: LONGTEXT
	integer             // a Go int64: BIGINT
)

// param is a parameter after the id.
type param struct {
	name     string // as documented: ReturnUrl
	form     string // the Stripe parameter: return_url
	kind     kind
	required bool
}

// action is one stored procedure.
type action struct {
	name string
	// idName names the first parameter (PaymentIntentId) in errors.
	idName string
	method string
	// path holds {id}, filled with the escaped first argument.
	path string
	// second is a required second parameter (AttachPaymentMethodToCustomer's
	// CustomerId), sent as a form parameter.
	second *param
	// optional parameters each add an overload: ConfirmPaymentIntent(id)
	// and ConfirmPaymentIntent(id, ReturnUrl).
	optional []param
	// table is the table whose columns follow Success; "" for none.
	table string
	// invoiceID makes the result InvoiceId, Success (AcceptQuote), the
	// invoice being the returned object's "invoice".
	invoiceID bool
}

// actions are the procedures, in the order SHOW PROCEDURE STATUS would
// list them: the nine of the connector contract, then the rest.
var actions = []action{
	{name: "ConfirmPaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/confirm",
		optional: []param{{name: "ReturnUrl", form: "return_url", kind: text}}, table: "PaymentIntents"},
	{name: "CapturePaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/capture",
		optional: []param{{name: "AmountToCapture", form: "amount_to_capture", kind: integer}}, table: "PaymentIntents"},
	{name: "CancelPaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/cancel",
		table: "PaymentIntents"},
	{name: "AttachPaymentMethodToCustomer", idName: "PaymentMethodId", method: http.MethodPost, path: "/v1/payment_methods/{id}/attach",
		second: &param{"CustomerId", "customer", text, true}},
	{name: "DetachPaymentMethodFromCustomer", idName: "PaymentMethodId", method: http.MethodPost, path: "/v1/payment_methods/{id}/detach"},
	{name: "FinalizeInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/finalize", table: "Invoices"},
	{name: "FinalizeQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/finalize"},
	{name: "AcceptQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/accept", invoiceID: true},
	{name: "CancelQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/cancel"},

	{name: "VoidInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/void", table: "Invoices"},
	{name: "PayInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/pay", table: "Invoices"},
	{name: "SendInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/send", table: "Invoices"},
	{name: "MarkInvoiceUncollectible", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/mark_uncollectible", table: "Invoices"},
	{name: "CancelSubscription", idName: "SubscriptionId", method: http.MethodDelete, path: "/v1/subscriptions/{id}", table: "Subscriptions"},
	{name: "ResumeSubscription", idName: "SubscriptionId", method: http.MethodPost, path: "/v1/subscriptions/{id}/resume", table: "Subscriptions"},
	{name: "RefundCharge", idName: "ChargeId", method: http.MethodPost, path: "/v1/charges/{id}/refund",
		optional: []param{{name: "Amount", form: "amount", kind: integer}}, table: "Charges"},
	{name: "CancelRefund", idName: "RefundId", method: http.MethodPost, path: "/v1/refunds/{id}/cancel", table: "Refunds"},
}

// All returns the stored procedures of db's actions, one entry per
// overload, and makes db list them (SHOW PROCEDURE STATUS,
// information_schema.ROUTINES), which the engine does not do for Go
// procedures. Names keep their documented case; server.Config.Procedures
// registers them case-insensitively.
func All(db *tables.Database) ([]sql.ExternalStoredProcedureDetails, error) {
	var out []sql.ExternalStoredProcedureDetails
	var listing []sql.StoredProcedureDetails
	for _, a := range actions {
		listing = append(listing, sql.StoredProcedureDetails{
			Name:            a.name,
			CreateStatement: a.createStatement(),
			CreatedAt:       listedAt,
			ModifiedAt:      listedAt,
		})
		schema, err := a.schema(db)
		if err != nil {
			return nil, fmt.Errorf("procedure %s: %w", a.name, err)
		}
		for n := 0; n <= len(a.optional); n++ {
			fn, err := a.function(db, a.optional[:n])
			if err != nil {
				return nil, fmt.Errorf("procedure %s: %w", a.name, err)
			}
			out = append(out, sql.ExternalStoredProcedureDetails{
				Name:     a.name,
				Schema:   schema,
				Function: fn,
				// Every action changes Stripe: a read-only server refuses it.
				ReadOnly: false,
			})
		}
	}
	db.ListProcedures(listing)
	return out, nil
}

// listedAt is the creation time procedures are listed with (GMS uses the
// same for its own Go procedures).
var listedAt = time.Unix(1, 0).UTC()

// createStatement describes the procedure as the CREATE PROCEDURE that
// information_schema and SHOW CREATE PROCEDURE show: its parameters (all
// of them; optional ones are named in the comment), and in the comment
// the Stripe call and the result. The body is never run.
func (a action) createStatement() string {
	params := []string{"IN " + a.idName + " VARCHAR(255)"}
	var optional []string
	for _, p := range append(a.leading(), a.optional...) {
		params = append(params, "IN "+p.name+" "+p.kind.sqlType())
	}
	for _, p := range a.optional {
		optional = append(optional, p.name)
	}
	comment := "Stripe action: " + a.method + " " + a.path + "; returns "
	switch {
	case a.invoiceID:
		comment += "InvoiceId, Success"
	case a.table != "":
		comment += "Success and the " + a.table + " columns"
	default:
		comment += "Success"
	}
	if len(optional) > 0 {
		comment += "; " + strings.Join(optional, ", ") + " may be left out"
	}
	return fmt.Sprintf("CREATE PROCEDURE %s(%s) COMMENT '%s' SELECT 'stripesql built-in procedure'",
		a.name, strings.Join(params, ", "), strings.ReplaceAll(comment, "'", "''"))
}

// leading returns the required parameters after the id.
func (a action) leading() []param {
	if a.second == nil {
		return nil
	}
	return []param{*a.second}
}

func (k kind) sqlType() string {
	if k == integer {
		return "BIGINT"
	}
	return "VARCHAR(255)"
}

var successType = types.MustCreateStringWithDefaults(sqltypes.VarChar, 5)

// schema is the result set: Success and the table's columns, or InvoiceId
// and Success.
func (a action) schema(db *tables.Database) (sql.Schema, error) {
	success := &sql.Column{Name: "Success", Type: successType, Source: a.name}
	if a.invoiceID {
		inv := &sql.Column{Name: "InvoiceId", Type: types.MustCreateStringWithDefaults(sqltypes.VarChar, 255), Nullable: true, Source: a.name}
		return sql.Schema{inv, success}, nil
	}
	schema := sql.Schema{success}
	if a.table != "" {
		cols, err := db.ResultColumns(a.table)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			c.Source = a.name
		}
		schema = append(schema, cols...)
	}
	return schema, nil
}

// function returns the Go function GMS calls, of the shape its parameters
// need: func(*sql.Context, string[, string|int64]...) (sql.RowIter, error).
// GMS reads the SQL parameter types from the Go signature, so the function
// is built per shape; each shape forwards to run.
func (a action) function(db *tables.Database, optional []param) (any, error) {
	params := append(a.leading(), optional...)
	run := func(ctx *sql.Context, id string, args ...any) (sql.RowIter, error) {
		return a.run(ctx, db, id, params, args)
	}
	switch shape(params) {
	case "":
		return func(ctx *sql.Context, id string) (sql.RowIter, error) { return run(ctx, id) }, nil
	case "s":
		return func(ctx *sql.Context, id, s string) (sql.RowIter, error) { return run(ctx, id, s) }, nil
	case "i":
		return func(ctx *sql.Context, id string, n int64) (sql.RowIter, error) { return run(ctx, id, n) }, nil
	}
	return nil, fmt.Errorf("no function shape for parameters %q", shape(params))
}

func shape(params []param) string {
	var b strings.Builder
	for _, p := range params {
		if p.kind == integer {
			b.WriteByte('i')
		} else {
			b.WriteByte('s')
		}
	}
	return b.String()
}

// run makes the action's call and builds its result row.
func (a action) run(ctx *sql.Context, db *tables.Database, id string, params []param, args []any) (sql.RowIter, error) {
	if strings.TrimSpace(id) == "" {
		return nil, fmt.Errorf("%s: %s is required (got NULL or '')", a.name, a.idName)
	}
	var form stripeapi.Params
	for i, p := range params {
		switch v := args[i].(type) {
		case string:
			if strings.TrimSpace(v) == "" {
				if p.required {
					return nil, fmt.Errorf("%s: %s is required (got NULL or '')", a.name, p.name)
				}
				continue // an optional text left NULL: not sent
			}
			form.Add(p.form, v)
		case int64:
			// NULL arrives as 0, which no Stripe amount may be.
			if v <= 0 {
				return nil, fmt.Errorf("%s: %s must be a positive amount in minor units (got %d or NULL)", a.name, p.name, v)
			}
			form.Add(p.form, strconv.FormatInt(v, 10))
		}
	}
	path := strings.ReplaceAll(a.path, "{id}", stripeapi.EscapeID(id))
	obj, err := db.Action(ctx, a.method, path, form)
	if err != nil {
		return nil, err
	}
	if a.invoiceID {
		var inv any
		if s := stringField(obj["invoice"]); s != "" {
			inv = s
		}
		return sql.RowsToRowIter(sql.Row{inv, "true"}), nil
	}
	row := sql.Row{"true"}
	if a.table != "" {
		vals, err := db.ResultRow(a.table, obj)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		row = append(row, vals...)
	}
	return sql.RowsToRowIter(row), nil
}

// stringField reads an id that may be expanded into an object.
func stringField(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}
