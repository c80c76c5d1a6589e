package tables

// Writes: INSERT, UPDATE and DELETE become Stripe create, update and delete
// calls, one per row. Stripe has no transactions, so a statement is made as
// safe as an API allows:
//
//   - every row is checked against the catalog (which columns a create or
//     update accepts, which ones a create needs) before the first request
//     of the statement is sent: the editors buffer rows and send them in
//     StatementComplete, in order;
//   - sending stops at the first row not applied, and the error reports
//     the rows: applied (their ids), the one that stopped it (refused by
//     Stripe, or of unknown outcome with the key to retry with), and the
//     rest, not sent (write_outcome.go);
//   - each request carries an Idempotency-Key derived from the statement's
//     key base and the row, reused by the client on that request's
//     retries, so a retried create happens once, also when the client
//     runs the statement again with the same stripe_idempotency_key;
//   - every write is recorded, before it is sent and after its answer
//     (write_log.go, the StripeWrites table);
//   - UPDATE and DELETE without WHERE, and any write with a live-mode key,
//     need an explicit opt-in (write_guard.go).

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/stripeapi"
)

// WriteOptions configures the writes of a Database.
type WriteOptions struct {
	// AllowLiveWrites lets INSERT, UPDATE, DELETE and actions reach Stripe
	// when the client holds a live-mode key (the --allow-live-writes flag).
	// Without it they are refused before any request; test keys are never
	// restricted.
	AllowLiveWrites bool
}

// EnableWrites configures writes and prepares the schema for INSERT. Call
// it once, before the database is served. A database on which it was never
// called still accepts writes with a test key, but INSERT must then supply
// every NOT NULL column (see relaxInsertNullability).
func (d *Database) EnableWrites(o WriteOptions) {
	RegisterSystemVariables()
	w := d.writes()
	w.mu.Lock()
	w.allowLive = o.AllowLiveWrites
	w.mu.Unlock()
}

// writeState is what a Database keeps for writes: its options, the ids
// each session inserted last and the procedures it lists.
type writeState struct {
	mu         sync.Mutex
	allowLive  bool
	procedures []sql.StoredProcedureDetails
	inserted   *insertedIDs
	log        *writeLog
}

func (d *Database) writes() *writeState { return d.wstate }

// checkWritable refuses a write that the client's key may not make.
func (d *Database) checkWritable() error {
	if d.client.Mode() != stripeapi.ModeLive {
		return nil
	}
	w := d.writes()
	w.mu.Lock()
	allowed := w.allowLive
	w.mu.Unlock()
	if allowed {
		return nil
	}
	// 1290 is ER_OPTION_PREVENTS_STATEMENT, MySQL's error for a statement
	// a server option forbids.
	return mysql.NewSQLError(1290, "HY000",
		"stripesql: the API key is a live-mode key and the server runs without --allow-live-writes, "+
			"so it cannot change the live Stripe account (INSERT, UPDATE, DELETE and CALL are refused); "+
			"restart it with --allow-live-writes to allow writes, or use a test-mode key")
}

// accountOption sends a write on the session's Connect account (SET
// stripe_account = 'acct_…'), as reads are; an empty one keeps the
// server's.
func accountOption(ctx *sql.Context) stripeapi.RequestOption {
	return stripeapi.WithAccount(sessionOptions(ctx).account)
}

// StripeError turns a failed Stripe call into the MySQL error clients see:
// 1644 (SQLSTATE 45000, an unhandled user-defined condition) carrying
// Stripe's error type, code and message. It is returned unwrapped, since
// the engine recognises *mysql.SQLError only by a plain type assertion.
func StripeError(err error) error {
	if err == nil {
		return nil
	}
	return mysql.NewSQLError(1644, "45000", "%s", err.Error())
}

// partialFailure reports a statement that stopped at a failed row: how
// many rows it wrote before (and their ids) and which row failed.
func partialFailure(verb string, done []string, row int, rowID string, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s", len(done), plural(len(done), "row", "rows"), verb)
	if len(done) > 0 {
		b.WriteString(" (" + idList(done) + ")")
	}
	fmt.Fprintf(&b, ", stopped at row %d", row)
	if rowID != "" {
		fmt.Fprintf(&b, " (%s)", rowID)
	}
	b.WriteString(": " + err.Error())
	return mysql.NewSQLError(1644, "45000", "%s", b.String())
}

// maxListedIDs bounds the ids an error message lists; the rest are
// counted. stripe_last_insert_ids() has all of an INSERT's.
const maxListedIDs = 20

func idList(ids []string) string {
	if len(ids) <= maxListedIDs {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:maxListedIDs], ", ") + fmt.Sprintf(", … %d more", len(ids)-maxListedIDs)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fillPath replaces the {id} and parent placeholders of an endpoint path
// with escaped values from a row.
func (t *Table) fillPath(path string, row sql.Row) (string, error) {
	if p := t.def.Parent; p.InPath() {
		parent, _ := row[t.def.ColumnIndex(p.Column)].(string)
		if parent == "" {
			return "", fmt.Errorf("%s: %s is required", t.def.Name, p.Column)
		}
		path = strings.ReplaceAll(path, p.Placeholder, stripeapi.EscapeID(parent))
	}
	if strings.Contains(path, "{id}") {
		id, _ := row[t.def.ColumnIndex(catalog.PrimaryKey)].(string)
		if id == "" {
			return "", fmt.Errorf("%s: row without an Id", t.def.Name)
		}
		path = strings.ReplaceAll(path, "{id}", stripeapi.EscapeID(id))
	}
	return path, nil
}

// addParam appends a column's SQL value as the form parameter param, in
// Stripe's encoding: booleans as true/false, timestamps as Unix seconds,
// JSON as bracket-nested parameters, NULL as an empty value (unset).
func addParam(ctx *sql.Context, p *stripeapi.Params, param string, c catalog.Column, v any) error {
	if v == nil {
		p.Add(param, "")
		return nil
	}
	switch c.Type {
	case catalog.Boolean:
		b, err := boolOf(v)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
		p.Add(param, strconv.FormatBool(b))
	case catalog.Timestamp:
		ts, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("column %s: want a time, got %T", c.Name, v)
		}
		// A TIMESTAMP value is a clock reading in the session's zone.
		p.Add(param, strconv.FormatInt(sqltime.Instant(ts, sqltime.Zone(ctx)).Unix(), 10))
	case catalog.JSON:
		val, err := jsonOf(ctx, v)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
		p.AddNested(param, val)
	default:
		p.AddNested(param, v)
	}
	return nil
}

// boolOf reads a BOOLEAN (TINYINT) value: the engine hands int8.
func boolOf(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int8:
		return x != 0, nil
	case int16:
		return x != 0, nil
	case int32:
		return x != 0, nil
	case int64:
		return x != 0, nil
	case int:
		return x != 0, nil
	}
	return false, fmt.Errorf("want a boolean, got %T", v)
}

// jsonOf returns the plain Go value (maps, slices, strings, float64) of a
// JSON column value.
func jsonOf(ctx *sql.Context, v any) (any, error) {
	switch x := v.(type) {
	case sql.JSONWrapper:
		return x.ToInterface(ctx)
	case string:
		return x, nil
	}
	return v, nil
}
