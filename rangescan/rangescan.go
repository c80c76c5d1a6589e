// Package rangescan reads one Stripe list as fast as the rate limit allows:
// a long list whose endpoint filters `created` is split into disjoint
// created ranges read concurrently, and any other long list is read one page
// ahead of its consumer.
//
// One cursor waits a round trip per page, so a scan of a large table runs at
// 1/latency pages per second however high the account's rate limit. Ranges
// of created, each with its own cursor, let several pages be in flight at
// once; the client's limiters still pace every request.
//
// A Scan starts as a plain cursor: its first pages are exactly the requests
// a sequential read sends, and a list that ends within them (every small
// table) is never split. A list splits once it outlasts Options.SeqPages
// pages, or right after its first page when that page, extrapolated, says
// the list is large (see looksLarge), and only if the rate and the latency
// observed so far make concurrency pay (rate × latency × 1.5 ≥ 2 calls in
// flight).
//
// Exactness: ranges are disjoint intervals (lo, hi] of created, sent as
// created[gt]=lo and created[lte]=hi within the caller's own bounds; within
// a range a cursor (starting_after) pages through objects in Stripe's order,
// so no object is read twice and none is skipped. Objects created during
// the scan are newer than every range but the first, whose cursor is past
// them: they appear at most once.
package rangescan

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stripesql/stripesql/stripeapi"
)

// Fetch sends one list request with params (limit and cursor included) and
// returns its page: the objects, newest first, and whether more follow.
type Fetch func(ctx context.Context, params stripeapi.Params) ([]stripeapi.Object, bool, error)

// Options tune a Scan. The zero value of a field takes the default noted.
type Options struct {
	// Split allows splitting the list into created ranges: its endpoint
	// filters created by range, and the caller does not need Stripe's
	// order. Without it a long list is only read one page ahead.
	Split bool
	// Rate is the requests/s the list may use (the lower of the account's
	// and the endpoint's limits); 0 or +Inf means unlimited.
	Rate float64
	// MaxConcurrency caps the pages in flight at once (32).
	MaxConcurrency int
	// SeqPages is how many pages are read on one cursor, with no read
	// ahead, before the scan may go concurrent (3). It keeps a small
	// table's requests exactly those of a sequential read.
	SeqPages int
	// MinStealPages is the fewest pages an idle reader leaves each half of
	// a range it splits (2): every range wastes up to its last, partial
	// page, so ranges must not get tiny; but the last ranges of a scan are
	// read a round trip a page while readers idle, so they must not stay
	// long either (at the very end of a scan that was not planned from
	// statistics, a range that lags the others splits into halves of one
	// page).
	MinStealPages int
	// PageSize is the list's page size (100). A smaller page means a LIMIT
	// chose it: the scan then never reads ahead.
	PageSize int
	// Long, if set, is called once, from Next, when the scan goes
	// concurrent: the list has proved long (so a LIMIT is unlikely to stop
	// it within a page or two), and reads that would follow it may start.
	Long func()
	// Stats, if set, are what the last complete scan of the same list
	// learned (see Stats). When they show the list, within the caller's
	// bounds, large (earlySplitPages pages or more), the scan splits at
	// its first Next into ranges cut at the remembered quantiles, with no
	// sequential first page.
	Stats *Stats
	// Latency is the endpoint's recent round trip, for a scan planned
	// from Stats (which sends no page alone to measure it); 0 takes the
	// latency the statistics remember.
	Latency time.Duration
	// Learned, if set, is called once, from Next, when a scan that may
	// split has read its list to the end with no error: with what it
	// learned, for the next scan of the list. A scan that stops early (a
	// LIMIT, Close, an error) learns nothing.
	Learned func(*Stats)
}

// outBuffer is how many read pages may wait for a slow consumer beyond
// those its readers hold. A page read waits in its reader until the
// consumer takes it, and that reader sends nothing meanwhile, so a slow
// consumer slows the scan either way; a buffer only evens out bursts.
// With one page buffered per reader (as before), a CPU-bound stream held
// twice the pages it needed: 38–43 MB above idle RSS in place of 49–60
// (stripesql bench --scenarios stream --stream-rows 200000, 3 runs each),
// at the same speed.
const outBuffer = 2

// DefaultSeqPages is Options.SeqPages' default.
const DefaultSeqPages = 3

// A list whose first page, at its density, would fill earlySplitPages
// pages over the year before its newest object (or down to the caller's
// lower bound, if nearer) splits after that page instead of after
// SeqPages: a round trip saved per page on every large table, 0.6 s at
// 300 ms. Guessing wrong costs the empty pages of the bands laid below a
// table that ends soon, a few requests; a table whose objects spread over
// months (as the demo's do) is read as one cursor as before.
const (
	earlySplitPages   = 30
	extrapolationSpan = 365 * 24 * 3600
)

func (o *Options) defaults() {
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = 32
	}
	if o.SeqPages <= 0 {
		o.SeqPages = DefaultSeqPages
	}
	if o.MinStealPages <= 0 {
		o.MinStealPages = 2
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
}

// Concurrency is the number of pages to keep in flight: rate × latency ×
// 1.5 (the margin covers latency jitter), at least 1, at most max.
func Concurrency(rate float64, latency time.Duration, max int) int {
	if rate <= 0 || math.IsInf(rate, 1) {
		return max
	}
	c := int(math.Ceil(rate * latency.Seconds() * 1.5))
	return min(max, c) // may be 0 at no latency: then nothing pays

}

// Scan streams the objects of one list. Next is not safe for concurrent
// use; the concurrency is inside.
type Scan struct {
	parent context.Context // the caller's: its end is the scan's error
	ctx    context.Context
	cancel context.CancelFunc
	fetch  Fetch
	opts   Options
	params stripeapi.Params // as the caller gave them, for the sequential pages
	bounds bounds           // the caller's created bounds

	// The sequential phase.
	page    []stripeapi.Object
	next    int
	last    bool
	cursor  string
	pages   int
	objects int
	top     int64 // created of the first object read
	bottom  int64 // created of the last object read
	waited  time.Duration
	datable bool // every object read so far carried a created, newest first
	samples sampler
	// planned is the number of objects the statistics put in the scan's
	// bounds, when its ranges were planned from them; 0 otherwise.
	planned int
	learnt  bool

	// The concurrent phase, once started.
	par *parallel
	cur stripeapi.Object
	err error
}

// New returns a Scan of the list fetch reads, with params (which must hold
// the limit; no cursor). Nothing is sent before the first Next.
func New(ctx context.Context, params stripeapi.Params, fetch Fetch, opts Options) *Scan {
	opts.defaults()
	s := &Scan{parent: ctx, fetch: fetch, opts: opts, params: params, datable: true}
	s.ctx, s.cancel = context.WithCancel(ctx)
	var ok bool
	if s.bounds, ok = boundsOf(params); !ok {
		s.opts.Split = false
	}
	return s
}

// Next advances to the next object; false at the end or on error (see Err).
func (s *Scan) Next() bool {
	s.cur = nil
	if s.err != nil {
		return false
	}
	if s.par == nil && s.pages == 0 && s.startPlanned() {
		return s.Next()
	}
	if s.par != nil {
		obj, err := s.par.next()
		if err != nil {
			s.fail(err)
			return false
		}
		s.cur = obj
		if obj == nil {
			s.learn()
		}
		return obj != nil
	}
	for s.next >= len(s.page) {
		if s.last {
			s.learn()
			return false
		}
		if (s.pages >= s.opts.SeqPages || s.looksLarge()) && s.opts.PageSize >= 100 {
			s.startParallel()
			return s.Next()
		}
		if err := s.fetchSequential(); err != nil {
			s.fail(err)
			return false
		}
	}
	s.cur = s.page[s.next]
	s.next++
	return true
}

// looksLarge reports that the pages read so far, extrapolated, make the list
// large enough to split now (see earlySplitPages), and that concurrency
// pays at the rate and latency seen.
func (s *Scan) looksLarge() bool {
	if !s.opts.Split || !s.datable || s.pages == 0 || s.objects == 0 {
		return false
	}
	floor := s.top - extrapolationSpan
	if s.bounds.hasLo && s.bounds.lo > floor {
		floor = s.bounds.lo
	}
	density := float64(s.objects) / float64(max(1, s.top-s.bottom))
	pages := density * float64(s.top-floor) / float64(s.opts.PageSize)
	return pages >= earlySplitPages && Concurrency(s.opts.Rate, s.latency(), s.opts.MaxConcurrency) >= 2
}

// latency is the mean wait of the sequential pages.
func (s *Scan) latency() time.Duration {
	return s.waited / time.Duration(max(s.pages, 1))
}

func (s *Scan) fail(err error) {
	if ctxErr := s.parent.Err(); ctxErr != nil {
		err = ctxErr
	}
	s.err = err
	s.cancel()
}

// Object is the current object.
func (s *Scan) Object() stripeapi.Object { return s.cur }

// Err is the error that ended the scan, nil at a normal end.
func (s *Scan) Err() error { return s.err }

// Pages is the number of pages received so far.
func (s *Scan) Pages() int {
	if s.par != nil {
		s.par.mu.Lock()
		defer s.par.mu.Unlock()
		return s.pages + s.par.pages
	}
	return s.pages
}

// Ranges is the number of created ranges the scan has read or is reading
// (1 until it splits).
func (s *Scan) Ranges() int {
	if s.par == nil {
		return 1
	}
	s.par.mu.Lock()
	defer s.par.mu.Unlock()
	return len(s.par.ranges)
}

// Close stops the scan's readers and waits for them to return: pages in
// flight are abandoned, and once Close returns no reader sends a request
// or calls fetch (whose callers count what it spends against a session).
// Next is not called after Close.
func (s *Scan) Close() {
	s.cancel()
	if s.par != nil {
		s.par.readers.Wait()
	}
}

func (s *Scan) fetchSequential() error {
	params := append(stripeapi.Params(nil), s.params...)
	if s.cursor != "" {
		params.Add("starting_after", s.cursor)
	}
	start := time.Now()
	objs, more, err := s.fetch(s.ctx, params)
	if err != nil {
		return err
	}
	s.waited += time.Since(start)
	s.pages++
	s.page, s.next = objs, 0
	s.last = !more || len(objs) == 0
	created := make([]int64, 0, len(objs))
	for i, o := range objs {
		c, ok := createdOf(o)
		if !ok || (s.objects > 0 || i > 0) && c > s.bottom {
			// No created, or not newest first as Stripe lists: ranges of
			// created could not be read exactly.
			s.datable = false
			continue
		}
		if s.objects == 0 && i == 0 {
			s.top = c
		}
		s.bottom = c
		created = append(created, c)
	}
	if s.datable {
		s.samples.add(created, s.objects)
	}
	s.objects += len(objs)
	if !s.last {
		if s.cursor = objs[len(objs)-1].ID(); s.cursor == "" {
			s.last = true // no cursor to continue from; Stripe's objects always have one
		}
	}
	return nil
}

// startParallel moves the scan to its concurrent phase, after the
// sequential pages: ranges when it may split, else one reader a page ahead.
func (s *Scan) startParallel() {
	c := Concurrency(s.opts.Rate, s.latency(), s.opts.MaxConcurrency)
	p := &parallel{scan: s, out: make(chan batch), workers: c}
	p.cond = sync.NewCond(&p.mu)
	first := &rng{cursor: s.cursor, params: s.params, t: s.bottom, top: s.top, n: s.objects, samples: s.samples}
	if s.opts.Split && s.datable && c >= 2 {
		p.split = true
		p.out = make(chan batch, outBuffer)
		first.bounds = s.bounds
		p.ranges = append(p.ranges, first)
		p.oldest = s.bottom
		p.bandsBelow(first, s.top, s.bottom)
	} else {
		p.workers = 1
		first.fixed = true // the caller's params and cursor, as a sequential read
		p.ranges = append(p.ranges, first)
	}
	s.par = p
	p.start()
	if s.opts.Long != nil {
		s.opts.Long()
	}
}

// bounds is a created interval (lo, hi]; a missing end is open.
type bounds struct {
	lo, hi       int64
	hasLo, hasHi bool
}

// boundsOf reads the caller's created filter from params. ok is false
// when the list cannot be split by created: an equality (a single second
// is no range), a cursor, or a value that is not an integer.
func boundsOf(params stripeapi.Params) (b bounds, ok bool) {
	for _, p := range params {
		if p.Key == "starting_after" || p.Key == "ending_before" {
			return b, false
		}
		op, isCreated := strings.CutPrefix(p.Key, "created")
		if !isCreated {
			continue
		}
		v, err := strconv.ParseInt(p.Value, 10, 64)
		if err != nil {
			return b, false
		}
		switch op {
		case "[gt]":
			b.lo, b.hasLo = maxIf(b.lo, v, b.hasLo), true
		case "[gte]":
			b.lo, b.hasLo = maxIf(b.lo, v-1, b.hasLo), true
		case "[lt]":
			b.hi, b.hasHi = minIf(b.hi, v-1, b.hasHi), true
		case "[lte]":
			b.hi, b.hasHi = minIf(b.hi, v, b.hasHi), true
		default:
			return b, false
		}
	}
	return b, true
}

func maxIf(old, v int64, has bool) int64 {
	if has {
		return max(old, v)
	}
	return v
}

func minIf(old, v int64, has bool) int64 {
	if has {
		return min(old, v)
	}
	return v
}

// rangeParams are the params of a range: the caller's without its created
// filter, then the range's bounds (which lie within the caller's).
func rangeParams(params stripeapi.Params, b bounds) stripeapi.Params {
	out := make(stripeapi.Params, 0, len(params)+3)
	for _, p := range params {
		if !strings.HasPrefix(p.Key, "created") {
			out = append(out, p)
		}
	}
	if b.hasLo {
		out.Add("created[gt]", strconv.FormatInt(b.lo, 10))
	}
	if b.hasHi {
		out.Add("created[lte]", strconv.FormatInt(b.hi, 10))
	}
	return out
}

func createdOf(o stripeapi.Object) (int64, bool) {
	switch v := o["created"].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// plannedRanges is the plan of a scan from its statistics (see
// Options.Stats): the ranges, and how many objects the statistics put in
// the caller's bounds; nil when the scan is to start as a plain cursor.
func plannedRanges(b bounds, opts Options) ([]*rng, int) {
	st := opts.Stats
	if st == nil || !opts.Split || opts.PageSize < 100 {
		return nil, 0
	}
	n, ok := st.estimate(b)
	if !ok || n < earlySplitPages*opts.PageSize {
		return nil, 0 // small, or unknown here: read as without statistics
	}
	lat := opts.Latency
	if lat == 0 {
		lat = st.Latency
	}
	c := Concurrency(opts.Rate, lat, opts.MaxConcurrency)
	if c < 2 {
		return nil, 0
	}
	return st.plan(b, c, opts.PageSize), n
}

// Planned reports how a scan of params with opts would start: with how
// many concurrent ranges planned from opts.Stats, and how many objects
// the statistics put in its bounds; 0, 0 when it would start as a plain
// cursor. EXPLAIN shows it.
func Planned(params stripeapi.Params, opts Options) (ranges, objects int) {
	opts.defaults()
	b, ok := boundsOf(params)
	if !ok {
		return 0, 0
	}
	rs, n := plannedRanges(b, opts)
	if rs == nil {
		return 0, 0
	}
	return len(rs), n
}

// startPlanned starts the concurrent phase at once, on ranges planned from
// the statistics, if they apply; false leaves the scan a plain cursor.
func (s *Scan) startPlanned() bool {
	rs, n := plannedRanges(s.bounds, s.opts)
	if rs == nil {
		return false
	}
	lat := s.opts.Latency
	if lat == 0 {
		lat = s.opts.Stats.Latency
	}
	c := Concurrency(s.opts.Rate, lat, s.opts.MaxConcurrency)
	p := &parallel{scan: s, split: true, out: make(chan batch, outBuffer), workers: c, ranges: rs}
	p.cond = sync.NewCond(&p.mu)
	p.pending = append(p.pending, rs[1:]...)
	s.planned = n
	s.par = p
	p.start()
	if s.opts.Long != nil {
		s.opts.Long()
	}
	return true
}

// PlannedObjects is how many objects the statistics put in the scan's
// bounds when its ranges were planned from them, 0 otherwise.
func (s *Scan) PlannedObjects() int { return s.planned }

// learn hands what a complete scan learned to Options.Learned, once.
func (s *Scan) learn() {
	if s.learnt || s.opts.Learned == nil || !s.opts.Split || !s.datable || s.err != nil {
		return
	}
	s.learnt = true
	lat := s.latency()
	if s.pages == 0 {
		lat = s.opts.Latency
		if lat == 0 && s.opts.Stats != nil {
			lat = s.opts.Stats.Latency
		}
	}
	if s.par == nil {
		first := &rng{n: s.objects, samples: s.samples}
		s.opts.Learned(learned(s.bounds, []*rng{first}, lat))
		return
	}
	// A scan that read ahead on one cursor (no latency to hide) learns
	// as well as one that split: its one range is the whole list.
	s.par.mu.Lock()
	st := learned(s.bounds, s.par.ranges, lat)
	s.par.mu.Unlock()
	s.opts.Learned(st)
}
