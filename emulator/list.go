package emulator

import (
	"math"
	"slices"
	"strconv"
)

// paging is the parsed limit and cursor of a list request.
type paging struct {
	limit         int
	startingAfter string
	endingBefore  string
}

// parseLimit validates limit as Stripe does: an integer from 1 to 100,
// default 10.
func parseLimit(p params) (int, *apiError) {
	raw, ok := p["limit"]
	if !ok {
		return 10, nil
	}
	s, _ := raw.(string)
	n, err := strconv.Atoi(s)
	if err != nil {
		e := invalidRequest("limit", "Invalid integer: %v", raw)
		e.code = "parameter_invalid_integer"
		return 0, e
	}
	if n < 1 || n > 100 {
		return 0, invalidRequest("limit", "This value must be greater than or equal to 1 and less than or equal to 100 (it was %d).", n)
	}
	return n, nil
}

func parsePaging(p params) (paging, *apiError) {
	var pg paging
	var err *apiError
	if pg.limit, err = parseLimit(p); err != nil {
		return pg, err
	}
	pg.startingAfter, _ = p["starting_after"].(string)
	pg.endingBefore, _ = p["ending_before"].(string)
	if pg.startingAfter != "" && pg.endingBefore != "" {
		return pg, invalidRequest("ending_before", "You may only specify one of these parameters: starting_after, ending_before.")
	}
	return pg, nil
}

// list serves GET {path}: filters, default visibility, newest-first order
// and cursor pagination.
func (tx *tx) list(rt route, p params, url string) (any, *apiError) {
	res := rt.res
	pg, err := parsePaging(p)
	if err != nil {
		return nil, err
	}
	if rt.parentID != "" {
		if _, err := tx.parent(rt); err != nil {
			return nil, err
		}
	}
	var preds []func(object) bool
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64) // created bounds, inclusive
	for _, f := range res.filters {
		raw, given := p[f.param]
		if !given {
			if f.absent != nil {
				preds = append(preds, f.absent)
			}
			continue
		}
		if f.noCursor && (pg.startingAfter != "" || pg.endingBefore != "") {
			return nil, invalidRequest(f.param, "You cannot combine the %s parameter with starting_after or ending_before.", f.param)
		}
		pred, err := f.parse(f.param, raw)
		if err != nil {
			return nil, err
		}
		if f.sortKey {
			b, _ := parseBounds(f.param, raw) // parse accepted it
			lo, hi = span(b)
			continue // the walk's bounds apply it
		}
		preds = append(preds, pred)
	}
	if res.testClockHidden && !p.has("test_clock") && !p.has("customer") {
		preds = append(preds, func(o object) bool { return o["test_clock"] == nil })
	}
	if rt.parentID != "" {
		preds = append(preds, func(o object) bool { return str(o, res.parent) == rt.parentID })
	}

	page, hasMore, err := tx.window(res, lo, hi, preds, pg)
	if err != nil {
		return nil, err
	}
	data := make([]any, len(page))
	for i, o := range page {
		data[i] = o
	}
	return object{"object": "list", "url": url, "has_more": hasMore, "data": data}, nil
}

// window cuts one page, newest first, out of the live objects created
// within [lo, hi] that match preds, around the cursor. starting_after pages
// towards older objects; ending_before towards newer ones, returning the
// page that ends right before the cursor. A cursor is located by its
// (created, insertion) position, so it need not itself match the filters,
// but it must exist. The created bounds and the cursor are found by binary
// search in the table's order; only the records between them and the end
// of the page are looked at.
func (tx *tx) window(res *resource, lo, hi int64, preds []func(object) bool, pg paging) ([]object, bool, *apiError) {
	t := tx.s.tables[res.object]
	var cur *record
	if c := pg.startingAfter + pg.endingBefore; c != "" { // at most one is set
		param := "starting_after"
		if pg.endingBefore != "" {
			param = "ending_before"
		}
		var err *apiError
		if cur, err = tx.cursor(res, c, param); err != nil {
			return nil, false, err
		}
	}
	if t == nil || lo > hi {
		return nil, false, nil
	}
	from, to := t.createdFrom(lo), len(t.order) // order[from:to] is the created range
	if hi < math.MaxInt64 {
		to = t.createdFrom(hi + 1)
	}
	var page []object
	take := func(r *record) bool { // adds r if it matches; reports whether the page is over-full
		if r.deleted {
			return false
		}
		o := tx.s.peek(r)
		if !all(preds, o) {
			return false
		}
		page = append(page, o)
		return len(page) > pg.limit
	}
	if pg.endingBefore != "" {
		for i := max(from, t.after(cur)); i < to; i++ {
			if take(t.order[i]) {
				break
			}
		}
		hasMore := len(page) > pg.limit
		page = page[:min(len(page), pg.limit)]
		slices.Reverse(page)
		return page, hasMore, nil
	}
	if cur != nil {
		to = min(to, t.before(cur)) // strictly older than the cursor
	}
	for i := to - 1; i >= from; i-- {
		if take(t.order[i]) {
			break
		}
	}
	hasMore := len(page) > pg.limit
	return page[:min(len(page), pg.limit)], hasMore, nil
}

func (tx *tx) cursor(res *resource, id, param string) (*record, *apiError) {
	var r *record
	if t := tx.s.tables[res.object]; t != nil {
		r = t.byID[id] // no need to materialize: only its position counts
	}
	if r == nil {
		return nil, errNoSuch(res.word, id, param)
	}
	return r, nil
}

func all(preds []func(object) bool, o object) bool {
	for _, p := range preds {
		if !p(o) {
			return false
		}
	}
	return true
}

// parent returns the live parent object of a nested route (the customer of
// /v1/customers/{customer}/sources).
func (tx *tx) parent(rt route) (object, *apiError) {
	pres := tx.res(rt.res.parent)
	if o := tx.get(pres.object, rt.parentID); o != nil {
		return o, nil
	}
	return nil, errNoSuch(pres.word, rt.parentID, "id")
}
