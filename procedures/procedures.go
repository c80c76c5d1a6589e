// Package procedures exposes Stripe actions (confirm a payment intent,
// finalize an invoice, …) as stored procedures:
//
//	CALL FinalizeInvoice('in_1OhnXRANHgX3SHp73ufStlXy');
//
// There are two sources of procedures. The actions of the database's
// catalog (catalog.Action, generated from Stripe's OpenAPI spec: one per
// action endpoint such as POST /v1/checkout/sessions/{session}/expire),
// and the hand-written ones below: the connector contract's nine, with the
// exact names and parameters its users know, and a few more. A hand-written
// procedure takes the place of the generated one for the same endpoint.
//
// A procedure returns one row: Success ('true') and, for actions returning
// an object the catalog has as a table, that object's columns as Stripe
// returned them. A failed call is a MySQL error (1644, SQLSTATE 45000)
// carrying Stripe's error type, code and message; a call whose outcome is
// unknown is error 50001 (SQLSTATE 08007) naming its idempotency key (see
// tables.Database.Action).
//
// Parameters: the path's ids first, then the required body parameters,
// then the optional scalar ones, each of which adds an overload
// (ConfirmPaymentIntent(id) and ConfirmPaymentIntent(id, ReturnUrl)).
// Arguments are converted by the engine to the parameter types (a string
// for an id, BIGINT for an amount), so a wrong-typed argument is refused
// before the procedure runs. The engine passes SQL NULL as the Go zero
// value: a NULL or empty id is refused before any request; an optional
// text, boolean or JSON parameter that is NULL or ” is not sent, nor is an
// optional integer that is NULL or 0. Booleans are taken as text ('true',
// 'false', 1, 0) so that NULL can mean "not sent"; required non-scalar
// parameters are JSON text (lines → lines[0][price]=…).
package procedures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/dolthub/vitess/go/mysql"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// kind is the SQL type of a parameter.
type kind int

const (
	text    kind = iota // a Go string: LONGTEXT
	integer             // a Go int64: BIGINT
	boolean             // a Go string: 'true' or 'false' (1, 0)
	jsonArg             // a Go string holding JSON
)

// param is one parameter of a procedure.
type param struct {
	name string // as documented: ReturnUrl
	// form is the Stripe parameter (return_url); placeholder instead names
	// the path segment the value fills ({id}).
	form        string
	placeholder string
	kind        kind
	required    bool
	// positive marks an amount: NULL (0) or a negative value is refused.
	positive bool
}

// action is one stored procedure.
type action struct {
	name string
	// idName names the first parameter (PaymentIntentId), which fills
	// {id} in path. Generated actions set params instead.
	idName string
	method string
	path   string
	// second is a required second parameter (AttachPaymentMethodToCustomer's
	// CustomerId), sent as a form parameter.
	second *param
	// params, when set, are all the required parameters, path ids first.
	params []param
	// optional parameters each add an overload: ConfirmPaymentIntent(id)
	// and ConfirmPaymentIntent(id, ReturnUrl).
	optional []param
	// table is the table whose columns follow Success; "" for none. It
	// comes from the catalog, never from a hand-written entry.
	table string
	// result, when no table reads the returned object (an account link),
	// are that object's columns, which follow Success; object names it.
	result []catalog.Column
	object string
	// invoiceID makes the result InvoiceId, Success (AcceptQuote), the
	// invoice being the returned object's "invoice".
	invoiceID bool
	// summary describes a generated action (Stripe's summary).
	summary string
}

// actions are the hand-written procedures, in the order SHOW PROCEDURE
// STATUS would list them: the nine of the connector contract, then the
// rest. What each returns is not written here but read from the catalog
// (see resultFromCatalog), which declares every endpoint's object.
var actions = []action{
	{name: "ConfirmPaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/confirm",
		optional: []param{{name: "ReturnUrl", form: "return_url", kind: text}}},
	{name: "CapturePaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/capture",
		optional: []param{{name: "AmountToCapture", form: "amount_to_capture", kind: integer, positive: true}}},
	{name: "CancelPaymentIntent", idName: "PaymentIntentId", method: http.MethodPost, path: "/v1/payment_intents/{id}/cancel"},
	{name: "AttachPaymentMethodToCustomer", idName: "PaymentMethodId", method: http.MethodPost, path: "/v1/payment_methods/{id}/attach",
		second: &param{name: "CustomerId", form: "customer", kind: text, required: true}},
	{name: "DetachPaymentMethodFromCustomer", idName: "PaymentMethodId", method: http.MethodPost, path: "/v1/payment_methods/{id}/detach"},
	{name: "FinalizeInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/finalize"},
	{name: "FinalizeQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/finalize"},
	{name: "AcceptQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/accept", invoiceID: true},
	{name: "CancelQuote", idName: "QuoteId", method: http.MethodPost, path: "/v1/quotes/{id}/cancel"},

	{name: "VoidInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/void"},
	{name: "PayInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/pay"},
	{name: "SendInvoice", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/send"},
	{name: "MarkInvoiceUncollectible", idName: "InvoiceId", method: http.MethodPost, path: "/v1/invoices/{id}/mark_uncollectible"},
	{name: "CancelSubscription", idName: "SubscriptionId", method: http.MethodDelete, path: "/v1/subscriptions/{id}"},
	{name: "ResumeSubscription", idName: "SubscriptionId", method: http.MethodPost, path: "/v1/subscriptions/{id}/resume"},
	{name: "RefundCharge", idName: "ChargeId", method: http.MethodPost, path: "/v1/charges/{id}/refund",
		optional: []param{{name: "Amount", form: "amount", kind: integer, positive: true}}},
	{name: "CancelRefund", idName: "RefundId", method: http.MethodPost, path: "/v1/refunds/{id}/cancel"},
}

// All returns the stored procedures of db, one entry per overload: the
// hand-written ones and those of db's catalog's actions whose endpoint no
// hand-written one has. It makes db list them (SHOW PROCEDURE STATUS,
// information_schema.ROUTINES), which the engine does not do for Go
// procedures. Names keep their documented case; server.Config.Procedures
// registers them case-insensitively.
func All(db *tables.Database) ([]sql.ExternalStoredProcedureDetails, error) {
	list, err := describe(db.Catalog())
	if err != nil {
		return nil, err
	}
	var out []sql.ExternalStoredProcedureDetails
	var listing []sql.StoredProcedureDetails
	// The procedures come into being with the server: Created is when it
	// started (what SHOW PROCEDURE STATUS shows), not the Unix epoch.
	created := time.Now().UTC().Truncate(time.Second)
	for _, a := range list {
		listing = append(listing, sql.StoredProcedureDetails{
			Name:            a.name,
			CreateStatement: a.createStatement(),
			CreatedAt:       created,
			ModifiedAt:      created,
		})
		schema, err := a.schema(db)
		if err != nil {
			return nil, fmt.Errorf("procedure %s: %w", a.name, err)
		}
		for n := 0; n <= len(a.optional); n++ {
			out = append(out, sql.ExternalStoredProcedureDetails{
				Name:     a.name,
				Schema:   schema,
				Function: a.function(db, a.optional[:n]),
				// Every action changes Stripe: a read-only server refuses it.
				ReadOnly: false,
			})
		}
	}
	db.ListProcedures(listing)
	return out, nil
}

// Procedure describes one stored procedure for documentation.
type Procedure struct {
	Name     string
	Method   string
	Path     string
	Params   []string // "InvoiceId VARCHAR(255)", required ones first
	Optional int      // how many trailing Params may be left out
	Returns  string   // "Success and the Invoices columns"
	Summary  string
	Curated  bool // hand-written (the connector contract's and a few more)
}

// describe lists the procedures a database over cat serves, sorted as
// All registers them: the hand-written ones first.
func describe(cat *catalog.Catalog) ([]action, error) {
	list := append([]action(nil), actions...)
	taken := map[string]string{}
	names := map[string]bool{}
	for i, a := range actions {
		taken[a.method+" "+shape(a.path)] = a.name
		names[strings.ToLower(a.name)] = true
		if err := list[i].resultFromCatalog(cat); err != nil {
			return nil, err
		}
	}
	for _, ca := range cat.Actions() {
		if _, dup := taken[ca.Method+" "+shape(ca.Path)]; dup {
			continue // a hand-written procedure makes this call
		}
		if names[strings.ToLower(ca.Name)] {
			return nil, fmt.Errorf("procedure %s: the generated action %s %s has the name of a hand-written one", ca.Name, ca.Method, ca.Path)
		}
		a := fromCatalog(ca)
		a.setResult(ca)
		list = append(list, a)
	}
	return list, nil
}

// resultFromCatalog sets what a hand-written procedure returns after
// Success from the catalog: the result of the catalog's action for the
// same endpoint; without one (a catalog of tables only, such as
// catalog.Builtin, or a table's own DELETE), the table of the object
// whose endpoint the path is or acts on (/v1/invoices/{id}/finalize: the
// Invoices table's /v1/invoices/{id}). A procedure whose result the
// catalog does not know is an error, never a procedure that quietly
// returns only Success.
func (a *action) resultFromCatalog(cat *catalog.Catalog) error {
	if a.invoiceID {
		return nil // InvoiceId, Success: no object's columns
	}
	for _, ca := range cat.Actions() {
		if ca.Method == a.method && shape(ca.Path) == shape(a.path) {
			a.setResult(ca)
			if a.table == "" && len(a.result) == 0 {
				return fmt.Errorf("procedure %s: the catalog's action %s %s returns no table or columns", a.name, ca.Method, ca.Path)
			}
			return nil
		}
	}
	if t := objectTable(cat, a.path); t != nil {
		a.table = t.Name
		return nil
	}
	return fmt.Errorf("procedure %s: the catalog has no action for %s %s, nor a table whose objects it acts on", a.name, a.method, a.path)
}

// setResult takes the result of the catalog's action ca: its table's
// columns, or the columns of an object no table reads.
func (a *action) setResult(ca *catalog.Action) {
	a.table = ca.Table
	if a.table == "" && len(ca.Result) > 0 {
		a.result, a.object = ca.Result, ca.Object
	}
}

// objectTable returns the table whose object endpoint (retrieve, update
// or delete) path is, or is the start of, the longest match.
func objectTable(cat *catalog.Catalog, path string) *catalog.Table {
	want := shape(path)
	var best *catalog.Table
	bestLen := 0
	for _, t := range cat.Tables() {
		for _, p := range []string{t.RetrievePath, t.UpdatePath, t.DeletePath} {
			s := shape(p)
			if p == "" || len(s) <= bestLen || !(want == s || strings.HasPrefix(want, s+"/")) {
				continue
			}
			best, bestLen = t, len(s)
		}
	}
	return best
}

// Procedures documents the procedures a database over cat serves.
func Procedures(cat *catalog.Catalog) ([]Procedure, error) {
	list, err := describe(cat)
	if err != nil {
		return nil, err
	}
	out := make([]Procedure, 0, len(list))
	for i, a := range list {
		p := Procedure{Name: a.name, Method: a.method, Path: a.path, Optional: len(a.optional),
			Returns: a.returns(), Summary: a.summary, Curated: i < len(actions)}
		for _, prm := range append(a.required(), a.optional...) {
			p.Params = append(p.Params, prm.name+" "+prm.kind.sqlType())
		}
		out = append(out, p)
	}
	return out, nil
}

// shape is a path with its placeholders anonymised.
func shape(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// fromCatalog makes the procedure of a generated action.
func fromCatalog(ca *catalog.Action) action {
	// params is never nil for a generated action, even without required
	// parameters: required() reads nil as a hand-written id-first one.
	a := action{name: ca.Name, method: ca.Method, path: ca.Path, table: ca.Table, summary: ca.Comment, params: []param{}}
	for _, p := range ca.Params {
		prm := param{name: p.Name, form: p.Form, placeholder: p.Placeholder, required: p.Required}
		switch p.Kind {
		case catalog.ParamInteger:
			prm.kind = integer
		case catalog.ParamBoolean:
			prm.kind = boolean
		case catalog.ParamJSON:
			prm.kind = jsonArg
		}
		if p.Required {
			a.params = append(a.params, prm)
		} else {
			a.optional = append(a.optional, prm)
		}
	}
	return a
}

// returns describes the result set.
func (a action) returns() string {
	switch {
	case a.invoiceID:
		return "InvoiceId, Success"
	case a.table != "":
		return "Success and the " + a.table + " columns"
	case len(a.result) > 0:
		names := make([]string, len(a.result))
		for i, c := range a.result {
			names[i] = c.Name
		}
		return "Success and the " + a.object + "'s " + strings.Join(names, ", ")
	}
	return "Success"
}

// createStatement describes the procedure as the CREATE PROCEDURE that
// information_schema and SHOW CREATE PROCEDURE show: its parameters (all
// of them; optional ones are named in the comment), and in the comment
// the Stripe call and the result. The body is never run.
func (a action) createStatement() string {
	var params, optional []string
	for _, p := range append(a.required(), a.optional...) {
		// Quoted: Stripe's parameter names include MySQL keywords (Lines,
		// Usage, Sql), and a listed statement that does not parse makes
		// SHOW PROCEDURE STATUS fail.
		params = append(params, "IN `"+p.name+"` "+p.kind.sqlType())
	}
	for _, p := range a.optional {
		optional = append(optional, p.name)
	}
	comment := "Stripe action: " + a.method + " " + a.path + "; returns " + a.returns()
	if len(optional) > 0 {
		comment += "; " + strings.Join(optional, ", ") + " may be left out"
	}
	// The data-access characteristic follows the comment, and is what
	// information_schema.ROUTINES.SQL_DATA_ACCESS shows. It must come
	// last: the pinned vitess parser ends a COMMENT string one byte late,
	// so a body right after the comment is listed in ROUTINE_DEFINITION
	// as "ELECT 'stripesql built-in procedure'".
	return fmt.Sprintf("CREATE PROCEDURE %s(%s) COMMENT '%s' %s SELECT '%s'",
		a.name, strings.Join(params, ", "), strings.ReplaceAll(comment, "'", "''"), a.dataAccess(), routineBody)
}

// routineBody is the text of the body every listed procedure has
// (ROUTINE_DEFINITION); the body is never run.
const routineBody = "stripesql built-in procedure"

// dataAccess is the procedure's SQL data-access characteristic: a call
// that only reads Stripe reads SQL data, any other changes it.
func (a action) dataAccess() string {
	if a.method == http.MethodGet {
		return "READS SQL DATA"
	}
	return "MODIFIES SQL DATA"
}

// required returns the parameters every overload takes, in order.
func (a action) required() []param {
	if a.params != nil {
		return a.params
	}
	out := []param{{name: a.idName, placeholder: "{id}", kind: text, required: true}}
	if a.second != nil {
		out = append(out, *a.second)
	}
	return out
}

func (k kind) sqlType() string {
	switch k {
	case integer:
		return "BIGINT"
	case boolean:
		return "BOOLEAN"
	case jsonArg:
		return "JSON"
	}
	return "VARCHAR(255)"
}

// goType is the Go type GMS reads the parameter's SQL type from.
func (k kind) goType() reflect.Type {
	if k == integer {
		return reflect.TypeFor[int64]()
	}
	return reflect.TypeFor[string]()
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
	if len(a.result) > 0 {
		cols := tables.ObjectColumns(a.result)
		for _, c := range cols {
			c.Source = a.name
		}
		schema = append(schema, cols...)
	}
	return schema, nil
}

var (
	ctxType  = reflect.TypeFor[*sql.Context]()
	iterType = reflect.TypeFor[sql.RowIter]()
	errType  = reflect.TypeFor[error]()
)

// function returns the Go function GMS calls, of the shape its parameters
// need: func(*sql.Context, string|int64...) (sql.RowIter, error). GMS reads
// the SQL parameter types from the Go signature, so the function is made
// per overload with reflect.MakeFunc; each forwards to run.
func (a action) function(db *tables.Database, optional []param) any {
	params := append(append([]param(nil), a.required()...), optional...)
	in := []reflect.Type{ctxType}
	for _, p := range params {
		in = append(in, p.kind.goType())
	}
	fnType := reflect.FuncOf(in, []reflect.Type{iterType, errType}, false)
	return reflect.MakeFunc(fnType, func(args []reflect.Value) []reflect.Value {
		ctx := args[0].Interface().(*sql.Context)
		vals := make([]any, len(params))
		for i := range params {
			vals[i] = args[i+1].Interface()
		}
		iter, err := a.run(ctx, db, params, vals)
		iterV, errV := reflect.Zero(iterType), reflect.Zero(errType)
		if iter != nil {
			iterV = reflect.ValueOf(&iter).Elem()
		}
		if err != nil {
			errV = reflect.ValueOf(&err).Elem()
		}
		return []reflect.Value{iterV, errV}
	}).Interface()
}

// run makes the action's call and builds its result row.
func (a action) run(ctx *sql.Context, db *tables.Database, params []param, args []any) (sql.RowIter, error) {
	path := a.path
	var form stripeapi.Params
	for i, p := range params {
		if err := a.add(&path, &form, p, args[i]); err != nil {
			return nil, err
		}
	}
	obj, err := db.Action(ctx, a.name, a.method, path, form)
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
		vals, err := db.ResultRow(a.table, obj, sqltime.Zone(ctx))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		row = append(row, vals...)
	}
	if len(a.result) > 0 {
		vals, err := tables.ObjectRow(a.object, a.result, obj, sqltime.Zone(ctx))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		row = append(row, vals...)
	}
	return sql.RowsToRowIter(row), nil
}

// add puts one argument into the path or the form, or refuses it.
func (a action) add(path *string, form *stripeapi.Params, p param, arg any) error {
	// ER_BAD_NULL_ERROR: the code MySQL gives a NULL where a value is needed.
	required := func() error {
		return mysql.NewSQLError(1048, "23000", "%s: %s is required (got NULL or '')", a.name, p.name)
	}
	switch v := arg.(type) {
	case int64:
		switch {
		case p.positive && v <= 0:
			// NULL arrives as 0, which no Stripe amount may be.
			return fmt.Errorf("%s: %s must be a positive amount in minor units (got %d or NULL)", a.name, p.name, v)
		case v == 0 && !p.required:
			return nil // an optional number left NULL (or 0): not sent
		}
		form.Add(p.form, strconv.FormatInt(v, 10))
		return nil
	case string:
		if strings.TrimSpace(v) == "" {
			if p.required {
				return required()
			}
			return nil // an optional value left NULL: not sent
		}
		switch {
		case p.placeholder != "":
			*path = strings.ReplaceAll(*path, p.placeholder, stripeapi.EscapeID(v))
		case p.kind == boolean:
			b, err := parseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", a.name, p.name, err)
			}
			form.Add(p.form, strconv.FormatBool(b))
		case p.kind == jsonArg:
			dec := json.NewDecoder(bytes.NewReader([]byte(v)))
			dec.UseNumber()
			var val any
			if err := dec.Decode(&val); err != nil {
				return fmt.Errorf("%s: %s must be JSON (an object or a list): %w", a.name, p.name, err)
			}
			form.AddNested(p.form, val)
		default:
			form.Add(p.form, v)
		}
		return nil
	}
	return fmt.Errorf("%s: %s: unexpected argument %T", a.name, p.name, arg)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", s)
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
