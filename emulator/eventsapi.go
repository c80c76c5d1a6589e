package emulator

import (
	"math"
	"net/http"
	"strings"
)

// maxEventTypes is Stripe's limit on types[].
const maxEventTypes = 20

// serveEvents answers GET /v1/events and GET /v1/events/{id}. It runs with
// e.mu held.
func (e *Emulator) serveEvents(tx *tx, r *http.Request) (any, *apiError) {
	method, path := r.Method, r.URL.Path
	id, isItem := strings.CutPrefix(path, "/v1/events/")
	key := "GET /v1/events"
	if isItem {
		key = "GET /v1/events/{}"
	}
	if method != http.MethodGet || (isItem && (id == "" || strings.Contains(id, "/"))) {
		return nil, errUnrecognizedURL(method, path)
	}
	p := params(parseForm(r.URL.Query()))
	if err := p.validate(spec().Operations[key], false); err != nil {
		return nil, err
	}
	if err := checkExpand("event", expandPaths(p), !isItem); err != nil {
		return nil, err // events have nothing to expand
	}
	retention := e.retention()
	e.pruneEvents(tx.now)
	if isItem {
		// Retrieval does not wait for an event to be listable: a webhook
		// names an event before the list may show it.
		ev := e.events.byID[id]
		if ev == nil || expired(ev, tx.now, retention) {
			return nil, errNoSuch("event", id, "id")
		}
		return ev.render(), nil
	}
	return e.listEvents(tx, p, path)
}

// listEvents serves GET /v1/events: the listable events, newest first,
// filtered by created, type (with * wildcards) or types[], and
// delivery_success, paged around starting_after or ending_before.
func (e *Emulator) listEvents(tx *tx, p params, url string) (any, *apiError) {
	pg, err := parsePaging(p)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if raw, ok := p["created"]; ok {
		b, err := parseBounds("created", raw)
		if err != nil {
			return nil, err
		}
		lo, hi = span(b)
	}
	match := func(string) bool { return true }
	_, hasType := p["type"]
	_, hasTypes := p["types"]
	switch {
	case hasType && hasTypes:
		return nil, invalidRequest("types", "You may pass either type or types, but not both.")
	case hasType:
		pattern := p.str("type")
		match = func(t string) bool { return wildcardMatch(pattern, t) }
	case hasTypes:
		raw, ok := p["types"].([]any)
		if !ok {
			return nil, invalidRequest("types", "Invalid array")
		}
		if len(raw) > maxEventTypes {
			return nil, invalidRequest("types", "Invalid types: must contain at most %d elements", maxEventTypes)
		}
		want := map[string]bool{}
		for _, v := range raw {
			s, ok := v.(string)
			if !ok {
				return nil, invalidRequest("types", "Invalid array")
			}
			want[s] = true
		}
		match = func(t string) bool { return want[t] }
	}
	// No webhooks are delivered: every event counts as delivered.
	if v, ok := p["delivery_success"]; ok && v != "true" {
		if v != "false" {
			return nil, invalidRequest("delivery_success", "Invalid boolean: %v", v)
		}
		match = func(string) bool { return false }
	}

	l := &e.events
	var cur *event
	if c := pg.startingAfter + pg.endingBefore; c != "" {
		param := "starting_after"
		if pg.endingBefore != "" {
			param = "ending_before"
		}
		if cur = l.byID[c]; cur == nil {
			return nil, errNoSuch("event", c, param)
		}
	}
	retention := e.retention()
	var page []any
	take := func(ev *event) bool { // adds ev if it is listed; reports whether the page is over-full
		if ev.created < lo || ev.created > hi || tx.now.Before(ev.visible) || expired(ev, tx.now, retention) || !match(ev.typ) {
			return false
		}
		page = append(page, ev.render())
		return len(page) > pg.limit
	}
	// The created bounds narrow the walk to list[from:to] by binary search,
	// so a poll for recent events costs its page, not the whole log.
	from, to := l.createdFrom(lo), len(l.list)
	if hi < math.MaxInt64 {
		to = l.createdFrom(hi + 1)
	}
	if pg.endingBefore != "" {
		for i := max(from, l.index(cur)+1); i < to; i++ {
			if take(l.list[i]) {
				break
			}
		}
		hasMore := len(page) > pg.limit
		page = page[:min(len(page), pg.limit)]
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
		return object{"object": "list", "url": url, "has_more": hasMore, "data": orEmpty(page)}, nil
	}
	if cur != nil {
		to = min(to, l.index(cur)) // strictly older than the cursor
	}
	for i := to - 1; i >= from; i-- {
		if take(l.list[i]) {
			break
		}
	}
	hasMore := len(page) > pg.limit
	return object{"object": "list", "url": url, "has_more": hasMore, "data": orEmpty(page[:min(len(page), pg.limit)])}, nil
}

// wildcardMatch reports whether name matches pattern, where * stands for
// any run of characters (customer.* matches customer.subscription.updated).
func wildcardMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(name, part)
		if i < 0 {
			return false
		}
		name = name[i+len(part):]
	}
	return strings.HasSuffix(name, parts[len(parts)-1])
}
