package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
)

func TestShowTablesAndDescribe(t *testing.T) {
	e := newEnv(t)
	var names []string
	for _, r := range e.query(t, "SHOW TABLES") {
		names = append(names, r[0].String)
	}
	// The thirteen tables of the foundation, and TestClocks, which the
	// reads of the tables that hide test-clock objects go through, and
	// StripeWrites, the record of writes.
	want := "Accounts Cards Charges Customers InvoiceItems Invoices PaymentIntents PaymentMethods Prices Products Quotes Refunds StripeWrites Subscriptions TestClocks"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("SHOW TABLES = %s\nwant %s", got, want)
	}

	types := map[string]string{}
	keys := map[string]string{}
	for _, r := range e.query(t, "DESCRIBE Invoices") {
		types[r[0].String] = r[1].String
		keys[r[0].String] = r[3].String
	}
	for col, typ := range map[string]string{
		"Id": "varchar(255)", "CustomerId": "varchar(255)", "AmountDue": "bigint", "Created": "timestamp",
		"AutoAdvance": "tinyint(1)", "Metadata": "json", "Description": "longtext",
	} {
		if types[col] != typ {
			t.Errorf("DESCRIBE Invoices: %s is %q, want %q", col, types[col], typ)
		}
	}
	if keys["Id"] != "PRI" {
		t.Errorf("Id key = %q, want PRI", keys["Id"])
	}

	one := e.query(t, "SELECT Id FROM Customer LIMIT 1")
	same := e.query(t, "SELECT Id FROM Customers LIMIT 1")
	if len(one) != 1 || !strings.HasPrefix(one[0][0].String, "cus_") || one[0][0] != same[0][0] {
		t.Errorf("Customer alias: %v vs %v", one, same)
	}
}

// expectedObjects lists, straight from the emulator, the objects a full
// scan of the table must return: those a default list hides included
// (inactive prices, canceled subscriptions, objects on test clocks).
func expectedObjects(t *testing.T, e *env, def *catalog.Table) []map[string]any {
	var clockCustomers []map[string]any
	onClocks := func(path, extra string) []map[string]any {
		var objs []map[string]any
		for _, clock := range e.list(t, "/v1/test_helpers/test_clocks", "") {
			q := "test_clock=" + clock["id"].(string)
			if extra != "" {
				q = extra + "&" + q
			}
			objs = append(objs, e.list(t, path, q)...)
		}
		return objs
	}
	clockCustomers = onClocks("/v1/customers", "")
	if len(clockCustomers) == 0 {
		t.Fatal("the demo has no customers on test clocks: the test-clock reads are untested")
	}
	switch def.Name {
	case "Prices":
		return append(e.list(t, "/v1/prices", "active=true"), e.list(t, "/v1/prices", "active=false")...)
	case "Subscriptions":
		return append(e.list(t, "/v1/subscriptions", "status=all"), onClocks("/v1/subscriptions", "status=all")...)
	case "Customers", "Quotes":
		return append(e.list(t, def.ListPath, ""), onClocks(def.ListPath, "")...)
	case "Invoices":
		objs := e.list(t, "/v1/invoices", "")
		for _, c := range clockCustomers {
			objs = append(objs, e.list(t, "/v1/invoices", "customer="+c["id"].(string))...)
		}
		return objs
	case "Cards":
		var cards []map[string]any
		for _, c := range append(e.list(t, "/v1/customers", ""), clockCustomers...) {
			cards = append(cards, e.list(t, "/v1/customers/"+c["id"].(string)+"/sources", "object=card")...)
		}
		return cards
	}
	return e.list(t, def.ListPath, "")
}

// wantText renders a Stripe JSON value as MySQL's text protocol shows the
// column, independently of stripesql's conversion code.
func wantText(c catalog.Column, v any) (string, bool) {
	if v == nil || c.Path == "" {
		return "", false
	}
	switch c.Type {
	case catalog.Boolean:
		if v.(bool) {
			return "1", true
		}
		return "0", true
	case catalog.Timestamp:
		n, _ := v.(json.Number).Int64()
		return time.Unix(n, 0).UTC().Format("2006-01-02 15:04:05"), true
	case catalog.JSON:
		b, _ := json.Marshal(v)
		return string(b), true
	}
	switch x := v.(type) {
	case map[string]any:
		return x["id"].(string), true
	case json.Number:
		return x.String(), true
	}
	return v.(string), true
}

func valueAt(obj map[string]any, path string) any {
	var cur any = obj
	for _, step := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[step]
	}
	return cur
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestEveryTableReturnsTheEmulatorsRows(t *testing.T) {
	e := newEnv(t)
	nulls := 0
	for _, def := range catalog.Builtin().Tables() {
		t.Run(def.Name, func(t *testing.T) {
			want := expectedObjects(t, e, def)
			if len(want) == 0 {
				t.Fatalf("the demo data has no %s", def.Name)
			}
			got := e.query(t, "SELECT * FROM "+def.Name)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			byID := map[string][]any{}
			for _, row := range got {
				r := make([]any, len(row))
				for i, v := range row {
					if v.Valid {
						r[i] = v.String
					}
				}
				byID[row[0].String] = r
			}
			for _, obj := range want {
				row, ok := byID[obj["id"].(string)]
				if !ok {
					t.Fatalf("object %s is missing from the rows", obj["id"])
				}
				for i, c := range def.Columns {
					wantV, wantOK := wantText(c, valueAt(obj, c.Path))
					switch {
					case !wantOK && row[i] != nil:
						t.Errorf("%s.%s = %q, want NULL", obj["id"], c.Name, row[i])
					case wantOK && row[i] == nil:
						t.Errorf("%s.%s = NULL, want %q", obj["id"], c.Name, wantV)
					case wantOK && c.Type == catalog.JSON && !sameJSON(row[i].(string), wantV):
						t.Errorf("%s.%s = %s, want %s", obj["id"], c.Name, row[i], wantV)
					case wantOK && c.Type != catalog.JSON && row[i].(string) != wantV:
						t.Errorf("%s.%s = %q, want %q", obj["id"], c.Name, row[i], wantV)
					}
					if !wantOK {
						nulls++
					}
				}
			}
		})
	}
	if nulls == 0 {
		t.Error("no NULL in any table: the NULL path is untested")
	}
}

func TestPointGetIsOneRetrieve(t *testing.T) {
	e := newEnv(t)
	id := e.list(t, "/v1/customers", "")[7]["id"].(string)
	rows, calls := e.calls(t, "SELECT Id FROM Customers WHERE Id = '"+id+"'")
	if len(rows) != 1 || rows[0][0].String != id {
		t.Errorf("rows = %v", rows)
	}
	if joinLines(calls) != "GET /v1/customers/"+id {
		t.Errorf("calls = %q, want one retrieve", calls)
	}
}

func TestListFiltersArePushedDown(t *testing.T) {
	e := newEnv(t)
	open := e.list(t, "/v1/invoices", "status=open")
	if len(open) == 0 {
		t.Fatal("the demo data has no open invoice")
	}
	customer := open[0]["customer"].(string)
	want := 0
	for _, inv := range open {
		if inv["customer"] == customer {
			want++
		}
	}
	rows, calls := e.calls(t, "SELECT Id FROM Invoices WHERE CustomerId = '"+customer+"' AND Status = 'open'")
	if len(rows) != want {
		t.Errorf("%d rows, want %d", len(rows), want)
	}
	if joinLines(calls) != "GET /v1/invoices?customer="+customer+"&status=open&limit=100" {
		t.Errorf("calls = %q, want one list call carrying both filters", calls)
	}
}

func TestScanOf250CustomersIsThreeCalls(t *testing.T) {
	e := newEnv(t)
	visible := len(e.list(t, "/v1/customers", ""))
	if visible <= 200 || visible > 300 {
		t.Fatalf("the demo has %d listable customers; this test needs 201..300", visible)
	}
	rows, calls := e.calls(t, "SELECT Id FROM Customers")
	clocks := e.list(t, "/v1/test_helpers/test_clocks", "")
	onClocks := 0
	for _, c := range clocks {
		onClocks += len(e.list(t, "/v1/customers", "test_clock="+c["id"].(string)))
	}
	if len(rows) != visible+onClocks {
		t.Errorf("%d rows, want %d listed and %d on test clocks", len(rows), visible, onClocks)
	}
	// Three pages, then the test clocks and one list per clock.
	if want := 3 + 1 + len(clocks); len(calls) != want {
		t.Errorf("%d calls, want %d: %q", len(calls), want, calls)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r[0].String] {
			t.Errorf("duplicate row %s", r[0].String)
		}
		seen[r[0].String] = true
	}

	rows, calls = e.calls(t, "SELECT Id, Email FROM Customers LIMIT 5")
	if len(rows) != 5 || len(calls) != 1 {
		t.Errorf("LIMIT 5: %d rows with %d calls (%q), want 5 rows with 1 call", len(rows), len(calls), calls)
	}
}

func TestFaultsMidScanAreRetried(t *testing.T) {
	for _, kind := range []struct {
		name string
		kind emulator.FaultKind
	}{
		{"rate_limit", emulator.FaultRateLimit},
		{"lock_timeout", emulator.FaultLockTimeout},
		{"server_error", emulator.FaultServerError},
		{"dropped_connection", emulator.FaultDropConnection},
	} {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t)
			clean := e.query(t, "SELECT Id FROM Customers")
			if len(clean) <= 200 {
				t.Fatalf("%d customers; the scan needs a third page for a fault to be mid-scan", len(clean))
			}
			// Fail the second page twice, mid-scan.
			e.emu.InjectFault(emulator.Fault{Method: "GET", Path: "/v1/customers", Kind: kind.kind, Times: 2, After: 1})
			e.emu.ResetRequests()
			faulty := e.query(t, "SELECT Id FROM Customers")
			if !reflect.DeepEqual(ids(clean), ids(faulty)) {
				t.Errorf("with faults: %d rows, without: %d (or different ids)", len(faulty), len(clean))
			}
			// The page that failed is the one sent again: its request, the
			// same params (the same cursor), is in the log three times,
			// failed twice and then answered, and no other page failed.
			var pages []emulator.Request
			for _, r := range e.emu.Requests() {
				if r.Path == "/v1/customers" && !strings.Contains(r.RawQuery, "test_clock") {
					pages = append(pages, r)
				}
			}
			if len(pages) != 5 {
				t.Errorf("%d requests for the customer list, want 3 pages + 2 failed attempts", len(pages))
			}
			attempts := map[string][]int{} // params → the statuses of their requests, in order
			for _, r := range pages {
				attempts[r.RawQuery] = append(attempts[r.RawQuery], r.Status)
			}
			retried := 0
			for params, statuses := range attempts {
				switch {
				case len(statuses) == 1 && statuses[0] == http.StatusOK:
				case len(statuses) == 3 && statuses[0] != http.StatusOK && statuses[1] != http.StatusOK && statuses[2] == http.StatusOK:
					retried++
					if !strings.Contains(params, "starting_after=") {
						t.Errorf("the retried request %q is not a later page of the scan", params)
					}
				default:
					t.Errorf("the customer list with %q got answers %v; want one 200, or two failures then the same request answered 200", params, statuses)
				}
			}
			if retried != 1 {
				t.Errorf("%d pages were retried, want the one that failed twice: %v", retried, attempts)
			}
			// A connection dropped on a reused keep-alive connection is
			// replayed by net/http's transport itself (a GET is
			// replayable) before stripeapi sees an error, so whether the
			// client logs a retry of its own depends on which connection
			// the page went out on; the requests above show the retries.
			if kind.kind != emulator.FaultDropConnection && (!strings.Contains(e.logs.String(), "retry") || !strings.Contains(e.logs.String(), "level=DEBUG")) {
				t.Errorf("no debug log line about the retry:\n%s", e.logs.String())
			}
		})
	}
}

func ids(rows [][]sqlNull) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0].String)
	}
	sort.Strings(out)
	return out
}
