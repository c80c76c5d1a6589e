package rangescan

import (
	"context"
	"errors"
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

// learn scans l to its end and returns what the scan learned.
func learn(t *testing.T, l *list, params stripeapi.Params, opts Options) *Stats {
	t.Helper()
	var got *Stats
	calls := 0
	opts.Learned = func(st *Stats) { got = st; calls++ }
	s := New(t.Context(), params, l.fetch, opts)
	drain(t, s)
	if calls != 1 {
		t.Fatalf("Learned called %d times by a complete scan, want once", calls)
	}
	return got
}

// queryOf parses a logged request.
func queryOf(r string) stripeapi.Params {
	q := stripeapi.Params{}
	for _, kv := range strings.Split(r, "&") {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.NewReplacer("%5B", "[", "%5D", "]").Replace(k)
		q.Add(k, v)
	}
	return q
}

func TestStatsOnlyFromCompleteScans(t *testing.T) {
	l := newList(5_000, 1_735_689_600, 1_767_225_600)
	params := stripeapi.Params{{Key: "limit", Value: "100"}}

	// Stopped early, as by a LIMIT: nothing learned.
	called := false
	s := New(t.Context(), params, l.fetch, Options{Split: true, Rate: 100, Learned: func(*Stats) { called = true }})
	for range 250 {
		if !s.Next() {
			t.Fatal(s.Err())
		}
	}
	s.Close()
	if called {
		t.Errorf("a scan closed after 250 of 5000 objects learned statistics")
	}

	// Ended by an error on its 20th request: nothing learned.
	var n atomic.Int32
	failing := func(ctx context.Context, p stripeapi.Params) ([]stripeapi.Object, bool, error) {
		if n.Add(1) == 20 {
			return nil, false, errors.New("boom")
		}
		return l.fetch(ctx, p)
	}
	s = New(t.Context(), params, failing, Options{Split: true, Rate: 100, Learned: func(*Stats) { called = true }})
	s.waited = time.Second
	for s.Next() {
	}
	if s.Err() == nil || called {
		t.Errorf("a scan that failed (err %v) learned statistics: %v", s.Err(), called)
	}

	// Read to its end, split or not: the count and the extent.
	for _, opts := range []Options{{Split: true}, {Split: true, Rate: 100, MaxConcurrency: 8}} {
		st := learn(t, l, params, opts)
		if st.Count != 5_000 {
			t.Errorf("learned count %d, want 5000", st.Count)
		}
		if got, _ := st.estimate(bounds{}); got != 5_000 {
			t.Errorf("estimate of the whole list %d, want 5000", got)
		}
		// Ranks are exact at every point: the point's object is the
		// rank-th newest.
		for _, p := range st.points {
			if c, _ := createdOf(l.objs[p.rank-1]); c != p.created {
				t.Fatalf("point %+v: the %d-th newest object was created at %d", p, p.rank, c)
			}
		}
	}
}

// TestWarmScanIsPlanned: a scan of a list whose statistics show it large
// sends no page alone: its first requests are the planned ranges, which
// tile the list (open above and below), and it reads 100 pages in at most
// 105 requests.
func TestWarmScanIsPlanned(t *testing.T) {
	const n = 10_000
	l := newList(n, 1_735_689_600, 1_767_225_600)
	params := stripeapi.Params{{Key: "status", Value: "active"}, {Key: "limit", Value: "100"}}
	opts := Options{Split: true, Rate: 100, Latency: 100 * time.Millisecond, MaxConcurrency: 48}
	st := learn(t, l, params, opts)
	cold := len(l.requests)

	l.requests = nil
	// The first 15 requests are held until all 15 are sent, so that
	// none of them can be a second page: the scan sends them at once.
	all := make(chan struct{})
	var waiting atomic.Int32
	l.onFetch = func(k int) {
		// A round trip of a millisecond keeps the ranges' readers
		// abreast, as Stripe's latency does: an instant list lets one
		// race ahead and split the others.
		defer time.Sleep(time.Millisecond)
		if k > 15 {
			return
		}
		if waiting.Add(1) == 15 {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("the first 15 requests were not sent at once")
		}
	}
	opts.Stats = st
	if r, objs := Planned(params, opts); r != 15 || objs != n {
		t.Errorf("Planned = %d ranges, %d objects; want 15 (100/s × 100 ms × 1.5), %d", r, objs, n)
	}
	s := New(t.Context(), params, l.fetch, opts)
	seen := drain(t, s)
	if len(seen) != n {
		t.Errorf("read %d distinct objects, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s read %d times", id, k)
		}
	}
	if s.PlannedObjects() != n {
		t.Errorf("PlannedObjects %d, want %d", s.PlannedObjects(), n)
	}
	// The first 15 requests (sent at once, in any order) are the planned
	// ranges: no cursor, the caller's filter, and together (lo, hi] tiles
	// from open above to open below.
	if len(l.requests) < 15 {
		t.Fatalf("%d requests", len(l.requests))
	}
	type iv struct {
		lo, hi       int64
		hasLo, hasHi bool
	}
	var ivs []iv
	for _, r := range l.requests[:15] {
		q := queryOf(r)
		if _, ok := q.Get("starting_after"); ok {
			t.Fatalf("request %q among the first 15 continues a range: the scan did not start on its planned ranges", r)
		}
		if v, _ := q.Get("status"); v != "active" {
			t.Errorf("request %q lost the caller's filter", r)
		}
		gt, hasLo := q.Get("created[gt]")
		lte, hasHi := q.Get("created[lte]")
		lo, _ := strconv.ParseInt(gt, 10, 64)
		hi, _ := strconv.ParseInt(lte, 10, 64)
		ivs = append(ivs, iv{lo, hi, hasLo, hasHi})
	}
	slices.SortFunc(ivs, func(a, b iv) int {
		if !a.hasHi {
			return -1
		}
		if !b.hasHi {
			return 1
		}
		return int(b.hi - a.hi)
	})
	if ivs[0].hasHi || ivs[len(ivs)-1].hasLo {
		t.Errorf("planned ranges %v: want the newest open above and the oldest open below", ivs)
	}
	for i := 1; i < len(ivs); i++ {
		if !ivs[i].hasHi || ivs[i].hi != ivs[i-1].lo {
			t.Errorf("planned ranges %v: %d-th does not start where the one above ends", ivs, i)
		}
	}
	if got := len(l.requests); got > 105 {
		t.Errorf("warm scan: %d requests for 100 pages, want at most 105", got)
	}
	t.Logf("cold %d requests, warm %d requests, %d ranges", cold, len(l.requests), s.Ranges())
}

// A warm scan stays exact when objects were created and deleted since the
// statistics were learned, and while it runs: every object older than the
// scan and not deleted during it once, those created or deleted during it
// at most once.
func TestWarmScanExactAfterChanges(t *testing.T) {
	const n = 20_000
	now := int64(1_767_225_600)
	l := newList(n, now-365*86400, now)
	params := stripeapi.Params{{Key: "limit", Value: "100"}}
	opts := Options{Split: true, Rate: 100, Latency: 300 * time.Millisecond, MaxConcurrency: 48}
	st := learn(t, l, params, opts)

	// Since: a tenth deleted (every 10th), 3,000 created after the last
	// scan, 1,000 older than everything.
	kept := l.objs[:0]
	for i, o := range l.objs {
		if i%10 != 3 {
			kept = append(kept, o)
		}
	}
	l.objs = kept
	for i := range 3_000 {
		l.objs = append(l.objs, obj(fmt.Sprintf("since_%05d", i), now+1+int64(i)))
	}
	for i := range 1_000 {
		l.objs = append(l.objs, obj(fmt.Sprintf("old_%05d", i), now-400*86400-int64(i)))
	}
	l.sort()
	old := map[string]bool{}
	for _, o := range l.objs {
		old[o.ID()] = true
	}
	l.requests = nil
	var added atomic.Int64
	var mu sync.Mutex
	deleted := map[string]bool{}
	l.onFetch = func(k int) {
		l.insert(obj(fmt.Sprintf("new_%05d", k), now+10_000+int64(k)))
		added.Add(1)
		// And one older object deleted, spread over the list.
		id := l.remove((k * 7919) % (len(old) - 1))
		mu.Lock()
		deleted[id] = true
		mu.Unlock()
	}
	opts.Stats = st
	s := New(t.Context(), params, l.fetch, opts)
	seen := drain(t, s)
	if s.PlannedObjects() == 0 {
		t.Fatal("the warm scan was not planned from the statistics")
	}
	for id := range old {
		if !deleted[id] && seen[id] != 1 {
			t.Fatalf("object %s older than the scan read %d times, want once", id, seen[id])
		}
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("%s read %d times", id, k)
		}
	}
	if strings.Contains(l.requests[0], "starting_after") || !strings.Contains(l.requests[0], "created") {
		t.Errorf("first request %q is no planned range", l.requests[0])
	}
	t.Logf("%d objects before the scan once each but the %d deleted during it, %d created during it, %d requests", len(old)-len(deleted), len(deleted), added.Load(), len(l.requests))
}

// Statistics of the whole list plan a scan within the caller's bounds: the
// ranges stay inside them and the estimate counts only what lies there.
func TestWarmScanKeepsTheCallersBounds(t *testing.T) {
	l := newList(20_000, 1_735_689_600, 1_767_225_600)
	opts := Options{Split: true, Rate: 100, Latency: 100 * time.Millisecond, MaxConcurrency: 48}
	st := learn(t, l, stripeapi.Params{{Key: "limit", Value: "100"}}, opts)
	lo, hi := int64(1_740_000_000), int64(1_760_000_000)
	params := stripeapi.Params{{Key: "created[gte]", Value: strconv.FormatInt(lo, 10)}, {Key: "created[lt]", Value: strconv.FormatInt(hi, 10)}, {Key: "limit", Value: "100"}}
	want := 0
	for _, o := range l.objs {
		if c, _ := createdOf(o); c >= lo && c < hi {
			want++
		}
	}
	l.requests = nil
	l.onFetch = func(int) { time.Sleep(time.Millisecond) } // a round trip: readers abreast
	opts.Stats = st
	s := New(t.Context(), params, l.fetch, opts)
	seen := drain(t, s)
	if len(seen) != want {
		t.Errorf("read %d objects, want %d", len(seen), want)
	}
	if d := s.PlannedObjects() - want; d < -5 || d > 5 {
		t.Errorf("planned %d objects in the bounds, there are %d", s.PlannedObjects(), want)
	}
	for _, r := range l.requests {
		q := queryOf(r)
		gt, okGt := q.Get("created[gt]")
		lte, okLte := q.Get("created[lte]")
		g, _ := strconv.ParseInt(gt, 10, 64)
		h, _ := strconv.ParseInt(lte, 10, 64)
		if !okGt || !okLte || g < lo-1 || h > hi-1 {
			t.Errorf("request %q leaves the caller's bounds (%d, %d]", r, lo-1, hi-1)
		}
	}
	pages := (want + 99) / 100
	if float64(len(l.requests)) > 1.05*float64(pages) {
		t.Errorf("%d requests for %d pages", len(l.requests), pages)
	}
	t.Logf("%d objects in bounds, %d pages, %d requests", want, pages, len(l.requests))
}

// A small list's statistics change nothing: it is read as one cursor.
func TestSmallListStatsPlanNothing(t *testing.T) {
	l := newList(2_500, 1_735_689_600, 1_767_225_600)
	params := stripeapi.Params{{Key: "limit", Value: "100"}}
	opts := Options{Split: true, Rate: 100, Latency: 100 * time.Millisecond}
	st := learn(t, l, params, opts)
	opts.Stats = st
	if r, _ := Planned(params, opts); r != 0 {
		t.Errorf("a 25-page list planned %d ranges", r)
	}
	l.requests = nil
	s := New(t.Context(), params, l.fetch, opts)
	drain(t, s)
	if l.requests[0] != "limit=100" {
		t.Errorf("first request %q, want the plain first page", l.requests[0])
	}
}
