package tables

import (
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
)

// Table is one Stripe resource as a SQL table. A Table value is immutable;
// IndexedAccess returns a copy that carries a plan.
type Table struct {
	db      *Database
	def     *catalog.Table
	schema  sql.Schema // the full schema
	indexes []sql.Index
	// readOnce, when set, answers lookups by join keys from the table read
	// once per query (see readInnerOnce).
	readOnce *readOncePlan
	// projection names the columns a query uses (sql.ProjectedTable), nil
	// for all; projected is their schema and rows builds rows of them.
	projection []string
	projected  sql.Schema
	rows       *rowBuilder
}

var (
	_ sql.Table                = (*Table)(nil)
	_ sql.CommentedTable       = (*Table)(nil)
	_ sql.PrimaryKeyTable      = (*Table)(nil)
	_ sql.IndexSearchableTable = (*Table)(nil)
	_ sql.IndexedTable         = (*Table)(nil)
	_ sql.ProjectedTable       = (*Table)(nil)
)

func newTable(db *Database, def *catalog.Table) *Table {
	t := &Table{db: db, def: def, schema: schemaOf(db.name, def)}
	t.indexes = indexesOf(db.name, def, t.schema)
	t.rows = newRowBuilder(def, nil)
	t.rows.built = &db.valuesBuilt
	return t
}

// Name implements sql.Nameable.
func (t *Table) Name() string { return t.def.Name }

// String implements fmt.Stringer.
func (t *Table) String() string { return t.def.Name }

// Schema implements sql.Table: the projected columns, if the engine chose
// some.
func (t *Table) Schema(*sql.Context) sql.Schema {
	if t.projection != nil {
		return t.projected
	}
	return t.schema
}

// WithProjections implements sql.ProjectedTable: a copy whose rows hold
// only the named columns, in that order. The engine asks for the columns
// a query uses (never for SELECT *); COUNT(*) uses none, and then a row
// is built without reading any value of the object.
func (t *Table) WithProjections(_ *sql.Context, names []string) (sql.Table, error) {
	idx := make([]int, len(names))
	projected := make(sql.Schema, len(names))
	for i, name := range names {
		ci := t.def.ColumnIndex(name)
		if ci < 0 {
			return nil, fmt.Errorf("table %s has no column %s", t.def.Name, name)
		}
		idx[i], projected[i] = ci, t.schema[ci]
	}
	cp := *t
	cp.projection = append(make([]string, 0, len(names)), names...)
	cp.projected = projected
	cp.rows = newRowBuilder(t.def, idx)
	cp.rows.built = t.rows.built
	return &cp, nil
}

// Projections implements sql.ProjectedTable; nil means every column.
func (t *Table) Projections() []string { return t.projection }

// Collation implements sql.Table.
func (t *Table) Collation() sql.CollationID { return sql.Collation_Default }

// Comment implements sql.CommentedTable.
func (t *Table) Comment() string { return t.def.Comment }

// PrimaryKeySchema implements sql.PrimaryKeyTable. It is the full schema
// even for a projection: the engine resolves column positions and index
// statistics against it (gms-notes §2.1).
func (t *Table) PrimaryKeySchema(*sql.Context) sql.PrimaryKeySchema {
	return sql.NewPrimaryKeySchema(t.schema, t.def.ColumnIndex(catalog.PrimaryKey))
}

// Partitions implements sql.Table: one partition per Stripe call of the
// plan (a full scan when the table carries none).
func (t *Table) Partitions(ctx *sql.Context) (sql.PartitionIter, error) {
	return t.db.partitions(ctx, t.db.resolve(ctx, pushdown.FullScan(t.def)))
}

// PartitionRows implements sql.Table.
func (t *Table) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	part, ok := p.(*partition)
	if !ok {
		return nil, fmt.Errorf("table %s: foreign partition %T", t.def.Name, p)
	}
	return t.db.rows(ctx, t.def, t.rows, part)
}
