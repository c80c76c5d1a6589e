package tables

import (
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/stripesql/stripesql/catalog"
)

// Foreign keys: every catalog reference to one table (Invoices.CustomerId
// holds a Customers.Id) is declared as a foreign key, so clients see it
// where they look: SHOW CREATE TABLE, information_schema's
// KEY_COLUMN_USAGE and REFERENTIAL_CONSTRAINTS, JDBC's getImportedKeys,
// SQLAlchemy's inspector. BI tools offer joins and label ids from them.
//
// They are declarations only. Stripe enforces its own references, and an
// engine check would cost a Stripe call per written row (or a scan of every
// child table on a delete). go-mysql-server checks declared keys whenever
// foreign_key_checks is 1, so stripesql starts every session with it at 0;
// a session that turns it on gets a clear refusal on writes, never a check.
// A polymorphic reference (a field that may hold ids of several kinds of
// object) is not a foreign key and is not declared.

var (
	_ sql.ForeignKeyTable  = (*Table)(nil)
	_ sql.ForeignKeyEditor = fkEditor{}
)

// foreignKeyName names the key of child.column: MySQL wants names unique in
// the database, and fk_<table>_<column> is unique because column names are
// unique in a table. MySQL identifiers have at most 64 characters; a longer
// name is cut and ends in a hash of the whole, which keeps it unique.
func foreignKeyName(table, column string) string {
	name := "fk_" + table + "_" + column
	if len(name) <= 64 {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s_%08x", name[:55], h.Sum32())
}

// declaredKeys are the foreign keys of def's columns into tables of cat.
func declaredKeys(db string, cat *catalog.Catalog, def *catalog.Table) []sql.ForeignKeyConstraint {
	var fks []sql.ForeignKeyConstraint
	for _, c := range def.Columns {
		if c.Ref == "" || c.Polymorphic {
			continue
		}
		parent, ok := cat.Lookup(c.Ref)
		if !ok || parent.ColumnIndex(catalog.PrimaryKey) < 0 {
			// The reference names a table this catalog does not serve
			// (the demo's catalog is smaller than Stripe's).
			continue
		}
		fks = append(fks, sql.ForeignKeyConstraint{
			Name:           foreignKeyName(def.Name, c.Name),
			Database:       db,
			Table:          def.Name,
			Columns:        []string{c.Name},
			ParentDatabase: db,
			ParentTable:    parent.Name,
			ParentColumns:  []string{catalog.PrimaryKey},
			OnUpdate:       sql.ForeignKeyReferentialAction_DefaultAction,
			OnDelete:       sql.ForeignKeyReferentialAction_DefaultAction,
			IsResolved:     true,
		})
	}
	return fks
}

// GetDeclaredForeignKeys implements sql.ForeignKeyTable. It reads the
// catalog only: no Stripe call.
func (t *Table) GetDeclaredForeignKeys(*sql.Context) ([]sql.ForeignKeyConstraint, error) {
	return declaredKeys(t.db.name, t.db.catalog, t.def), nil
}

// GetReferencedForeignKeys implements sql.ForeignKeyTable: the keys of
// other tables (and this one) that point at this table.
func (t *Table) GetReferencedForeignKeys(*sql.Context) ([]sql.ForeignKeyConstraint, error) {
	var out []sql.ForeignKeyConstraint
	for _, def := range t.db.catalog.Tables() {
		for _, fk := range declaredKeys(t.db.name, t.db.catalog, def) {
			if fk.ParentTable == t.def.Name {
				out = append(out, fk)
			}
		}
	}
	return out, nil
}

// ErrCodeForeignKeyDDL is the code of a refused foreign key change or
// check: MySQL's ER_NOT_SUPPORTED_YET.
const ErrCodeForeignKeyDDL = mysql.ERNotSupportedYet

func foreignKeysFixed() error {
	return mysql.NewSQLError(ErrCodeForeignKeyDDL, "42000",
		"stripesql's foreign keys come from Stripe's object references and cannot be added, changed or dropped")
}

// CreateIndexForForeignKey implements sql.ForeignKeyTable; keys are fixed.
func (t *Table) CreateIndexForForeignKey(*sql.Context, sql.IndexDef) error {
	return foreignKeysFixed()
}

// AddForeignKey implements sql.ForeignKeyTable; keys are fixed.
func (t *Table) AddForeignKey(*sql.Context, sql.ForeignKeyConstraint) error {
	return foreignKeysFixed()
}

// DropForeignKey implements sql.ForeignKeyTable; keys are fixed.
func (t *Table) DropForeignKey(*sql.Context, string, string, string) error {
	return foreignKeysFixed()
}

// UpdateForeignKey implements sql.ForeignKeyTable; keys are fixed.
func (t *Table) UpdateForeignKey(*sql.Context, string, sql.ForeignKeyConstraint) error {
	return foreignKeysFixed()
}

// GetForeignKeyEditor implements sql.ForeignKeyTable. The engine asks for
// it only to check keys, with foreign_key_checks = 1; the editor refuses
// every row, so a check never turns into Stripe calls.
func (t *Table) GetForeignKeyEditor(*sql.Context) sql.ForeignKeyEditor {
	return fkEditor{t}
}

// fkEditor refuses the writes the engine routes through it when it checks
// foreign keys.
type fkEditor struct{ *Table }

func foreignKeyChecksOn() error {
	return mysql.NewSQLError(ErrCodeForeignKeyDDL, "42000",
		"stripesql does not check foreign keys (Stripe enforces its own references, and a check would cost Stripe calls): SET foreign_key_checks = 0 to write")
}

func (fkEditor) StatementBegin(*sql.Context)                 {}
func (fkEditor) DiscardChanges(*sql.Context, error) error    { return nil }
func (fkEditor) StatementComplete(*sql.Context) error        { return nil }
func (fkEditor) Insert(*sql.Context, sql.Row) error          { return foreignKeyChecksOn() }
func (fkEditor) Update(*sql.Context, sql.Row, sql.Row) error { return foreignKeyChecksOn() }
func (fkEditor) Delete(*sql.Context, sql.Row) error          { return foreignKeyChecksOn() }
func (fkEditor) Close(*sql.Context) error                    { return nil }

// IndexedAccess is how the engine looks up a parent row to check a key:
// refused too, so the check makes no Stripe call.
func (e fkEditor) IndexedAccess(*sql.Context, sql.IndexLookup) sql.IndexedTable {
	return fkRefusedTable{e.Table}
}

// fkRefusedTable is a table that reads no rows, only the refusal.
type fkRefusedTable struct{ *Table }

func (fkRefusedTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return nil, foreignKeyChecksOn()
}

func (fkRefusedTable) LookupPartitions(*sql.Context, sql.IndexLookup) (sql.PartitionIter, error) {
	return nil, foreignKeyChecksOn()
}

func (fkRefusedTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	return nil, foreignKeyChecksOn()
}

var foreignKeyChecksOff sync.Once

// disableForeignKeyChecks makes foreign_key_checks 0 for every session
// (and SET foreign_key_checks = DEFAULT): GMS keeps defaults in its
// process-wide registry, and the value is a constant.
func disableForeignKeyChecks() {
	foreignKeyChecksOff.Do(func() {
		// The variable is GMS's own; assigning a valid value cannot fail.
		_ = sql.SystemVariables.AssignValues(map[string]any{"foreign_key_checks": int8(0)})
	})
}
