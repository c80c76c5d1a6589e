package emulator

import (
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
		preds = append(preds, pred)
	}
	if res.testClockHidden && !p.has("test_clock") && !p.has("customer") {
		preds = append(preds, func(o object) bool { return o["test_clock"] == nil })
	}

	var rows []*record
	for _, r := range tx.s.live(res.object) {
		if rt.parentID != "" && str(r.obj, res.parent) != rt.parentID {
			continue
		}
		if all(preds, r.obj) {
			rows = append(rows, r)
		}
	}

	page, hasMore, err := tx.window(res, rows, pg)
	if err != nil {
		return nil, err
	}
	data := make([]any, len(page))
	for i, r := range page {
		data[i] = r.obj
	}
	return object{"object": "list", "url": url, "has_more": hasMore, "data": data}, nil
}

// window cuts one page out of rows (newest first) around the cursor.
// starting_after pages towards older objects; ending_before towards newer
// ones, returning the page that ends right before the cursor. A cursor is
// located by its (created, insertion) position, so it need not itself
// match the filters, but it must exist.
func (tx *tx) window(res *resource, rows []*record, pg paging) ([]*record, bool, *apiError) {
	switch {
	case pg.startingAfter != "":
		cur, err := tx.cursor(res, pg.startingAfter, "starting_after")
		if err != nil {
			return nil, false, err
		}
		i, _ := slices.BinarySearchFunc(rows, cur, newerFirst)
		if i < len(rows) && rows[i] == cur {
			i++
		}
		rows = rows[i:]
	case pg.endingBefore != "":
		cur, err := tx.cursor(res, pg.endingBefore, "ending_before")
		if err != nil {
			return nil, false, err
		}
		i, _ := slices.BinarySearchFunc(rows, cur, newerFirst)
		rows = rows[:i]
		if len(rows) > pg.limit {
			return rows[len(rows)-pg.limit:], true, nil
		}
		return rows, false, nil
	}
	if len(rows) > pg.limit {
		return rows[:pg.limit], true, nil
	}
	return rows, false, nil
}

func (tx *tx) cursor(res *resource, id, param string) (*record, *apiError) {
	r := tx.s.tables[res.object][id]
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
