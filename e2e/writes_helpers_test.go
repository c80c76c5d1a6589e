package e2e

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/emulator"
)

// requestLine renders one emulator log entry as "METHOD /path?query body",
// the body being the decoded form re-encoded with sorted keys and readable
// brackets (metadata[k]=v).
func requestLine(r emulator.Request) string {
	line := r.Method + " " + r.Path
	if r.RawQuery != "" {
		line += "?" + r.RawQuery
	}
	if len(r.Form) > 0 {
		line += " " + strings.NewReplacer("%5B", "[", "%5D", "]").Replace(r.Form.Encode())
	}
	return line
}

// requestLines returns the emulator's log since the last reset.
func (e *env) requestLines() []string {
	var out []string
	for _, r := range e.emu.Requests() {
		out = append(out, requestLine(r))
	}
	return out
}

// conn is one client connection, so that session state (the last
// inserted ids, session variables) carries from statement to statement.
type conn struct {
	t *testing.T
	e *env
	c *sql.Conn
}

func (e *env) conn(t *testing.T) *conn {
	t.Helper()
	return &conn{t: t, e: e, c: pinnedConn(t, e)}
}

// exec runs a statement and returns the requests it made.
func (c *conn) exec(q string) []string {
	c.t.Helper()
	c.e.emu.ResetRequests()
	if _, err := c.c.ExecContext(context.Background(), q); err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	return c.e.requestLines()
}

// fail runs a statement that must fail and returns its error and the
// requests it made.
func (c *conn) fail(q string) (error, []string) {
	c.t.Helper()
	c.e.emu.ResetRequests()
	_, err := c.c.ExecContext(context.Background(), q)
	if err == nil {
		c.t.Fatalf("%s: succeeded, want an error", q)
	}
	return err, c.e.requestLines()
}

// refused runs q, which must fail with an error containing msg having
// sent no write.
func (c *conn) refused(q, msg string) {
	c.t.Helper()
	err, reqs := c.fail(q)
	if !strings.Contains(err.Error(), msg) {
		c.t.Errorf("%s:\n  %v\nwant it to contain\n  %s", q, err, msg)
	}
	wantOnlyReads(c.t, q, reqs)
}

// query returns every value of q's rows as strings ("NULL" for NULL),
// keyed by column name, and the requests it made.
func (c *conn) query(q string, args ...any) ([]map[string]string, []string) {
	c.t.Helper()
	_, rows, reqs := c.queryColumns(q, args...)
	return rows, reqs
}

// queryColumns is query that also returns the column names, in order.
func (c *conn) queryColumns(q string, args ...any) ([]string, []map[string]string, []string) {
	c.t.Helper()
	c.e.emu.ResetRequests()
	cols, vals, err := scanText(c.c.QueryContext(context.Background(), q, args...))
	if err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	var out []map[string]string
	for _, v := range vals {
		row := map[string]string{}
		for i, col := range cols {
			row[col] = nullText(v[i])
		}
		out = append(out, row)
	}
	return cols, out, c.e.requestLines()
}

// row returns the one row of q.
func (c *conn) row(q string, args ...any) map[string]string {
	c.t.Helper()
	rows, _ := c.query(q, args...)
	if len(rows) != 1 {
		c.t.Fatalf("%s %v: %d rows, want 1", q, args, len(rows))
	}
	return rows[0]
}

// value returns the one value of q's one row.
func (c *conn) value(q string, args ...any) string {
	c.t.Helper()
	for _, v := range c.row(q, args...) {
		return v
	}
	return ""
}

// lastID is stripe_last_insert_id() of the connection.
func (c *conn) lastID() string {
	c.t.Helper()
	return c.value("SELECT stripe_last_insert_id()")
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: requests\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantOnlyReads fails the test if a statement (what) sent anything but
// GETs: a refused write may read to find its rows, never write.
func wantOnlyReads(t *testing.T, what string, reqs []string) {
	t.Helper()
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("%s sent %s", what, r)
		}
	}
}

func wantRow(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got[k], v)
		}
	}
}

// verbatim substitutes real ids for the placeholders of a contract
// example, leaving the rest of its text as the contract has it.
func verbatim(example string, ids ...string) string {
	return strings.NewReplacer(ids...).Replace(example)
}

// call runs a CALL and returns its column names, its one row and the
// requests it made.
func (c *conn) call(q string) ([]string, map[string]string, []string) {
	c.t.Helper()
	cols, out, reqs := c.queryColumns(q)
	if len(out) != 1 {
		c.t.Fatalf("%s: %d rows, want 1", q, len(out))
	}
	return cols, out[0], reqs
}
