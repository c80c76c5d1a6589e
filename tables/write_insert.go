package tables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/stripeapi"
)

var _ sql.InsertableTable = (*Table)(nil)

// Inserter implements sql.InsertableTable: each row becomes one create call
// (POST CreatePath).
func (t *Table) Inserter(*sql.Context) sql.RowInserter {
	return &inserter{t: t}
}

// request is one Stripe call of a statement.
type request struct {
	method string
	path   string
	params stripeapi.Params
	id     string // the object's id, when known (UPDATE, DELETE)
	row    int    // the row's position in the statement, from 1
	// retrieve is the object's retrieve path (DELETE), to verify it gone.
	retrieve string
}

// inserter checks each row as the engine hands it over and sends the
// statement's creates in StatementComplete, so that no row is created when
// any row of the statement is invalid.
//
// With RETURNING, the engine evaluates the returned columns right after
// Insert, so each row is created there instead (its Id and every other
// column are then Stripe's); a row that fails the checks then stops the
// statement after the rows before it were created, reported as a partial
// failure.
type inserter struct {
	t         *Table
	pending   []request
	immediate bool // RETURNING: create in Insert
	checked   bool // the statement was inspected
	rows      int  // rows seen in this statement
	written   []string
	stmt      *writeStatement // from the first row sent on
	results   []writeResult   // of the rows sent, in order
}

// statement returns the statement's write context, made at its first
// write (which takes the session's stripe_idempotency_key).
func (ins *inserter) statement(ctx *sql.Context) (*writeStatement, error) {
	if ins.stmt == nil {
		st, err := ins.t.db.beginStatement(ctx, "INSERT", ins.t.def.Name)
		if err != nil {
			return nil, err
		}
		ins.stmt = st
	}
	return ins.stmt, nil
}

// send creates one row, and returns the statement's report if it did
// not apply. total is the number of rows of the statement known so far.
func (ins *inserter) send(ctx *sql.Context, req request, total int) (stripeapi.Object, error) {
	st, err := ins.statement(ctx)
	if err != nil {
		return nil, err
	}
	call := &writeCall{row: req.row, method: req.method, path: req.path, params: req.params, key: st.key(strconv.Itoa(req.row))}
	res := ins.t.db.write(ctx, st, call)
	ins.results = append(ins.results, res)
	if res.outcome != outcomeApplied {
		ins.record(ctx)
		return nil, st.report("written", ins.results, total)
	}
	ins.written = append(ins.written, res.id)
	return res.obj, nil
}

// StatementBegin implements sql.EditOpenerCloser. The engine makes an
// inserter per statement, but calls StatementBegin and StatementComplete
// around every row for INSERT IGNORE, so only the buffer starts afresh:
// the row count and the ids written run on over the whole statement.
func (ins *inserter) StatementBegin(*sql.Context) {
	ins.pending = nil
}

// Insert implements sql.RowInserter.
func (ins *inserter) Insert(ctx *sql.Context, row sql.Row) error {
	if !ins.checked {
		ins.checked = true
		if err := ins.t.db.checkWritable(); err != nil {
			return err
		}
		ins.immediate = hasReturning(ctx)
	}
	ins.rows++
	req, err := ins.t.createRequest(ctx, row)
	if err != nil {
		if ins.immediate && len(ins.written) > 0 {
			ins.record(ctx)
			return partialFailure("written", ins.written, ins.rows, "", err)
		}
		return sqlErrorf(err, "INSERT INTO %s, row %d", ins.t.def.Name, ins.rows)
	}
	req.row = ins.rows
	if !ins.immediate {
		ins.pending = append(ins.pending, req)
		return nil
	}
	obj, err := ins.send(ctx, req, ins.rows)
	if err != nil {
		return err
	}
	ins.record(ctx)
	// Fill the row in place: the engine evaluates RETURNING on this slice.
	created, err := rowOf(ins.t.def, obj, sqltime.Zone(ctx))
	if err != nil {
		return err
	}
	for i, v := range created {
		if ins.t.def.Columns[i].Path != "" {
			row[i] = v
		}
	}
	return nil
}

// StatementComplete sends the buffered creates in order, stopping at the
// first failure. The session's last inserted ids become the ids written,
// whether or not every row was.
func (ins *inserter) StatementComplete(ctx *sql.Context) error {
	pending := ins.pending
	ins.pending = nil
	if ins.immediate {
		return nil
	}
	total := 0
	if len(pending) > 0 {
		total = pending[len(pending)-1].row
	}
	for _, req := range pending {
		if _, err := ins.send(ctx, req, total); err != nil {
			return err
		}
	}
	ins.record(ctx)
	return nil
}

// record makes the rows written so far the session's last inserted ids.
func (ins *inserter) record(ctx *sql.Context) {
	if ctx.Session != nil {
		ins.t.db.writes().inserted.set(ctx.Session.ID(), ins.written)
	}
}

// DiscardChanges drops the buffered rows: the statement failed before
// StatementComplete, so none of them was sent.
func (ins *inserter) DiscardChanges(*sql.Context, error) error {
	ins.pending = nil
	return nil
}

func (ins *inserter) Close(*sql.Context) error { return nil }

// createRequest checks a row against the catalog and builds its create
// call. Only columns with a CreateParam may hold a value (Id may hold its
// empty default); Required columns must; the parent column of a nested
// table fills the path instead of a parameter.
func (t *Table) createRequest(ctx *sql.Context, row sql.Row) (request, error) {
	def := t.def
	if def.CreatePath == "" {
		return request{}, fmt.Errorf("Stripe cannot create %s objects through its API", def.Object)
	}
	var params stripeapi.Params
	for i, c := range def.Columns {
		v := row[i]
		switch {
		case v == nil:
			continue
		case strings.EqualFold(c.Name, catalog.PrimaryKey):
			if v != "" {
				return request{}, refuse(ErrNonUpdatableColumn, "column %s cannot be set: Stripe assigns it", c.Name)
			}
		case def.Parent.InPath() && strings.EqualFold(c.Name, def.Parent.Column):
			// part of the path
		case c.CreateParam == "":
			return request{}, refuse(ErrNonUpdatableColumn, "column %s cannot be set on INSERT: Stripe does not accept it when creating a %s", c.Name, def.Object)
		default:
			if err := addParam(ctx, &params, c.CreateParam, c, v); err != nil {
				return request{}, err
			}
		}
	}
	for i, c := range def.Columns {
		if c.Required && (row[i] == nil || row[i] == "") {
			return request{}, refuse(ErrNoDefault, "column %s is required to create a %s", c.Name, def.Object)
		}
	}
	path, err := t.fillPath(def.CreatePath, row)
	if err != nil {
		return request{}, err
	}
	return request{method: "POST", path: path, params: params}, nil
}
