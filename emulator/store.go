package emulator

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// A record is one stored object plus the bookkeeping Stripe keeps out of
// the object itself.
type record struct {
	obj     object    // nil while a seeded record is not materialized (see gen)
	id      string    // the object's id, kept so a lazy record needs no obj
	created int64     // the list sort key (createdOf), kept so sorting needs no obj
	seq     uint64    // insertion order: breaks ties between equal created seconds
	touched time.Time // last create or update, by the emulator clock; drives search lag
	deleted bool      // a tombstone: retrievable as {"deleted": true} but never listed
	// spent marks a payment method detached from its customer, which
	// Stripe refuses to attach (or use) again; the object does not show it.
	spent bool

	// gen builds the object of a seeded record on demand (Seed); n is the
	// record's number within its seeding. Seeding a million objects as maps
	// would take gigabytes, so they exist only as these few words until
	// something reads or changes one.
	gen *seeding
	n   int
}

// A table holds the objects of one type: by id, and in list order.
type table struct {
	byID map[string]*record
	// order holds every record of byID, tombstones included, sorted
	// oldest first by (created, seq): the reverse of Stripe's list order,
	// so that creating an object, whose created time is the latest,
	// appends. Lists walk it backwards from a cursor or created bound found
	// by binary search, so a page costs O(page + log n) rather than a sort
	// of the whole table.
	order []*record
}

// store holds every object, keyed by object name and id, and the PRNG that
// mints ids. It is guarded by Emulator.mu.
type store struct {
	rng    *rand.Rand
	seq    uint64
	tables map[string]*table // object name → table
	// j records the state, before the first change, of every record handed
	// out for changing since the last commit (see journal in events.go).
	// Every path that can change an object goes through lookup, live, put
	// or remove, which feed it, so it is the one place where changes are
	// seen, whichever request, action or helper made them.
	j journal
}

func newStore(seed uint64) *store {
	return &store{
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		tables: map[string]*table{},
	}
}

func (s *store) table(objectName string) *table {
	t := s.tables[objectName]
	if t == nil {
		t = &table{byID: map[string]*record{}}
		s.tables[objectName] = t
	}
	return t
}

// lookup returns the record with the given id, tombstones included.
func (s *store) lookup(objectName, id string) *record {
	if t := s.tables[objectName]; t != nil {
		if r := t.byID[id]; r != nil {
			s.materialize(r)
			s.j.track(r)
			return r
		}
	}
	return nil
}

// get returns the live (non-deleted) record with the given id.
func (s *store) get(objectName, id string) *record {
	if r := s.lookup(objectName, id); r != nil && !r.deleted {
		return r
	}
	return nil
}

// getObj is get for callers that only need the object.
func (s *store) getObj(objectName, id string) object {
	if r := s.get(objectName, id); r != nil {
		return r.obj
	}
	return nil
}

// peekObj returns a live object for reading only: a seeded object is
// built for the caller and not kept, so that reading every object of a
// large seeded table (a list, an expansion) does not store them all.
// The caller must not modify the result.
func (s *store) peekObj(objectName, id string) object {
	if t := s.tables[objectName]; t != nil {
		if r := t.byID[id]; r != nil && !r.deleted {
			return s.peek(r)
		}
	}
	return nil
}

// peek returns r's object, building a seeded one without keeping it.
func (s *store) peek(r *record) object {
	if r.obj != nil {
		return r.obj
	}
	return r.gen.build(r)
}

// materialize makes a seeded record an ordinary one, whose object can be
// changed in place.
func (s *store) materialize(r *record) {
	if r.obj == nil {
		r.obj = r.gen.build(r)
		r.gen = nil
	}
}

// put inserts or replaces an object, keeping the original insertion order
// of a replaced object.
func (s *store) put(o object, touched time.Time) *record {
	t := s.table(str(o, "object"))
	id := str(o, "id")
	if old := t.byID[id]; old != nil {
		s.materialize(old)
		s.j.track(old)
		if c := createdOf(o); c != old.created {
			t.unlink(old)
			old.created = c
			t.link(old)
		}
		old.obj, old.touched, old.deleted, old.gen = o, touched, false, nil
		return old
	}
	s.seq++
	r := &record{obj: o, id: id, created: createdOf(o), seq: s.seq, touched: touched}
	t.byID[id] = r
	t.link(r)
	s.j.created(r)
	return r
}

func (s *store) remove(objectName, id string) {
	t := s.tables[objectName]
	if t == nil {
		return
	}
	if r := t.byID[id]; r != nil {
		s.materialize(r)
		s.j.removed(r)
		t.unlink(r)
		delete(t.byID, id)
	}
}

// olderFirst is the order of table.order: created ascending, then
// insertion order.
func olderFirst(a, b *record) int {
	if c := cmp.Compare(a.created, b.created); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// newerFirst orders records the way every Stripe list does: by created
// descending, ties broken by insertion order, newest first.
func newerFirst(a, b *record) int { return olderFirst(b, a) }

// link inserts r into order at its place. New objects land at the end, so
// the usual cost is an append.
func (t *table) link(r *record) {
	n := len(t.order)
	if n == 0 || olderFirst(t.order[n-1], r) < 0 {
		t.order = append(t.order, r)
		return
	}
	i, _ := slices.BinarySearchFunc(t.order, r, olderFirst)
	t.order = slices.Insert(t.order, i, r)
}

func (t *table) unlink(r *record) {
	if i, found := slices.BinarySearchFunc(t.order, r, olderFirst); found {
		t.order = slices.Delete(t.order, i, i+1)
	}
}

// before returns the index in order of r, or where it would be: order[:i]
// are the records older than r.
func (t *table) before(r *record) int {
	i, _ := slices.BinarySearchFunc(t.order, r, olderFirst)
	return i
}

// after returns the index in order of the first record that sorts after
// r: order[:i] are r and the records older than it.
func (t *table) after(r *record) int {
	i, found := slices.BinarySearchFunc(t.order, r, olderFirst)
	if found {
		i++
	}
	return i
}

// createdFrom returns the index of the first record created at or after
// sec.
func (t *table) createdFrom(sec int64) int {
	i, _ := slices.BinarySearchFunc(t.order, sec, func(r *record, sec int64) int { return cmp.Compare(r.created, sec) })
	return i
}

// live returns the table's non-deleted records whose objects satisfy keep,
// newest first, with their objects materialized: callers may read and
// change them. keep sees each object read-only, so that records the caller
// has no use for are neither materialized nor journaled. It costs O(n);
// list pages use the index instead.
func (s *store) live(objectName string, keep func(o object) bool) []*record {
	t := s.tables[objectName]
	if t == nil {
		return nil
	}
	var out []*record
	for i := len(t.order) - 1; i >= 0; i-- {
		if r := t.order[i]; !r.deleted && keep(s.peek(r)) {
			s.materialize(r)
			s.j.track(r)
			out = append(out, r)
		}
	}
	return out
}

// listed returns the table's non-deleted records, newest first, as they
// are: callers read objects through peek.
func (s *store) listed(objectName string) []*record {
	t := s.tables[objectName]
	if t == nil {
		return nil
	}
	out := make([]*record, 0, len(t.order))
	for i := len(t.order) - 1; i >= 0; i-- {
		if r := t.order[i]; !r.deleted {
			out = append(out, r)
		}
	}
	return out
}

// count returns the number of live objects of a type.
func (s *store) count(objectName string) int {
	n := 0
	if t := s.tables[objectName]; t != nil {
		for _, r := range t.order {
			if !r.deleted {
				n++
			}
		}
	}
	return n
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n alphanumerics drawn with intn (a PRNG's IntN).
func randomString(intn func(int) int, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[intn(len(idAlphabet))]
	}
	return string(b)
}

// randomString returns n alphanumerics from the store's PRNG.
func (s *store) randomString(n int) string { return randomString(s.rng.IntN, n) }

// newID mints a fresh id with the given prefix ("cus_") and length of the
// random part, as Stripe's ids have (14 to 24 characters).
func (s *store) newID(objectName, prefix string, n int) string {
	for {
		id := prefix + s.randomString(n)
		if t := s.tables[objectName]; t == nil || t.byID[id] == nil {
			return id
		}
	}
}

// createdOf returns an object's creation time; invoice items call it date.
func createdOf(o object) int64 {
	if v, ok := o["created"]; ok {
		n, _ := asInt(v)
		return n
	}
	return intOf(o, "date")
}
