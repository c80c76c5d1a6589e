package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/stripeapi"
)

// reader is what point reads need of a DB or a batch.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// read returns the object id of t (decoding the top-level fields in want,
// all if nil), or false if it is not held (missing or deleted).
func (m *Mirror) read(r reader, t *table, id string, want map[string]bool) (stripeapi.Object, bool, error) {
	enc, ok, err := readObject(r, t, id)
	if err != nil || !ok {
		return nil, false, err
	}
	obj, err := newDecoder().decodeObject(enc, sortedFields(want))
	return obj, err == nil, err
}

func readObject(r reader, t *table, id string) ([]byte, bool, error) {
	raw, ok, err := getFrom(r, primaryKey(t.name, id))
	if err != nil || !ok {
		return nil, false, err
	}
	p, ok := decodePrimary(raw)
	if !ok {
		return nil, false, errCorrupt
	}
	if p.gone() {
		return nil, false, nil
	}
	return getFrom(r, objectKey(t.name, p.created, id))
}

func getFrom(r reader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := slices.Clone(v)
	return out, true, closer.Close()
}

// Objects reads table's objects that q selects (see Query), newest first.
//
// IDs are point reads; else an Equal on an indexed path reads its index;
// else the created-ordered keyspace is scanned, only over the created
// range if q has one. Every condition of q is then checked on each object.
func (m *Mirror) Objects(ctx context.Context, table string, q Query) (Iterator, error) {
	t, err := m.lookupTable(table)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.closed.Load() {
		return nil, errClosed
	}
	it := &iter{ctx: ctx, m: m, t: t, q: q, dec: newDecoder(), want: wantOf(q.Paths)}
	if len(q.Equal) > 0 {
		it.equal = make(map[string]map[string]bool, len(q.Equal))
		for p, vals := range q.Equal {
			set := make(map[string]bool, len(vals))
			for _, v := range vals {
				set[strings.ToLower(v)] = true
			}
			it.equal[p] = set
			if it.want != nil {
				top, _, _ := strings.Cut(p, ".")
				it.checkTops = append(it.checkTops, top)
			}
		}
	}
	// The decoded fields must include those the conditions check.
	if it.want != nil && len(it.checkTops) > 0 {
		want := make(map[string]bool, len(it.want)+len(it.checkTops))
		for k := range it.want {
			want[k] = true
		}
		for _, k := range it.checkTops {
			want[k] = true
		}
		it.want = want
	}
	if it.want != nil {
		it.valueFields = []string{}
		for _, f := range sortedFields(it.want) {
			if f != "id" && f != "created" {
				it.valueFields = append(it.valueFields, f)
			}
		}
	}
	if it.want != nil && !it.keysOnly() && t.narrow != nil && t.narrow.covers(q.Paths) && t.narrowReady.Load() {
		covered := true
		for p := range q.Equal {
			covered = covered && t.narrow.covers([]string{p})
		}
		if covered {
			// Every column read is a narrow one: read the narrow values
			// rather than the objects (narrow.go).
			it.narrow = t.narrow
			it.pick = t.narrow.positions(q.Paths)
			for p := range q.Equal {
				it.pick = append(it.pick, t.narrow.positions([]string{p})...)
			}
			slices.Sort(it.pick)
			it.pick = slices.Compact(it.pick)
		}
	}
	if (it.narrow != nil || it.keysOnly()) && len(q.Equal) == 0 {
		it.valuePos = make([]int, len(q.Paths))
		for i, p := range q.Paths {
			switch p {
			case "id":
				it.valuePos[i] = posID
			case "created":
				it.valuePos[i] = posCreated
			default:
				pos, ok := -1, false
				if it.narrow != nil {
					pos, ok = it.narrow.index[p]
				}
				if !ok {
					it.valuePos = nil // ("created.x": keys only, but no value)
					break
				}
				it.valuePos[i] = pos
			}
			if it.valuePos == nil {
				break
			}
		}
		if it.narrow != nil {
			it.vals = make([]any, len(it.narrow.paths))
		}
	}
	switch {
	case q.IDs != nil:
		it.ids = slices.Compact(slices.Sorted(slices.Values(q.IDs)))
	case m.indexedEqual(t, q) != "":
		path := m.indexedEqual(t, q)
		vals := slices.Sorted(func(yield func(string) bool) {
			for v := range it.equal[path] {
				if !yield(v) {
					return
				}
			}
		})
		for _, v := range vals {
			if strings.ContainsRune(v, 0) {
				continue // never indexed, and no object holds it either
			}
			it.prefixes = append(it.prefixes, indexPrefix(t.name, path, v))
		}
		it.seen = map[string]bool{}
	default:
		kind := byte(kindObject)
		switch {
		case it.keysOnly():
			kind, it.skinny = kindSkinny, true
		case it.narrow != nil:
			kind = kindNarrow
		}
		lower := tablePrefix(kind, t.name)
		upper := prefixEnd(lower)
		if q.CreatedLTE != nil {
			lower = append(tablePrefix(kind, t.name), descCreated(*q.CreatedLTE)...)
		}
		if q.CreatedGTE != nil {
			upper = prefixEnd(append(tablePrefix(kind, t.name), descCreated(*q.CreatedGTE)...))
		}
		if it.scan, err = m.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper}); err != nil {
			return nil, err
		}
		it.scanOK = it.scan.First()
	}
	return it, nil
}

// indexedEqual returns the path of q.Equal that has an index (the first in
// order, for a stable plan), or "".
func (m *Mirror) indexedEqual(t *table, q Query) string {
	for _, p := range t.indexed {
		if _, ok := q.Equal[p]; ok {
			return p
		}
	}
	return ""
}

type iter struct {
	ctx  context.Context
	m    *Mirror
	t    *table
	q    Query
	dec  *decoder
	want map[string]bool
	// valueFields are want's fields but id and created, in order, as
	// decodeObject takes them; nil for all.
	valueFields []string
	equal       map[string]map[string]bool
	// checkTops are the top-level fields the Equal conditions need.
	checkTops []string

	ids []string // point reads left

	prefixes [][]byte // index prefixes left (one per Equal value)
	idx      *pebble.Iterator
	seen     map[string]bool

	scan   *pebble.Iterator
	scanOK bool
	// skinny: the scan reads the keys-only keyspace, as the query needs no
	// more than id and created.
	skinny bool
	// narrow, if set, is the table's narrow columns, which hold every
	// column the query reads: the values read are narrow values, of which
	// the positions pick are decoded.
	narrow *narrowSet
	pick   []int

	// advance: the scan is still on the object last returned; scanID is
	// its id (in the scan's key).
	advance bool
	scanID  []byte
	// valuePos maps the query's Paths to what NextValues reads for each:
	// a position of the narrow values, or posID, posCreated; nil when the
	// read cannot give values (see Values). vals holds the decoded narrow
	// values of the current object.
	valuePos []int
	vals     []any
	n        int
	closed   bool
}

// keysOnly reports a query that needs nothing but id and created.
func (it *iter) keysOnly() bool {
	if it.want == nil || len(it.equal) > 0 {
		return false
	}
	for k := range it.want {
		if k != "id" && k != "created" {
			return false
		}
	}
	return true
}

// nextSkinny returns the next object of a keys-only scan, made of its key.
func (it *iter) nextSkinny() (stripeapi.Object, error) {
	if !it.scanOK {
		if err := it.scan.Error(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	k := it.scan.Key()
	plen := len(it.t.name) + 2
	if len(k) < plen+8 {
		return nil, errCorrupt
	}
	created := createdFromDesc(k[plen : plen+8])
	obj := stripeapi.Object{"id": string(k[plen+8:]), "created": json.Number(strconv.FormatInt(created, 10))}
	it.scanOK = it.scan.Next()
	return obj, nil
}

// Next returns the next object, or io.EOF.
func (it *iter) Next() (stripeapi.Object, error) {
	for {
		if it.closed {
			return nil, io.EOF
		}
		if it.m.closed.Load() {
			return nil, errClosed
		}
		// Check the context now and then: a scan of a million objects
		// must stop when the query is cancelled.
		if it.n++; it.n%1024 == 0 {
			if err := it.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if it.skinny {
			return it.nextSkinny()
		}
		enc, created, id, err := it.nextRaw()
		if err != nil {
			return nil, err
		}
		if !it.createdOK(created) {
			continue
		}
		if id == "" {
			id = string(it.scanID)
		}
		var obj stripeapi.Object
		if it.narrow != nil {
			obj, err = it.narrow.decode(it.dec, enc, it.pick)
		} else {
			obj, err = it.dec.decodeObject(enc, it.valueFields)
		}
		if err != nil {
			return nil, err
		}
		if it.valueFields != nil {
			// id and created come from the key: the walk over the
			// encoding can stop sooner.
			obj["id"] = id
			if created != 0 { // an object without one (a card) has 0
				obj["created"] = json.Number(strconv.FormatInt(created, 10))
			}
		}
		if !it.equalOK(obj) {
			continue
		}
		return obj, nil
	}
}

// ValueReader is what the Iterator of a read that needs no object offers
// (one of narrow values, or of keys only, without Equal): the values at
// the query's Paths, without an object made of them for each.
type ValueReader interface {
	// Values reports whether NextValues can be used: the read is of
	// narrow values or keys only, without Equal.
	Values() bool
	// NextValues sets vals[i] (len(vals) == len(Paths)) to the next
	// object's value at Paths[i], what a lookup of the path in the
	// object Next would return finds (nil where it finds nothing); io.EOF
	// at the end. A read uses Next or NextValues, not both.
	NextValues(vals []any) error
}

// Positions of valuePos that are not narrow values.
const (
	posID      = -1
	posCreated = -2
)

// Values implements ValueReader.
func (it *iter) Values() bool { return it.valuePos != nil && (it.skinny || it.narrow != nil) }

// NextValues implements ValueReader.
func (it *iter) NextValues(vals []any) error {
	if !it.Values() || len(vals) != len(it.valuePos) {
		return errors.New("mirror: NextValues on a read that cannot give values")
	}
	for {
		if it.closed {
			return io.EOF
		}
		if it.m.closed.Load() {
			return errClosed
		}
		if it.n++; it.n%1024 == 0 {
			if err := it.ctx.Err(); err != nil {
				return err
			}
		}
		var (
			enc     []byte
			created int64
			id      string
		)
		if it.skinny {
			if !it.scanOK {
				if err := it.scan.Error(); err != nil {
					return err
				}
				return io.EOF
			}
			k := it.scan.Key()
			plen := len(it.t.name) + 2
			if len(k) < plen+8 {
				return errCorrupt
			}
			created = createdFromDesc(k[plen : plen+8])
			it.scanID = k[plen+8:]
			it.advance = true
		} else {
			var err error
			if enc, created, id, err = it.nextRaw(); err != nil {
				return err
			}
			if !it.createdOK(created) {
				continue
			}
			if err := it.narrow.decodeValues(it.dec, enc, it.pick, it.vals); err != nil {
				return err
			}
		}
		for i, p := range it.valuePos {
			switch p {
			case posID:
				if id == "" {
					id = string(it.scanID)
				}
				vals[i] = id
			case posCreated:
				// As Next: from the key; a keys-only read always has it, a
				// read of values only when the object has one.
				if created != 0 || it.skinny {
					vals[i] = json.Number(strconv.FormatInt(created, 10))
				} else {
					vals[i] = nil
				}
			default:
				vals[i] = it.vals[p]
			}
		}
		if it.skinny {
			it.scanOK, it.advance = it.scan.Next(), false
		}
		return nil
	}
}

// nextRaw returns the next candidate's encoding, created and id (""
// for a scan's: it is in scanID).
func (it *iter) nextRaw() ([]byte, int64, string, error) {
	switch {
	case it.q.IDs != nil:
		for len(it.ids) > 0 {
			id := it.ids[0]
			it.ids = it.ids[1:]
			raw, ok, err := getFrom(it.m.db, primaryKey(it.t.name, id))
			if err != nil {
				return nil, 0, "", err
			}
			if !ok {
				continue
			}
			p, ok := decodePrimary(raw)
			if !ok {
				return nil, 0, "", errCorrupt
			}
			if p.gone() {
				continue
			}
			enc, ok, err := getFrom(it.m.db, it.valueKey(p.created, id))
			if err != nil {
				return nil, 0, "", err
			}
			if ok {
				return enc, p.created, id, nil
			}
		}
		return nil, 0, "", io.EOF
	case it.scan != nil:
		if it.advance {
			it.scanOK, it.advance = it.scan.Next(), false
		}
		if !it.scanOK {
			if err := it.scan.Error(); err != nil {
				return nil, 0, "", err
			}
			return nil, 0, "", io.EOF
		}
		k := it.scan.Key()
		plen := len(it.t.name) + 2
		if len(k) < plen+8 {
			return nil, 0, "", errCorrupt
		}
		created := createdFromDesc(k[plen : plen+8])
		// The value (and the key) is valid until the iterator moves, which
		// the next call does: the decoder copies what it keeps. The id is
		// left in scanID, made a string only by a reader that wants it.
		it.advance = true
		it.scanID = k[plen+8:]
		return it.scan.Value(), created, "", nil
	default:
		for {
			if it.idx == nil {
				if len(it.prefixes) == 0 {
					return nil, 0, "", io.EOF
				}
				p := it.prefixes[0]
				it.prefixes = it.prefixes[1:]
				var err error
				if it.idx, err = it.m.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)}); err != nil {
					return nil, 0, "", err
				}
				if !it.idx.First() {
					if err := it.idx.Close(); err != nil {
						return nil, 0, "", err
					}
					it.idx = nil
					continue
				}
			} else if !it.idx.Next() {
				err := it.idx.Close()
				it.idx = nil
				if err != nil {
					return nil, 0, "", err
				}
				continue
			}
			k := it.idx.Key()
			id := string(k[bytesLastZero(k)+1:])
			if it.seen[id] {
				continue
			}
			it.seen[id] = true
			created, ok := bytesInt64(it.idx.Value())
			if !ok {
				return nil, 0, "", errCorrupt
			}
			enc, ok, err := getFrom(it.m.db, it.valueKey(created, id))
			if err != nil {
				return nil, 0, "", err
			}
			if ok {
				return enc, created, id, nil
			}
		}
	}
}

// valueKey is the key of what the query reads of an object: its narrow
// value or the object.
func (it *iter) valueKey(created int64, id string) []byte {
	if it.narrow != nil {
		return narrowKey(it.t.name, created, id)
	}
	return objectKey(it.t.name, created, id)
}

func bytesLastZero(k []byte) int {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == 0 {
			return i
		}
	}
	return -1
}

func (it *iter) createdOK(c int64) bool {
	return (it.q.CreatedGTE == nil || c >= *it.q.CreatedGTE) && (it.q.CreatedLTE == nil || c <= *it.q.CreatedLTE)
}

func (it *iter) equalOK(obj stripeapi.Object) bool {
	for p, set := range it.equal {
		v, ok := lookup(obj, p)
		if !ok {
			return false
		}
		s, ok := indexValue(v)
		if !ok || !set[s] {
			return false
		}
	}
	return true
}

// Close releases the iterator's store resources.
func (it *iter) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	var err error
	if it.scan != nil {
		err = it.scan.Close()
	}
	if it.idx != nil {
		err = errors.Join(err, it.idx.Close())
	}
	return err
}
