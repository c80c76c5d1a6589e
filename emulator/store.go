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
	obj     object
	seq     uint64    // insertion order: breaks ties between equal created seconds
	touched time.Time // last create or update, by the emulator clock; drives search lag
	deleted bool      // a tombstone: retrievable as {"deleted": true} but never listed
}

// store holds every object, keyed by object name and id, and the PRNG that
// mints ids. It is guarded by Emulator.mu.
type store struct {
	rng    *rand.Rand
	seq    uint64
	tables map[string]map[string]*record // object name → id → record
}

func newStore(seed uint64) *store {
	return &store{
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		tables: map[string]map[string]*record{},
	}
}

func (s *store) table(objectName string) map[string]*record {
	t := s.tables[objectName]
	if t == nil {
		t = map[string]*record{}
		s.tables[objectName] = t
	}
	return t
}

// get returns the live (non-deleted) record with the given id.
func (s *store) get(objectName, id string) *record {
	if r := s.tables[objectName][id]; r != nil && !r.deleted {
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

// put inserts or replaces an object, keeping the original insertion order
// of a replaced object.
func (s *store) put(o object, touched time.Time) *record {
	t := s.table(str(o, "object"))
	id := str(o, "id")
	if old := t[id]; old != nil {
		old.obj, old.touched, old.deleted = o, touched, false
		return old
	}
	s.seq++
	r := &record{obj: o, seq: s.seq, touched: touched}
	t[id] = r
	return r
}

func (s *store) remove(objectName, id string) {
	delete(s.tables[objectName], id)
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
		if _, taken := s.tables[objectName][id]; !taken {
			return id
		}
	}
}

// newerFirst orders records the way every Stripe list does: by created
// descending, ties broken by insertion order, newest first.
func newerFirst(a, b *record) int {
	if c := cmp.Compare(createdOf(b.obj), createdOf(a.obj)); c != 0 {
		return c
	}
	return cmp.Compare(b.seq, a.seq)
}

// live returns the table's non-deleted records, newest first.
func (s *store) live(objectName string) []*record {
	var out []*record
	for _, r := range s.tables[objectName] {
		if !r.deleted {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, newerFirst)
	return out
}

// count returns the number of live objects of a type.
func (s *store) count(objectName string) int {
	n := 0
	for _, r := range s.tables[objectName] {
		if !r.deleted {
			n++
		}
	}
	return n
}

// createdOf returns an object's creation time; invoice items call it date.
func createdOf(o object) int64 {
	if v, ok := o["created"]; ok {
		n, _ := asInt(v)
		return n
	}
	return intOf(o, "date")
}
