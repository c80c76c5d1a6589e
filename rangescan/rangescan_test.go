package rangescan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripesql/stripesql/stripeapi"
)

// list is an in-memory Stripe list endpoint: newest first (created, then
// id, descending), created[gt|gte|lt|lte] filters, starting_after, limit,
// and a status filter standing for the caller's other filters.
type list struct {
	mu       sync.Mutex
	objs     []stripeapi.Object // newest first
	index    map[string]int     // id → position in objs
	gone     map[string]bool    // deleted ids: not listed, still cursors
	requests []string
	onFetch  func(n int) // called before answering request n (1-based)
}

func newList(n int, from, to int64) *list {
	l := &list{}
	for i := range n {
		created := from + (to-from)*int64(i)/int64(max(n, 1))
		l.objs = append(l.objs, obj(fmt.Sprintf("obj_%07d", i), created))
	}
	l.sort()
	return l
}

func obj(id string, created int64) stripeapi.Object {
	return stripeapi.Object{"id": id, "created": json.Number(strconv.FormatInt(created, 10)), "status": "active"}
}

func (l *list) sort() {
	slices.SortFunc(l.objs, func(a, b stripeapi.Object) int {
		ca, _ := createdOf(a)
		cb, _ := createdOf(b)
		if ca != cb {
			return int(cb - ca)
		}
		return strings.Compare(b.ID(), a.ID())
	})
	l.reindex()
}

func (l *list) reindex() {
	l.index = make(map[string]int, len(l.objs))
	for i, o := range l.objs {
		l.index[o.ID()] = i
	}
}

// remove deletes the object at position i (newest first) from the list:
// it is listed no more, and a cursor at it still continues after it.
func (l *list) remove(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone == nil {
		l.gone = map[string]bool{}
	}
	id := l.objs[i].ID()
	l.gone[id] = true
	return id
}

func (l *list) insert(o stripeapi.Object) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.objs = append([]stripeapi.Object{o}, l.objs...) // the newest: created now
	l.reindex()
}

func (l *list) fetch(_ context.Context, params stripeapi.Params) ([]stripeapi.Object, bool, error) {
	l.mu.Lock()
	l.requests = append(l.requests, params.Encode())
	n := len(l.requests)
	hook := l.onFetch
	l.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	limit := 10
	var after string
	var out []stripeapi.Object
	for _, p := range params {
		switch p.Key {
		case "limit":
			limit, _ = strconv.Atoi(p.Value)
		case "starting_after":
			after = p.Value
		}
	}
	from := 0
	if after != "" {
		from = l.index[after] + 1
	} else if hi, ok := params.Get("created[lte]"); ok {
		// the first object at or below hi: objs are newest first
		h, _ := strconv.ParseInt(hi, 10, 64)
		from, _ = slices.BinarySearchFunc(l.objs, h, func(o stripeapi.Object, h int64) int {
			c, _ := createdOf(o)
			if c > h {
				return -1
			}
			return 1
		})
	}
	for _, o := range l.objs[from:] {
		if l.gone[o.ID()] {
			continue // deleted: gone from the list, still a cursor's place
		}
		if !matches(o, params) {
			if below(o, params) {
				break // newest first: the rest is older still
			}
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, o)
	}
	return out, false, nil
}

func below(o stripeapi.Object, params stripeapi.Params) bool {
	c, _ := createdOf(o)
	for _, p := range params {
		v, _ := strconv.ParseInt(p.Value, 10, 64)
		if p.Key == "created[gt]" && c <= v || p.Key == "created[gte]" && c < v {
			return true
		}
	}
	return false
}

func matches(o stripeapi.Object, params stripeapi.Params) bool {
	c, _ := createdOf(o)
	for _, p := range params {
		v, _ := strconv.ParseInt(p.Value, 10, 64)
		switch p.Key {
		case "created[gt]":
			if c <= v {
				return false
			}
		case "created[gte]":
			if c < v {
				return false
			}
		case "created[lt]":
			if c >= v {
				return false
			}
		case "created[lte]":
			if c > v {
				return false
			}
		case "status":
			if o["status"] != p.Value {
				return false
			}
		}
	}
	return true
}

// drain reads the scan to its end and counts each id.
func drain(t *testing.T, s *Scan) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for s.Next() {
		seen[s.Object().ID()]++
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return seen
}

func TestSmallListIsReadAsOneCursor(t *testing.T) {
	// 250 objects over a year and a half, as the demo's: the first page
	// spans half a year, so the list does not look large.
	l := newList(250, 1_704_067_200, 1_751_328_000)
	s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "100"}}, l.fetch, Options{Split: true})
	seen := drain(t, s)
	if len(seen) != 250 {
		t.Errorf("read %d objects, want 250", len(seen))
	}
	want := []string{"limit=100", "limit=100&starting_after=" + l.objs[99].ID(), "limit=100&starting_after=" + l.objs[199].ID()}
	if !slices.Equal(l.requests, want) {
		t.Errorf("requests:\n %s\nwant:\n %s", strings.Join(l.requests, "\n "), strings.Join(want, "\n "))
	}
	if s.Ranges() != 1 {
		t.Errorf("%d ranges, want 1", s.Ranges())
	}
}

func TestDenseFirstPageSplitsAtOnce(t *testing.T) {
	for _, c := range []struct {
		n       int
		maxReqs int
	}{
		// A large list splits after its first page: every request after
		// it is a created range.
		{20_000, 280},
		// A list that only looks large (250 objects made within five
		// minutes) pays for the guess with the empty pages of the bands
		// below it, each cut in pieces within the year: bounded (21).
		{250, 3 + maxBands*piecesPerBand + 1},
	} {
		l := newList(c.n, 1_700_000_000, 1_700_000_000+int64(c.n))
		s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "100"}}, l.fetch, Options{Split: true, Rate: 100})
		s.waited = time.Second // as if the first page had taken 1 s: concurrency pays
		seen := drain(t, s)
		if len(seen) != c.n {
			t.Errorf("%d objects: read %d distinct, want all", c.n, len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%d objects: %s read %d times", c.n, id, k)
			}
		}
		for _, r := range l.requests[1:] {
			if !strings.Contains(r, "created") {
				t.Errorf("%d objects: request %q after the first page is no created range", c.n, r)
			}
		}
		if len(l.requests) > c.maxReqs {
			t.Errorf("%d objects: %d requests, want at most %d", c.n, len(l.requests), c.maxReqs)
		}
		t.Logf("%d objects: %d requests, %d ranges", c.n, len(l.requests), s.Ranges())
	}
}

func TestLargeListSplitsExactly(t *testing.T) {
	const n = 100_000
	// A year of objects, several per second in places: ties on created
	// must not lose or repeat objects at range edges.
	l := newList(n, 1_735_689_600, 1_767_225_600)
	for i := range 500 {
		l.objs = append(l.objs, obj(fmt.Sprintf("tie_%04d", i), 1_750_000_000))
	}
	l.sort()
	params := stripeapi.Params{{Key: "status", Value: "active"}, {Key: "limit", Value: "100"}}
	s := New(t.Context(), params, l.fetch, Options{Split: true, MaxConcurrency: 16})
	seen := drain(t, s)
	total := n + 500
	if len(seen) != total {
		t.Errorf("read %d distinct objects, want %d", len(seen), total)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s read %d times", id, k)
		}
	}
	pages := (total + 99) / 100
	// Every range ends on a partial page; an idle reader that splits a
	// range leaves its reader whole pages (by its density), so most of
	// those end nearly full: 1,016–1,023 requests (1,036–1,042 with
	// midpoint splits).
	if got := len(l.requests); float64(got) > 1.025*float64(pages) {
		t.Errorf("%d requests for %d pages: over 1.025×", got, pages)
	}
	if s.Ranges() < 8 {
		t.Errorf("%d ranges: the scan did not split", s.Ranges())
	}
	for _, r := range l.requests {
		if !strings.HasPrefix(r, "status=active&") {
			t.Errorf("request %q lost the caller's filter", r)
		}
	}
	t.Logf("%d objects, %d pages, %d requests, %d ranges", total, pages, len(l.requests), s.Ranges())
}

func TestSplitKeepsTheCallersBounds(t *testing.T) {
	l := newList(20_000, 1_735_689_600, 1_767_225_600)
	lo, hi := int64(1_740_000_000), int64(1_760_000_000)
	params := stripeapi.Params{{Key: "created[gte]", Value: strconv.FormatInt(lo, 10)}, {Key: "created[lt]", Value: strconv.FormatInt(hi, 10)}, {Key: "limit", Value: "100"}}
	s := New(t.Context(), params, l.fetch, Options{Split: true})
	seen := drain(t, s)
	want := 0
	for _, o := range l.objs {
		if c, _ := createdOf(o); c >= lo && c < hi {
			want++
			if seen[o.ID()] != 1 {
				t.Fatalf("%s (created %d) read %d times", o.ID(), c, seen[o.ID()])
			}
		}
	}
	if len(seen) != want {
		t.Errorf("read %d objects, want %d", len(seen), want)
	}
	if s.Ranges() < 2 {
		t.Fatalf("%d ranges: the scan did not split", s.Ranges())
	}
	// The first page sends the caller's params as given (the list looks
	// large after it); every range after it lies within the caller's
	// bounds.
	for _, r := range l.requests[1:] {
		q := stripeapi.Params{}
		for _, kv := range strings.Split(r, "&") {
			k, v, _ := strings.Cut(kv, "=")
			k = strings.NewReplacer("%5B", "[", "%5D", "]").Replace(k)
			q.Add(k, v)
		}
		gt, okGt := q.Get("created[gt]")
		lte, okLte := q.Get("created[lte]")
		g, _ := strconv.ParseInt(gt, 10, 64)
		h, _ := strconv.ParseInt(lte, 10, 64)
		if !okGt || g < lo-1 || okLte && h > hi-1 {
			t.Errorf("request %q leaves the caller's bounds (%d, %d]", r, lo-1, hi-1)
		}
		if _, ok := q.Get("created[gte]"); ok {
			t.Errorf("request %q repeats the caller's created filter", r)
		}
	}
}

func TestInsertsDuringTheScan(t *testing.T) {
	const n = 30_000
	now := int64(1_767_225_600)
	l := newList(n, now-365*86400, now)
	old := map[string]bool{}
	for _, o := range l.objs {
		old[o.ID()] = true
	}
	var added atomic.Int64
	l.onFetch = func(k int) {
		// Every request, some objects are created: now, as Stripe would.
		for j := range 1 {
			l.insert(obj(fmt.Sprintf("new_%05d_%d", k, j), now+int64(k)))
			added.Add(1)
		}
	}
	s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "100"}}, l.fetch, Options{Split: true})
	seen := drain(t, s)
	for id := range old {
		if seen[id] != 1 {
			t.Fatalf("object %s older than the scan read %d times, want once", id, seen[id])
		}
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("%s read %d times", id, k)
		}
	}
	if s.Ranges() < 2 {
		t.Errorf("%d ranges: the scan did not split", s.Ranges())
	}
	t.Logf("%d old objects once each; %d created during the scan, %d of them read", n, added.Load(), len(seen)-n)
}

func TestNoReadAheadUnderASmallPage(t *testing.T) {
	l := newList(5_000, 1_700_000_000, 1_700_900_000)
	s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "10"}}, l.fetch, Options{Split: true, PageSize: 10})
	for range 45 {
		if !s.Next() {
			t.Fatal(s.Err())
		}
	}
	s.Close()
	// 45 rows of pages of 10: 5 pages, not one more.
	if len(l.requests) != 5 {
		t.Errorf("%d requests for 45 rows in pages of 10, want 5: %v", len(l.requests), l.requests)
	}
}

func TestWithoutSplitOnePageAhead(t *testing.T) {
	l := newList(2_000, 1_700_000_000, 1_700_900_000)
	s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "100"}}, l.fetch, Options{Split: false})
	// Read 4 pages' worth and one object of the fifth: the reader may
	// have fetched the sixth page ahead, never a seventh.
	for range 401 {
		if !s.Next() {
			t.Fatal(s.Err())
		}
	}
	l.mu.Lock()
	got := len(l.requests)
	l.mu.Unlock()
	if got > 6 {
		t.Errorf("%d requests after 401 objects, want at most 6 (one page ahead)", got)
	}
	seen := drain(t, s)
	if len(seen) != 2000-401 {
		t.Errorf("read %d more objects, want %d", len(seen), 2000-401)
	}
	for _, r := range l.requests {
		if strings.Contains(r, "created") {
			t.Errorf("request %q: a list that may not split got a created filter", r)
		}
	}
	if s.Ranges() != 1 {
		t.Errorf("%d ranges, want 1", s.Ranges())
	}
}

func TestConcurrency(t *testing.T) {
	for _, c := range []struct {
		rate    float64
		latency string
		want    int
	}{
		{100, "300ms", 32}, {25, "300ms", 12}, {100, "100ms", 15}, {25, "1ms", 1}, {25, "0s", 0}, {0, "1ms", 32},
	} {
		d, _ := time.ParseDuration(c.latency)
		if got := Concurrency(c.rate, d, 32); got != c.want {
			t.Errorf("Concurrency(%g/s, %s) = %d, want %d", c.rate, c.latency, got, c.want)
		}
	}
}

func TestFewReadersStillExact(t *testing.T) {
	for _, c := range []int{2, 3} {
		l := newList(20_000, 1_735_689_600, 1_767_225_600)
		// A round trip of a millisecond, as a real list has: an instant
		// one lets a reader that the scheduler favours race ahead and
		// split the others' ranges, a partial page each (211 requests on
		// a busy machine).
		l.onFetch = func(int) { time.Sleep(time.Millisecond) }
		s := New(t.Context(), stripeapi.Params{{Key: "limit", Value: "100"}}, l.fetch, Options{Split: true, MaxConcurrency: c})
		seen := drain(t, s)
		if len(seen) != 20_000 {
			t.Errorf("%d readers: %d distinct objects, want 20000", c, len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%d readers: %s read %d times", c, id, k)
			}
		}
		if got := len(l.requests); float64(got) > 1.05*200 {
			t.Errorf("%d readers: %d requests for 200 pages", c, got)
		}
		if s.Ranges() < c {
			t.Errorf("%d readers: %d ranges", c, s.Ranges())
		}
		t.Logf("%d readers: %d requests, %d ranges", c, len(l.requests), s.Ranges())
	}
}

// stealScan is a parallel phase with no readers, for steal's choices.
func stealScan(planned int, ranges ...*rng) *parallel {
	s := &Scan{opts: Options{}, planned: planned}
	s.opts.defaults()
	p := &parallel{scan: s, split: true, ranges: ranges, workers: 4}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func TestUnreadRangesSplitByInheritedDensityOnlyWithinTheData(t *testing.T) {
	// A range of 1,000 s whose first page is in flight, split off a range
	// with 1 object a second: 10 pages by that density.
	unread := func() *rng {
		return &rng{bounds: bounds{lo: 1000, hasLo: true, hi: 2000, hasHi: true}, inherited: 1, busy: true}
	}
	// Nothing read at or below its lower bound: it may lie past the
	// oldest object, and is not split before its first page is in.
	r := unread()
	p := stealScan(0, r)
	p.oldest = 1500
	if got := p.steal(); got != nil {
		t.Errorf("split %s with no object known below it", got)
	}
	// An object read below it: it lies within the data, and splits at
	// once: the reader keeps 5 pages from the top, 495 objects at 1 a
	// second, and the new range takes the rest.
	r = unread()
	p = stealScan(0, r)
	p.oldest = 900
	got := p.steal()
	if got == nil {
		t.Fatal("not split with objects known below it")
	}
	if r.bounds.lo != 1505 || got.bounds != (bounds{lo: 1000, hasLo: true, hi: 1505, hasHi: true}) {
		t.Errorf("split into %s and %s, want (1505, 2000] and (1000, 1505]", r, got)
	}
	if got.inherited != 1 {
		t.Errorf("the new range inherited density %g, want 1", got.inherited)
	}
	// A short one (5 pages by its inheritance) waits for its first page:
	// the estimate is worth acting on only for a long range.
	r = &rng{bounds: bounds{lo: 1500, hasLo: true, hi: 2000, hasHi: true}, inherited: 1, busy: true}
	p = stealScan(0, r)
	p.oldest = 900
	if got := p.steal(); got != nil {
		t.Errorf("split %s, 5 pages by inherited density", got)
	}
}

func TestOnlyLaggingShortRangesSplitAtTheEndOfColdScans(t *testing.T) {
	// Ranges that have read 100 objects over 100 s, with pages left as
	// given (at 1 object a second, 100 s a page).
	ranges := func(left ...int) []*rng {
		var rs []*rng
		for i, l := range left {
			hi := int64(100_000 * (i + 1))
			t := hi - 99
			rs = append(rs, &rng{bounds: bounds{lo: t - int64(l*100), hasLo: true, hi: hi, hasHi: true}, top: hi, t: t, n: 100, busy: true})
		}
		return rs
	}
	for _, c := range []struct {
		name    string
		planned int
		left    []int
		split   int // index of the range split, -1 for none
	}{
		{"halves of 2 pages", 0, []int{1, 4, 1}, 1},
		{"a laggard of 3 pages among 1s", 0, []int{1, 3, 1, 1}, 1},
		{"a laggard of 2 pages among 1s", 0, []int{2, 1, 1, 1}, 0},
		{"even ranges of 2 pages", 0, []int{2, 2, 2, 2}, -1},
		{"1 page", 0, []int{1, 1}, -1},
		{"a laggard in a planned scan", 1000, []int{1, 3, 1, 1}, -1},
		{"halves of 2 pages in a planned scan", 1000, []int{1, 4, 1}, 1},
		// Not yet the end: more pages left than 2 a reader (4 readers),
		// an open-ended range still to read, or more pages left than half
		// those read.
		{"a laggard before the end", 0, []int{1, 3, 3, 3}, -1},
		{"a laggard with an open range unread", 0, []int{1, 3, 1, -1}, -1},
		{"a laggard before half the pages are read", 0, []int{1, 3, 1, 1}, -1},
	} {
		rs := ranges(c.left...)
		if last := rs[len(rs)-1]; c.left[len(c.left)-1] < 0 {
			last.bounds.hasLo, last.busy = false, true // open-ended, being read
		}
		p := stealScan(c.planned, rs...)
		p.pages = 100 // pages read: well past the middle
		if c.name == "a laggard before half the pages are read" {
			p.pages = 5
		}
		got := p.steal()
		switch {
		case c.split < 0 && got != nil:
			t.Errorf("%s: split off %s, want no split", c.name, got)
		case c.split >= 0 && got == nil:
			t.Errorf("%s: no split, want range %d split", c.name, c.split)
		case c.split >= 0 && got.bounds.hi != rs[c.split].bounds.lo:
			t.Errorf("%s: split off %s, not below range %d (%s)", c.name, got, c.split, rs[c.split])
		}
	}
}

func TestBandsAreCutInPiecesWithinTheYearOnly(t *testing.T) {
	p := stealScan(0)
	const floor = 1_000_000
	// 1 object a second: a band of 4,000 s is 40 pages, 4 pieces.
	p.layBand(&rng{bounds: bounds{lo: floor + 1000, hasLo: true, hi: floor + 5000, hasHi: true}}, 1, floor)
	// Straddling the floor: pieces of 4 pages above it (10 pages: 2),
	// one range below.
	p.layBand(&rng{bounds: bounds{lo: floor - 100_000, hasLo: true, hi: floor + 1000, hasHi: true}}, 1, floor)
	// Older than the floor, or open below: one range.
	p.layBand(&rng{bounds: bounds{lo: floor - 200_000, hasLo: true, hi: floor - 100_000, hasHi: true}}, 1, floor)
	p.layBand(&rng{bounds: bounds{hi: floor - 200_000, hasHi: true}}, 1, floor)
	// A band of 700 s is 7 pages: 1 piece of at least 4 pages.
	p.layBand(&rng{bounds: bounds{lo: floor + 5000, hasLo: true, hi: floor + 5700, hasHi: true}}, 1, floor)
	var got []string
	for _, r := range p.pending {
		got = append(got, r.String())
	}
	want := []string{
		"(1004000, 1005000]", "(1003000, 1004000]", "(1002000, 1003000]", "(1001000, 1002000]",
		"(1000500, 1001000]", "(1000000, 1000500]", "(900000, 1000000]",
		"(800000, 900000]",
		"(-inf, 800000]",
		"(1005000, 1005700]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ranges:\n %s\nwant:\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if len(p.ranges) != len(p.pending) {
		t.Errorf("%d ranges, %d pending: every piece must be both", len(p.ranges), len(p.pending))
	}
}
