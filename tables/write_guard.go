package tables

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// AllowFullTableWritesVariable is the session variable that lets UPDATE and
// DELETE without WHERE through: SET stripe_allow_full_table_writes = 1.
const AllowFullTableWritesVariable = "stripe_allow_full_table_writes"

var registerOnce sync.Once

// RegisterSystemVariables adds stripesql's system variables to the engine.
//
// This is the one place package tables writes GMS's global state: system
// variables live in the process-wide sql.SystemVariables registry, from
// which every new session copies them (sessions older than the
// registration pick a variable up when they first SET it). The definitions
// are constants, so registering once per process is right for any number
// of databases and servers. EnableWrites and Functions call it.
func RegisterSystemVariables() {
	registerOnce.Do(func() {
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
			&sql.MysqlSystemVariable{
				Name:    AllowFullTableWritesVariable,
				Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Session),
				Dynamic: true,
				Type:    types.NewSystemBoolType(AllowFullTableWritesVariable),
				Default: int8(0),
			},
		})
	})
}

// fullTableWritesAllowed reads the session variable; unset or unknown is
// "not allowed".
func fullTableWritesAllowed(ctx *sql.Context) bool {
	v, err := ctx.GetSessionVariable(ctx, AllowFullTableWritesVariable)
	if err != nil {
		return false
	}
	b, err := boolOf(v)
	return err == nil && b
}

// statementOf parses the statement being executed.
//
// The engine hands a table editor nothing but the context, so this is how
// an editor learns what the statement says: the context carries the text of
// the statement (for a multi-statement query, the text from the current
// statement on, which is why only the first statement is parsed); a client
// prepared statement carries its own text; a SQL-level EXECUTE names a
// prepared statement whose parsed form the session keeps. nil means the
// statement could not be determined, and callers then assume the worst.
//
// An analyzer rule could see the plan instead, but would have to be
// installed into the engine by the server package, and would judge a
// prepared statement when it is prepared, not when it runs.
func statementOf(ctx *sql.Context) sqlparser.Statement {
	if ctx == nil || ctx.Query() == "" {
		return nil
	}
	stmt, _, err := sqlparser.ParseOneWithOptions(ctx, ctx.Query(), sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return nil
	}
	if exec, ok := stmt.(*sqlparser.Execute); ok && ctx.Session != nil {
		if prepared, ok := ctx.Session.GetPreparedQuery(exec.Name); ok {
			return prepared
		}
		return nil
	}
	return stmt
}

// checkScoped refuses an UPDATE or DELETE whose statement has no WHERE
// clause, unless the session allows it. Such a statement would change
// every row of the table in Stripe, which is almost always a mistake (the
// connector this replaces refuses an empty filterClause outright). A WHERE
// clause of any kind counts as intent, even WHERE TRUE.
func checkScoped(ctx *sql.Context, verb, table string) error {
	if fullTableWritesAllowed(ctx) {
		return nil
	}
	scoped := false
	switch s := statementOf(ctx).(type) {
	case *sqlparser.Update:
		scoped = s.Where != nil
	case *sqlparser.Delete:
		scoped = s.Where != nil
	}
	if scoped {
		return nil
	}
	// 1175 is ER_UPDATE_WITHOUT_KEY_IN_SAFE_MODE, MySQL's own refusal of an
	// unrestricted UPDATE or DELETE under sql_safe_updates.
	return mysql.NewSQLError(1175, "HY000",
		"%s without WHERE would %s every row of %s in Stripe; add a WHERE clause, "+
			"or SET %s = 1 to allow it in this session", verb, verbWord(verb), table, AllowFullTableWritesVariable)
}

func verbWord(verb string) string {
	if verb == "DELETE" {
		return "delete"
	}
	return "change"
}

// hasReturning reports whether the INSERT being executed has a RETURNING
// clause.
func hasReturning(ctx *sql.Context) bool {
	ins, ok := statementOf(ctx).(*sqlparser.Insert)
	return ok && len(ins.Returning) > 0
}
