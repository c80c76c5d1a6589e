package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/mirror"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// TestMirrorAnswersAsLiveAndFollowsChanges runs stripesql with Customers
// and Invoices mirrored over the demo emulator: once backfilled, reads
// come from the mirror with no Stripe call and equal live reads; a write
// through stripesql shows at once in another session; a change made at
// the emulator directly shows once the mirror has caught up with the
// events.
func TestMirrorAnswersAsLiveAndFollowsChanges(t *testing.T) {
	e := newEnv(t, withMirror("Customers", "Invoices"), withConns(4))
	ctx := t.Context()
	waitMirrorReady(t, e, "Customers", "Invoices")

	live, routed := pinnedConn(t, e), pinnedConn(t, e)
	mustExec(t, live, "SET stripe_source = 'live'")
	for _, q := range []string{
		"SELECT Id, Email, Name, Balance, Created, Metadata FROM Customers ORDER BY Id",
		"SELECT Id, CustomerId, Status, Total, Created FROM Invoices WHERE Status = 'paid' ORDER BY Id",
		"SELECT COUNT(*) FROM Customers",
		"SELECT c.Email, COUNT(*), SUM(i.Total) FROM Invoices i JOIN Customers c ON c.Id = i.CustomerId GROUP BY c.Email ORDER BY c.Email",
		"SELECT * FROM Customers WHERE Id IN (SELECT CustomerId FROM Invoices WHERE Status = 'open') ORDER BY Id",
	} {
		want := connRows(t, live, q)
		got := connRows(t, routed, q)
		if len(want) == 0 {
			t.Fatalf("%s: no rows live; the comparison shows nothing", q)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n mirror %d rows %v\n live   %d rows %v", q, len(got), head(got), len(want), head(want))
		}
		if n := statusValue(t, routed, "Stripe_calls"); n != "0" {
			t.Errorf("%s: Stripe_calls = %s through the mirror, want 0", q, n)
		}
	}
	if plan := connRows(t, routed, "EXPLAIN SELECT * FROM Customers WHERE Email = 'x@example.com'"); !strings.Contains(fmt.Sprint(plan), "mirror: Customers (ready, lag") {
		t.Errorf("EXPLAIN through the mirror: %v", plan)
	}

	// Read your writes, from another session.
	writer := pinnedConn(t, e)
	mustExec(t, writer, "INSERT INTO Customers (Name, Email) VALUES ('Mirror Reader', 'mirror@example.com')")
	id := connRows(t, writer, "SELECT stripe_last_insert_id()")[0][0]
	byID := "SELECT Name, Email FROM Customers WHERE Id = '" + id + "'"
	if got := connRows(t, routed, byID); len(got) != 1 || got[0][0] != "Mirror Reader" {
		t.Errorf("after INSERT, another session reads %v, want the new customer", got)
	}
	mustExec(t, writer, "UPDATE Customers SET Name = 'Renamed' WHERE Id = '"+id+"'")
	if got := connRows(t, routed, byID); len(got) != 1 || got[0][0] != "Renamed" {
		t.Errorf("after UPDATE, another session reads %v, want Renamed", got)
	}
	if n := statusValue(t, routed, "Stripe_calls"); n != "0" {
		t.Errorf("reads after the writes: Stripe_calls = %s, want 0 (the mirror answered)", n)
	}
	mustExec(t, writer, "DELETE FROM Customers WHERE Id = '"+id+"'")
	if got := connRows(t, routed, byID); len(got) != 0 {
		t.Errorf("after DELETE, another session reads %v, want no row", got)
	}

	// A change made at the emulator, as another Stripe client would.
	victim := connRows(t, live, "SELECT Id FROM Customers ORDER BY Id LIMIT 1")[0][0]
	directPost(t, e, "/v1/customers/"+victim, url.Values{"name": {"Changed Elsewhere"}})
	created := directPost(t, e, "/v1/customers", url.Values{"name": {"Made Elsewhere"}})
	if err := e.mirror.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := connRows(t, routed, "SELECT Name FROM Customers WHERE Id = '"+victim+"'"); len(got) != 1 || got[0][0] != "Changed Elsewhere" {
		t.Errorf("after the mirror caught up, %s reads %v, want Changed Elsewhere", victim, got)
	}
	if got := connRows(t, routed, "SELECT Name FROM Customers WHERE Id = '"+created+"'"); len(got) != 1 || got[0][0] != "Made Elsewhere" {
		t.Errorf("after the mirror caught up, the customer made at the emulator reads %v", got)
	}
	q := "SELECT Id, Name, Email FROM Customers ORDER BY Id"
	if got, want := connRows(t, routed, q), connRows(t, live, q); !reflect.DeepEqual(got, want) {
		t.Errorf("after catching up the mirror has %d customers, live %d", len(got), len(want))
	}
}

// waitMirrorReady waits for the backfill of tables.
func waitMirrorReady(t *testing.T, e *env, names ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, name := range names {
		for {
			if ready, _ := e.mirror.Ready(name); ready {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the mirror of %s is not ready: %+v", name, e.mirror.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// connRows returns every value of q's rows (with args, a prepared
// statement) as text ("NULL" for NULL).
func connRows(t *testing.T, c *sql.Conn, q string, args ...any) [][]string {
	t.Helper()
	_, vals, err := scanText(c.QueryContext(t.Context(), q, args...))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([][]string, len(vals))
	for i, row := range vals {
		out[i] = make([]string, len(row))
		for j, v := range row {
			out[i][j] = nullText(v)
		}
	}
	return out
}

func statusValue(t *testing.T, c *sql.Conn, name string) string {
	t.Helper()
	rows := connRows(t, c, "SHOW STATUS LIKE '"+name+"'")
	if len(rows) != 1 {
		t.Fatalf("SHOW STATUS LIKE %s: %v", name, rows)
	}
	return rows[0][1]
}

func head(rows [][]string) [][]string { return rows[:min(len(rows), 3)] }

// directPost sends a POST to the emulator without stripesql and returns
// the object's id.
func directPost(t *testing.T, e *env, path string, form url.Values) string {
	t.Helper()
	res, err := e.directDo(context.Background(), http.MethodPost, path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var obj map[string]any
	if err := json.NewDecoder(res.Body).Decode(&obj); err != nil || res.StatusCode != 200 {
		t.Fatalf("POST %s: %d %v %v", path, res.StatusCode, obj, err)
	}
	id, _ := obj["id"].(string)
	return id
}

// withMirror mirrors tables, as --mirror does.
func withMirror(tables ...string) option {
	return func(c *startConfig) { c.mirrorTables = tables }
}

// openTestMirror opens a mirror of names in a temporary directory, wired
// as the binary wires it, polling events often so tests wait little.
func openTestMirror(t testing.TB, names []string, cat *catalog.Catalog, client *stripeapi.Client, db *tables.Database, log *slog.Logger) *mirror.Mirror {
	t.Helper()
	var defs []*catalog.Table
	for _, n := range names {
		def, ok := cat.Lookup(n)
		if !ok {
			t.Fatalf("no table %s to mirror", n)
		}
		defs = append(defs, def)
	}
	m, err := mirror.Open(context.Background(), mirror.Config{
		Dir: t.TempDir(), Tables: defs, Catalog: cat, Client: client,
		Interval: 50 * time.Millisecond, ReadAll: db.ReadAll, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("closing the mirror: %v", err)
		}
	})
	db.SetMirror(m)
	return m
}
