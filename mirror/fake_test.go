package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// fakeStripe serves GET /v1/events (newest first, created[gte], limit,
// starting_after) from a list the test controls, including events not yet
// visible, and GET of single objects for re-fetches.
type fakeStripe struct {
	mu        sync.Mutex
	events    []fakeEvent
	objects   map[string]map[string]any // retrieve path → object (nil: 404)
	gets      []string                  // retrieve paths requested
	lists     int                       // event list pages served
	gtes      []int64                   // created[gte] of each list page
	retention int64                     // >0: created[gte] older than now−retention is refused
	skew      time.Duration             // how far Stripe's clock is behind the test's
	now       func() time.Time
	onGet     func() // if set, called (without f.mu) before a retrieve is answered
}

type fakeEvent struct {
	visible bool
	body    map[string]any
}

func newFakeStripe(t *testing.T, now func() time.Time) (*fakeStripe, *stripeapi.Client) {
	f := &fakeStripe{objects: map[string]map[string]any{}, now: now}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_mirror", Rate: -1, SearchRate: -1, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// add records an event; visible false keeps it out of lists until show.
func (f *fakeStripe) add(id, typ string, created int64, obj map[string]any, visible bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, fakeEvent{visible: visible, body: map[string]any{
		"id": id, "object": "event", "type": typ, "created": created,
		"data": map[string]any{"object": obj},
	}})
}

func (f *fakeStripe) show(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.events {
		if f.events[i].body["id"] == id {
			f.events[i].visible = true
		}
	}
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	onGet := f.onGet
	f.mu.Unlock()
	if onGet != nil && r.URL.Path != "/v1/events" {
		onGet()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	// Stripe's clock, which event times follow, is the test's clock, moved
	// by skew (Stripe behind the local clock by that much).
	w.Header().Set("Date", f.now().Add(-f.skew).UTC().Format(http.TimeFormat))
	if r.URL.Path != "/v1/events" {
		f.gets = append(f.gets, r.URL.Path)
		obj, ok := f.objects[r.URL.Path]
		if !ok || obj == nil {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such object","param":"id"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(obj)
		return
	}
	f.lists++
	q := r.URL.Query()
	gte, _ := strconv.ParseInt(q.Get("created[gte]"), 10, 64)
	f.gtes = append(f.gtes, gte)
	if f.retention > 0 && gte < f.now().Add(-f.skew).Unix()-f.retention {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"type":"invalid_request_error","message":"Events older than the retention period are not available","param":"created"}}`)
		return
	}
	var vis []map[string]any
	for _, e := range f.events {
		if c := e.body["created"].(int64); e.visible && c >= gte {
			vis = append(vis, e.body)
		}
	}
	// Newest first; ties by id descending, as a stable stand-in for Stripe.
	sort.SliceStable(vis, func(i, j int) bool {
		ci, cj := vis[i]["created"].(int64), vis[j]["created"].(int64)
		if ci != cj {
			return ci > cj
		}
		return vis[i]["id"].(string) > vis[j]["id"].(string)
	})
	if after := q.Get("starting_after"); after != "" {
		for i, e := range vis {
			if e["id"] == after {
				vis = vis[i+1:]
				break
			}
		}
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	more := false
	if limit > 0 && len(vis) > limit {
		vis, more = vis[:limit], true
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": vis, "has_more": more})
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// readAll is a fake live reader of a fixed set of objects per table.
type readAll struct {
	mu    sync.Mutex
	objs  map[string][]map[string]any
	calls map[string]int
}

func newReadAll() *readAll {
	return &readAll{objs: map[string][]map[string]any{}, calls: map[string]int{}}
}

func (r *readAll) set(table string, objs ...map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.objs[table] = objs
}

func (r *readAll) count(table string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[table]
}

func (r *readAll) read(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
	r.mu.Lock()
	r.calls[table]++
	objs := r.objs[table]
	r.mu.Unlock()
	for _, o := range objs {
		// A fresh copy per read, as a live read decodes anew, with numbers
		// as the client decodes them.
		if err := emit(jsonObject(o)); err != nil {
			return err
		}
	}
	return nil
}

// jsonObject round-trips o through JSON, so its numbers are json.Number.
func jsonObject(o map[string]any) stripeapi.Object {
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var out stripeapi.Object
	if err := d.Decode(&out); err != nil {
		panic(err)
	}
	return out
}

func testCatalogTables(t *testing.T, names ...string) (*catalog.Catalog, []*catalog.Table) {
	t.Helper()
	cat := catalog.All()
	var out []*catalog.Table
	for _, n := range names {
		tb, ok := cat.Lookup(n)
		if !ok {
			t.Fatalf("no table %s", n)
		}
		out = append(out, tb)
	}
	return cat, out
}

func cus(id string, created int64, fields ...any) map[string]any {
	o := map[string]any{"id": id, "object": "customer", "created": created}
	for i := 0; i+1 < len(fields); i += 2 {
		o[fields[i].(string)] = fields[i+1]
	}
	return o
}
