package tables

import (
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// newEngineDB is newEngine that also returns the database.
func newEngineDB(t *testing.T, f *fakeStripe) (*sqle.Engine, *Database, func() *sql.Context) {
	t.Helper()
	tdb := newTestDB(t, f, stripeapi.Config{Rate: 1000})
	return tdb.engine, tdb.db, tdb.newCtx
}

// TestProjectionBuildsOnlyTheColumnsUsed checks, by the database's count
// of column values built, that a scan builds exactly the values of the
// columns a query uses: none for COUNT(*), two per row for two columns,
// every column for SELECT *; and that the projected rows hold the right
// values in the query's order.
func TestProjectionBuildsOnlyTheColumnsUsed(t *testing.T) {
	const n = 250
	f := newFake(n)
	e, db, ctx := newEngineDB(t, f)
	def, _ := catalog.Builtin().Lookup("Customers")
	columns := uint64(len(def.Columns))

	cases := []struct {
		query  string
		values uint64 // column values built
		check  func(rows []sql.Row) bool
	}{
		{"SELECT COUNT(*) FROM Customers", 0, func(rows []sql.Row) bool {
			return len(rows) == 1 && rows[0][0] == int64(n)
		}},
		{"SELECT Balance, Id FROM Customers", 2 * n, func(rows []sql.Row) bool {
			return len(rows) == n && len(rows[0]) == 2 && rows[0][0] == int64(n*100) && rows[0][1] == "cus_250"
		}},
		// The filter's column is read too, but not returned.
		{"SELECT Id FROM Customers WHERE Balance >= 24900", 2 * n, func(rows []sql.Row) bool {
			return len(rows) == 2 && len(rows[0]) == 1 && rows[0][0] == "cus_250" && rows[1][0] == "cus_249"
		}},
		{"SELECT COUNT(*), SUM(Balance) FROM Customers WHERE Email IS NULL", 2 * n, func(rows []sql.Row) bool {
			return len(rows) == 1 && rows[0][0] == int64(n/10)
		}},
		{"SELECT * FROM Customers", columns * n, func(rows []sql.Row) bool {
			return len(rows) == n && uint64(len(rows[0])) == columns
		}},
	}
	for _, tc := range cases {
		before := db.valuesBuilt.Load()
		rows := query(t, e, ctx, tc.query)
		if got := db.valuesBuilt.Load() - before; got != tc.values {
			t.Errorf("%s: built %d column values, want %d", tc.query, got, tc.values)
		}
		if !tc.check(rows) {
			t.Errorf("%s: wrong rows; first of %d: %v", tc.query, len(rows), first(rows))
		}
	}
}

func first(rows []sql.Row) sql.Row {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}
