package tables

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// WritesTable is the name of the read-only table of the server's recent
// writes (write_log.go). It makes no Stripe call.
const WritesTable = "StripeWrites"

// writesTable is StripeWrites. It implements sql.Table only, so the
// engine refuses INSERT, UPDATE and DELETE on it.
type writesTable struct {
	db     *Database
	schema sql.Schema
}

var _ sql.Table = (*writesTable)(nil)

func newWritesTable(db *Database) *writesTable {
	text := types.LongText
	col := func(name string, typ sql.Type, nullable bool) *sql.Column {
		return &sql.Column{Name: name, Type: typ, Nullable: nullable, Source: WritesTable, DatabaseSource: db.name}
	}
	return &writesTable{db: db, schema: sql.Schema{
		col("Id", types.Int64, false),
		col("Time", types.DatetimeMaxPrecision, false),
		col("User", varchar255, true),
		col("ConnectionId", types.Uint32, true),
		col("Account", varchar255, true),
		col("Statement", text, true),
		col("Verb", types.MustCreateStringWithDefaults(sqltypes.VarChar, 16), false),
		col("Target", varchar255, false),
		col("Row", types.Int64, false),
		col("Method", types.MustCreateStringWithDefaults(sqltypes.VarChar, 8), false),
		col("Path", text, false),
		col("IdempotencyKey", varchar255, true),
		col("Outcome", types.MustCreateStringWithDefaults(sqltypes.VarChar, 16), false),
		col("ObjectId", varchar255, true),
		col("RequestId", varchar255, true),
		col("Attempts", types.Int64, true),
		col("Error", text, true),
		col("Done", types.DatetimeMaxPrecision, true),
	}}
}

func (t *writesTable) Name() string                   { return WritesTable }
func (t *writesTable) String() string                 { return WritesTable }
func (t *writesTable) Schema(*sql.Context) sql.Schema { return t.schema }
func (t *writesTable) Collation() sql.CollationID     { return sql.Collation_Default }

// Comment implements sql.CommentedTable.
func (t *writesTable) Comment() string {
	return "this server's recent Stripe writes and their outcomes (applied, refused, unknown, pending); read-only"
}

func (t *writesTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(writesPartition{}), nil
}

func (t *writesTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	recs := t.db.writes().log.snapshot()
	rows := make([]sql.Row, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, sql.Row{
			r.Seq, r.Time, nullIfEmpty(r.User), nullIfZero(r.Conn), nullIfEmpty(r.Account), nullIfEmpty(r.Statement),
			r.Verb, r.Target, int64(r.Row), r.Method, r.Path, nullIfEmpty(r.Key), string(r.Outcome),
			nullIfEmpty(r.ObjectID), nullIfEmpty(r.RequestID), nullIfZero(int64(r.Attempts)),
			nullIfEmpty(r.Error), nullIfZeroTime(r),
		})
	}
	return sql.RowsToRowIter(rows...), nil
}

type writesPartition struct{}

func (writesPartition) Key() []byte { return []byte(WritesTable) }

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullIfZero[T uint32 | int64](v T) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullIfZeroTime(r writeRecord) any {
	if r.Done.IsZero() {
		return nil
	}
	return r.Done
}

// isWritesTable reports whether name is StripeWrites, as MySQL compares
// table names here (case-insensitively).
func isWritesTable(name string) bool { return strings.EqualFold(name, WritesTable) }
