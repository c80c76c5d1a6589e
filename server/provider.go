package server

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// provider serves exactly one database and the Go stored procedures.
//
// It must be the object handed to the analyzer as its DatabaseProvider:
// GMS finds external stored procedures by type-asserting the provider to
// sql.ExternalStoredProcedureProvider. information_schema and mysql are
// added by GMS itself and are not served from here.
type provider struct {
	db    sql.Database
	procs sql.ExternalStoredProcedureRegistry
	funcs map[string]sql.Function // by lower-case name; see Function
}

var (
	_ sql.DatabaseProvider                = (*provider)(nil)
	_ sql.ExternalStoredProcedureProvider = (*provider)(nil)
	_ sql.FunctionProvider                = (*provider)(nil)
)

// newProvider wraps db (see database) and registers procs. Names are
// lower-cased because the registry lower-cases the names it looks up but not
// the names it stores; without this, CALL would only find all-lower-case names.
// funcs are served ahead of GMS's built-in functions (see Function).
func newProvider(db sql.Database, procs []sql.ExternalStoredProcedureDetails, funcs []sql.Function) (*provider, error) {
	reg := sql.NewExternalStoredProcedureRegistry()
	type overload struct {
		name  string
		arity int
	}
	seen := make(map[overload]bool, len(procs))
	for _, p := range procs {
		arity, err := procArity(p)
		if err != nil {
			return nil, err
		}
		p.Name = strings.ToLower(p.Name)
		// The registry keys overloads by parameter count and would silently
		// keep the last of two same-arity procedures; refuse instead.
		key := overload{p.Name, arity}
		if seen[key] {
			return nil, fmt.Errorf("stored procedure %q: two variants take %d parameters", p.Name, arity)
		}
		seen[key] = true
		reg.Register(p)
	}
	byName := make(map[string]sql.Function, len(funcs))
	for _, f := range funcs {
		name := strings.ToLower(f.FunctionName())
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("function %q given twice", name)
		}
		byName[name] = f
	}
	return &provider{db: tempDatabase{database: database{db}, temps: newTempTables()}, procs: reg, funcs: byName}, nil
}

// Function implements sql.FunctionProvider. GMS asks the provider before
// its built-in registry, which refuses a second function of the same name:
// this is how a server function can replace a built-in one (SUM and AVG
// with exact decimal results). The map is never written after
// newProvider, so concurrent lookups are safe.
func (p *provider) Function(_ *sql.Context, _ string, name string) (sql.Function, bool) {
	f, ok := p.funcs[strings.ToLower(name)]
	return f, ok
}

// procArity checks the shape GMS requires of a procedure,
// func(*sql.Context, params...) (sql.RowIter, error), and returns the number
// of SQL parameters the way the registry counts them (variadic = MaxInt).
// The registry itself panics on a Function that is not a func, and a wrong
// signature would otherwise only surface at the first CALL.
func procArity(p sql.ExternalStoredProcedureDetails) (int, error) {
	if p.Name == "" {
		return 0, fmt.Errorf("stored procedure without a name")
	}
	t := reflect.TypeOf(p.Function)
	ctxType := reflect.TypeFor[*sql.Context]()
	iterType := reflect.TypeFor[sql.RowIter]()
	errType := reflect.TypeFor[error]()
	if t == nil || t.Kind() != reflect.Func ||
		t.NumIn() < 1 || t.In(0) != ctxType ||
		t.NumOut() != 2 || t.Out(0) != iterType || t.Out(1) != errType {
		return 0, fmt.Errorf("stored procedure %q: function must be func(*sql.Context, ...) (sql.RowIter, error), not %v", p.Name, t)
	}
	if t.IsVariadic() {
		return math.MaxInt, nil
	}
	return t.NumIn() - 1, nil
}

// Database implements sql.DatabaseProvider.
func (p *provider) Database(_ *sql.Context, name string) (sql.Database, error) {
	if strings.EqualFold(name, p.db.Name()) {
		return p.db, nil
	}
	return nil, sql.ErrDatabaseNotFound.New(name)
}

// HasDatabase implements sql.DatabaseProvider.
func (p *provider) HasDatabase(_ *sql.Context, name string) bool {
	return strings.EqualFold(name, p.db.Name())
}

// AllDatabases implements sql.DatabaseProvider.
func (p *provider) AllDatabases(*sql.Context) []sql.Database {
	return []sql.Database{p.db}
}

// ExternalStoredProcedure implements sql.ExternalStoredProcedureProvider.
// The registry is never written after newProvider, so concurrent lookups
// from many connections are safe.
func (p *provider) ExternalStoredProcedure(_ *sql.Context, name string, numOfParams int) (*sql.ExternalStoredProcedureDetails, error) {
	return p.procs.LookupByNameAndParamCount(name, numOfParams)
}

// ExternalStoredProcedures implements sql.ExternalStoredProcedureProvider.
// GMS asks only for SHOW CREATE PROCEDURE, which then shows a statement
// without parameters ("CREATE PROCEDURE x() SELECT 'External stored
// procedure'"); when the database lists the procedure itself, with its
// parameters, none is returned, so that SHOW CREATE PROCEDURE shows that.
func (p *provider) ExternalStoredProcedures(ctx *sql.Context, name string) ([]sql.ExternalStoredProcedureDetails, error) {
	if pdb, ok := p.db.(sql.StoredProcedureDatabase); ok {
		if _, listed, err := pdb.GetStoredProcedure(ctx, name); err == nil && listed {
			return nil, nil
		}
	}
	return p.procs.LookupByName(name)
}
