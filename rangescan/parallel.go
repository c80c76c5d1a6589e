package rangescan

import (
	"context"
	"math"
	"strconv"
	"sync"

	"github.com/stripesql/stripesql/stripeapi"
)

// maxBands is how many ever wider created bands the scan lays below its
// sequential pages at most, the last open-ended. Each band is four times
// as wide as the one above, so 6 bands reach 4^6 = 4096 times as far back
// as the sequential pages did; a band past the oldest object costs an
// empty page. Fewer bands than that leave one open-ended range holding
// most of a large list, which idle readers can only split slowly.
const maxBands = 6

// stripeEpoch (2010-01-01) is older than any Stripe object: a band that
// would reach past it is the open-ended last range instead, which saves an
// empty page over bands of years before Stripe existed. The open-ended
// range still reads whatever is older, so exactness does not rest on it.
const stripeEpoch = 1262304000

// rng is one created range (lo, hi] of a scan and its cursor.
type rng struct {
	bounds bounds
	// fixed ranges send the caller's params as given: the one range of a
	// scan that reads ahead without splitting.
	fixed  bool
	params stripeapi.Params
	cursor string
	top    int64 // created of the range's first object read
	t      int64 // created of the range's last object read
	n      int   // objects read
	// inherited is the density of the range this one was split off, at
	// the split: what a range that has read nothing yet may be split by.
	inherited float64
	// samples are the range's points for the statistics it leaves.
	samples sampler
	busy    bool // a reader owns it
	done    bool
}

// density is the range's objects per second of created, as read so far,
// or, before its first page, the density it inherited from the range it
// was split off (0 if none: see steal).
func (r *rng) density() float64 {
	if r.n == 0 {
		return r.inherited
	}
	return float64(r.n) / float64(r.top-r.t+1)
}

// batch is one page's objects for the consumer, or the error that ends the
// scan.
type batch struct {
	objs []stripeapi.Object
	err  error
}

// parallel is the concurrent phase of a Scan: readers (goroutines) take
// ranges, read them page by page and hand each page to the consumer. An
// idle reader takes a range nobody reads yet or, when there is none,
// splits the range with the most left to read (it keeps the older half).
type parallel struct {
	scan    *Scan
	split   bool
	workers int

	readers sync.WaitGroup // the goroutines reading ranges

	mu      sync.Mutex
	cond    *sync.Cond
	ranges  []*rng // every range, for Ranges and stealing
	pending []*rng // ranges nobody reads yet
	pages   int    // pages received in this phase
	// oldest is the created of the oldest object read so far by any
	// range (0 before the first): objects are known to reach down to it.
	oldest int64

	out chan batch
	buf []stripeapi.Object
	i   int
}

// bandsBelow lays ranges below the first range's sequential pages: the
// first range keeps as much again as it has read (a span D of created),
// and bands of 4D, 16D, … follow, down to the caller's lower bound or, past
// maxBands, one open-ended range. The widths grow because how far back the
// data goes is unknown: a band past the oldest object costs one empty page,
// and there are at most a few of those, while the bands that hold data are
// split further by idle readers once their first page shows how dense they
// are.
func (p *parallel) bandsBelow(first *rng, top, bottom int64) {
	bands := maxBands
	d := max(1, top-bottom)
	density := float64(first.n) / float64(d)
	lo := first.bounds
	m := bottom - d
	if lo.hasLo && m <= lo.lo {
		return // the caller's lower bound is near: nothing worth a band
	}
	first.bounds.lo, first.bounds.hasLo = m, true
	prev, w := m, d
	for i := 1; ; i++ {
		w *= 4
		low := prev - w
		band := &rng{bounds: bounds{hi: prev, hasHi: true}}
		switch {
		case lo.hasLo && (low <= lo.lo || i == bands):
			band.bounds.lo, band.bounds.hasLo = lo.lo, true
		case !lo.hasLo && (i == bands || low <= stripeEpoch):
			// open-ended: whatever is older
		default:
			band.bounds.lo, band.bounds.hasLo = low, true
		}
		p.layBand(band, density, top-extrapolationSpan)
		if !band.bounds.hasLo || lo.hasLo && band.bounds.lo == lo.lo {
			return
		}
		prev = low
	}
}

// piecesPerBand is how many equal ranges a band is laid as at most, each
// of at least minPiecePages pages by the first pages' density. One range
// a band puts 7 pages in flight at a cold scan's second round trip, where
// 45 would fill the rate at 300 ms; cut in pieces, the bands below a
// large list fill more of it (the bench's cold 300 ms COUNT(*): 11.02-11.05 s
// against 11.14-11.19 s). Only the part of a band within the year
// before the newest object is cut, the span by which the first page
// judged the list large (see looksLarge): older, a band is as likely to
// lie past the oldest object, where each piece would cost an empty page.
const piecesPerBand = 4

// minPiecePages is the fewest pages a band's piece holds by the first
// pages' density. Older objects are often sparser than the newest (a
// growing account): the bench's invoices, pieces of 2 pages by the first
// page returned 0.6 pages each, a request for a fraction of a page.
const minPiecePages = 4

// layBand adds band to the ranges to read: its part newer than floor cut
// in up to piecesPerBand pieces of at least minPiecePages by density, the
// rest one range.
func (p *parallel) layBand(band *rng, density float64, floor int64) {
	hi := band.bounds.hi
	if band.bounds.hasLo && floor < hi {
		cut := max(floor, band.bounds.lo)
		pages := density * float64(hi-cut) / float64(p.scan.opts.PageSize)
		k := max(1, min(piecesPerBand, int(pages/minPiecePages)))
		w := (hi - cut) / int64(k)
		for i := range k {
			lo := hi - w
			if i == k-1 {
				lo = cut
			}
			p.addPending(&rng{bounds: bounds{lo: lo, hasLo: true, hi: hi, hasHi: true}, inherited: density})
			hi = lo
		}
		if hi == band.bounds.lo {
			return
		}
	}
	band.bounds.hi = hi
	band.inherited = density
	p.addPending(band)
}

func (p *parallel) addPending(r *rng) {
	p.ranges = append(p.ranges, r)
	p.pending = append(p.pending, r)
}

func (p *parallel) start() {
	ctx := p.scan.ctx
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	first := p.ranges[0]
	first.busy = true
	for i := range p.workers {
		var initial *rng
		if i == 0 {
			initial = first
		}
		p.readers.Add(1)
		go func() {
			defer p.readers.Done()
			p.work(initial)
		}()
	}
	go func() {
		p.readers.Wait()
		close(p.out)
	}()
}

func (p *parallel) work(r *rng) {
	for {
		if r == nil {
			if r = p.take(); r == nil {
				return
			}
		}
		if err := p.read(r); err != nil {
			select {
			case p.out <- batch{err: err}:
			case <-p.scan.ctx.Done():
			}
			p.scan.cancel()
			return
		}
		r = nil
	}
}

// take returns a range to read, waiting while every range is being read
// and none can be split yet; nil once all are read or the scan ends.
func (p *parallel) take() *rng {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.scan.ctx.Err() != nil {
			return nil
		}
		if len(p.pending) > 0 {
			r := p.pending[0]
			p.pending = p.pending[1:]
			r.busy = true
			return r
		}
		if p.split {
			if r := p.steal(); r != nil {
				r.busy = true
				return r
			}
		}
		all := true
		for _, r := range p.ranges {
			if !r.done {
				all = false
				break
			}
		}
		if all {
			p.cond.Broadcast()
			return nil
		}
		p.cond.Wait()
	}
}

// steal splits the range with the most pages left, by its density so far,
// if each half keeps at least MinStealPages (or, at the end of a cold scan,
// a range that lags the others: see below): the reader keeps the newer
// part (its cursor stays valid), half its pages left rounded down to whole
// pages, and the older part becomes a new range. The caller holds p.mu.
//
// A range that has read nothing yet (its first page in flight) is split by
// the density it inherited, but only when objects are known to lie at or
// below its lower bound, so that it sits within the data. A range split
// off a band below the first pages may reach past the oldest object, and
// splitting that empty past by the density of newer objects would carve
// it into ranges that each cost an empty page (149 requests for 100 pages
// of invoices, whose year of data the bands overshoot); a range between
// objects read above and below it holds data like its neighbours, and
// splitting it at once, rather than a round trip later when its first
// page is in, brings a cold scan to full concurrency sooner.
func (p *parallel) steal() *rng {
	var best *rng
	var bestUpper int64
	var bestPages, sum float64
	count, open := 0, false
	for _, r := range p.ranges {
		if !r.done && !r.bounds.hasLo {
			open = true
		}
		if !r.busy || r.done || r.fixed || !r.bounds.hasLo {
			continue
		}
		upper := r.t
		if r.n == 0 {
			if r.inherited == 0 || !r.bounds.hasHi || p.oldest == 0 || r.bounds.lo < p.oldest {
				continue // no density yet, or maybe past the oldest object
			}
			upper = r.bounds.hi
		}
		// Pages left, as requests: a range 3.95 pages long takes 4.
		left := math.Ceil(r.density()*float64(upper-r.bounds.lo)/float64(p.scan.opts.PageSize) - 0.01)
		if r.n == 0 && left < float64(4*p.scan.opts.MinStealPages) {
			// An estimate that may be off by its inheritance: only worth
			// acting on for a long range. Splitting short ones too cut a
			// 60-page table read by 32 idle readers into 30-37 ranges (69-73
			// requests; 64-65 in 10 ranges without inherited splits).
			continue
		}
		sum += left
		count++
		if left > bestPages {
			best, bestUpper, bestPages = r, upper, left
		}
	}
	minKeep := float64(p.scan.opts.MinStealPages)
	if best != nil && bestPages < 2*minKeep {
		// Too short to split into halves of MinStealPages, unless it lags
		// at the end: near the end of a cold scan, whose ranges were split
		// unevenly, readers idle while a few ranges read their last pages
		// a round trip each. Splitting a range with more pages left than
		// the others (by half a page on average) ends it sooner. Before
		// the end (an open-ended range still unread, more pages left than
		// two a reader, or than half those read: a table of 60 pages read
		// by 32 readers at no latency is never past the first) it would
		// only add a partial page: the 1,000,000-row stream sent 10,832
		// requests for 10,000 pages with such splits all along. The ranges of a scan planned from
		// statistics are even: splitting one of them would not end the
		// scan sooner either (10.58 s against 10.33 s for the warm 300 ms
		// COUNT(*) of the bench).
		end := !open && sum <= float64(2*p.workers) && float64(p.pages) >= 2*sum
		if p.scan.planned > 0 || !end || bestPages < 2 || bestPages < sum/float64(count)+0.5 {
			best = nil
		}
		minKeep = 1
	}
	if best == nil {
		return p.stealOpen()
	}
	lo := best.bounds.lo
	m := lo + (bestUpper-lo)/2
	// The reader keeps whole pages: the objects its density puts between
	// the cut and its cursor fill half its pages left, a few objects under,
	// so that its range ends on a nearly full page rather than a partial
	// one (each range's last page is partial, a request for a fraction of
	// a page).
	size := float64(p.scan.opts.PageSize)
	d := best.density()
	if keep := math.Floor(bestPages / 2); keep >= minKeep {
		if d > 0 {
			if c := bestUpper - int64((keep*size-pageSlack)/d); c > lo && c < bestUpper {
				m = c
			}
		}
	}
	if m <= lo || m >= bestUpper {
		return nil
	}
	best.bounds.lo = m
	r := &rng{bounds: bounds{lo: lo, hasLo: true, hi: m, hasHi: true}, inherited: d}
	p.ranges = append(p.ranges, r)
	return r
}

// stealOpen splits an open-ended range (how far back it goes is unknown)
// that has read MinStealPages pages: its reader keeps as much again as it
// has read, and the new range takes everything older, open-ended in turn.
// The doubling keeps the empty pages of ranges past the oldest object few.
// The caller holds p.mu.
func (p *parallel) stealOpen() *rng {
	for _, r := range p.ranges {
		if !r.busy || r.done || r.fixed || r.bounds.hasLo || r.n < p.scan.opts.MinStealPages*p.scan.opts.PageSize {
			continue
		}
		m := r.t - max(1, r.top-r.t)
		if m >= r.t {
			continue
		}
		r.bounds.lo, r.bounds.hasLo = m, true
		n := &rng{bounds: bounds{hi: m, hasHi: true}}
		p.ranges = append(p.ranges, n)
		return n
	}
	return nil
}

// read reads r to its end, handing each page to the consumer.
func (p *parallel) read(r *rng) error {
	ctx := p.scan.ctx
	for {
		p.mu.Lock()
		params := p.paramsOf(r)
		p.mu.Unlock()
		objs, more, err := p.scan.fetch(ctx, params)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.pages++
		keep := objs
		end := !more || len(objs) == 0
		if !r.fixed && r.bounds.hasLo {
			// A reader that split this range while the page was in
			// flight raised lo: what lies at or below it is the new
			// range's, and, the page being newest first, so is
			// everything after.
			for i, o := range objs {
				if c, ok := createdOf(o); ok && c <= r.bounds.lo {
					keep, end = objs[:i], true
					break
				}
			}
		}
		created := make([]int64, 0, len(keep))
		for _, o := range keep {
			if c, ok := createdOf(o); ok {
				if r.n == 0 {
					r.top = c
				}
				r.t = c
				created = append(created, c)
				if p.oldest == 0 || c < p.oldest {
					p.oldest = c
				}
			}
			r.n++
		}
		r.samples.add(created, r.n-len(keep))
		if !end {
			if r.cursor = objs[len(objs)-1].ID(); r.cursor == "" {
				end = true
			}
		}
		r.done = end
		p.cond.Broadcast()
		p.mu.Unlock()
		if len(keep) > 0 {
			select {
			case p.out <- batch{objs: keep}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if end {
			return nil
		}
	}
}

// paramsOf is the request for r's next page. The caller holds p.mu.
func (p *parallel) paramsOf(r *rng) stripeapi.Params {
	var params stripeapi.Params
	if r.fixed {
		params = append(params, r.params...)
	} else {
		params = rangeParams(p.scan.params, r.bounds)
	}
	if r.cursor != "" {
		params.Add("starting_after", r.cursor)
	}
	return params
}

// next returns the next object, nil at the end.
func (p *parallel) next() (stripeapi.Object, error) {
	for p.i >= len(p.buf) {
		b, ok := <-p.out
		if !ok {
			if err := p.scan.ctx.Err(); err != nil {
				return nil, err
			}
			return nil, nil
		}
		if b.err != nil {
			return nil, b.err
		}
		p.buf, p.i = b.objs, 0
	}
	p.i++
	return p.buf[p.i-1], nil
}

// String describes the ranges for logs and tests: (lo, hi] each.
func (r *rng) String() string {
	lo, hi := "-inf", "+inf"
	if r.bounds.hasLo {
		lo = strconv.FormatInt(r.bounds.lo, 10)
	}
	if r.bounds.hasHi {
		hi = strconv.FormatInt(r.bounds.hi, 10)
	}
	return "(" + lo + ", " + hi + "]"
}
