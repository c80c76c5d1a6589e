package mirror

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// The narrow keyspace ('w') holds, under the same keys as the object
// keyspace (created descending, then id), the values of a table's narrow
// columns only: the scalar columns an aggregate reads (every integer, and
// so every money column, float, boolean, timestamp, and the short strings
// that are not references: currency, status). A query whose columns are
// all narrow (SUM(Amount) GROUP BY month, COUNT by Status) scans it instead
// of the whole objects: a few dozen bytes a row rather than a kilobyte or
// more, which is most of what a scan of a million objects costs in Pebble
// (block loads, decompression, cache churn).
//
// A value is positional: one encoded value (codec.go) per narrow path, in
// the order of the table's narrow paths, or narrowMissing where the object
// has no value at the path. The paths are derived from the catalog, so the
// table's meta records the list the keyspace was built with: a store built
// with another list (or before the keyspace existed) has it rebuilt from
// the objects in the background, and reads use whole objects until then.

// narrowMissing marks a path the object does not have (unlike null).
const narrowMissing byte = 0xff

// narrowBatch is the number of objects a rebuild writes per batch, under
// the write lock: small enough that writers wait little.
const narrowBatch = 512

func narrowKey(table string, created int64, id string) []byte {
	k := tablePrefix(kindNarrow, table)
	k = append(k, descCreated(created)...)
	return append(k, id...)
}

// narrowPaths returns the JSON paths of def's narrow columns, sorted. A
// path under another narrow path is left out: the shorter one holds it.
func narrowPaths(def *catalog.Table) []string {
	var paths []string
	for _, c := range def.Columns {
		if c.Path == "" || c.Path == "id" || c.Path == "created" {
			continue // id and created are the key
		}
		switch c.Type {
		case catalog.Integer, catalog.Float, catalog.Boolean, catalog.Timestamp:
		case catalog.String:
			// A top-level string that is not a reference: a currency, a
			// status, a code, what a GROUP BY names. A reference may be an
			// expanded object, and ids are long and rarely grouped by; the
			// strings of nested objects (a charge's outcome, fraud details)
			// are details, which would double the values a scan reads.
			if c.Ref != "" || strings.Contains(c.Path, ".") {
				continue
			}
		default:
			continue // text, JSON: long, and not what aggregates read
		}
		paths = append(paths, c.Path)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	out := paths[:0:0]
	for _, p := range paths {
		if !slices.ContainsFunc(out, func(q string) bool { return strings.HasPrefix(p, q+".") }) {
			out = append(out, p)
		}
	}
	return out
}

// narrowSet is a table's narrow paths in a form reads use.
type narrowSet struct {
	paths []string
	split [][]string      // paths split at dots
	index map[string]int  // path → position
	tops  map[string]bool // the top-level fields of paths, to decode
	want  []string        // sortedFields(tops)
}

func newNarrowSet(paths []string) *narrowSet {
	s := &narrowSet{paths: paths, index: make(map[string]int, len(paths)), tops: map[string]bool{}}
	for i, p := range paths {
		s.split = append(s.split, strings.Split(p, "."))
		s.index[p] = i
		top, _, _ := strings.Cut(p, ".")
		s.tops[top] = true
	}
	s.want = sortedFields(s.tops)
	return s
}

// covers reports whether the narrow values hold every path: a path of
// the set itself, or id and created (the key).
func (s *narrowSet) covers(paths []string) bool {
	if paths == nil {
		return false
	}
	for _, p := range paths {
		if _, ok := s.index[p]; !ok && p != "id" && p != "created" {
			return false
		}
	}
	return true
}

// encode appends the narrow value of obj to dst.
func (s *narrowSet) encode(dst []byte, obj stripeapi.Object) ([]byte, error) {
	for i := range s.paths {
		v, ok := walk(obj, s.split[i])
		if !ok {
			dst = append(dst, narrowMissing)
			continue
		}
		var err error
		if dst, err = encodeValue(dst, v); err != nil {
			return nil, fmt.Errorf("%s: %w", s.paths[i], err)
		}
	}
	return dst, nil
}

// decode makes an object of the narrow value b holding the paths at the
// positions pick (sorted), as nested maps where a path has dots, so that a
// lookup of any of them finds what it finds in the whole object.
func (s *narrowSet) decode(d *decoder, b []byte, pick []int) (stripeapi.Object, error) {
	obj := make(stripeapi.Object, len(pick)+2)
	p, next := 0, 0
	for i := range s.paths {
		if next == len(pick) {
			break
		}
		if p >= len(b) {
			return nil, errCorrupt
		}
		if pick[next] != i {
			if b[p] == narrowMissing {
				p++
			} else if err := skip(b, &p); err != nil {
				return nil, err
			}
			continue
		}
		next++
		if b[p] == narrowMissing {
			p++
			continue
		}
		v, err := d.value(b, &p)
		if err != nil {
			return nil, err
		}
		setPath(obj, s.split[i], v)
	}
	return obj, nil
}

// decodeValues sets vals[i], for each position i in pick (sorted), to the
// value there in the narrow value b (nil where the object had none).
func (s *narrowSet) decodeValues(d *decoder, b []byte, pick []int, vals []any) error {
	p, next := 0, 0
	for i := range s.paths {
		if next == len(pick) {
			break
		}
		if p >= len(b) {
			return errCorrupt
		}
		if pick[next] != i {
			if b[p] == narrowMissing {
				p++
			} else if err := skip(b, &p); err != nil {
				return err
			}
			continue
		}
		next++
		if b[p] == narrowMissing {
			p++
			vals[i] = nil
			continue
		}
		v, err := d.value(b, &p)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return nil
}

// positions returns the positions of paths in the set, sorted (id and
// created, from the key, have none).
func (s *narrowSet) positions(paths []string) []int {
	var out []int
	for _, p := range paths {
		if i, ok := s.index[p]; ok {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// walk is lookup with the path split (allocating nothing): every object
// a table stores is walked so for each narrow path.
func walk(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, part := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			o, isObj := cur.(stripeapi.Object)
			if !isObj {
				return nil, false
			}
			m = o
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets v at path in obj, making the maps on the way.
func setPath(obj map[string]any, path []string, v any) {
	for _, part := range path[:len(path)-1] {
		next, ok := obj[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[part] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}

// narrowRebuild writes the narrow keyspace of every table whose keyspace
// is not complete (an older store, or one built with other narrow paths),
// from its objects, a batch at a time under the write lock: a writer
// between two batches writes its objects' narrow values itself, and a
// batch reads the objects as they are then. It ends with the table's meta
// recording the paths, after which reads use the keyspace.
func (m *Mirror) narrowRebuild(ctx context.Context) error {
	for _, t := range m.order {
		if t.narrow == nil || t.narrowReady.Load() {
			continue
		}
		start := tablePrefix(kindObject, t.name)
		end := prefixEnd(start)
		n := 0
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			next, done, err := m.narrowRebuildBatch(t, start, end)
			if err != nil {
				return fmt.Errorf("mirror: rebuild the narrow values of %s: %w", t.name, err)
			}
			if done {
				break
			}
			start = next
			n++
		}
		m.log.Info("mirror: narrow values rebuilt", "table", t.name, "batches", n)
	}
	return nil
}

var errRebuildClosed = errors.New("mirror: closed during a rebuild")

// narrowRebuildBatch writes the narrow values of up to narrowBatch objects
// from the key start; done once the table's objects are all written (and
// its meta records the paths).
func (m *Mirror) narrowRebuildBatch(t *table, start, end []byte) (next []byte, done bool, err error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.closed.Load() {
		return nil, false, errRebuildClosed
	}
	x := m.newTxn()
	defer func() {
		if err != nil {
			x.abort()
		}
	}()
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, false, err
	}
	dec := newDecoder()
	plen := len(t.name) + 2
	count := 0
	var buf []byte
	ok := it.First()
	for ; ok && count < narrowBatch; ok = it.Next() {
		k := it.Key()
		if len(k) < plen+8 {
			_ = it.Close()
			return nil, false, errCorrupt
		}
		obj, err := dec.decodeObject(it.Value(), t.narrow.want)
		if err != nil {
			_ = it.Close()
			return nil, false, err
		}
		if buf, err = t.narrow.encode(buf[:0], obj); err != nil {
			_ = it.Close()
			return nil, false, err
		}
		nk := append([]byte{kindNarrow}, k[1:]...)
		if err := x.b.Set(nk, buf, nil); err != nil {
			_ = it.Close()
			return nil, false, err
		}
		count++
	}
	if ok {
		next = append([]byte(nil), it.Key()...)
	}
	if err := it.Close(); err != nil {
		return nil, false, err
	}
	if !ok {
		m.mu.Lock()
		t.meta.Narrow = t.narrow.paths
		m.mu.Unlock()
		x.tableMeta[t] = true
	}
	if err := x.commit(!ok); err != nil {
		return nil, false, err
	}
	if !ok {
		t.narrowReady.Store(true)
	}
	return next, !ok, nil
}

// narrowOpen decides, when the store opens, which tables' narrow keyspace
// is complete: one built with the catalog's current paths, or an empty
// table's. Any other's is dropped, to be rebuilt (narrowRebuild).
func (m *Mirror) narrowOpen() error {
	x := m.newTxn()
	changed := false
	for _, t := range m.order {
		paths := narrowPaths(t.t)
		if len(paths) > 0 {
			t.narrow = newNarrowSet(paths)
		}
		if slices.Equal(t.meta.Narrow, paths) {
			// Built with these paths (or none, and never built).
			t.narrowReady.Store(true)
			continue
		}
		empty, err := m.empty(t)
		if err != nil {
			x.abort()
			return err
		}
		prefix := tablePrefix(kindNarrow, t.name)
		if err := x.b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
			x.abort()
			return err
		}
		switch {
		case len(paths) == 0:
			t.meta.Narrow = nil // the catalog names none any more
		case empty:
			t.meta.Narrow = paths
			t.narrowReady.Store(true)
		default:
			t.meta.Narrow = nil
		}
		x.tableMeta[t] = true
		changed = true
	}
	if !changed {
		x.abort()
		return nil
	}
	return x.commit(true)
}

// setNarrow writes obj's narrow value, with the object (apply.go).
func (x *txn) setNarrow(t *table, created int64, id string, obj stripeapi.Object) error {
	if t.narrow == nil {
		return nil
	}
	// The batch copies the value: one buffer serves every object.
	v, err := t.narrow.encode(x.narrowBuf[:0], obj)
	if err != nil {
		return fmt.Errorf("mirror: %s %s: narrow value: %w", t.name, id, err)
	}
	x.narrowBuf = v
	return x.b.Set(narrowKey(t.name, created, id), v, nil)
}
