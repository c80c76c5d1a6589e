package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/specvalidate"
	"github.com/stripesql/stripesql/internal/stripespec"
)

// TestSweepEveryReferenceAsAJoin joins every catalog reference (a column
// whose Ref names a table Stripe can retrieve from) to its table, against
// plain stripe-mock, with a LEFT JOIN on the referenced Id: each query must
// answer, with at least a row per row of the referencing table and at most
// the rows of the same join over a subquery nothing is pushed into, and
// every expand[] the planner sends must name a field that Stripe's spec
// lets that object expand (x-expansionResources). stripe-mock does not
// check expansions itself, so the handler below checks each response's
// objects against the spec.
func TestSweepEveryReferenceAsAJoin(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := stripespec.Load()
	if err != nil {
		t.Fatal(err)
	}
	check := newExpansionCheck(mock, spec)
	cat := catalog.All()
	e := startOn(t, nil, check, cat, withQuietLogs())

	joins := 0
	for _, a := range cat.Tables() {
		for _, col := range a.Columns {
			b, ok := cat.Lookup(col.Ref)
			if col.Ref == "" || !ok || b.RetrievePath == "" || col.Path == "" {
				continue
			}
			// A LEFT JOIN keeps every row of a; and it can return no more
			// rows than the same join over a LIMIT-wrapped subquery, into
			// which nothing is pushed. (stripe-mock's canned lists repeat
			// one customer in the list and in each test clock's list, so
			// the subquery may match a key twice where a retrieve finds
			// the object once.)
			left := e.query(t, fmt.Sprintf("SELECT COUNT(*) FROM %s", a.Name))[0][0].String
			most := e.query(t, fmt.Sprintf("SELECT COUNT(*) FROM %s a LEFT JOIN (SELECT * FROM %s LIMIT 1000000) b ON b.Id = a.%s", a.Name, b.Name, col.Name))[0][0].String
			q := fmt.Sprintf("SELECT COUNT(*) FROM %s a LEFT JOIN %s b ON b.Id = a.%s", a.Name, b.Name, col.Name)
			rows, err := e.db.Query(q)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			var got string
			for rows.Next() {
				if err := rows.Scan(&got); err != nil {
					t.Errorf("%s: %v", q, err)
				}
			}
			if err := rows.Err(); err != nil {
				t.Errorf("%s: %v", q, err)
			}
			rows.Close()
			if n, lo, hi := atoi(got), atoi(left), atoi(most); n < lo || n > hi {
				t.Errorf("%s: %s rows, want from %s (the rows of %s) to %s", q, got, left, a.Name, most)
			}
			joins++
		}
	}
	sent, refused := check.result()
	for _, r := range refused {
		t.Error(r)
	}
	if joins < 100 || sent == 0 {
		t.Errorf("the sweep joined %d references and sent %d expansions; the catalog has hundreds of references, many expandable", joins, sent)
	}
	t.Logf("reference sweep: %d references joined, %d expansions sent, %d not expandable", joins, sent, len(refused))
}

// expansionCheck passes requests to stripe-mock and checks each expand[]
// of a GET against the objects in the response: the expanded field must
// be expandable in the spec's schema of the object's type.
type expansionCheck struct {
	next     http.Handler
	byObject map[string]*stripespec.Schema
	spec     *stripespec.Spec

	mu      sync.Mutex
	sent    int
	refused []string
}

func newExpansionCheck(next http.Handler, spec *stripespec.Spec) *expansionCheck {
	c := &expansionCheck{next: next, spec: spec, byObject: map[string]*stripespec.Schema{}}
	// A deleted object's schema (deleted_invoice) shares its type's
	// object name; the live schema is the one to check.
	for key, sc := range spec.Schemas {
		if name := spec.ObjectName(sc); name != "" && !strings.HasPrefix(key, "deleted_") {
			c.byObject[name] = spec.Resolve(sc)
		}
	}
	return c
}

func (c *expansionCheck) result() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.refused
}

// bodyRecorder keeps a copy of a response body.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (b *bodyRecorder) Write(p []byte) (int, error) {
	b.body.Write(p)
	return b.ResponseWriter.Write(p)
}

func (c *expansionCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	expands := r.URL.Query()["expand[]"]
	if r.Method != http.MethodGet || len(expands) == 0 {
		c.next.ServeHTTP(w, r)
		return
	}
	rec := &bodyRecorder{ResponseWriter: w}
	c.next.ServeHTTP(rec, r)
	var resp struct {
		Object string           `json:"object"`
		Data   []map[string]any `json:"data"`
	}
	var single map[string]any
	_ = json.Unmarshal(rec.body.Bytes(), &resp)
	_ = json.Unmarshal(rec.body.Bytes(), &single)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range expands {
		c.sent++
		objs := []map[string]any{single}
		field := x
		if resp.Object == "list" || resp.Object == "search_result" {
			objs, field = resp.Data, strings.TrimPrefix(x, "data.")
		}
		for _, obj := range objs {
			kind, _ := obj["object"].(string)
			sc := c.byObject[kind]
			if sc == nil || c.spec.Expansions(sc.Properties[field]) == nil {
				c.refused = append(c.refused, fmt.Sprintf("%s %s: expand[]=%s, but %s.%s is not expandable", r.Method, r.URL.Path, x, kind, field))
				break
			}
		}
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
