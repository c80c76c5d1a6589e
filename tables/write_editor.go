package tables

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

var _ sql.UpdatableTable = (*Table)(nil)

// Updater implements sql.UpdatableTable: each changed row becomes one
// update call (POST UpdatePath) carrying only the changed columns. The
// engine finds the rows through the same pushdown as SELECT.
func (t *Table) Updater(*sql.Context) sql.RowUpdater {
	return &editor{t: t, verb: "UPDATE"}
}

var _ sql.DeletableTable = (*Table)(nil)

// Deleter implements sql.DeletableTable: each row becomes one DELETE
// DeletePath call.
func (t *Table) Deleter(*sql.Context) sql.RowDeleter {
	return &editor{t: t, verb: "DELETE"}
}

// editor is the RowUpdater and RowDeleter of a table. Like the inserter,
// it checks every row as the engine hands it over and sends the requests
// in StatementComplete, so a statement with an invalid row sends nothing.
// Buffering also keeps writes out of the list pagination that finds the
// rows.
type editor struct {
	t       *Table
	verb    string // UPDATE or DELETE
	checked bool
	rows    int // rows seen in this statement
	pending []request
}

// StatementBegin implements sql.EditOpenerCloser; as for the inserter,
// it may run once per row (UPDATE IGNORE), so only the buffer restarts.
func (e *editor) StatementBegin(*sql.Context) {
	e.pending = nil
}

// begin runs the statement-wide checks once, at its first row.
func (e *editor) begin(ctx *sql.Context) error {
	if e.checked {
		return nil
	}
	e.checked = true
	if err := e.t.db.checkWritable(); err != nil {
		return err
	}
	return checkScoped(ctx, e.verb, e.t.def.Name)
}

// Update implements sql.RowUpdater.
func (e *editor) Update(ctx *sql.Context, old, new sql.Row) error {
	if err := e.begin(ctx); err != nil {
		return err
	}
	e.rows++
	req, err := e.t.updateRequest(ctx, old, new)
	if err != nil {
		return sqlErrorf(err, "UPDATE %s, row %d (%s)", e.t.def.Name, e.rows, rowID(e.t.def, old))
	}
	req.row = e.rows
	if len(req.params) > 0 {
		e.pending = append(e.pending, req)
	}
	return nil
}

// Delete implements sql.RowDeleter.
func (e *editor) Delete(ctx *sql.Context, row sql.Row) error {
	if err := e.begin(ctx); err != nil {
		return err
	}
	def := e.t.def
	if def.DeletePath == "" {
		msg := fmt.Sprintf("Stripe cannot delete a %s", def.Object)
		if def.NoDeleteHint != "" {
			msg = def.NoDeleteHint
		}
		return fmt.Errorf("DELETE FROM %s: %s", def.Name, msg)
	}
	path, err := e.t.fillPath(def.DeletePath, row)
	if err != nil {
		return err
	}
	e.rows++
	req := request{method: "DELETE", path: path, id: rowID(def, row), row: e.rows}
	if def.RetrievePath != "" {
		req.retrieve, _ = e.t.fillPath(def.RetrievePath, row) // "" if it cannot be filled: no verification
	}
	e.pending = append(e.pending, req)
	return nil
}

// StatementComplete sends the buffered requests in order and stops at the
// first one that is not applied. A delete whose earlier attempt may have
// executed and that Stripe then answers 404 (or, for a subscription,
// "already canceled") is verified with a retrieve, and counts as applied
// when the object is gone: the statement carries on.
func (e *editor) StatementComplete(ctx *sql.Context) error {
	pending := e.pending
	e.pending = nil
	if len(pending) == 0 {
		return nil
	}
	st, err := e.t.db.beginStatement(ctx, e.verb, e.t.def.Name)
	if err != nil {
		return err
	}
	past := "updated"
	if e.verb == "DELETE" {
		past = "deleted"
	}
	total := pending[len(pending)-1].row
	var results []writeResult
	for _, req := range pending {
		call := &writeCall{row: req.row, method: req.method, path: req.path, params: req.params, id: req.id}
		if req.method == "DELETE" {
			call.verify = e.t.deleteVerification(req)
		} else {
			// By object id, not row number: running the UPDATE again finds
			// the rows it already changed no more, so numbers would shift.
			call.key = st.key(req.id)
		}
		res := e.t.db.write(ctx, st, call)
		results = append(results, res)
		if res.outcome != outcomeApplied {
			return st.report(past, results, total)
		}
	}
	return nil
}

// deleteVerification is how to confirm a delete of the table took
// effect: the object's retrieve answers 404 or deleted, or, for a
// subscription (whose DELETE cancels it), status canceled.
func (t *Table) deleteVerification(req request) *verification {
	if req.retrieve == "" {
		return nil
	}
	v := &verification{path: req.retrieve}
	if t.def.Object == "subscription" {
		v.status = "canceled"
	}
	return v
}

func (e *editor) DiscardChanges(*sql.Context, error) error {
	e.pending = nil
	return nil
}

func (e *editor) Close(*sql.Context) error { return nil }

func rowID(def *catalog.Table, row sql.Row) string {
	id, _ := row[def.ColumnIndex(catalog.PrimaryKey)].(string)
	return id
}

// updateRequest builds the update call of one row from the columns that
// changed. A column Stripe cannot update is refused by name; NULL and ”
// unset a field (param=), except in columns Stripe never leaves empty.
// Metadata is diffed key by key: a key set or changed sends metadata[k]=v,
// a key removed (or set to JSON null) sends metadata[k]=.
func (t *Table) updateRequest(ctx *sql.Context, old, new sql.Row) (request, error) {
	def := t.def
	if def.UpdatePath == "" {
		return request{}, fmt.Errorf("Stripe cannot update a %s", def.Object)
	}
	var params stripeapi.Params
	for i, c := range def.Columns {
		same, err := sameValue(ctx, t.schema[i].Type, emptyToNull(old[i]), emptyToNull(new[i]))
		if err != nil {
			return request{}, fmt.Errorf("column %s: %w", c.Name, err)
		}
		if same {
			continue
		}
		if c.UpdateParam == "" {
			return request{}, refuse(ErrNonUpdatableColumn, "column %s cannot be changed: Stripe does not accept it when updating a %s", c.Name, def.Object)
		}
		v := emptyToNull(new[i])
		if v == nil && !c.Nullable {
			return request{}, refuse(ErrBadNull, "column %s cannot be NULL or empty", c.Name)
		}
		if c.Type == catalog.JSON && c.Path == "metadata" && v != nil {
			if err := addMetadataDiff(ctx, &params, c.UpdateParam, old[i], v); err != nil {
				return request{}, fmt.Errorf("column %s: %w", c.Name, err)
			}
			continue
		}
		if err := addParam(ctx, &params, c.UpdateParam, c, v); err != nil {
			return request{}, err
		}
	}
	path, err := t.fillPath(def.UpdatePath, old)
	if err != nil {
		return request{}, err
	}
	return request{method: "POST", path: path, params: params, id: rowID(def, old)}, nil
}

// emptyToNull maps ” to NULL: Stripe unsets a field for either, and
// returns it as null.
func emptyToNull(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	return v
}

// sameValue compares a column's old and new values the way the engine
// would, and JSON by its decoded value.
func sameValue(ctx *sql.Context, typ sql.Type, a, b any) (bool, error) {
	if a == nil || b == nil {
		return a == nil && b == nil, nil
	}
	aw, aJSON := a.(sql.JSONWrapper)
	bw, bJSON := b.(sql.JSONWrapper)
	if aJSON || bJSON {
		if !aJSON || !bJSON {
			return false, nil
		}
		av, err := aw.ToInterface(ctx)
		if err != nil {
			return false, err
		}
		bv, err := bw.ToInterface(ctx)
		if err != nil {
			return false, err
		}
		return reflect.DeepEqual(av, bv), nil
	}
	c, err := typ.Compare(ctx, a, b)
	if err != nil {
		return false, err
	}
	return c == 0, nil
}

// addMetadataDiff sends the keys of a metadata object that changed.
func addMetadataDiff(ctx *sql.Context, p *stripeapi.Params, param string, oldV, newV any) error {
	oldM, err := stringMap(ctx, oldV)
	if err != nil {
		return err
	}
	newM, err := stringMap(ctx, newV)
	if err != nil {
		return err
	}
	var keys []string
	for k := range newM {
		keys = append(keys, k)
	}
	for k := range oldM {
		if _, ok := newM[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		nv, inNew := newM[k]
		ov, inOld := oldM[k]
		switch {
		case !inNew || nv == nil:
			if inOld && ov != nil {
				p.Add(param+"["+k+"]", "")
			}
		case !inOld || !reflect.DeepEqual(ov, nv):
			p.AddNested(param+"["+k+"]", nv)
		}
	}
	return nil
}

// stringMap decodes a metadata value into a map; NULL is empty.
func stringMap(ctx *sql.Context, v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	val, err := jsonOf(ctx, v)
	if err != nil {
		return nil, err
	}
	m, ok := val.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("metadata must be a JSON object, not %s", strings.TrimSpace(fmt.Sprint(val)))
	}
	return m, nil
}
