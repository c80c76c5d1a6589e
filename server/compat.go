package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// compatHandler makes what go-mysql-server sends look as MySQL 8 would
// send it, in the places clients look: error codes and SQLSTATEs
// (errors.go), the display width of tinyint(1) columns, which Connector/J
// and PyMySQL read as booleans, and doubles in the text protocol, which
// MySQL prints in full below 1e15 (1107900, not GMS's 1.1079e+06, which
// gorm cannot scan into an int64).
type compatHandler struct {
	mysql.Handler
	// booleans are the lower-cased names of the database's tinyint(1)
	// columns (no tinyint column of another width has the same name).
	booleans map[string]bool
	// sessionEnded, if set, is told when a connection's session ends: it
	// closes, or the client resets it.
	sessionEnded func(conn uint32)
}

// SessionEnder is implemented by a database that keeps state per session
// outside the engine's session (package tables: the ids of the last
// INSERT), to forget it when the session ends.
type SessionEnder interface {
	SessionEnded(conn uint32)
}

func newCompatHandler(inner mysql.Handler, booleans map[string]bool, sessionEnded func(conn uint32)) *compatHandler {
	return &compatHandler{Handler: inner, booleans: booleans, sessionEnded: sessionEnded}
}

// sessionEnder is what ends a session: its temporary tables go, and the
// database forgets what it keeps for it.
func sessionEnder(pro *provider, db sql.Database) func(conn uint32) {
	var temps *tempTables
	if td, ok := pro.db.(tempDatabase); ok {
		temps = td.temps
	}
	dbEnded, _ := db.(SessionEnder)
	return func(conn uint32) {
		if temps != nil {
			temps.sessionEnded(conn)
		}
		if dbEnded != nil {
			dbEnded.SessionEnded(conn)
		}
	}
}

// ComResetConnection implements mysql.Handler. go-mysql-server gives the
// connection a new session; what the database keeps for the old one goes
// too, as MySQL's reset clears LAST_INSERT_ID and the like.
func (h *compatHandler) ComResetConnection(c *mysql.Conn) error {
	err := h.Handler.ComResetConnection(c)
	if h.sessionEnded != nil {
		h.sessionEnded(c.ConnectionID)
	}
	return err
}

// ConnectionClosed implements mysql.Handler.
func (h *compatHandler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)
	if h.sessionEnded != nil {
		h.sessionEnded(c.ConnectionID)
	}
}

// booleanColumns names the tinyint(1) columns of db's tables. The engine
// sends every TINYINT with the width of tinyint(4), and the handler only
// sees the names of a result's columns, so it widens by name, and only
// names that are tinyint(1) wherever they occur.
func booleanColumns(db sql.Database) (map[string]bool, error) {
	ctx := sql.NewEmptyContext()
	names, err := db.GetTableNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	out := map[string]bool{}
	other := map[string]bool{}
	for _, name := range names {
		t, ok, err := db.GetTableInsensitive(ctx, name)
		if err != nil || !ok {
			continue
		}
		for _, c := range t.Schema(ctx) {
			if c.Type.Type() != sqltypes.Int8 {
				continue
			}
			key := strings.ToLower(c.Name)
			if strings.EqualFold(c.Type.String(), "tinyint(1)") {
				out[key] = true
			} else {
				other[key] = true
			}
		}
	}
	for k := range other {
		delete(out, k)
	}
	return out, nil
}

// ComQuery implements mysql.Handler.
func (h *compatHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	query, asJSON, err := rewriteQuery(query)
	if err != nil {
		return err
	}
	rw := h.rewriter()
	if asJSON {
		callback = rw.explainJSON(callback)
	}
	err = h.Handler.ComQuery(ctx, c, query, func(res *sqltypes.Result, more bool) error {
		rw.result(res)
		return callback(res, more)
	})
	if err == nil && asJSON {
		err = rw.flushJSON()
	}
	return toMySQLError(err)
}

// ComMultiQuery implements mysql.Handler.
func (h *compatHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	query, asJSON, err := rewriteQuery(query)
	if err != nil {
		return "", err
	}
	rw := h.rewriter()
	if asJSON {
		callback = rw.explainJSON(callback)
	}
	rest, err := h.Handler.ComMultiQuery(ctx, c, query, func(res *sqltypes.Result, more bool) error {
		rw.result(res)
		return callback(res, more)
	})
	if err == nil && asJSON {
		err = rw.flushJSON()
	}
	return rest, toMySQLError(err)
}

// ComPrepare implements mysql.Handler.
func (h *compatHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	query, _, err := rewriteQuery(query)
	if err != nil {
		return nil, err
	}
	fields, err := h.Handler.ComPrepare(ctx, c, query, prepare)
	h.rewriter().fields(fields)
	return fields, toMySQLError(err)
}

// ComStmtExecute implements mysql.Handler. The binary protocol sends
// doubles as IEEE values, so only the column widths need fixing.
func (h *compatHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	rw := h.rewriter()
	err := h.Handler.ComStmtExecute(ctx, c, prepare, func(res *sqltypes.Result) error {
		rw.fields(res.Fields)
		return callback(res)
	})
	return toMySQLError(err)
}

func (h *compatHandler) rewriter() *resultRewriter {
	return &resultRewriter{booleans: h.booleans}
}

// resultRewriter fixes the results of one statement. GMS sends a result
// set's fields with its first batch of rows only, so which columns are
// doubles is remembered across batches; a new set of fields (the next
// statement of a multi-statement query) starts afresh.
type resultRewriter struct {
	booleans map[string]bool
	doubles  []int

	// For EXPLAIN FORMAT=JSON: the tree's lines, and where to send the
	// document made of them.
	plan     []string
	sendJSON mysql.ResultSpoolFn
}

// explainJSON returns a callback that keeps the lines of an EXPLAIN
// FORMAT=TREE for flushJSON instead of sending them.
func (rw *resultRewriter) explainJSON(send mysql.ResultSpoolFn) mysql.ResultSpoolFn {
	rw.sendJSON = send
	return func(res *sqltypes.Result, _ bool) error {
		for _, row := range res.Rows {
			if len(row) > 0 {
				rw.plan = append(rw.plan, row[0].ToString())
			}
		}
		return nil
	}
}

// flushJSON sends the plan as MySQL's EXPLAIN FORMAT=JSON does: one row,
// one column named EXPLAIN, holding a document with a query_block. Its
// content is stripesql's plan tree (with the Stripe calls of each table
// access), line by line, as the engine has no cost model to report.
func (rw *resultRewriter) flushJSON() error {
	doc, err := json.MarshalIndent(map[string]any{
		"query_block": map[string]any{
			"select_id": 1,
			"plan":      rw.plan,
		},
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("EXPLAIN FORMAT=JSON: %w", err)
	}
	return rw.sendJSON(&sqltypes.Result{
		Fields: []*querypb.Field{{Name: "EXPLAIN", Type: sqltypes.TypeJSON, Charset: uint32(sql.CharacterSet_utf8mb4), ColumnLength: 4294967295}},
		Rows:   [][]sqltypes.Value{{sqltypes.MakeTrusted(sqltypes.TypeJSON, doc)}},
	}, false)
}

func (rw *resultRewriter) result(res *sqltypes.Result) {
	if res == nil {
		return
	}
	if len(res.Fields) > 0 {
		rw.fields(res.Fields)
		rw.doubles = rw.doubles[:0]
		for i, f := range res.Fields {
			if f.Type == sqltypes.Float64 {
				rw.doubles = append(rw.doubles, i)
			}
		}
	}
	for _, row := range res.Rows {
		for _, i := range rw.doubles {
			if i >= len(row) || row[i].IsNull() {
				continue
			}
			f, err := strconv.ParseFloat(string(row[i].Raw()), 64)
			if err != nil {
				continue
			}
			row[i] = sqltypes.MakeTrusted(sqltypes.Float64, []byte(formatDouble(f)))
		}
	}
}

func (rw *resultRewriter) fields(fields []*querypb.Field) {
	for _, f := range fields {
		if f != nil && f.Type == sqltypes.Int8 && f.OrgTable != "" && rw.booleans[strings.ToLower(f.OrgName)] {
			f.ColumnLength = 1
		}
	}
}

// maxDecptForF is MySQL's MAX_DECPT_FOR_F_FORMAT (DBL_DIG).
const maxDecptForF = 15

// formatDouble formats f as MySQL's text protocol does (my_gcvt in
// strings/dtoa.cc): the shortest digits that read back as f, written out
// in full while the decimal point lies within 15 places of them
// (1107900, 0.00001, 123456789012345), otherwise as d.ddde±x without a
// plus sign or leading zeros in the exponent (1e15, 1.5e-20).
func formatDouble(f float64) string {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±xx
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	digits := strings.TrimPrefix(strings.Replace(mant, ".", "", 1), "-")
	decpt := x + 1 // digits are 0.ddd × 10^decpt
	if decpt >= 1-maxDecptForF && (decpt <= maxDecptForF || len(digits) > decpt) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return mant + "e" + strconv.Itoa(x)
}
