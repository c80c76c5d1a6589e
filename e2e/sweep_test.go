package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-mock/embedded"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/specvalidate"
	"github.com/stripesql/stripesql/internal/stripespec"
	"github.com/stripesql/stripesql/procedures"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// The contract sweep: the whole catalog (every generated and curated
// table, every procedure) against plain stripe-mock, which answers every
// endpoint of the spec with a canned object and rejects a request whose
// parameter names, types or enums the spec does not allow.
//
//   - every table: SELECT * … LIMIT 1 runs, and the object stripe-mock
//     returns for it decodes into a row with no field left unmapped (every
//     field is a column or inside a JSON column);
//   - every creatable table: an INSERT of its required columns, and one
//     of every scalar column it can create, are accepted;
//   - every updatable table: an UPDATE of every scalar column it can
//     update, and every deletable one: a DELETE;
//   - every procedure: a CALL with all its parameters.
//
// stripe-mock is stateless: ids are reflected from URLs, objects are
// canned, and a polymorphic endpoint returns its first type (a customer's
// sources answer object=card with a bank account, which Cards rightly
// skips); for those, the type's fixture is checked instead.
func TestSweepEveryTableAndProcedure(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stripespec.Load()
	if err != nil {
		t.Fatal(err)
	}
	spec := sweepSpec{raw}
	rec := &requestLog{next: mock}
	cat := catalog.All()
	e := startOn(t, nil, rec, cat)
	direct := httptest.NewServer(mock)
	t.Cleanup(direct.Close)
	client, err := stripeapi.New(stripeapi.Config{APIKey: "sk_test_sweep"})
	if err != nil {
		t.Fatal(err)
	}
	decoder := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: cat, Client: client})
	var fixtures struct {
		Resources map[string]map[string]any `json:"resources"`
	}
	dec := json.NewDecoder(bytes.NewReader(embedded.OpenAPIFixtures))
	dec.UseNumber()
	if err := dec.Decode(&fixtures); err != nil {
		t.Fatal(err)
	}

	var tl tally
	for _, def := range cat.Tables() {
		sweepTable(t, e, rec, spec, direct.URL, decoder, fixtures.Resources, def, &tl)
	}
	sweepProcedures(t, e, rec, spec, cat, &tl)
	t.Logf("sweep against stripe-mock: %d tables, %d procedures: %s", len(cat.Tables()), tl.counts["procedure calls"], tl.String())
	for _, f := range tl.failures {
		t.Error(f)
	}
}

const sweepParent = "par_sweep1"

// sweepTable reads, inserts, updates and deletes in one table.
func sweepTable(t *testing.T, e *env, rec *requestLog, spec sweepSpec, direct string, decoder *tables.Database,
	fixtures map[string]map[string]any, def *catalog.Table, tl *tally) {
	// The object stripe-mock returns for the table, straight from it.
	obj := fetchObject(t, direct, def)
	// For a polymorphic endpoint stripe-mock answers with another type,
	// which the table skips: there is no row to update or delete.
	otherType := obj == nil || obj["object"] != def.Object
	if otherType {
		tl.add("objects checked from fixtures (stripe-mock answers another type)")
		obj = fixtures[def.Object]
		if obj == nil {
			tl.fail("%s: no object of type %s from stripe-mock or its fixtures", def.Name, def.Object)
			return
		}
	}
	if missing := def.Unmapped(obj); len(missing) > 0 {
		tl.fail("%s: fields no column holds: %s", def.Name, strings.Join(missing, ", "))
	}
	if _, err := decoder.ResultRow(def.Name, stripeapi.Object(obj), time.UTC); err != nil {
		tl.fail("%s: the object does not decode: %v", def.Name, err)
	}
	tl.add("objects checked")

	// A nested table is read with its parent key, and without it (a
	// fan-out over the parent table). stripe-mock's canned children name
	// canned parents, which the engine's re-check of the parent key then
	// drops; the fan-out's rows show that they decode.
	queries := []string{"SELECT * FROM " + def.Name + " LIMIT 1"}
	if def.Parent != nil {
		queries = append(queries, "SELECT * FROM "+def.Name+" WHERE "+def.Parent.Column+" = '"+sweepParent+"' LIMIT 1")
	}
	n := 0
	for _, q := range queries {
		rows, err := e.db.Query(q)
		if err != nil {
			tl.fail("%s: %v", q, err)
			continue
		}
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			tl.fail("%s: %v", q, err)
		}
		rows.Close()
	}
	tl.add("tables read")
	if n > 0 {
		tl.add("tables read with a row")
	} else {
		t.Logf("%s: no row from stripe-mock", def.Name)
	}

	id, _ := obj["id"].(string)
	if def.Singleton {
		id = def.Object
	}
	if id == "" {
		id = "obj_sweep1"
	}
	key := " WHERE Id = " + quoteSQL(id)
	if def.Parent.InPath() {
		key += " AND " + def.Parent.Column + " = '" + sweepParent + "'"
	}

	if def.CreatePath != "" {
		body := spec.body("POST", spec.specPath(def.CreatePath))
		for _, all := range []bool{false, true} {
			var cols, vals []string
			for _, c := range def.Columns {
				switch {
				case def.Parent.InPath() && c.Name == def.Parent.Column:
					cols, vals = append(cols, c.Name), append(vals, "'"+sweepParent+"'")
				case c.CreateParam == "":
				case c.Required || (all && c.Type != catalog.JSON):
					cols = append(cols, c.Name)
					vals = append(vals, literal(c.Type, spec.sample(spec.param(body, c.CreateParam), 0)))
				}
			}
			if len(cols) == 0 {
				cols, vals = []string{"Id"}, []string{"''"}
			}
			what := "inserts (required columns)"
			if all {
				what = "inserts (every scalar column)"
			}
			q := "INSERT INTO " + def.Name + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
			rec.expect(t, tl, e, q, "POST", what)
		}
	}

	if otherType && (def.UpdatePath != "" || def.DeletePath != "") {
		tl.add("tables whose updates and deletes stripe-mock cannot show (another type)")
		return
	}
	if def.UpdatePath != "" {
		body := spec.body("POST", spec.specPath(def.UpdatePath))
		var sets []string
		for _, c := range def.Columns {
			switch {
			case c.UpdateParam == "" || (def.Parent != nil && c.Name == def.Parent.Column):
			case c.Path == "metadata":
				sets = append(sets, c.Name+" = JSON_OBJECT('sweep', 'yes')")
			case c.Type == catalog.Boolean:
				// A value the canned object does not have, so the column
				// changes and is sent.
				sets = append(sets, c.Name+" = NOT COALESCE("+c.Name+", FALSE)")
			case c.Type != catalog.JSON:
				ps := spec.param(body, c.UpdateParam)
				if vals := spec.enum(ps); len(vals) > 1 && (c.Type == catalog.String || c.Type == catalog.Text) {
					sets = append(sets, c.Name+" = IF("+c.Name+" <=> "+quoteSQL(vals[0])+", "+quoteSQL(vals[1])+", "+quoteSQL(vals[0])+")")
					continue
				}
				sets = append(sets, c.Name+" = "+literal(c.Type, spec.sample(ps, 0)))
			}
		}
		if len(sets) == 0 {
			for _, c := range def.Columns {
				if c.UpdateParam != "" && len(sets) == 0 {
					sets = append(sets, c.Name+" = "+literal(c.Type, spec.sample(spec.param(body, c.UpdateParam), 0)))
				}
			}
		}
		rec.expect(t, tl, e, "UPDATE "+def.Name+" SET "+strings.Join(sets, ", ")+key, "POST", "updates")
	}

	if def.DeletePath != "" {
		rec.expect(t, tl, e, "DELETE FROM "+def.Name+key, "DELETE", "deletes")
	}
}

// fetchObject gets the first object of a table's list (or a singleton)
// from stripe-mock directly.
func fetchObject(t *testing.T, base string, def *catalog.Table) map[string]any {
	path := def.ListPath
	q := url.Values{}
	if p := def.Parent; p != nil {
		if p.InPath() {
			path = strings.ReplaceAll(path, p.Placeholder, sweepParent)
		} else {
			q.Set(p.Param, sweepParent)
		}
	}
	for _, p := range def.ListParams {
		q.Set(p.Key, p.Value)
	}
	req, _ := http.NewRequest("GET", base+path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer sk_test_sweep")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != 200 || dec.Decode(&v) != nil {
		return nil
	}
	if def.Singleton {
		return v
	}
	data, _ := v["data"].([]any)
	if len(data) == 0 {
		return nil
	}
	obj, _ := data[0].(map[string]any)
	return obj
}

// sweepProcedures calls every procedure with all its parameters.
func sweepProcedures(t *testing.T, e *env, rec *requestLog, spec sweepSpec, cat *catalog.Catalog, tl *tally) {
	procs, err := procedures.Procedures(cat)
	if err != nil {
		t.Fatal(err)
	}
	generated := map[string]*catalog.Action{}
	for _, a := range cat.Actions() {
		generated[a.Name] = a
	}
	for _, p := range procs {
		var args []string
		if a, ok := generated[p.Name]; ok && !p.Curated {
			body := spec.body(a.Method, a.Path)
			for _, prm := range a.Params {
				switch {
				case prm.Placeholder != "":
					args = append(args, "'id_sweep1'")
				case prm.Kind == catalog.ParamJSON:
					b, _ := json.Marshal(spec.sample(spec.param(body, prm.Form), 0))
					args = append(args, quoteSQL(string(b)))
				case prm.Kind == catalog.ParamBoolean:
					args = append(args, "'true'")
				case prm.Kind == catalog.ParamInteger:
					args = append(args, literal(catalog.Integer, spec.sample(spec.param(body, prm.Form), 0)))
				default:
					args = append(args, literal(catalog.String, spec.sample(spec.param(body, prm.Form), 0)))
				}
			}
		} else {
			for _, prm := range p.Params {
				if strings.HasSuffix(prm, " BIGINT") {
					args = append(args, "1")
				} else {
					args = append(args, "'id_sweep1'")
				}
			}
		}
		q := "CALL " + p.Name + "(" + strings.Join(args, ", ") + ")"
		cols, row := rec.expectResult(t, tl, e, q, p.Method, "procedure calls")
		if cols == nil {
			continue // failed, and counted as such
		}
		// A procedure whose endpoint returns an object returns more than
		// Success: its columns (or AcceptQuote's InvoiceId).
		if returnsObject(spec, generated, p) {
			if len(cols) < 2 {
				tl.fail("%s: the endpoint returns an object, the procedure only %v", q, cols)
			} else {
				tl.add("procedures returning their object")
			}
		}
		if p.Name == "CreateAccountLink" {
			if row["Url"] == "" || row["Url"] == "NULL" {
				tl.fail("%s: no Url in %v", q, row)
			} else {
				tl.add("CreateAccountLink Url")
			}
		}
	}
}

// returnsObject reports whether p's Stripe endpoint answers with an
// object that has fields (found through the generated action of the same
// endpoint, for the hand-written procedures).
func returnsObject(spec sweepSpec, generated map[string]*catalog.Action, p procedures.Procedure) bool {
	anon := func(path string) string {
		segs := strings.Split(path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = "{}"
			}
		}
		return strings.Join(segs, "/")
	}
	for _, a := range generated {
		if a.Method == p.Method && anon(a.Path) == anon(p.Path) {
			op := spec.Operation(a.Method, a.Path)
			if op == nil {
				return false
			}
			sc := spec.ResponseSchema(op)
			return sc != nil && len(sc.Properties) > 0
		}
	}
	return false
}

// requestLog passes requests to stripe-mock and records them with the
// status it answered.
type requestLog struct {
	next  http.Handler
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	l.next.ServeHTTP(sw, r)
	line := r.Method + " " + r.URL.Path + " " + http.StatusText(sw.status)
	if sw.status != 200 {
		line += ": " + sw.body.String()
	}
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status != 200 {
		s.body.Write(p)
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// expect runs a statement that must send a method request stripe-mock
// accepts, and counts it as what.
func (l *requestLog) expect(t *testing.T, tl *tally, e *env, q, method, what string) {
	l.expectResult(t, tl, e, q, method, what)
}

// expectResult is expect that also returns the columns and the first row
// (values as strings, "NULL" for NULL); nil columns when it failed.
func (l *requestLog) expectResult(t *testing.T, tl *tally, e *env, q, method, what string) ([]string, map[string]string) {
	l.take()
	var cols []string
	first := map[string]string{}
	rows, err := e.db.Query(q)
	if err == nil {
		cols, err = rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if scanErr := rows.Scan(ptrs...); scanErr != nil && err == nil {
				err = scanErr
			}
			if n == 0 {
				for i, c := range cols {
					first[c] = "NULL"
					if vals[i].Valid {
						first[c] = vals[i].String
					}
				}
			}
			n++
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	sent := false
	for _, line := range l.take() {
		if strings.HasPrefix(line, method+" ") {
			sent = true
		}
		if !strings.HasSuffix(line, " OK") {
			tl.fail("%s: stripe-mock answered %s", q, line)
			return nil, nil
		}
	}
	switch {
	case err != nil:
		tl.fail("%s: %v", q, err)
	case !sent:
		tl.fail("%s: no %s request was sent", q, method)
	default:
		tl.add(what)
		return cols, first
	}
	return nil, nil
}
