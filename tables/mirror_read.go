package tables

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/mirror"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// mirrorPartitions are the partitions of a routed read: one per query of
// the store. Several queries may find the same object, which is then
// returned once. No Stripe call is made, and none is spent from the
// session's budget.
func mirrorPartitions(plan pushdown.Plan) sql.PartitionIter {
	qs := mirrorQueries(plan)
	if plan.Merge && len(qs) > 1 {
		// One newest-first stream: partitions are read one after another,
		// so only a single one can be in order. The engine's filter keeps
		// the rows the several queries selected.
		qs = []mirrorQuery{{}}
	}
	var seen *seenIDs
	if len(qs) > 1 {
		seen = &seenIDs{ids: map[string]bool{}}
	}
	parts := make([]sql.Partition, len(qs))
	for i := range qs {
		parts[i] = &partition{mirror: &qs[i], seen: seen, merge: mergeOnly(plan)}
	}
	return sql.PartitionsToPartitionIter(parts...)
}

// mergeOnly keeps a plan's Merge flag (ORDER BY Created DESC without a
// sort) for a routed partition, which must then return its objects newest
// first. Planning leaves the sort in place for routed tables; this only
// guards a plan made before the table was routed.
func mergeOnly(plan pushdown.Plan) *pushdown.Plan {
	if !plan.Merge {
		return nil
	}
	return &pushdown.Plan{Table: plan.Table, Merge: true}
}

// mirrorRows reads one routed partition from the store, into rows built
// exactly as live rows are (the same builder, the session's time zone).
// The store is opened at the first row: the engine may make a partition's
// rows and drop them unread (TableRowIter.IsValueRowIter), and an
// iterator opened then would never be closed.
func (d *Database) mirrorRows(ctx *sql.Context, def *catalog.Table, build *rowBuilder, p *partition) (sql.RowIter, error) {
	m := d.mirrorOf()
	if m == nil {
		return nil, fmt.Errorf("table %s: read from the mirror, but there is none", def.Name)
	}
	return &mirrorRowIter{open: func() (sql.RowIter, func() error, error) {
		q := withPaths(*p.mirror, def, build, p.match)
		it, err := m.Objects(ctx, def.Name, q)
		if err != nil {
			return nil, nil, fmt.Errorf("mirror of %s: %w", def.Name, err)
		}
		closer := &onceCloser{it: it}
		if rows := d.valueRows(def, build, p, q, it, sqltime.Zone(ctx)); rows != nil {
			return rows, closer.Close, nil
		}
		var src objects = &storeObjects{it: it}
		if p.merge != nil {
			sorted, err := newestFirstObjects(src)
			closer.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("mirror of %s: %w", def.Name, err)
			}
			src = sorted
		}
		if p.match != nil {
			src = &matchingObjects{ctx: ctx, src: src, match: p.match}
		}
		return &rowIter{db: d, def: def, build: build, src: src, seen: p.seen, zone: sqltime.Zone(ctx)}, closer.Close, nil
	}}, nil
}

// mirrorRowIter opens its rows at the first Next, and closes the store's
// iterator with them, also when a LIMIT stops reading early.
type mirrorRowIter struct {
	open  func() (sql.RowIter, func() error, error)
	rows  sql.RowIter
	close func() error
}

func (r *mirrorRowIter) Next(ctx *sql.Context) (sql.Row, error) {
	if r.rows == nil {
		rows, closeStore, err := r.open()
		if err != nil {
			return nil, err
		}
		r.rows, r.close = rows, closeStore
	}
	return r.rows.Next(ctx)
}

func (r *mirrorRowIter) Close(ctx *sql.Context) error {
	if r.rows == nil {
		return nil
	}
	err := r.rows.Close(ctx)
	if cerr := r.close(); err == nil {
		err = cerr
	}
	r.rows = nil
	return err
}

// storeObjects adapts the store's iterator.
type storeObjects struct{ it mirrorIterator }

func (s *storeObjects) next() (stripeapi.Object, error) { return s.it.Next() }

// close leaves the store's iterator to its row iterator, which closes it.
func (s *storeObjects) close() {}

// onceCloser closes the store's iterator once.
type onceCloser struct {
	it   mirrorIterator
	done bool
}

func (o *onceCloser) Close() error {
	if o.done {
		return nil
	}
	o.done = true
	return o.it.Close()
}

// newestFirstObjects reads src whole and returns it newest first.
func newestFirstObjects(src objects) (*sliceObjects, error) {
	var all []stripeapi.Object
	for {
		obj, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		all = append(all, obj)
	}
	slices.SortStableFunc(all, func(a, b stripeapi.Object) int { return cmp.Compare(createdOf(b), createdOf(a)) })
	return &sliceObjects{objs: all}, nil
}

// valueRows returns the rows of a read the store answers with values
// rather than objects (mirror.ValueReader: narrow values or keys only),
// made without an object for each row; nil if the read needs objects:
// ordered newest first, matched on a key, or deduplicated by id across
// partitions, or reading a path that is not a column's value ("object"
// and "deleted" decide whether an object is a row at all).
func (d *Database) valueRows(def *catalog.Table, build *rowBuilder, p *partition, q mirrorQuery, it mirrorIterator, zone *time.Location) sql.RowIter {
	vr, ok := it.(mirror.ValueReader)
	if !ok || !vr.Values() || p.merge != nil || p.match != nil || p.seen != nil || q.Paths == nil {
		return nil
	}
	if slices.Contains(q.Paths, "object") || slices.Contains(q.Paths, "deleted") {
		return nil
	}
	idx := make([]int, len(build.cols))
	for i, c := range build.cols {
		idx[i] = -1
		if c.path != nil {
			if idx[i] = slices.Index(q.Paths, c.col.Path); idx[i] < 0 {
				return nil
			}
		}
	}
	return &valueRowIter{db: d, def: def, build: build, vr: vr, idx: idx, vals: make([]any, len(q.Paths)), zone: zone}
}

// valueRowIter makes rows of the values a store read gives, as rowIter
// makes them of objects: the same conversions, progress and totals.
type valueRowIter struct {
	db    *Database
	def   *catalog.Table
	build *rowBuilder
	vr    mirror.ValueReader
	idx   []int // of each column of build, its value's index in vals (-1: none)
	vals  []any
	zone  *time.Location // the session's time zone, for TIMESTAMP columns
}

func (r *valueRowIter) Next(ctx *sql.Context) (sql.Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.vr.NextValues(r.vals); err != nil {
		return nil, err
	}
	r.db.ledger.progress.row(ctx.Pid())
	row := make(sql.Row, len(r.build.cols))
	for i := range r.build.cols {
		if r.idx[i] < 0 {
			continue // a write-only column: NULL
		}
		c := r.build.cols[i].col
		v, err := columnValue(*c, r.vals[r.idx[i]], r.zone)
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", r.def.Object, c.Name, err)
		}
		row[i] = v
	}
	if r.build.built != nil && len(r.build.cols) > 0 {
		r.build.built.Add(uint64(len(r.build.cols)))
	}
	return row, nil
}

// Close records the client's totals for SHOW STATUS, as rowIter's.
func (r *valueRowIter) Close(ctx *sql.Context) error {
	r.db.ledger.recordClientStats(ctx, r.db.client.Stats())
	return nil
}
