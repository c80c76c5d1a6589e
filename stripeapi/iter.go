package stripeapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// maxPageSize is the largest page Stripe serves, and the default page size:
// fewer, larger pages spend less of the rate limit per object.
const maxPageSize = 100

// Iter streams the objects of a list or search endpoint, fetching one page
// per HTTP call and only when the current page is used up. Use it as
//
//	it := c.List(ctx, "/v1/customers", nil)
//	for it.Next() {
//		obj := it.Object()
//		...
//	}
//	if err := it.Err(); err != nil {
//		...
//	}
//
// An Iter is not safe for concurrent use.
type Iter struct {
	c      *Client
	ctx    context.Context
	req    *request
	search bool
	cursor string // list: "starting_after", or "ending_before" to page backwards

	page  []Object
	next  int    // index in page of the object Next returns next
	cur   Object // the object returned by Object
	last  bool   // no further page exists
	pages int
	err   error

	beforePage func() error
}

// List iterates over a list endpoint such as "/v1/customers", paging with
// starting_after (or ending_before, if params start from one). The page size
// is params' "limit", clamped to 1..100, or 100 if absent; it bounds each
// page, not the number of objects, so stop calling Next to stop early.
// Parameters are sent in order: params, then limit if it was absent, then
// expand[] from WithExpand, then the cursor. No request is sent until the
// first call to Next.
func (c *Client) List(ctx context.Context, path string, params Params, opts ...RequestOption) *Iter {
	return c.newIter(ctx, path, params, false, opts)
}

// Search iterates over a search endpoint such as "/v1/customers/search".
// params must hold "query"; pages follow next_page via the "page" parameter.
// Each page waits on the search rate limiter as well as the global one. Page
// size and request order are as for List.
func (c *Client) Search(ctx context.Context, path string, params Params, opts ...RequestOption) *Iter {
	return c.newIter(ctx, path, params, true, opts)
}

func (c *Client) newIter(ctx context.Context, path string, params Params, search bool, opts []RequestOption) *Iter {
	it := &Iter{c: c, ctx: ctx, search: search, cursor: "starting_after"}
	if _, ok := params.Get("ending_before"); ok && !search {
		it.cursor = "ending_before"
	}
	if q, ok := params.Get("query"); search && (!ok || q == "") {
		it.err = fmt.Errorf("stripe: GET %s: search requires a query parameter", path)
		return it
	}
	size := maxPageSize
	if s, ok := params.Get("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			it.err = fmt.Errorf("stripe: GET %s: invalid limit %q: %w", path, s, err)
			return it
		}
		size = min(max(n, 1), maxPageSize)
	}
	params = append(Params(nil), params...) // Set below must not touch the caller's slice
	params.Set("limit", strconv.Itoa(size))

	o := collectOptions(opts)
	it.beforePage = o.beforePage
	it.req, it.err = c.newRequest(http.MethodGet, path, params, o)
	if it.req != nil {
		it.req.search = it.req.search || search
	}
	return it
}

// Next advances to the next object, fetching the next page if the current
// one is used up and Stripe reported more. It returns false at the end of the
// list, on error, or once the context is done; then Err tells which.
func (it *Iter) Next() bool {
	it.cur = nil
	if it.err != nil {
		return false
	}
	if err := it.ctx.Err(); err != nil {
		it.err = err
		return false
	}
	if it.next >= len(it.page) {
		if it.last || !it.fetch() {
			return false
		}
	}
	it.cur = it.page[it.next]
	it.next++
	return true
}

// Object returns the current object, or nil if Next has not returned true.
func (it *Iter) Object() Object { return it.cur }

// Err returns the error that ended the iteration, or nil at a normal end. If
// the context was done, it is the context's error itself.
func (it *Iter) Err() error { return it.err }

// Pages returns the number of pages fetched so far.
func (it *Iter) Pages() int { return it.pages }

// fetch loads the next page and prepares the cursor for the one after. It
// reports whether the page holds any objects.
func (it *Iter) fetch() bool {
	if it.beforePage != nil {
		if err := it.beforePage(); err != nil {
			it.err = err
			return false
		}
	}
	obj, err := it.c.do(it.ctx, it.req)
	if err != nil {
		if ctxErr := it.ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		it.err = err
		return false
	}
	it.pages++
	page, err := decodePage(obj)
	if err != nil {
		it.err = it.req.errorf("page %d: %w", it.pages, err)
		return false
	}
	it.page, it.next = page.data, 0

	// An empty page ends the iteration even if has_more claims otherwise:
	// it gives no cursor to continue from, so asking again would loop.
	it.last = !page.hasMore || len(page.data) == 0
	if it.last {
		return len(page.data) > 0
	}
	if it.search {
		if page.nextPage == "" {
			it.last = true
			return true
		}
		it.req.params.Set("page", page.nextPage)
		return true
	}
	edge := page.data[len(page.data)-1]
	if it.cursor == "ending_before" {
		edge = page.data[0] // pages run newest first, so walking back starts from the top
	}
	id := edge.ID()
	if id == "" {
		it.err = it.req.errorf("page %d: object without an id, cannot continue", it.pages)
		return false
	}
	it.req.params.Set(it.cursor, id)
	return true
}

// page is the decoded envelope of a list or search response.
type page struct {
	data     []Object
	hasMore  bool
	nextPage string // search only
}

func decodePage(obj Object) (page, error) {
	var p page
	raw, ok := obj["data"].([]any)
	if !ok && obj["data"] != nil {
		return p, fmt.Errorf("data is %T, want an array", obj["data"])
	}
	p.data = make([]Object, len(raw))
	for i, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			return p, fmt.Errorf("data[%d] is %T, want an object", i, v)
		}
		p.data[i] = m
	}
	p.hasMore, _ = obj["has_more"].(bool)
	p.nextPage, _ = obj["next_page"].(string)
	return p, nil
}

// ListPage fetches one page of a list endpoint with params exactly as
// given (limit and cursor included, if any), for a reader that manages its
// own cursors: the objects, and whether Stripe reports more after them.
func (c *Client) ListPage(ctx context.Context, path string, params Params, opts ...RequestOption) ([]Object, bool, error) {
	obj, err := c.Get(ctx, path, params, opts...)
	if err != nil {
		return nil, false, err
	}
	p, err := decodePage(obj)
	if err != nil {
		return nil, false, fmt.Errorf("stripe: GET %s: %w", path, err)
	}
	return p.data, p.hasMore, nil
}
