package tables

import (
	"fmt"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// ObjectColumns is the result schema of an object no table reads (an
// account link, an ephemeral key), mapped as the catalog maps it: the
// columns of catalog.Action.Result, every one nullable.
func ObjectColumns(cols []catalog.Column) sql.Schema {
	out := make(sql.Schema, 0, len(cols))
	for _, c := range cols {
		out = append(out, &sql.Column{Name: c.Name, Type: sqlType(c.Type), Nullable: true, Comment: c.Comment})
	}
	return out
}

// ObjectRow converts a Stripe object of type object into values in the
// order of ObjectColumns(cols), TIMESTAMPs as the clock reads in zone.
func ObjectRow(object string, cols []catalog.Column, obj stripeapi.Object, zone *time.Location) (sql.Row, error) {
	row, err := rowOf(&catalog.Table{Object: object, Columns: cols}, obj, zone)
	if err != nil {
		return nil, fmt.Errorf("the returned %s: %w", object, err)
	}
	return row, nil
}
