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
	schema  sql.Schema
	indexes []sql.Index
	// readOnce, when set, answers lookups by join keys from the table read
	// once per query (see readInnerOnce).
	readOnce *readOncePlan
}

var (
	_ sql.Table                = (*Table)(nil)
	_ sql.CommentedTable       = (*Table)(nil)
	_ sql.PrimaryKeyTable      = (*Table)(nil)
	_ sql.IndexSearchableTable = (*Table)(nil)
	_ sql.IndexedTable         = (*Table)(nil)
)

func newTable(db *Database, def *catalog.Table) *Table {
	t := &Table{db: db, def: def, schema: schemaOf(db.name, def)}
	t.indexes = indexesOf(db.name, def, t.schema)
	return t
}

// Name implements sql.Nameable.
func (t *Table) Name() string { return t.def.Name }

// String implements fmt.Stringer.
func (t *Table) String() string { return t.def.Name }

// Schema implements sql.Table.
func (t *Table) Schema(*sql.Context) sql.Schema { return t.schema }

// Collation implements sql.Table.
func (t *Table) Collation() sql.CollationID { return sql.Collation_Default }

// Comment implements sql.CommentedTable.
func (t *Table) Comment() string { return t.def.Comment }

// PrimaryKeySchema implements sql.PrimaryKeyTable.
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
	return t.db.rows(ctx, t.def, part)
}
