package rangescan

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Stats is what a complete scan of a list learned about it, kept by the
// caller (per list: path and the filters that are not created bounds) and
// handed to the next scan of the same list, like a database's table
// statistics: how many objects the list held and how they spread over
// created, so that the next scan can cut the list into ranges of chosen
// counts at once, with no sequential first page and no guessing how far
// back the data goes.
//
// Statistics only plan: the planned ranges still cover the whole interval
// the caller asked for (the newest open above, the oldest open below), so
// objects created or deleted since only move the counts.
type Stats struct {
	// bounds are the created bounds of the scan that learned them: the
	// points describe the list within them only.
	bounds bounds
	// Count is the number of objects the scan read.
	Count int
	// points sample the distribution, newest first: the created of an
	// object and its rank (1-based, newest first) within the list. Ranges
	// are disjoint, so the ranks are exact.
	points []point
	// Latency is the mean round trip of the scan's pages (its sequential
	// ones), 0 when it read none alone.
	Latency time.Duration
}

type point struct {
	created int64
	rank    int
}

// maxStatsPoints caps a Stats' samples (16 bytes each): 4 per page up to
// 512 pages, fewer (evenly thinned) beyond. Interpolating between points
// a few dozen objects apart misplaces a cut by a few objects.
const maxStatsPoints = 2048

// sampleEvery is how often a scan samples an object's created (besides
// the last of each page): every 25th.
const sampleEvery = 25

// String describes the statistics for logs and EXPLAIN.
func (st *Stats) String() string {
	if st == nil {
		return "none"
	}
	return fmt.Sprintf("%d objects, %d points", st.Count, len(st.points))
}

// Covers reports that st describes at least the created interval other
// does: a caller keeping one Stats per list replaces it with a newer one
// that covers it, and keeps a wider one over a narrower.
func (st *Stats) Covers(other *Stats) bool {
	return other == nil || st.bounds.covers(other.bounds)
}

func (b bounds) covers(o bounds) bool {
	loOK := !b.hasLo || o.hasLo && o.lo >= b.lo
	hiOK := !b.hasHi || o.hasHi && o.hi <= b.hi
	return loOK && hiOK
}

// estimate is how many objects of the list lie in the created bounds b,
// by the statistics; ok is false when they do not apply (they describe a
// narrower interval).
func (st *Stats) estimate(b bounds) (int, bool) {
	if st == nil || !st.bounds.covers(b) {
		return 0, false
	}
	above := 0
	if b.hasHi {
		above = st.newerThan(b.hi)
	}
	total := st.Count
	if b.hasLo {
		total = st.newerThan(b.lo)
	}
	return max(0, total-above), true
}

// newerThan estimates how many objects have created > x: exact at the
// points (ties aside), linear between them.
func (st *Stats) newerThan(x int64) int {
	ps := st.points
	// The first point older than or at x.
	i := sort.Search(len(ps), func(i int) bool { return ps[i].created <= x })
	if i == 0 {
		return 0 // x is at or above the newest object
	}
	if i == len(ps) {
		return st.Count
	}
	a, b := ps[i-1], ps[i] // a.created > x >= b.created
	// Objects a.rank … b.rank-1 lie in (b.created, a.created]; those above
	// x, by a uniform spread between the points:
	span := float64(a.created - b.created)
	return a.rank + int(float64(b.rank-1-a.rank)*float64(a.created-x)/span)
}

// cutAt is the created x such that about k objects have created > x: a
// range (x, …] holds the k newest.
func (st *Stats) cutAt(k int) int64 {
	ps := st.points
	i := sort.Search(len(ps), func(i int) bool { return ps[i].rank >= k })
	if i == len(ps) {
		return ps[len(ps)-1].created - 1
	}
	if ps[i].rank == k || i == 0 {
		return ps[i].created - 1
	}
	a, b := ps[i-1], ps[i] // a.rank < k < b.rank
	c := float64(a.created) - float64(a.created-b.created)*float64(k-a.rank)/float64(b.rank-a.rank)
	return int64(c) - 1
}

// sampler collects one range's points while it is read: ranks relative
// to the range.
type sampler struct {
	points []point
}

// add samples the objects of a page just read: created holds their
// created times, newest first; before is the range's count before them.
func (sm *sampler) add(created []int64, before int) {
	for i, c := range created {
		rank := before + i + 1
		if rank%sampleEvery == 0 || i == len(created)-1 || rank == 1 {
			sm.points = append(sm.points, point{c, rank})
		}
	}
}

// learned builds the Stats of a complete scan from its ranges' samples:
// the ranges are disjoint, so sorting them newest first and adding up
// their counts makes every rank exact within the list.
func learned(b bounds, ranges []*rng, latency time.Duration) *Stats {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(x, y *rng) int {
		switch {
		case !x.bounds.hasHi && !y.bounds.hasHi:
			return 0
		case !x.bounds.hasHi:
			return -1
		case !y.bounds.hasHi:
			return 1
		case x.bounds.hi > y.bounds.hi:
			return -1
		case x.bounds.hi < y.bounds.hi:
			return 1
		}
		return 0
	})
	st := &Stats{bounds: b, Latency: latency}
	for _, r := range rs {
		for _, p := range r.samples.points {
			st.points = append(st.points, point{p.created, st.Count + p.rank})
		}
		st.Count += r.n
	}
	st.points = thin(st.points, maxStatsPoints)
	return st
}

// thin keeps at most n points, evenly spread, always the first and last.
func thin(ps []point, n int) []point {
	if len(ps) <= n {
		return slices.Clip(ps)
	}
	out := make([]point, 0, n)
	step := float64(len(ps)-1) / float64(n-1)
	for i := range n {
		out = append(out, ps[int(float64(i)*step+0.5)])
	}
	return out
}

// plan cuts the caller's interval b into about ranges ranges of whole
// pages each, by the statistics: newest first, the first open above (or
// at the caller's upper bound), the last open below (or at the caller's
// lower bound). Each range but the last is aimed a little under a whole
// number of pages (pageSlack objects), so that it ends on a nearly full
// page rather than one of a few objects; the last takes the rest. nil
// when the statistics do not make at least two ranges.
func (st *Stats) plan(b bounds, ranges, pageSize int) []*rng {
	total, ok := st.estimate(b)
	if !ok || ranges < 2 {
		return nil
	}
	// Room for every range's slack: at most one page more than the
	// objects fill.
	pages := (total + pageSlack*ranges + pageSize - 1) / pageSize
	ranges = min(ranges, pages)
	if ranges < 2 {
		return nil
	}
	base := 0
	if b.hasHi {
		base = st.newerThan(b.hi)
	}
	var out []*rng
	upper, hasUpper := b.hi, b.hasHi
	taken, pagesTaken := 0, 0
	for i := range ranges - 1 {
		// An even share of the pages left.
		q := max(1, (pages-pagesTaken)/(ranges-i))
		k := q*pageSize - pageSlack
		cut := st.cutAt(base + taken + k)
		if b.hasLo && cut <= b.lo || hasUpper && cut >= upper {
			break // the statistics run out (or are too coarse) here
		}
		out = append(out, &rng{bounds: bounds{lo: cut, hasLo: true, hi: upper, hasHi: hasUpper}})
		upper, hasUpper = cut, true
		taken += k
		pagesTaken += q
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, &rng{bounds: bounds{lo: b.lo, hasLo: b.hasLo, hi: upper, hasHi: true}})
}

// pageSlack is how many objects under a whole number of pages a planned
// range is aimed at: interpolation between points misplaces a cut by a
// few objects, and a range a few objects over its pages costs a page.
const pageSlack = 5
