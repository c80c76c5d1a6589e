package tables

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
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
