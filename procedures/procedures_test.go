package procedures

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/server"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// actionFake answers action calls with a canned object of the right type
// and records each request with its form body. An id starting with "bad"
// gets a Stripe error.
type actionFake struct {
	mu       sync.Mutex
	requests []string
}

func (f *actionFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	line := r.Method + " " + r.URL.EscapedPath()
	if b := r.PostForm.Encode(); b != "" {
		line += " " + b
	}
	f.mu.Lock()
	f.requests = append(f.requests, line)
	f.mu.Unlock()
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	if len(segs) == 1 { // a create: POST /v1/account_links
		segs = append(segs, "new")
	}
	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(segs[1], "bad") {
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"type": "invalid_request_error", "code": "invoice_not_editable",
			"message": "This invoice is already paid."}})
		return
	}
	objects := map[string]string{
		"payment_intents": "payment_intent", "payment_methods": "payment_method", "invoices": "invoice",
		"quotes": "quote", "subscriptions": "subscription", "charges": "charge", "refunds": "refund",
		"account_links": "account_link",
	}
	obj := map[string]any{"id": segs[1], "object": objects[segs[0]], "created": 1700000000, "livemode": false, "status": "done"}
	if segs[0] == "account_links" {
		obj["expires_at"], obj["url"] = 1700000300, "https://connect.example.com/setup"
	}
	if segs[0] == "quotes" {
		obj["invoice"] = "in_from_" + segs[1]
	}
	if segs[0] == "payment_intents" {
		obj["amount"], obj["currency"] = 1500, "usd"
	}
	json.NewEncoder(w).Encode(obj)
}

func (f *actionFake) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// serve runs a server with the procedures over the fake and returns a
// client connection pool.
func serve(t *testing.T, key string, readOnly bool, opts tables.WriteOptions) (*dbsql.DB, *actionFake) {
	t.Helper()
	return serveCatalog(t, catalog.Builtin(), key, readOnly, opts)
}

// serveCatalog is serve with the tables and procedures of cat.
func serveCatalog(t *testing.T, cat *catalog.Catalog, key string, readOnly bool, opts tables.WriteOptions) (*dbsql.DB, *actionFake) {
	t.Helper()
	f := &actionFake{}
	api := httptest.NewServer(f)
	t.Cleanup(api.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: api.URL, APIKey: key, Rate: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	db := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: cat, Client: client})
	db.EnableWrites(opts)
	procs, err := All(db)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Listener: ln, Database: db, Procedures: procs, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := dbsql.Open("mysql", fmt.Sprintf("root@tcp(%s)/stripe", ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, f
}

// call runs q and returns the column names and the one row as strings.
func call(t *testing.T, db *dbsql.DB, q string) ([]string, map[string]string) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]string{}
	n := 0
	for rows.Next() {
		n++
		vals := make([]dbsql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			out[c] = vals[i].String
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n != 1 {
		t.Fatalf("%s: %d rows, want 1", q, n)
	}
	return cols, out
}

func TestEveryActionCallsItsEndpoint(t *testing.T) {
	db, f := serve(t, "sk_test_x", false, tables.WriteOptions{})
	cases := []struct {
		sql      string
		request  string
		firstCol string
		want     map[string]string
	}{
		{"CALL ConfirmPaymentIntent('pi_1')", "POST /v1/payment_intents/pi_1/confirm", "Success", map[string]string{"Success": "true", "Id": "pi_1", "Amount": "1500"}},
		{"CALL ConfirmPaymentIntent('pi_1', 'https://example.com/back')", "POST /v1/payment_intents/pi_1/confirm return_url=https%3A%2F%2Fexample.com%2Fback", "Success", nil},
		{"CALL CapturePaymentIntent('pi_1')", "POST /v1/payment_intents/pi_1/capture", "Success", nil},
		{"CALL CapturePaymentIntent('pi_1', 700)", "POST /v1/payment_intents/pi_1/capture amount_to_capture=700", "Success", nil},
		{"CALL CancelPaymentIntent('pi_1')", "POST /v1/payment_intents/pi_1/cancel", "Success", map[string]string{"Status": "done"}},
		{"CALL AttachPaymentMethodToCustomer('pm_1', 'cus_1')", "POST /v1/payment_methods/pm_1/attach customer=cus_1", "Success", nil},
		{"CALL DetachPaymentMethodFromCustomer('pm_1')", "POST /v1/payment_methods/pm_1/detach", "Success", nil},
		{"CALL FinalizeInvoice('in_1')", "POST /v1/invoices/in_1/finalize", "Success", map[string]string{"Id": "in_1"}},
		{"CALL FinalizeQuote('qt_1')", "POST /v1/quotes/qt_1/finalize", "Success", nil},
		{"CALL AcceptQuote('qt_1')", "POST /v1/quotes/qt_1/accept", "InvoiceId", map[string]string{"InvoiceId": "in_from_qt_1", "Success": "true"}},
		{"CALL CancelQuote('qt_1')", "POST /v1/quotes/qt_1/cancel", "Success", nil},
		{"CALL VoidInvoice('in_1')", "POST /v1/invoices/in_1/void", "Success", nil},
		{"CALL PayInvoice('in_1')", "POST /v1/invoices/in_1/pay", "Success", nil},
		{"CALL SendInvoice('in_1')", "POST /v1/invoices/in_1/send", "Success", nil},
		{"CALL MarkInvoiceUncollectible('in_1')", "POST /v1/invoices/in_1/mark_uncollectible", "Success", nil},
		{"CALL CancelSubscription('sub_1')", "DELETE /v1/subscriptions/sub_1", "Success", nil},
		{"CALL ResumeSubscription('sub_1')", "POST /v1/subscriptions/sub_1/resume", "Success", nil},
		{"CALL RefundCharge('ch_1')", "POST /v1/charges/ch_1/refund", "Success", nil},
		{"CALL RefundCharge('ch_1', 300)", "POST /v1/charges/ch_1/refund amount=300", "Success", nil},
		{"CALL CancelRefund('re_1')", "POST /v1/refunds/re_1/cancel", "Success", nil},
		{"call stripe.finalizeinvoice('in_2')", "POST /v1/invoices/in_2/finalize", "Success", nil},
		{"CALL FinalizeInvoice('in/../../v1/customers')", "POST /v1/invoices/in%2F..%2F..%2Fv1%2Fcustomers/finalize", "Success", nil},
	}
	for _, tc := range cases {
		cols, row := call(t, db, tc.sql)
		if cols[0] != tc.firstCol || row["Success"] != "true" {
			t.Errorf("%s: columns %v, row %v", tc.sql, cols, row)
		}
		for k, v := range tc.want {
			if row[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.sql, k, row[k], v)
			}
		}
		got := f.log()
		if len(got) != 1 || got[0] != tc.request {
			t.Errorf("%s: requests %q, want %q", tc.sql, got, tc.request)
		}
	}
}

func TestRefusedBeforeAnyRequest(t *testing.T) {
	db, f := serve(t, "sk_test_x", false, tables.WriteOptions{})
	cases := map[string]string{
		"CALL FinalizeInvoice(NULL)":                       "Error 1048 (23000): FinalizeInvoice: InvoiceId is required (got NULL or '')",
		"CALL FinalizeInvoice('')":                         "InvoiceId is required",
		"CALL AttachPaymentMethodToCustomer('pm_1', NULL)": "CustomerId is required",
		"CALL CapturePaymentIntent('pi_1', '12abc')":       "Error 1366 (HY000): error: '12abc' is not a valid value for 'bigint'",
		"CALL CapturePaymentIntent('pi_1', NULL)":          "AmountToCapture must be a positive amount",
		"CALL CancelQuote()":                               "expected `1` parameters but got `0`",
		"CALL CancelQuote('qt_1', 'qt_2')":                 "expected `1` parameters but got `2`",
	}
	for q, want := range cases {
		_, err := db.Exec(q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", q, err, want)
		}
		if got := f.log(); len(got) != 0 {
			t.Errorf("%s sent %q", q, got)
		}
	}
}

func TestStripeErrorCarriesTypeCodeAndMessage(t *testing.T) {
	db, _ := serve(t, "sk_test_x", false, tables.WriteOptions{})
	_, err := db.Exec("CALL FinalizeInvoice('bad_paid')")
	want := "Error 1644 (45000): stripe: invalid_request_error (invoice_not_editable): This invoice is already paid."
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q…", err, want)
	}
}

func TestReadOnlyServerAndLiveKeyRefuseActions(t *testing.T) {
	ro, f := serve(t, "sk_test_x", true, tables.WriteOptions{})
	if _, err := ro.Exec("CALL FinalizeInvoice('in_1')"); err == nil || !strings.Contains(err.Error(), "read only") {
		t.Errorf("read-only server: err = %v", err)
	}
	live, lf := serve(t, "sk_live_x", false, tables.WriteOptions{})
	if _, err := live.Exec("CALL FinalizeInvoice('in_1')"); err == nil || !strings.Contains(err.Error(), "--allow-live-writes") {
		t.Errorf("live key: err = %v", err)
	}
	if got := append(f.log(), lf.log()...); len(got) != 0 {
		t.Errorf("requests sent: %q", got)
	}
	allowed, af := serve(t, "sk_live_x", false, tables.WriteOptions{AllowLiveWrites: true})
	call(t, allowed, "CALL FinalizeInvoice('in_1')")
	if got := af.log(); len(got) != 1 {
		t.Errorf("live key with AllowLiveWrites: requests %q", got)
	}
}

func TestEveryProcedureRegisters(t *testing.T) {
	db := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: catalog.Builtin(), Client: mustClient(t)})
	procs, err := All(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != len(actions)+3 {
		t.Errorf("%d procedures, want %d (three have a second overload)", len(procs), len(actions)+3)
	}
	for _, p := range procs {
		if p.ReadOnly {
			t.Errorf("%s is marked read-only", p.Name)
		}
	}
}

func mustClient(t *testing.T) *stripeapi.Client {
	c, err := stripeapi.New(stripeapi.Config{APIKey: "sk_test_x"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A procedure's TIMESTAMP columns read as SELECT's do: the clock of the
// session's time zone. The fake's objects were created at Unix
// 1700000000, 2023-11-14 22:13:20 UTC, 17:13:20 in New York (EST), and an
// account link expires 300 s later. Both result routes are covered: the
// columns of a table (FinalizeInvoice) and an object no table reads
// (CreateAccountLink).
func TestResultsFollowTheSessionTimeZone(t *testing.T) {
	pool, _ := serveCatalog(t, catalog.All(), "sk_test_x", false, tables.WriteOptions{})
	ctx := context.Background()
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	one := func(q string) map[string]string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		if !rows.Next() {
			t.Fatalf("%s: no row (%v)", q, rows.Err())
		}
		vals := make([]dbsql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for i, c := range cols {
			out[c] = vals[i].String
		}
		return out
	}
	for _, tc := range []struct{ zone, created, expires string }{
		{"UTC", "2023-11-14 22:13:20", "2023-11-14 22:18:20"},
		{"America/New_York", "2023-11-14 17:13:20", "2023-11-14 17:18:20"},
		{"+05:30", "2023-11-15 03:43:20", "2023-11-15 03:48:20"},
	} {
		if _, err := conn.ExecContext(ctx, "SET time_zone = '"+tc.zone+"'"); err != nil {
			t.Fatal(err)
		}
		if got := one("CALL FinalizeInvoice('in_1')")["Created"]; got != tc.created {
			t.Errorf("%s: FinalizeInvoice's Created = %q, want %q", tc.zone, got, tc.created)
		}
		link := one("CALL CreateAccountLink('acct_1', 'account_onboarding')")
		if link["Created"] != tc.created || link["ExpiresAt"] != tc.expires {
			t.Errorf("%s: CreateAccountLink's Created, ExpiresAt = %q, %q, want %q, %q", tc.zone, link["Created"], link["ExpiresAt"], tc.created, tc.expires)
		}
		// SELECT shows the same clock.
		if got := one("SELECT DATE_FORMAT(FROM_UNIXTIME(1700000000), '%Y-%m-%d %H:%i:%s') AS Created")["Created"]; got != tc.created {
			t.Errorf("%s: FROM_UNIXTIME(1700000000) reads %q, want %q", tc.zone, got, tc.created)
		}
	}
}
