package tables

import (
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// drain reads every object of src.
func drain(t *testing.T, src objects) []stripeapi.Object {
	t.Helper()
	var out []stripeapi.Object
	for {
		obj, err := src.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, obj)
	}
}

func keysOf(obj stripeapi.Object) []string {
	var ks []string
	for k := range obj {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestProjectedListKeepsOnlyItsPathsAndIsNotSharedWithFullReaders reads
// the customers' list in one query projected to balance, then whole: the
// projected objects hold only the scan's paths and balance, and the whole
// read is not handed them from the per-query cache (it calls Stripe and
// gets every field); a projected read after it is answered from the whole
// objects, with no call.
func TestProjectedListKeepsOnlyItsPathsAndIsNotSharedWithFullReaders(t *testing.T) {
	f := newFake(30)
	db := newTestDB(t, f, stripeapi.Config{Rate: 1000}).db
	def, _ := db.catalog.Lookup("Customers")
	call := pushdown.FullScan(def).Calls[0]
	ctx := sql.NewContext(t.Context(), sql.WithPid(7))
	db.cache.begin(ctx)
	f.log()

	bal := newRowBuilder(def, []int{def.ColumnIndex("Balance")})
	projected := drain(t, db.listCallFields(ctx, "Customers", call, false, nil, bal.scanPaths()))
	if len(projected) != 30 {
		t.Fatalf("projected read: %d objects, want 30", len(projected))
	}
	for _, obj := range projected {
		if got := keysOf(obj); len(got) != 4 || got[0] != "balance" || got[1] != "created" || got[2] != "id" || got[3] != "object" {
			t.Fatalf("projected object has keys %q, want balance, created, id, object", got)
		}
	}
	if calls := f.log(); len(calls) != 1 {
		t.Fatalf("projected read made %d calls, want 1: %v", len(calls), calls)
	}

	whole := drain(t, db.listCall(ctx, "Customers", call, false, nil))
	if calls := f.log(); len(calls) != 1 {
		t.Errorf("whole read after a projected one made %d calls, want 1 (projected objects must not serve it): %v", len(calls), calls)
	}
	if len(whole) != 30 || whole[1]["email"] != "c29@example.com" || whole[0]["address"] == nil {
		t.Fatalf("whole read: %d objects, first %v", len(whole), whole[0])
	}

	email := newRowBuilder(def, []int{def.ColumnIndex("Email")})
	again := drain(t, db.listCallFields(ctx, "Customers", call, false, nil, email.scanPaths()))
	if calls := f.log(); len(calls) != 0 {
		t.Errorf("projected read after a whole one made %d calls, want 0 (the whole objects serve it): %v", len(calls), calls)
	}
	if len(again) != 30 || again[1]["email"] != "c29@example.com" {
		t.Errorf("projected read from whole objects: %d objects, first %v", len(again), again[0])
	}
}

// TestQueriesOfOtherColumnsReadTheirOwnValues runs queries of one table
// with different columns in one session, and one query reading the table
// twice for different columns: each gets its own columns' values.
func TestQueriesOfOtherColumnsReadTheirOwnValues(t *testing.T) {
	f := newFake(25)
	e, ctx := newEngine(t, f)
	rows := query(t, e, ctx, "SELECT Email FROM Customers WHERE Email IS NOT NULL ORDER BY Email LIMIT 1")
	if len(rows) != 1 || rows[0][0] != "c11@example.com" {
		t.Fatalf("Email: %v", rows)
	}
	rows = query(t, e, ctx, "SELECT SUM(Balance), COUNT(AddressCountry) FROM Customers")
	if len(rows) != 1 || rows[0][1] != int64(25) {
		t.Fatalf("SUM(Balance), COUNT(AddressCountry): %v", rows)
	}
	if got := rows[0][0]; fmt.Sprint(got) != "32500" {
		t.Errorf("SUM(Balance) = %v, want 32500", got)
	}
	rows = query(t, e, ctx, "SELECT (SELECT COUNT(Email) FROM Customers) AS emails, (SELECT SUM(Balance) FROM Customers) AS balance")
	if len(rows) != 1 || rows[0][0] != int64(23) || fmt.Sprint(rows[0][1]) != "32500" {
		t.Errorf("one query reading Email and Balance of the same list: %v, want [23 32500]", rows)
	}
	rows = query(t, e, ctx, "SELECT Id, Email, Balance FROM Customers WHERE Id = 'cus_3'")
	if len(rows) != 1 || rows[0][1] != "c3@example.com" || rows[0][2] != int64(300) {
		t.Errorf("point read after projected scans: %v", rows)
	}
}
