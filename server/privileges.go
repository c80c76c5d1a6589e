package server

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"
)

// accessRuleID is the id of accessRule among the analyzer's rules;
// tables uses 10_000 and up.
const accessRuleID analyzer.RuleId = 9_000

// variablesAdmin is MySQL's dynamic privilege for SET GLOBAL without SUPER.
const variablesAdmin = "SYSTEM_VARIABLES_ADMIN"

// isAdmin reports whether the session's user may change the server for
// everyone: SUPER or SYSTEM_VARIABLES_ADMIN, as MySQL asks for SET GLOBAL.
func isAdmin(ctx *sql.Context, mdb *mysql_db.MySQLDb) bool {
	if !mdb.Enabled() {
		return true
	}
	ps := mdb.UserActivePrivilegeSet(ctx)
	return ps.Has(sql.PrivilegeType_Super) || ps.HasDynamic(variablesAdmin)
}

// errNeedsAdmin is MySQL's ER_SPECIFIC_ACCESS_DENIED_ERROR.
func errNeedsAdmin(what string) error {
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSAccessDeniedError,
		"Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s) for this operation (%s)", what)
}

// accessRule returns the analyzer rule that refuses:
//   - CALL of a procedure that writes to users with EXECUTE but none of
//     INSERT, UPDATE and DELETE on its database (see checkWritingCall);
//
// and to users without SUPER or SYSTEM_VARIABLES_ADMIN:
//   - SET GLOBAL (and PERSIST) of any variable: GMS lets anyone do it, and
//     a global is what every later session of every user starts with
//     (stripe_account would point them all at another account);
//   - raising a budget variable (capped) in the session above its global
//     value, or to 0, which means no cap: a session may lower its budget,
//     only an administrator may lift it.
func accessRule(capped []string) analyzer.Rule {
	isCapped := make(map[string]bool, len(capped))
	for _, c := range capped {
		isCapped[strings.ToLower(c)] = true
	}
	apply := func(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
		var err error
		transform.Inspect(n, func(n sql.Node) bool {
			if err != nil {
				return false
			}
			if c, ok := n.(*plan.Call); ok {
				err = checkWritingCall(ctx, a.Catalog.MySQLDb, c)
				return err == nil
			}
			set, ok := n.(*plan.Set)
			if !ok {
				return true
			}
			for _, e := range set.Exprs {
				if err = checkSetField(ctx, a.Catalog.MySQLDb, e, isCapped); err != nil {
					return false
				}
			}
			return true
		})
		return n, transform.SameTree, err
	}
	return analyzer.Rule{Id: accessRuleID, Apply: apply}
}

func checkSetField(ctx *sql.Context, mdb *mysql_db.MySQLDb, e sql.Expression, isCapped map[string]bool) error {
	sf, ok := e.(*expression.SetField)
	if !ok {
		return nil
	}
	sv, ok := sf.LeftChild.(*expression.SystemVar)
	if !ok {
		return nil // a user variable (@x)
	}
	name := strings.ToLower(sv.Name)
	if scope, ok := sv.Scope.(*sql.MysqlScope); !ok || scope.Type != sql.SystemVariableScope_Session {
		if !isAdmin(ctx, mdb) {
			return errNeedsAdmin("SET GLOBAL " + name)
		}
		return nil
	}
	if !isCapped[name] || isAdmin(ctx, mdb) {
		return nil
	}
	if _, isDefault := sf.RightChild.(*expression.DefaultColumn); isDefault {
		return nil // back to the global value
	}
	_, global, ok := sql.SystemVariables.GetGlobal(name)
	if !ok {
		return nil
	}
	limit, _ := global.(int64)
	v, err := sf.RightChild.Eval(ctx, nil)
	if err != nil {
		return fmt.Errorf("SET %s: %w", name, err)
	}
	n, ok := toInt64(v)
	if !ok {
		return nil // not a number: the engine's own check refuses it
	}
	if limit != 0 && (n == 0 || n > limit) {
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSAccessDeniedError,
			"Access denied: SET %s = %d would raise this session's limit above the server's %d (0 means no limit); a session may lower it, only a user with SUPER or SYSTEM_VARIABLES_ADMIN may raise it", name, n, limit)
	}
	return nil
}

func toInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int:
		return int64(v), true
	case uint64:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	}
	return 0, false
}

// processView is the process list as one session sees it, behind
// SHOW PROCESSLIST and information_schema.PROCESSLIST: a user without the
// PROCESS privilege sees only their own connections, as in MySQL, and
// passwords in CREATE USER, ALTER USER and SET PASSWORD are masked for
// everyone. Everything else (BeginQuery, Kill, ...) goes to the server's
// one process list.
type processView struct {
	sql.ProcessList
	self *sql.Context // the viewer
	mdb  *mysql_db.MySQLDb
	// kills learns of KILL QUERY/CONNECTION, which cancels a query's
	// context only when the engine next looks at it.
	kills *queryLimits
}

func (v *processView) Processes() []sql.Process {
	all := v.ProcessList.Processes()
	seeAll := !v.mdb.Enabled() || v.mdb.UserActivePrivilegeSet(v.self).Has(sql.PrivilegeType_Process)
	me := v.self.Session.Client().User
	out := make([]sql.Process, 0, len(all))
	for _, p := range all {
		if !seeAll && p.User != me {
			continue
		}
		p.Query = RedactPasswords(p.Query)
		out = append(out, p)
	}
	return out
}

func (v *processView) Kill(connID uint32) {
	v.ProcessList.Kill(connID)
	v.kills.killed(connID)
}

// checkWritingCall refuses a procedure that writes to a user who may not
// write: GMS checks EXECUTE only, so a read-only user granted EXECUTE (to
// call the procedures that read) could otherwise write through the others.
// A procedure is a writer unless it is marked read-only.
func checkWritingCall(ctx *sql.Context, mdb *mysql_db.MySQLDb, c *plan.Call) error {
	if c.IsReadOnly() || !mdb.Enabled() {
		return nil
	}
	db := ctx.GetCurrentDatabase()
	if d := c.Database(); d != nil {
		db = d.Name()
	}
	for _, p := range []sql.PrivilegeType{sql.PrivilegeType_Insert, sql.PrivilegeType_Update, sql.PrivilegeType_Delete} {
		if mdb.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db}, p)) {
			return nil
		}
	}
	client := ctx.Session.Client()
	return mysql.NewSQLError(erProcAccessDenied, mysql.SSClientError,
		"procedure %s writes: user '%s'@'%s' needs INSERT, UPDATE or DELETE on %s besides EXECUTE", c.Name, client.User, client.Address, db)
}

// erProcAccessDenied is MySQL's ER_PROCACCESS_DENIED_ERROR.
const erProcAccessDenied = 1370
