package tables

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/rangescan"
	"github.com/stripesql/stripesql/stripeapi"
)

// pageSize is the list page size: Stripe's maximum, so a scan takes as
// few calls as Stripe allows.
const pageSize = "100"

// partition is one Stripe call of a plan. For a nested table read without
// its parent key, parent holds the plan that yields the parent ids the
// call's path is filled with.
type partition struct {
	call   pushdown.Call
	parent *pushdown.Plan
	fill   string // the parent placeholder in call.Path
	// seen is shared by the partitions of a union plan, so an object two
	// branches find is returned once; nil when calls cannot overlap.
	seen *seenIDs
	// merge, when set, makes this the one partition of a plan whose
	// streams are merged newest first.
	merge *pushdown.Plan
	// union, when set, makes this the one partition of a union plan
	// whose lists are read concurrently.
	union *pushdown.Plan
	// scan, when set, makes this the one partition of a plan of one list
	// and the reads it adds for test clocks (see listThenAlso).
	scan *pushdown.Plan
	// match, when set, keeps only the objects a lookup by join keys asks
	// for (see keyMatch).
	match *keyMatch
	// objs are the partition's objects when read is set: they were read
	// already (a lookup answered from a table read once).
	objs []stripeapi.Object
	read bool
	// mirror, when set, is the store query of a routed read (mirror_read.go).
	mirror *mirrorQuery
}

// seenIDs is the set of object ids a union has returned.
type seenIDs struct {
	mu  sync.Mutex
	ids map[string]bool
}

// first reports whether id is new, and remembers it.
func (s *seenIDs) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[id] {
		return false
	}
	s.ids[id] = true
	return true
}

func (p *partition) Key() []byte {
	if p.merge != nil {
		return []byte(p.merge.String())
	}
	if p.union != nil {
		return []byte(p.union.String())
	}
	if p.scan != nil {
		return []byte(p.scan.String())
	}
	return []byte(p.call.String())
}

// partitions starts a table access: the query's call count starts (for
// SHOW STATUS), and a plan whose calls alone exceed the session's budget
// is refused before any is sent.
func (d *Database) partitions(ctx *sql.Context, plan pushdown.Plan) (sql.PartitionIter, error) {
	d.ledger.begin(ctx)
	d.cache.begin(ctx)
	if routed, err := d.routed(ctx, plan.Table); err != nil || routed {
		if err != nil {
			return nil, err
		}
		return mirrorPartitions(plan), nil
	}
	if err := d.ledger.checkPlan(ctx, plan.Table.Name, plan); err != nil {
		return nil, err
	}
	d.prefetch(ctx, plan.Table.Name, plan)
	return partitionsOf(plan), nil
}

func partitionsOf(plan pushdown.Plan) sql.PartitionIter {
	if plan.Empty {
		return sql.PartitionsToPartitionIter()
	}
	var seen *seenIDs
	if plan.Dedupe {
		seen = &seenIDs{ids: map[string]bool{}}
	}
	if plan.Merge {
		return sql.PartitionsToPartitionIter(&partition{merge: &plan, seen: seen})
	}
	if listCalls(plan) > 1 && plan.Parent == nil && fullPages(plan) {
		// The branches of an OR (an IN list) are read at once, with the
		// reads the plan adds for test clocks (see concurrentLists).
		// Retrieves are sent at once by prefetch already, and keep their
		// order (an UPDATE … WHERE Id IN (…) writes in the list's order). A
		// LIMIT that shrank the pages reads them one after another, so
		// that it stops at the branch that completes it; a LIMIT over a
		// condition left to the engine may find its rows in the first
		// branch and still have had a page of each.
		return sql.PartitionsToPartitionIter(&partition{union: &plan, seen: seen})
	}
	if len(plan.Calls) == 1 && plan.Calls[0].Kind == pushdown.List && plan.Parent == nil && len(plan.Also) > 0 && fullPages(plan) {
		return sql.PartitionsToPartitionIter(&partition{scan: &plan, seen: seen})
	}
	return sql.PartitionsToPartitionIter(partitionList(plan, seen)...)
}

// listCalls counts the list and search calls of a plan.
func listCalls(plan pushdown.Plan) int {
	n := 0
	for _, c := range plan.Calls {
		if c.Kind != pushdown.Retrieve {
			n++
		}
	}
	return n
}

// partitionList makes one partition per call of the plan and of the plans
// it adds (test-clock scans).
func partitionList(plan pushdown.Plan, seen *seenIDs) []sql.Partition {
	if plan.Empty {
		return nil
	}
	parts := make([]sql.Partition, 0, len(plan.Calls))
	for _, c := range plan.Calls {
		p := &partition{call: c, seen: seen}
		if plan.Parent != nil {
			p.parent = plan.Parent
			p.fill = plan.Placeholder
		}
		parts = append(parts, p)
	}
	for _, also := range plan.Also {
		parts = append(parts, partitionList(also, seen)...)
	}
	return parts
}

// streams returns one newest-first stream per list of the plan: each call,
// each call of a fan-out once per parent (the parents are read first),
// and those of the plans it adds.
func (d *Database) streams(ctx *sql.Context, plan pushdown.Plan) ([]objects, error) {
	if plan.Empty {
		return nil, nil
	}
	var out []objects
	if plan.Parent != nil {
		parents := d.planObjects(ctx, *plan.Parent)
		for {
			parent, err := parents.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if id := parent.ID(); id != "" {
				for _, c := range plan.Calls {
					c = c.ForParent(plan.Placeholder, id)
					out = append(out, withParent(plan.Table, c, d.listCall(ctx, plan.Table.Name, c, true, nil)))
				}
			}
		}
	} else {
		for _, c := range plan.Calls {
			out = append(out, withParent(plan.Table, c, d.listCall(ctx, plan.Table.Name, c, true, nil)))
		}
	}
	for _, also := range plan.Also {
		more, err := d.streams(ctx, also)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// merged yields the objects of several newest-first streams newest first
// (by created; ties go to the earlier stream), reading each stream only as
// far as the merge needs.
type merged struct {
	streams []objects
	heads   []stripeapi.Object
	started bool
	// taken is the stream whose head the last next returned. It is moved
	// on only when another object is asked for, so a LIMIT that is
	// satisfied never fetches the page after.
	taken int
}

func newMerged(streams []objects) *merged {
	return &merged{streams: streams, heads: make([]stripeapi.Object, len(streams)), taken: -1}
}

func (m *merged) next() (stripeapi.Object, error) {
	if !m.started {
		m.started = true
		for i := range m.streams {
			if err := m.advance(i); err != nil {
				return nil, err
			}
		}
	}
	if m.taken >= 0 {
		if err := m.advance(m.taken); err != nil {
			return nil, err
		}
		m.taken = -1
	}
	best := -1
	for i, h := range m.heads {
		if h != nil && (best == -1 || createdOf(h) > createdOf(m.heads[best])) {
			best = i
		}
	}
	if best == -1 {
		return nil, io.EOF
	}
	m.taken = best
	return m.heads[best], nil
}

func (m *merged) close() {
	for _, st := range m.streams {
		st.close()
	}
}

func (m *merged) advance(i int) error {
	obj, err := m.streams[i].next()
	if err == io.EOF {
		m.heads[i] = nil
		return nil
	}
	m.heads[i] = obj
	return err
}

func createdOf(obj stripeapi.Object) int64 {
	n, _ := obj["created"].(json.Number)
	v, _ := n.Int64()
	return v
}

// objects yields Stripe objects one at a time; io.EOF ends it.
type objects interface {
	next() (stripeapi.Object, error)
	// close stops what reads on behind the objects (the lists of a
	// concurrent read, a range scan's readers) and waits for it: once it
	// returns, none of it sends a request or spends against the session.
	// next is not called after close; close may be called twice.
	close()
}

// rows returns the rows of one partition.
func (d *Database) rows(ctx *sql.Context, def *catalog.Table, build *rowBuilder, p *partition) (sql.RowIter, error) {
	if p.mirror != nil {
		return d.mirrorRows(ctx, def, build, p)
	}
	var src objects
	if p.read {
		src = &sliceObjects{objs: p.objs}
	} else if p.merge != nil {
		streams, err := d.streams(ctx, *p.merge)
		if err != nil {
			return nil, err
		}
		src = newMerged(streams)
	} else if p.union != nil {
		src = d.planObjects(ctx, *p.union)
	} else if p.scan != nil {
		src = d.listThenAlso(ctx, *p.scan, build.scanPaths())
	} else if p.parent != nil {
		src = d.fanOut(ctx, *p.parent, p.call, p.fill, def)
	} else if p.match == nil {
		// The rows read only the builder's paths; a keyMatch reads its
		// column, so a lookup decodes whole objects.
		src = withParent(def, p.call, d.listCallFields(ctx, def.Name, p.call, false, nil, build.scanPaths()))
	} else {
		src = withParent(def, p.call, d.callObjects(ctx, def.Name, p.call))
	}
	if p.match != nil {
		src = &matchingObjects{ctx: ctx, src: src, match: p.match}
	}
	return &rowIter{db: d, def: def, build: build, src: src, seen: p.seen, zone: sqltime.Zone(ctx)}, nil
}

// planObjects yields the objects of every call of a plan, in no
// particular order: its lists (a union's branches, the reads it adds for
// test clocks) are read at once, unless a LIMIT shrank their pages.
func (d *Database) planObjects(ctx *sql.Context, plan pushdown.Plan) objects {
	if plan.Empty {
		return &sliceObjects{}
	}
	// Each part is made when it is read, not before: a call the query
	// has read meanwhile is then answered from the per-query cache.
	var parts []func(*sql.Context) objects
	path := ""
	for _, c := range plan.Calls {
		path = c.Path
		if plan.Parent != nil {
			parts = append(parts, func(ctx *sql.Context) objects { return d.fanOut(ctx, *plan.Parent, c, plan.Placeholder, plan.Table) })
		} else {
			parts = append(parts, func(ctx *sql.Context) objects {
				return withParent(plan.Table, c, d.callObjects(ctx, plan.Table.Name, c))
			})
		}
	}
	for _, also := range plan.Also {
		parts = append(parts, func(ctx *sql.Context) objects { return d.planObjects(ctx, also) })
	}
	if len(parts) == 1 {
		return parts[0](ctx)
	}
	if !fullPages(plan) {
		made := make([]objects, 0, len(parts))
		for _, part := range parts {
			made = append(made, part(ctx))
		}
		return &concatObjects{parts: made}
	}
	lists := func(ctx *sql.Context) (objects, error) {
		if len(parts) == 0 {
			return nil, io.EOF
		}
		l := parts[0](ctx)
		parts = parts[1:]
		return l, nil
	}
	return newConcurrentLists(ctx, d.listGoroutines, lists, d.listsAtOnce(path))
}

// listThenAlso reads a plan of one list and the reads it adds (see the
// type). paths, if not nil, are the paths the rows need of the list's
// objects (rowBuilder.scanPaths); the added reads decode whole objects.
func (d *Database) listThenAlso(ctx *sql.Context, plan pushdown.Plan, paths []string) objects {
	// Each added read is made when it starts, not before: a call the
	// query has read meanwhile (the test clocks, for a join's other
	// table) is then answered from the per-query cache.
	pending := plan.Also
	lists := func(ctx *sql.Context) (objects, error) {
		if len(pending) == 0 {
			return nil, io.EOF
		}
		l := d.planObjects(ctx, pending[0])
		pending = pending[1:]
		return l, nil
	}
	// As many at once as the rate and latency keep busy, as a fan-out's.
	width := d.listsAtOnce(plan.Calls[0].Path)
	n := len(pending)
	also := newConcurrentLists(ctx, d.listGoroutines, lists, func() int { return min(n, width()) })
	c := plan.Calls[0]
	list := withParent(plan.Table, c, d.listCallFields(ctx, plan.Table.Name, c, false, also.early, paths))
	return &listThenAlso{list: list, also: also}
}

// fanOut yields the objects of call run once per object of the parent
// plan, with the parent's id in place of fill. The lists are read several
// at once (see concurrentLists), unless a LIMIT shrank their pages: then
// one after another, so that the LIMIT stops the fan-out.
func (d *Database) fanOut(ctx *sql.Context, parent pushdown.Plan, call pushdown.Call, fill string, def *catalog.Table) objects {
	if !fullPage(call) {
		return &fanOut{ctx: ctx, db: d, parents: d.planObjects(ctx, parent), call: call, fill: fill, def: def}
	}
	// The parents are read by the dispatcher, made with its context (so
	// that closing the read stops them too) when it first asks.
	var parents objects
	lists := func(ctx *sql.Context) (objects, error) {
		if parents == nil {
			parents = d.planObjects(ctx, parent)
		}
		for {
			p, err := parents.next()
			if err != nil {
				return nil, err // io.EOF after the last parent
			}
			if id, _ := p["id"].(string); id != "" {
				c := call.ForParent(fill, id)
				return withParent(def, c, d.callObjects(ctx, def.Name, c)), nil
			}
		}
	}
	c := newConcurrentLists(ctx, d.listGoroutines, lists, d.listsAtOnce(call.Path))
	c.after = func() {
		if parents != nil {
			parents.close()
		}
	}
	return c
}

// callObjects runs one call for a table, through the per-query cache and
// the session's call budget, on the session's Stripe account. Its objects
// come in no particular order: a long list may be read as concurrent
// created ranges.
func (d *Database) callObjects(ctx *sql.Context, table string, c pushdown.Call) objects {
	return d.listCall(ctx, table, c, false, nil)
}

// listCall is callObjects; ordered asks for Stripe's own order (newest
// first), which a newest-first merge needs: such a list keeps one cursor.
// long, if set, is called when the list proves long (rangescan.Options).
func (d *Database) listCall(ctx *sql.Context, table string, c pushdown.Call, ordered bool, long func()) objects {
	return d.listCallFields(ctx, table, c, ordered, long, nil)
}

// listCallFields is listCall decoding of a list's objects only paths (and
// the fields the call expands, kept whole: expandFiler files them for
// other readers), or whole objects if paths is nil. Projected objects are
// cached under a key naming their paths, so no reader that needs other
// paths is handed one; whole objects cached by the same call serve a
// projected reader.
func (d *Database) listCallFields(ctx *sql.Context, table string, c pushdown.Call, ordered bool, long func(), paths []string) objects {
	key := c.String()
	if cached, ok := d.cache.get(ctx.Pid(), key); ok {
		return &sliceObjects{objs: cached}
	}
	var fields *stripeapi.Fields
	cacheKey := key
	if paths != nil && c.Kind != pushdown.Retrieve {
		fields = stripeapi.NewFields(append(paths, expandedFields(c)...)...)
		cacheKey = key + " fields=" + fields.String()
		if cached, ok := d.cache.get(ctx.Pid(), cacheKey); ok {
			return &sliceObjects{objs: cached}
		}
	}
	account := stripeapi.WithAccount(sessionOptions(ctx).account)
	spend := func() error { return d.ledger.spend(ctx, table, key) }
	if c.Kind == pushdown.Retrieve {
		return d.expanded(ctx, table, c, &retrieveObjects{ctx: ctx, db: d, call: c, key: key, spend: spend, account: account})
	}
	params := make(stripeapi.Params, 0, len(c.Params)+1)
	for _, p := range c.Params {
		params.Add(p.Key, p.Value)
	}
	if _, ok := params.Get("limit"); !ok {
		params.Add("limit", pageSize)
	}
	var src pager
	if c.Kind == pushdown.Search {
		src = d.client.Search(ctx, c.Path, params, account, stripeapi.WithBeforePage(spend), stripeapi.WithFields(fields))
	} else {
		src = d.scan(ctx, table, c, params, ordered, spend, []stripeapi.RequestOption{account, stripeapi.WithFields(fields)}, statsKey(sessionOptions(ctx).account, c.Path, params), long)
	}
	return d.expanded(ctx, table, c, &listObjects{db: d, pid: ctx.Pid(), key: cacheKey, it: src})
}

// scan reads a list call with package rangescan: its first pages on one
// cursor, exactly as a sequential read; a longer list split into created
// ranges read concurrently when the endpoint filters created by range and
// the caller does not need Stripe's order, else read one page ahead. A
// LIMIT that made the page small, or a merge, turns reading ahead off.
//
// A list whose last complete scan left statistics showing it large is
// split at once, into ranges planned from them (rangescan.Stats); every
// complete scan leaves its statistics for the next.
func (d *Database) scan(ctx *sql.Context, table string, c pushdown.Call, params stripeapi.Params, ordered bool, spend func() error, opts []stripeapi.RequestOption, key string, long func()) *rangescan.Scan {
	size, _ := params.Get("limit")
	n, err := strconv.Atoi(size)
	if err != nil {
		n = 100
	}
	scanOpts := rangescan.Options{
		Split:          !ordered && splitsByCreated(d.catalog, table),
		Rate:           d.client.RateFor(http.MethodGet, c.Path),
		PageSize:       n,
		MaxConcurrency: maxScanConcurrency,
		Long:           long,
		Stats:          d.stats.get(key),
		Latency:        d.client.LatencyOf(http.MethodGet, c.Path),
		Learned:        func(st *rangescan.Stats) { d.stats.put(key, st) },
	}
	if ordered {
		scanOpts.PageSize = 1 // a merge reads only as far as it must: never ahead
	}
	fetch := func(fctx context.Context, p stripeapi.Params) ([]stripeapi.Object, bool, error) {
		if err := spend(); err != nil {
			return nil, false, err
		}
		return d.client.ListPage(fctx, c.Path, p, opts...)
	}
	return rangescan.New(ctx, params, fetch, scanOpts)
}

// splitsByCreated reports that a table's list filters created by range,
// so a scan of it can be split into created ranges.
func splitsByCreated(cat *catalog.Catalog, table string) bool {
	def, ok := cat.Lookup(table)
	if !ok {
		return false
	}
	for _, f := range def.Filters {
		if f.Param == "created" && f.Ops&catalog.OpRange != 0 {
			return true
		}
	}
	return false
}

// pager is a list or search reader: a stripeapi.Iter or a rangescan.Scan.
type pager interface {
	Next() bool
	Object() stripeapi.Object
	Err() error
	Pages() int
}

// retrieveObjects fetches one object on the first next. A missing object
// is no row, not an error: WHERE Id = 'cus_gone' is simply empty.
type retrieveObjects struct {
	ctx     *sql.Context
	db      *Database
	call    pushdown.Call
	key     string
	spend   func() error
	account stripeapi.RequestOption
	done    bool
}

func (r *retrieveObjects) close() {}

func (r *retrieveObjects) next() (stripeapi.Object, error) {
	if r.done {
		return nil, io.EOF
	}
	r.done = true
	if err := r.spend(); err != nil {
		return nil, err
	}
	obj, err := r.db.client.Get(r.ctx, r.call.Path, nil, r.account)
	if stripeapi.IsNotFound(err) {
		r.db.cache.put(r.ctx.Pid(), r.key, nil)
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	r.db.cache.put(r.ctx.Pid(), r.key, []stripeapi.Object{obj})
	return obj, nil
}

// listObjects streams a list call page by page, remembering a small
// result for the rest of the query (a join's inner side rereads it).
type listObjects struct {
	db       *Database
	pid      uint64
	key      string
	it       pager
	seen     []stripeapi.Object
	tooLarge bool
}

// close stops the pager's readers, if it has any (a rangescan.Scan).
func (l *listObjects) close() {
	if c, ok := l.it.(interface{ Close() }); ok {
		c.Close()
	}
}

func (l *listObjects) next() (stripeapi.Object, error) {
	if !l.it.Next() {
		if err := l.it.Err(); err != nil {
			// A list under a parent that does not exist (the cards of
			// cus_missing) is a 404 resource_missing: no rows, as reading
			// every customer's cards would find none for it.
			if stripeapi.IsNotFound(err) && l.it.Pages() == 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		if !l.tooLarge {
			l.db.cache.put(l.pid, l.key, l.seen)
		}
		return nil, io.EOF
	}
	obj := l.it.Object()
	if !l.tooLarge {
		if len(l.seen) < maxCachedObjects {
			l.seen = append(l.seen, obj)
		} else {
			l.tooLarge, l.seen = true, nil
		}
	}
	return obj, nil
}

type sliceObjects struct {
	objs []stripeapi.Object
	i    int
}

func (s *sliceObjects) close() {}

func (s *sliceObjects) next() (stripeapi.Object, error) {
	if s.i >= len(s.objs) {
		return nil, io.EOF
	}
	s.i++
	return s.objs[s.i-1], nil
}

type concatObjects struct {
	parts []objects
}

func (c *concatObjects) close() {
	for _, p := range c.parts {
		p.close()
	}
}

func (c *concatObjects) next() (stripeapi.Object, error) {
	for len(c.parts) > 0 {
		obj, err := c.parts[0].next()
		if err == io.EOF {
			c.parts = c.parts[1:]
			continue
		}
		return obj, err
	}
	return nil, io.EOF
}

// fanOut runs a nested table's call once per parent object, with the
// parent's id in the path, one list after another.
type fanOut struct {
	ctx     *sql.Context
	db      *Database
	parents objects
	call    pushdown.Call
	fill    string
	def     *catalog.Table
	cur     objects
}

func (f *fanOut) close() {
	if f.cur != nil {
		f.cur.close()
	}
	f.parents.close()
}

func (f *fanOut) next() (stripeapi.Object, error) {
	for {
		if f.cur != nil {
			obj, err := f.cur.next()
			if err != io.EOF {
				return obj, err
			}
			f.cur = nil
		}
		parent, err := f.parents.next()
		if err != nil {
			return nil, err
		}
		id, _ := parent["id"].(string)
		if id == "" {
			continue
		}
		c := f.call.ForParent(f.fill, id)
		f.cur = withParent(f.def, c, f.db.callObjects(f.ctx, f.def.Name, c))
	}
}

// withParent makes every object of a nested resource name its parent.
// Stripe's objects do; stripe-mock's canned ones say customer: null, and
// the call that found an object knows whose it is.
func withParent(def *catalog.Table, c pushdown.Call, src objects) objects {
	if def.Parent == nil || c.ParentID == "" {
		return src
	}
	col, _ := def.Column(def.Parent.Column)
	return &parentFill{src: src, field: col.Path, id: c.ParentID}
}

type parentFill struct {
	src       objects
	field, id string
}

func (p *parentFill) close() { p.src.close() }

func (p *parentFill) next() (stripeapi.Object, error) {
	obj, err := p.src.next()
	if err == nil && obj[p.field] == nil {
		obj[p.field] = p.id
	}
	return obj, err
}

// rowIter converts objects into rows. Objects of another type (a bank
// account among a customer's sources) and deleted stubs are skipped.
type rowIter struct {
	db    *Database
	def   *catalog.Table
	build *rowBuilder    // the columns the query uses
	zone  *time.Location // the session's time zone, for TIMESTAMP columns
	src   objects
	seen  *seenIDs
}

func (r *rowIter) Next(ctx *sql.Context) (sql.Row, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		obj, err := r.src.next()
		if err != nil {
			return nil, err
		}
		if kind, _ := obj["object"].(string); kind != "" && kind != r.def.Object {
			continue
		}
		if deleted, _ := obj["deleted"].(bool); deleted {
			continue
		}
		if r.seen != nil && !r.seen.first(obj.ID()) {
			continue
		}
		r.db.ledger.progress.row(ctx.Pid())
		return r.build.row(obj, r.zone)
	}
}

// Close stops the reads behind the rows (a LIMIT or an EXISTS closes the
// iterator long before its lists end), then records the client's totals
// for SHOW STATUS.
func (r *rowIter) Close(ctx *sql.Context) error {
	r.src.close()
	r.db.ledger.recordClientStats(ctx, r.db.client.Stats())
	return nil
}
