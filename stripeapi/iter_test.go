package stripeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listServer serves n objects newest first, ids obj_<n-1> ... obj_0, with
// Stripe's limit / starting_after / ending_before / has_more semantics.
func listServer(t *testing.T, n int) *fakeServer {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("obj_%d", n-1-i)
	}
	return newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		q := r.URL.Query()
		limit := 10
		if s := q.Get("limit"); s != "" {
			limit, _ = strconv.Atoi(s)
		}
		lo, hi := 0, len(ids)
		if a := q.Get("starting_after"); a != "" {
			lo = slices.Index(ids, a) + 1
		}
		if b := q.Get("ending_before"); b != "" {
			hi = slices.Index(ids, b)
			lo = max(0, hi-limit)
		}
		end := min(lo+limit, hi)
		data := make([]map[string]any, 0, limit)
		for _, id := range ids[lo:end] {
			data = append(data, map[string]any{"id": id, "object": "thing"})
		}
		hasMore := end < hi
		if q.Get("ending_before") != "" {
			hasMore = lo > 0
		}
		body, _ := json.Marshal(map[string]any{"object": "list", "data": data, "has_more": hasMore})
		reply(w, 200, string(body))
	})
}

func collect(t *testing.T, it *Iter) []string {
	t.Helper()
	var ids []string
	for it.Next() {
		ids = append(ids, it.Object().ID())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iteration failed after %d objects: %v", len(ids), err)
	}
	return ids
}

func TestListPagesThroughAll(t *testing.T) {
	srv := listServer(t, 250)
	c := newTestClient(t, srv.URL, nil)
	it := c.List(t.Context(), "/v1/customers", Params{{"email", "a@b.c"}}, WithExpand("data.default_source"))
	ids := collect(t, it)
	if len(ids) != 250 || ids[0] != "obj_249" || ids[249] != "obj_0" {
		t.Fatalf("got %d objects (%v...), want obj_249..obj_0", len(ids), ids[:min(3, len(ids))])
	}
	if it.Pages() != 3 || srv.hits() != 3 {
		t.Errorf("Pages() = %d, server hits = %d; want 3 and 3", it.Pages(), srv.hits())
	}
	wantQueries := []string{
		"email=a%40b.c&limit=100&expand%5B%5D=data.default_source",
		"email=a%40b.c&limit=100&expand%5B%5D=data.default_source&starting_after=obj_150",
		"email=a%40b.c&limit=100&expand%5B%5D=data.default_source&starting_after=obj_50",
	}
	for i, r := range srv.requests() {
		if r.RawQuery != wantQueries[i] {
			t.Errorf("page %d query = %q\nwant           %q", i+1, r.RawQuery, wantQueries[i])
		}
	}
	if it.Next() || it.Object() != nil || srv.hits() != 3 {
		t.Error("Next after the end returned an object or fetched again")
	}
}

func TestListIsLazy(t *testing.T) {
	srv := listServer(t, 250)
	c := newTestClient(t, srv.URL, nil)
	it := c.List(t.Context(), "/v1/customers", Params{{"limit", "5"}})
	if srv.hits() != 0 {
		t.Fatalf("List sent %d requests before Next", srv.hits())
	}
	for range 5 {
		if !it.Next() {
			t.Fatalf("Next = false: %v", it.Err())
		}
	}
	if got := srv.hits(); got != 1 || it.Pages() != 1 {
		t.Errorf("reading 5 objects with limit=5 took %d requests, want 1", got)
	}
	if q := srv.requests()[0].RawQuery; q != "limit=5" {
		t.Errorf("query = %q, want limit=5", q)
	}
	if !it.Next() || it.Object().ID() != "obj_244" || srv.hits() != 2 {
		t.Errorf("6th object = %v after %d requests, want obj_244 after 2", it.Object(), srv.hits())
	}
}

func TestListLimitParam(t *testing.T) {
	srv := listServer(t, 3)
	c := newTestClient(t, srv.URL, nil)
	for _, tt := range []struct{ limit, want string }{{"1000", "limit=100"}, {"0", "limit=1"}} {
		collect(t, c.List(t.Context(), "/v1/x", Params{{"limit", tt.limit}}))
		reqs := srv.requests()
		if got := reqs[len(reqs)-1].RawQuery; !strings.HasPrefix(got, tt.want) {
			t.Errorf("limit=%s sent %q, want %q", tt.limit, got, tt.want)
		}
	}
	before := srv.hits()
	it := c.List(t.Context(), "/v1/x", Params{{"limit", "ten"}})
	if it.Next() || it.Err() == nil || srv.hits() != before {
		t.Errorf("limit=ten: Next succeeded or sent a request; Err = %v", it.Err())
	}
}

func TestListEndingBefore(t *testing.T) {
	srv := listServer(t, 10)
	c := newTestClient(t, srv.URL, nil)
	ids := collect(t, c.List(t.Context(), "/v1/x", Params{{"ending_before", "obj_0"}, {"limit", "4"}}))
	// Pages newest first within each page, walking towards newer objects.
	want := []string{"obj_4", "obj_3", "obj_2", "obj_1", "obj_8", "obj_7", "obj_6", "obj_5", "obj_9"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	if q := srv.requests()[1].RawQuery; q != "ending_before=obj_4&limit=4" {
		t.Errorf("second page query = %q, want the first id of page 1 as cursor", q)
	}
}

func TestListEmptyPageStops(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"object":"list","data":[],"has_more":true}`)
	})
	it := newTestClient(t, srv.URL, nil).List(t.Context(), "/v1/x", nil)
	if it.Next() || it.Err() != nil || srv.hits() != 1 {
		t.Errorf("empty page with has_more: Next repeated or failed (err %v, %d hits)", it.Err(), srv.hits())
	}
}

func TestListErrorStops(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 200, `{"object":"list","data":[{"id":"a"},{"id":"b"}],"has_more":true}`)
			return
		}
		replyError(w, 400, "invalid_request_error", "parameter_unknown")
	})
	it := newTestClient(t, srv.URL, nil).List(t.Context(), "/v1/x", nil)
	n := 0
	for it.Next() {
		n++
	}
	var e *Error
	if n != 2 || !errors.As(it.Err(), &e) || e.Code != "parameter_unknown" {
		t.Errorf("read %d objects, Err = %v; want 2 then the 400", n, it.Err())
	}
}

func TestSearchPages(t *testing.T) {
	var events []RequestEvent
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Query().Get("page") {
		case "":
			reply(w, 200, `{"object":"search_result","data":[{"id":"cus_1"},{"id":"cus_2"}],"has_more":true,"next_page":"tok_2"}`)
		case "tok_2":
			reply(w, 200, `{"object":"search_result","data":[{"id":"cus_3"}],"has_more":false,"next_page":null}`)
		default:
			replyError(w, 400, "invalid_request_error", "")
		}
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.OnRequest = func(ctx context.Context, ev RequestEvent) { events = append(events, ev) }
	})
	it := c.Search(t.Context(), "/v1/customers/search", Params{{"query", `metadata["tier"]:"gold"`}})
	if ids := collect(t, it); !slices.Equal(ids, []string{"cus_1", "cus_2", "cus_3"}) {
		t.Errorf("ids = %v", ids)
	}
	want := []string{
		"query=metadata%5B%22tier%22%5D%3A%22gold%22&limit=100",
		"query=metadata%5B%22tier%22%5D%3A%22gold%22&limit=100&page=tok_2",
	}
	for i, r := range srv.requests() {
		if r.RawQuery != want[i] {
			t.Errorf("page %d query = %q\nwant           %q", i+1, r.RawQuery, want[i])
		}
	}
	if it.Pages() != 2 || len(events) != 2 || !events[0].Search || events[1].RawQuery != want[1] {
		t.Errorf("Pages() = %d, events = %+v", it.Pages(), events)
	}

	it = c.Search(t.Context(), "/v1/customers/search", Params{{"limit", "10"}})
	if it.Next() || it.Err() == nil || srv.hits() != 2 {
		t.Errorf("search without query: Next succeeded or sent a request; Err = %v", it.Err())
	}
}

func TestIterCancelBetweenObjects(t *testing.T) {
	srv := listServer(t, 250)
	ctx, cancel := context.WithCancel(t.Context())
	it := newTestClient(t, srv.URL, nil).List(ctx, "/v1/x", nil)
	if !it.Next() {
		t.Fatal(it.Err())
	}
	cancel()
	if it.Next() {
		t.Error("Next = true after cancel, with 99 objects still buffered")
	}
	if it.Err() != context.Canceled {
		t.Errorf("Err = %v, want context.Canceled itself", it.Err())
	}
	if srv.hits() != 1 {
		t.Errorf("%d hits, want 1", srv.hits())
	}
}

func TestCancelInFlight(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	c := newTestClient(t, srv.URL, nil)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Get(ctx, "/v1/slow", nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "GET /v1/slow") {
		t.Errorf("Get err = %v, want context.Canceled wrapped with GET /v1/slow", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	it := c.List(ctx, "/v1/slow", nil)
	if it.Next() {
		t.Error("Next = true on a cancelled request")
	}
	if it.Err() != context.Canceled {
		t.Errorf("Err = %v, want context.Canceled", it.Err())
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("cancellation took %v to stop the requests", el)
	}
	if srv.hits() != 2 {
		t.Errorf("%d hits, want 2 (a cancelled request is not retried)", srv.hits())
	}
}

func TestBeforePageCanRefuseAPage(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprintf(w, `{"object":"list","has_more":true,"data":[{"id":"obj_%d"}]}`, hits)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, APIKey: testKey, Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("budget spent")
	calls := 0
	it := c.List(t.Context(), "/v1/things", nil, WithBeforePage(func() error {
		calls++
		if calls > 2 {
			return refused
		}
		return nil
	}))
	n := 0
	for it.Next() {
		n++
	}
	if n != 2 || hits != 2 || !errors.Is(it.Err(), refused) {
		t.Errorf("read %d objects with %d requests, err %v; want 2, 2 and the refusal", n, hits, it.Err())
	}
}
