package tables

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/stripesql/stripesql/catalog"
)

// Short strings compare byte for byte (utf8mb4_0900_bin, the engine's
// default): Stripe ids and list filters such as email are case-sensitive,
// so SQL equality means exactly what Stripe's filter means.
var varchar255 = types.MustCreateStringWithDefaults(sqltypes.VarChar, 255)

// emptyDefault is the Id column's default. NewColumnDefaultValue fails
// only for expressions it cannot type, which a string literal is not.
var emptyDefault, _ = sql.NewColumnDefaultValue(expression.NewLiteral("", varchar255), varchar255, true, false, false)

// sqlType maps a catalog type to the engine's type.
func sqlType(t catalog.Type) sql.Type {
	switch t {
	case catalog.String:
		return varchar255
	case catalog.Text:
		return types.LongText
	case catalog.Integer:
		return types.Int64
	case catalog.Float:
		return types.Float64
	case catalog.Boolean:
		return types.Boolean
	case catalog.Timestamp:
		return types.Timestamp
	case catalog.JSON:
		return types.JSON
	}
	panic("tables: unknown catalog type " + t.String())
}

// schemaOf builds the SQL schema of a catalog table.
func schemaOf(db string, def *catalog.Table) sql.Schema {
	schema := make(sql.Schema, 0, len(def.Columns))
	for _, c := range def.Columns {
		col := &sql.Column{
			Name: c.Name,
			Type: sqlType(c.Type),
			// Only the key and the columns a create requires are NOT NULL:
			// the engine refuses an INSERT that leaves out a NOT NULL column
			// without a default, and Stripe fills in Created, Livemode,
			// Active and the like itself. No default could stand in (an
			// omitted Active must not be sent, Active = false must be).
			// Stripe always returns these fields, so reads are unaffected.
			Nullable:       c.Nullable || !c.Required,
			Source:         def.Name,
			DatabaseSource: db,
			Comment:        c.Comment,
		}
		if strings.EqualFold(c.Name, catalog.PrimaryKey) {
			col.PrimaryKey, col.Nullable = true, false
			// Stripe assigns ids, so an INSERT leaves Id out; the empty
			// default lets the engine accept that.
			col.Default = emptyDefault
		}
		schema = append(schema, col)
	}
	return schema
}
