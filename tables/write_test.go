package tables

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// stateFake is a small stateful Stripe for write tests: collections are
// paths ending in a resource name (/v1/customers,
// /v1/customers/cus_1/sources), objects the paths below them. It records
// every request with its form body, and refuses a create or update whose
// name is "FAIL" the way Stripe refuses an invalid parameter.
type stateFake struct {
	mu       sync.Mutex
	objects  map[string]map[string]any // path → object
	order    []string                  // object paths, oldest first
	next     int
	requests []string
}

func newStateFake() *stateFake {
	return &stateFake{objects: map[string]map[string]any{}}
}

var fakeKinds = map[string]struct{ object, prefix string }{
	"customers":       {"customer", "cus_"},
	"sources":         {"card", "card_"},
	"prices":          {"price", "price_"},
	"invoices":        {"invoice", "in_"},
	"invoiceitems":    {"invoiceitem", "ii_"},
	"payment_intents": {"payment_intent", "pi_"},
	"quotes":          {"quote", "qt_"},
	"payment_methods": {"payment_method", "pm_"},
	"subscriptions":   {"subscription", "sub_"},
	"charges":         {"charge", "ch_"},
	"products":        {"product", "prod_"},
	"accounts":        {"account", "acct_"},
	"refunds":         {"refund", "re_"},
	"test_clocks":     {"test_helpers.test_clock", "clock_"},
}

func (f *stateFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	body := ""
	if b := r.PostForm.Encode(); r.Method != http.MethodGet && b != "" {
		body = " " + b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	f.requests = append(f.requests, line+body)

	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	_, collection := fakeKinds[segs[len(segs)-1]]
	switch {
	case collection && r.Method == http.MethodGet:
		var data []any
		for i := len(f.order) - 1; i >= 0; i-- {
			p := f.order[i]
			if strings.HasPrefix(p, r.URL.Path+"/") && !strings.Contains(strings.TrimPrefix(p, r.URL.Path+"/"), "/") {
				data = append(data, f.objects[p])
			}
		}
		writeJSON(w, 200, map[string]any{"object": "list", "data": data, "has_more": false})
	case collection && r.Method == http.MethodPost:
		if r.PostForm.Get("name") == "FAIL" {
			stripeFail(w)
			return
		}
		kind := fakeKinds[segs[len(segs)-1]]
		f.next++
		id := fmt.Sprintf("%s%d", kind.prefix, f.next)
		obj := map[string]any{"id": id, "object": kind.object, "created": 1700000000 + f.next, "livemode": false, "metadata": map[string]any{}}
		if len(segs) == 3 {
			obj["customer"] = segs[1]
		}
		applyForm(obj, r.PostForm)
		f.objects[r.URL.Path+"/"+id] = obj
		f.order = append(f.order, r.URL.Path+"/"+id)
		writeJSON(w, 200, obj)
	default:
		obj, ok := f.objects[r.URL.Path]
		if !ok {
			writeJSON(w, 404, map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": "resource_missing", "message": "No such object: '" + segs[len(segs)-1] + "'"}})
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, obj)
		case http.MethodPost:
			if r.PostForm.Get("name") == "FAIL" {
				stripeFail(w)
				return
			}
			applyForm(obj, r.PostForm)
			writeJSON(w, 200, obj)
		case http.MethodDelete:
			delete(f.objects, r.URL.Path)
			writeJSON(w, 200, map[string]any{"id": obj["id"], "object": obj["object"], "deleted": true})
		}
	}
}

func stripeFail(w http.ResponseWriter) {
	writeJSON(w, 400, map[string]any{"error": map[string]any{
		"type": "invalid_request_error", "code": "parameter_invalid_string", "param": "name", "message": "Invalid name: FAIL"}})
}

// applyForm sets top-level fields and one level of brackets (metadata[k],
// address[country]); an empty value unsets.
func applyForm(obj map[string]any, form url.Values) {
	for k, vs := range form {
		v := vs[0]
		if outer, inner, ok := strings.Cut(k, "["); ok {
			inner = strings.TrimSuffix(inner, "]")
			m, _ := obj[outer].(map[string]any)
			if m == nil {
				m = map[string]any{}
				obj[outer] = m
			}
			if v == "" {
				delete(m, inner)
			} else {
				m[inner] = v
			}
			continue
		}
		if v == "" {
			obj[k] = nil
		} else {
			obj[k] = v
		}
	}
}

// writes returns and clears the non-GET requests.
func (f *stateFake) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	f.requests = nil
	return out
}

func (f *stateFake) put(path string, obj map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[path] = obj
	f.order = append(f.order, path)
}

// engineSession runs queries on an engine in one session, each with a
// new query id and its text in the context, as a server's connection
// does; writeEnv and mirrorEnv share it.
type engineSession struct {
	t       testing.TB
	engine  *sqle.Engine
	session *sql.BaseSession
	pid     uint64
}

func newEngineSession(t testing.TB, engine *sqle.Engine) engineSession {
	session := sql.NewBaseSession()
	session.SetCurrentDatabase("stripe")
	return engineSession{t: t, engine: engine, session: session}
}

// ctx is a query context carrying the query text, as a server's does.
func (e *engineSession) ctx(q string) *sql.Context {
	e.pid++
	return sql.NewContext(e.t.Context(), sql.WithSession(e.session), sql.WithPid(e.pid), sql.WithQuery(q))
}

func (e *engineSession) exec(q string) ([]sql.Row, error) {
	ctx := e.ctx(q)
	_, iter, _, err := e.engine.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return sql.RowIterToRows(ctx, iter)
}

func (e *engineSession) mustExec(q string) []sql.Row {
	e.t.Helper()
	rows, err := e.exec(q)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return rows
}

func (e *engineSession) wantErr(q string, parts ...string) {
	e.t.Helper()
	_, err := e.exec(q)
	if err == nil {
		e.t.Fatalf("%s: no error, want one containing %q", q, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			e.t.Errorf("%s:\n error %q\n lacks %q", q, err, p)
		}
	}
}

// writeEnv is an engine over a stateFake with writes enabled.
type writeEnv struct {
	engineSession
	fake *stateFake
	db   *Database
}

func newWriteEnv(t *testing.T, key string, opts WriteOptions) *writeEnv {
	t.Helper()
	f := newStateFake()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: key, Rate: -1, MinBackoff: time.Millisecond, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	db.EnableWrites(opts)
	e := &writeEnv{engineSession: newEngineSession(t, sqle.NewDefault(memory.NewDBProvider(db))), fake: f, db: db}
	e.engine.Analyzer.Catalog.RegisterFunction(e.ctx(""), db.Functions()...)
	return e
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestInsertSendsOneCreatePerRowInOrder(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.mustExec(`INSERT INTO Customers (Name, Email, Metadata, AddressCountry) VALUES ('a', 'a@x.io', '{"k":"v","n":2}', 'US'), ('b', NULL, NULL, NULL)`)
	sameLines(t, "requests", e.fake.writes(), []string{
		"POST /v1/customers address%5Bcountry%5D=US&email=a%40x.io&metadata%5Bk%5D=v&metadata%5Bn%5D=2&name=a",
		"POST /v1/customers name=b",
	})
	rows := e.mustExec("SELECT stripe_last_insert_id(), stripe_last_insert_ids()")
	if rows[0][0] != "cus_1" {
		t.Errorf("stripe_last_insert_id() = %v, want cus_1", rows[0][0])
	}
	if got, _ := rows[0][1].(types.JSONDocument); fmt.Sprint(got.Val) != "[cus_1 cus_2]" {
		t.Errorf("stripe_last_insert_ids() = %#v, want [cus_1 cus_2]", rows[0][1])
	}
	if calls := e.fake.writes(); len(calls) != 0 {
		t.Errorf("the functions called Stripe: %v", calls)
	}
}

func TestInsertEncodesTypes(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.mustExec(`INSERT INTO Prices (Currency, Product, UnitAmount, Active) VALUES ('usd', 'prod_1', 1200, false)`)
	e.mustExec(`INSERT INTO Invoices (CustomerId, AutoAdvance, DueDate, CollectionMethod) VALUES ('cus_9', true, '2030-01-02 03:04:05', 'send_invoice')`)
	e.mustExec(`INSERT INTO Cards (CustomerId, Token) VALUES ('cus_9', 'tok_visa')`)
	sameLines(t, "requests", e.fake.writes(), []string{
		"POST /v1/prices active=false&currency=usd&product=prod_1&unit_amount=1200",
		fmt.Sprintf("POST /v1/invoices auto_advance=true&collection_method=send_invoice&customer=cus_9&due_date=%d",
			time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Unix()),
		"POST /v1/customers/cus_9/sources source=tok_visa",
	})
}

func TestInsertRefusesBeforeAnyRequest(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.wantErr(`INSERT INTO Customers (Name, Currency) VALUES ('a', NULL), ('b', NULL), ('c', 'usd')`,
		"row 3", "column Currency cannot be set on INSERT")
	e.wantErr(`INSERT INTO Customers (Id, Name) VALUES ('cus_mine', 'a')`, "column Id cannot be set")
	e.wantErr(`INSERT INTO InvoiceItems (Amount, Currency) VALUES (5, 'usd')`, "column Customer is required")
	e.wantErr(`INSERT INTO PaymentIntents (Currency) VALUES ('usd')`, "Amount")
	e.wantErr(`INSERT INTO Cards (Token) VALUES ('tok_visa')`, "CustomerId")
	e.wantErr(`INSERT INTO Charges (Amount, Currency, Paid) VALUES (5, 'usd', true)`, "column Paid cannot be set")
	sameLines(t, "requests", e.fake.writes(), nil)
}

func TestInsertStopsAtFirstFailure(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.wantErr(`INSERT INTO Customers (Name) VALUES ('a'), ('b'), ('FAIL'), ('d')`,
		"2 rows written (cus_1, cus_2), stopped at row 3: stripe: invalid_request_error (parameter_invalid_string): Invalid name: FAIL")
	sameLines(t, "requests", e.fake.writes(), []string{
		"POST /v1/customers name=a", "POST /v1/customers name=b", "POST /v1/customers name=FAIL",
	})
	rows := e.mustExec("SELECT stripe_last_insert_ids()")
	if got := fmt.Sprint(rows[0][0].(types.JSONDocument).Val); got != "[cus_1 cus_2]" {
		t.Errorf("stripe_last_insert_ids() after a partial failure = %s", got)
	}
}

func TestInsertReturning(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	rows := e.mustExec(`INSERT INTO Customers (Name) VALUES ('a'), ('b') RETURNING Id, Name, Livemode`)
	if fmt.Sprint(rows) != "[[cus_1 a 0] [cus_2 b 0]]" {
		t.Errorf("RETURNING rows = %v", rows)
	}
}

func TestLastInsertIDIsPerSession(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.mustExec(`INSERT INTO Customers (Name) VALUES ('a')`)
	other := sql.NewBaseSession()
	ctx := sql.NewContext(t.Context(), sql.WithSession(other))
	_, iter, _, err := e.engine.Query(ctx, "SELECT stripe_last_insert_id(), stripe_last_insert_ids()")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != nil || fmt.Sprint(rows[0][1].(types.JSONDocument).Val) != "[]" {
		t.Errorf("another session sees %v", rows[0])
	}
}

func (e *writeEnv) seedCustomers(n int) {
	for i := 1; i <= n; i++ {
		e.fake.put(fmt.Sprintf("/v1/customers/cus_s%d", i), map[string]any{
			"id": fmt.Sprintf("cus_s%d", i), "object": "customer", "name": fmt.Sprintf("n%d", i),
			"created": 1600000000 + i, "livemode": false, "metadata": map[string]any{"a": "1", "b": "2"},
		})
	}
}

func TestUpdateSendsChangedColumns(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.seedCustomers(2)
	e.fake.put("/v1/customers/cus_s1/sources/card_1", map[string]any{"id": "card_1", "object": "card", "customer": "cus_s1", "exp_month": 1})
	e.fake.writes()
	e.mustExec(`UPDATE Customers SET Name = 'Charlie', Description = NULL, Email = '' WHERE Id = 'cus_s1'`)
	e.mustExec(`UPDATE Customers SET Metadata = JSON_SET(JSON_REMOVE(Metadata, '$.a'), '$.c', 'x') WHERE Id = 'cus_s2'`)
	e.mustExec(`UPDATE Customers SET Metadata = NULL WHERE Id = 'cus_s1'`)
	e.mustExec(`UPDATE Cards SET AddressCountry = 'US' WHERE CustomerId = 'cus_s1' AND Id = 'card_1'`)
	e.mustExec(`UPDATE Customers SET Name = Name WHERE Id = 'cus_s2'`)
	sameLines(t, "requests", e.fake.writes(), []string{
		"POST /v1/customers/cus_s1 name=Charlie",
		"POST /v1/customers/cus_s2 metadata%5Ba%5D=&metadata%5Bc%5D=x",
		"POST /v1/customers/cus_s1 metadata=",
		"POST /v1/customers/cus_s1/sources/card_1 address_country=US",
	})
}

func TestUpdateRefusals(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.seedCustomers(3)
	e.fake.writes()
	e.wantErr(`UPDATE Customers SET Created = '2020-01-01' WHERE Id = 'cus_s1'`, "column Created cannot be changed")
	e.wantErr(`UPDATE Customers SET Id = 'cus_x' WHERE Id = 'cus_s1'`, "column Id cannot be changed")
	e.wantErr(`UPDATE Customers SET Currency = 'usd' WHERE Id = 'cus_s1'`, "column Currency cannot be changed")
	e.wantErr(`UPDATE Customers SET Name = 'x'`, "UPDATE without WHERE would change every row of Customers",
		"SET stripe_allow_full_table_writes = 1")
	e.wantErr(`DELETE FROM Customers`, "DELETE without WHERE would delete every row of Customers")
	// A refused row stops the statement before its first request, even
	// when earlier rows were fine.
	e.wantErr(`UPDATE Customers SET Name = 'x', Currency = IF(Id = 'cus_s1', 'usd', NULL) WHERE Id IN ('cus_s3', 'cus_s2', 'cus_s1')`,
		"row 3 (cus_s1): column Currency cannot be changed")
	sameLines(t, "requests", e.fake.writes(), nil)

	e.mustExec(`SET stripe_allow_full_table_writes = 1`)
	e.mustExec(`UPDATE Customers SET Description = 'all'`)
	if got := e.fake.writes(); len(got) != 3 {
		t.Errorf("UPDATE of every row with the session variable set sent %v", got)
	}
}

func TestUpdateAndDeleteStopAtFirstFailure(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.seedCustomers(3)
	e.fake.writes()
	e.wantErr(`UPDATE Customers SET Name = IF(Id = 'cus_s2', 'FAIL', 'ok') WHERE Id IN ('cus_s1', 'cus_s2', 'cus_s3')`,
		"1 row updated (cus_s1), stopped at row 2 (cus_s2): stripe: invalid_request_error")
	sameLines(t, "requests", e.fake.writes(), []string{"POST /v1/customers/cus_s1 name=ok", "POST /v1/customers/cus_s2 name=FAIL"})

	e.mustExec(`DELETE FROM Customers WHERE Id = 'cus_s3'`)
	sameLines(t, "requests", e.fake.writes(), []string{"DELETE /v1/customers/cus_s3"})
}

func TestDeleteWithoutDeletePathGivesHint(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.fake.put("/v1/payment_intents/pi_1", map[string]any{"id": "pi_1", "object": "payment_intent", "amount": 5, "currency": "usd", "created": 1, "livemode": false})
	e.fake.writes()
	e.wantErr(`DELETE FROM PaymentIntents WHERE Id = 'pi_1'`, "Stripe cannot delete a payment intent; cancel it with CALL CancelPaymentIntent")
	sameLines(t, "requests", e.fake.writes(), nil)
}

func TestLiveModeGuard(t *testing.T) {
	e := newWriteEnv(t, "sk_live_x", WriteOptions{})
	e.seedCustomers(1)
	e.fake.writes()
	for _, q := range []string{
		`INSERT INTO Customers (Name) VALUES ('a')`,
		`UPDATE Customers SET Name = 'b' WHERE Id = 'cus_s1'`,
		`DELETE FROM Customers WHERE Id = 'cus_s1'`,
	} {
		e.wantErr(q, "live-mode key", "--allow-live-writes")
	}
	sameLines(t, "requests", e.fake.writes(), nil)

	allowed := newWriteEnv(t, "sk_live_x", WriteOptions{AllowLiveWrites: true})
	allowed.mustExec(`INSERT INTO Customers (Name) VALUES ('a')`)
	sameLines(t, "requests", allowed.fake.writes(), []string{"POST /v1/customers name=a"})
}

func TestInsertedIDsKeepRecentSessions(t *testing.T) {
	s := newInsertedIDs()
	for i := uint32(0); i < maxSessions+10; i++ {
		s.set(i, []string{fmt.Sprint(i)})
	}
	if s.get(0) != nil || fmt.Sprint(s.get(maxSessions+9)) != fmt.Sprint([]string{fmt.Sprint(maxSessions + 9)}) {
		t.Errorf("eviction kept the wrong sessions")
	}
	if len(s.ids) != maxSessions {
		t.Errorf("%d sessions kept, want %d", len(s.ids), maxSessions)
	}
	keys := make([]int, 0)
	for k := range s.ids {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	if keys[0] != 10 {
		t.Errorf("oldest kept session = %d, want 10", keys[0])
	}
}

func TestInsertIgnoreKeepsEveryID(t *testing.T) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	e.mustExec(`INSERT IGNORE INTO Customers (Name) VALUES ('a'), ('b'), ('c')`)
	rows := e.mustExec("SELECT stripe_last_insert_ids()")
	if got := fmt.Sprint(rows[0][0].(types.JSONDocument).Val); got != "[cus_1 cus_2 cus_3]" {
		t.Errorf("stripe_last_insert_ids() after INSERT IGNORE = %s", got)
	}
}
