package server

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
)

// tempDatabase adds session temporary tables, held in memory, to the
// served database: Tableau stages extracts with CREATE TEMPORARY TABLE …
// and INSERT … SELECT, which go-mysql-server refuses unless the database
// can create them. A temporary table is seen only by its session, shadows
// a table of the same name as in MySQL, is not listed by SHOW TABLES, and
// goes when the session ends (the connection closes or is reset). Its rows
// count against the server's memory like any query result: they are the
// client's own data, never Stripe's.
type tempDatabase struct {
	database
	temps *tempTables
}

var (
	_ sql.TemporaryTableCreator  = tempDatabase{}
	_ sql.TemporaryTableDatabase = tempDatabase{}
	_ sql.TableDropper           = tempDatabase{}
)

// tempTables are the temporary tables of every session.
type tempTables struct {
	mu        sync.Mutex
	mem       *memory.Database // owner of the tables, for the memory package
	bySession map[uint32]map[string]*memory.Table
}

func newTempTables() *tempTables {
	return &tempTables{mem: memory.NewDatabase("temporary"), bySession: map[uint32]map[string]*memory.Table{}}
}

func (t *tempTables) get(session uint32, name string) (*memory.Table, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tbl, ok := t.bySession[session][strings.ToLower(name)]
	return tbl, ok
}

// sessionEnded drops the session's temporary tables.
func (t *tempTables) sessionEnded(session uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.bySession, session)
}

// GetTableInsensitive implements sql.Database: the session's temporary
// table of that name, else the served table.
func (d tempDatabase) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	if ctx != nil && ctx.Session != nil {
		if t, ok := d.temps.get(ctx.Session.ID(), name); ok {
			return t, true, nil
		}
	}
	return d.database.GetTableInsensitive(ctx, name)
}

// CreateTemporaryTable implements sql.TemporaryTableCreator.
func (d tempDatabase) CreateTemporaryTable(ctx *sql.Context, name string, schema sql.PrimaryKeySchema, _ sql.CollationID) error {
	id := ctx.Session.ID()
	d.temps.mu.Lock()
	defer d.temps.mu.Unlock()
	key := strings.ToLower(name)
	if _, ok := d.temps.bySession[id][key]; ok {
		return sql.ErrTableAlreadyExists.New(name)
	}
	if d.temps.bySession[id] == nil {
		d.temps.bySession[id] = map[string]*memory.Table{}
	}
	for _, c := range schema.Schema {
		c.Source = name
		c.DatabaseSource = d.Name()
	}
	// A local table keeps its rows itself, not in a memory.Session, which
	// the server's sessions are not.
	t := memory.NewLocalTable(ctx, d.temps.mem, name, schema, d.temps.mem.GetForeignKeyCollection())
	d.temps.bySession[id][key] = t
	return nil
}

// GetAllTemporaryTables implements sql.TemporaryTableDatabase.
func (d tempDatabase) GetAllTemporaryTables(ctx *sql.Context) ([]sql.Table, error) {
	d.temps.mu.Lock()
	defer d.temps.mu.Unlock()
	var out []sql.Table
	for _, t := range d.temps.bySession[ctx.Session.ID()] {
		out = append(out, t)
	}
	return out, nil
}

// DropTable implements sql.TableDropper, for temporary tables only: the
// served tables are fixed by the catalog.
func (d tempDatabase) DropTable(ctx *sql.Context, name string) error {
	id := ctx.Session.ID()
	d.temps.mu.Lock()
	defer d.temps.mu.Unlock()
	key := strings.ToLower(name)
	if _, ok := d.temps.bySession[id][key]; !ok {
		return sql.ErrDropTableNotSupported.New(d.Name())
	}
	delete(d.temps.bySession[id], key)
	return nil
}
