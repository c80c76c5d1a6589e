package server

import (
	"context"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
)

// QueryObserver is told about every statement a client ran, when it ends
// (for metrics). Statement is the statement's first keyword in lower case
// ("select", "insert", "call", …; "other" for anything unusual), so it can
// label a metric without one series per query text. Rows counts the rows
// sent to the client. It is called from many connections at once.
type QueryObserver interface {
	QueryDone(statement string, d time.Duration, rows int64, err error)
}

// observingHandler reports each ComQuery and ComStmtExecute to obs.
type observingHandler struct {
	mysql.Handler
	obs QueryObserver
}

func observe(inner mysql.Handler, obs QueryObserver) mysql.Handler {
	if obs == nil {
		return inner
	}
	return &observingHandler{Handler: inner, obs: obs}
}

func (h *observingHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	start, rows := time.Now(), int64(0)
	err := h.Handler.ComQuery(ctx, c, query, func(res *sqltypes.Result, more bool) error {
		rows += int64(len(res.Rows))
		return callback(res, more)
	})
	h.obs.QueryDone(statementKind(query), time.Since(start), rows, err)
	return err
}

func (h *observingHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	start, rows := time.Now(), int64(0)
	rest, err := h.Handler.ComMultiQuery(ctx, c, query, func(res *sqltypes.Result, more bool) error {
		rows += int64(len(res.Rows))
		return callback(res, more)
	})
	h.obs.QueryDone(statementKind(query), time.Since(start), rows, err)
	return rest, err
}

func (h *observingHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	start, rows := time.Now(), int64(0)
	err := h.Handler.ComStmtExecute(ctx, c, prepare, func(res *sqltypes.Result) error {
		rows += int64(len(res.Rows))
		return callback(res)
	})
	h.obs.QueryDone(statementKind(prepare.PrepareStmt), time.Since(start), rows, err)
	return err
}

// statementKinds bound the statement label.
var statementKinds = map[string]bool{
	"select": true, "insert": true, "update": true, "delete": true, "replace": true,
	"call": true, "show": true, "set": true, "explain": true, "describe": true,
	"desc": true, "with": true, "use": true, "begin": true, "commit": true,
	"rollback": true, "start": true, "kill": true,
}

// statementKind is the first keyword of query, skipping leading blanks,
// comments and parentheses.
func statementKind(query string) string {
	q := query
	for {
		q = strings.TrimLeft(q, " \t\r\n(;")
		switch {
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q, "*/")
			if end < 0 {
				return "other"
			}
			q = q[end+2:]
		case strings.HasPrefix(q, "--"), strings.HasPrefix(q, "#"):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return "other"
			}
			q = q[end+1:]
		default:
			end := strings.IndexAny(q, " \t\r\n(;")
			if end < 0 {
				end = len(q)
			}
			w := strings.ToLower(q[:end])
			if statementKinds[w] {
				return w
			}
			return "other"
		}
	}
}

// progressList shows each running query's progress (what it has done at
// Stripe so far) after its text in SHOW PROCESSLIST's Info column and
// information_schema.PROCESSLIST, as a trailing comment:
//
//	SELECT * FROM Charges /* stripe: 4 calls (4 pages, 0 retrieves), 350 rows */
//
// GMS builds the State column from table-partition counters whose wording
// ("partitions", "rows") it fixes; the comment keeps Info a valid
// statement, so tools that re-run or EXPLAIN it still can.
type progressList struct {
	sql.ProcessList
	progress func(pid uint64) string
}

func (l progressList) Processes() []sql.Process {
	procs := l.ProcessList.Processes()
	for i, p := range procs {
		if p.Command != sql.ProcessCommandQuery {
			continue
		}
		if s := l.progress(p.QueryPid); s != "" {
			procs[i].Query = p.Query + " /* " + strings.ReplaceAll(s, "*/", "* /") + " */"
		}
	}
	return procs
}
