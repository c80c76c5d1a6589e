package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/stripeapi"
)

// Versions. Every stored snapshot carries the instant it shows the object
// at, in unix nanoseconds: an event's is its created second (Stripe gives no
// finer time), a snapshot read from Stripe's API (backfill, a re-fetch, a
// write's response) the time the read started. Events arrive out of order
// and become visible late, so a snapshot replaces the stored one only if it
// is newer:
//
//   - a later second wins, an earlier one is dropped;
//   - within one second the order is unknown (many events share one): if
//     both snapshots hold the same values nothing changes, else the object
//     is re-fetched from Stripe and the answer stored with the time of the
//     read (conflict);
//   - a deletion leaves a tombstone with its version. Stripe makes the ids
//     of most objects and never brings one back, so every later-arriving
//     update of such an object is stale, whatever its version. Only a
//     *.created event of a later second replaces the tombstone.
//   - coupons, plans and products take an id the client chooses, and one
//     deleted can be created again with the same id: for them a tombstone
//     is versioned like any snapshot (a later second replaces it, the same
//     second is settled by a re-fetch, and a write's answer replaces one
//     older than it), and a deletion event no later than the stored
//     snapshot's second is checked by a re-fetch, since it may precede a
//     re-creation. Tombstones are neither returned nor counted.
//
// Every object that exists is therefore eventually stored as its newest
// snapshot: the newest change has the latest second of all, and a tie is
// settled by asking Stripe.

const nsPerSecond = int64(1e9)

func second(version int64) int64 { return version / nsPerSecond }

// eventVersion is the version of a snapshot carried by an event created at
// the given unix second.
func eventVersion(created int64) int64 { return created * nsPerSecond }

type result int

const (
	resApplied  result = iota // stored (or deleted)
	resSame                   // the store already held these values
	resStale                  // older than what is stored: dropped
	resConflict               // same second, other values: re-fetch it
	// resGone: not stored, because the store holds the object's deletion
	// and this snapshot cannot replace it. For a write's answer (Applied)
	// it means the write is not shown yet.
	resGone
)

// chosenIDs are the object types whose id the client may choose when
// creating one (Stripe's create takes an "id"), so that an id can be
// deleted and created again: its tombstone is not final.
var chosenIDs = map[string]bool{"coupon": true, "plan": true, "product": true}

// how says how a snapshot is compared with the stored one.
type how int

const (
	// compare applies the version rule above.
	compare how = iota
	// creation compares as compare does, for the snapshot of a *.created
	// event: one of a later second replaces a tombstone.
	creation
	// force stores the snapshot unless the stored one is of a later second
	// or a tombstone it cannot replace (replaces): a re-fetch's answer, or
	// a write's response (read your writes), is the newest thing known at
	// that instant.
	force
	// sweep, with deleted, leaves a soft tombstone (primary.swept): for an
	// object a backfill did not list, or a re-fetch did not find.
	sweep
	// backfill compares as compare does; during the first backfill of an
	// empty table it writes blind (table.fresh).
	backfill
)

// txn is one Pebble batch of changes, with the counters it moves; nothing
// is visible to readers (or counted) until it commits, and it commits
// whole, with the events cursor and applied ids when it carries them.
type txn struct {
	m *Mirror
	b *pebble.Batch // indexed: reads see the batch's own writes

	objects   map[*table]int64 // change of each table's object count
	events    map[*table]int64
	backfill  map[*table]int64
	tableMeta map[*table]bool // tables whose meta must be rewritten
	narrowBuf []byte          // scratch for narrow values (narrow.go)
}

func (m *Mirror) newTxn() *txn {
	return &txn{
		m: m, b: m.db.NewIndexedBatch(),
		objects: map[*table]int64{}, events: map[*table]int64{}, backfill: map[*table]int64{},
		tableMeta: map[*table]bool{},
	}
}

func (x *txn) get(key []byte) ([]byte, bool, error) {
	v, closer, err := x.b.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := bytes.Clone(v)
	return out, true, closer.Close()
}

// put stores obj as a snapshot of table t at version, or its deletion.
func (x *txn) put(t *table, obj stripeapi.Object, version int64, deleted bool, h how) (result, error) {
	id := obj.ID()
	if id == "" {
		return 0, fmt.Errorf("mirror: %s: object without an id", t.name)
	}
	pk := primaryKey(t.name, id)
	var (
		raw   []byte
		found bool
		err   error
	)
	switch {
	case t.fresh != nil && h == backfill && !t.fresh[id]:
		// A first backfill of an empty table: nothing but this backfill
		// (duplicates included) wrote this id, so there is nothing to
		// look up, which is most of a lookup-per-object write's cost.
		// Its count is made exact when the backfill ends.
	case t.fresh != nil && h != backfill:
		t.fresh[id] = true
		fallthrough
	default:
		if raw, found, err = x.get(pk); err != nil {
			return 0, err
		}
	}
	var old primary
	if found {
		if old, found = decodePrimary(raw); !found {
			return 0, fmt.Errorf("mirror: %s %s: corrupt primary record", t.name, id)
		}
	}
	reusable := chosenIDs[t.t.Object]
	switch {
	case found && old.deleted && deleted:
		// Already gone; a later deletion moves the tombstone's version, so
		// that a re-creation between the two, seen late, stays stale.
		if h != sweep && second(version) > second(old.version) {
			old.version = version
			return resSame, x.b.Set(pk, old.encode(), nil)
		}
		return resStale, nil
	case found && old.deleted:
		if res := replaces(version, old.version, h, reusable); res != resApplied {
			return res, nil
		}
	case found && old.swept && h == sweep:
		return resSame, nil
	case found && old.swept && !deleted:
		// A soft tombstone: the object was out of sight, not deleted.
		if res := replaces(version, old.version, h, true); res != resApplied {
			return res, nil
		}
	}
	live := found && !old.gone()
	if live && deleted && reusable && h == compare && second(version) <= second(old.version) {
		// The stored snapshot is of this deletion's second or later: it
		// may show the object created again since. Stripe decides.
		return resConflict, nil
	}
	var enc []byte
	if !deleted {
		if enc, err = encodeObject(nil, obj); err != nil {
			return 0, fmt.Errorf("mirror: %s %s: %w", t.name, id, err)
		}
	}
	var oldEnc []byte
	if live {
		if oldEnc, _, err = x.get(objectKey(t.name, old.created, id)); err != nil {
			return 0, err
		}
	}
	if live && !deleted {
		switch s, o := second(version), second(old.version); {
		case s < o:
			return resStale, nil
		case s == o && bytes.Equal(oldEnc, enc):
			if version > old.version {
				old.version = version
				return resSame, x.b.Set(pk, old.encode(), nil)
			}
			return resSame, nil
		case s == o && (h == compare || h == creation || h == backfill):
			return resConflict, nil
		}
	}
	if live {
		version = max(version, old.version)
		if err := x.unindex(t, id, old.created, oldEnc); err != nil {
			return 0, err
		}
	}
	if deleted {
		rec := primary{version: version, deleted: h != sweep, swept: h == sweep, created: old.created}
		if err := x.b.Set(pk, rec.encode(), nil); err != nil {
			return 0, err
		}
		if live {
			x.objects[t]--
			x.tableMeta[t] = true
		}
		if h == sweep {
			return resApplied, nil // a nested table's own backfill sweeps it
		}
		return resApplied, x.cascade(t, id, version)
	}
	created := createdOf(obj)
	if err := x.b.Set(objectKey(t.name, created, id), enc, nil); err != nil {
		return 0, err
	}
	if err := x.b.Set(skinnyKey(t.name, created, id), nil, nil); err != nil {
		return 0, err
	}
	if err := x.setNarrow(t, created, id, obj); err != nil {
		return 0, err
	}
	for _, p := range t.indexed {
		if v, ok := lookup(obj, p); ok {
			if s, ok := indexValue(v); ok && !strings.ContainsRune(s, 0) {
				if err := x.b.Set(append(indexPrefix(t.name, p, s), id...), int64Bytes(created), nil); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := x.b.Set(pk, primary{version: version, created: created}.encode(), nil); err != nil {
		return 0, err
	}
	if !live {
		x.objects[t]++
		x.tableMeta[t] = true
	}
	return resApplied, nil
}

// replaces tells whether a snapshot at version, not a deletion, replaces
// a tombstone at tomb (resApplied), or what becomes of it. A tombstone
// that can be undone (revivable: a soft one, or one of an id the client
// chooses) gives way to a snapshot of a later second, and to a write's or
// a re-fetch's answer (force) read no earlier than it (a re-fetch is read
// after the tombstone was found, a write answered after the deletion's
// answer was applied); a snapshot of its second is settled by a re-fetch.
// Any other tombstone gives way only to a creation of a later second.
func replaces(version, tomb int64, h how, revivable bool) result {
	s, o := second(version), second(tomb)
	switch {
	case revivable && h == force:
		if version >= tomb {
			return resApplied
		}
	case revivable || h == creation:
		if s > o {
			return resApplied
		}
		if s == o && revivable {
			return resConflict
		}
	}
	return resGone
}

// unindex removes an object's stored values and index entries.
func (x *txn) unindex(t *table, id string, created int64, enc []byte) error {
	if err := x.b.Delete(objectKey(t.name, created, id), nil); err != nil {
		return err
	}
	if err := x.b.Delete(skinnyKey(t.name, created, id), nil); err != nil {
		return err
	}
	if t.narrow != nil {
		if err := x.b.Delete(narrowKey(t.name, created, id), nil); err != nil {
			return err
		}
	}
	if enc == nil || len(t.indexed) == 0 {
		return nil
	}
	obj, err := newDecoder().decodeObject(enc, sortedFields(t.indexTops))
	if err != nil {
		return fmt.Errorf("mirror: %s %s: %w", t.name, id, err)
	}
	for _, p := range t.indexed {
		if v, ok := lookup(obj, p); ok {
			if s, ok := indexValue(v); ok && !strings.ContainsRune(s, 0) {
				if err := x.b.Delete(append(indexPrefix(t.name, p, s), id...), nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cascade deletes the objects of nested tables that live under a deleted
// object (a deleted customer's cards): Stripe lists them through the
// parent, so they are gone from the table as live reads see it.
func (x *txn) cascade(parent *table, id string, version int64) error {
	for _, child := range parent.children {
		prefix := indexPrefix(child.name, child.parentPath, strings.ToLower(id))
		it, err := x.b.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		var ids []string
		for ok := it.First(); ok; ok = it.Next() {
			ids = append(ids, string(it.Key()[len(prefix):]))
		}
		if err := it.Close(); err != nil {
			return err
		}
		for _, cid := range ids {
			// The index is case-blind; only children of exactly this id go.
			obj, ok, err := x.m.read(x.b, child, cid, child.indexTops)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if v, _ := lookup(obj, child.parentPath); v != id && !isObjectWithID(v, id) {
				continue
			}
			if _, err := x.put(child, stripeapi.Object{"id": cid}, version, true, force); err != nil {
				return err
			}
		}
	}
	return nil
}

func isObjectWithID(v any, id string) bool {
	m, ok := v.(map[string]any)
	return ok && m["id"] == id
}

// createdOf returns an object's created second, or 0 for objects without
// one (a card): those sort last and no created range selects them.
func createdOf(obj stripeapi.Object) int64 {
	switch v := obj["created"].(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err == nil {
			return n
		}
	case float64:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

// commit writes the batch, with the meta of the tables it changed, and
// publishes the counters. sync makes it durable before it returns. The
// batch is closed whatever happens; on an error nothing of it is written
// and nothing in memory moves.
func (x *txn) commit(sync bool) (err error) {
	defer func() {
		if cerr := x.b.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("mirror: close batch: %w", cerr)
		}
	}()
	x.m.mu.Lock()
	metas := map[*table]tableMeta{}
	for t := range x.tableMeta {
		mt := t.meta
		mt.Objects += x.objects[t]
		mt.EventsApplied += x.events[t]
		mt.Backfilled += x.backfill[t]
		metas[t] = mt
	}
	x.m.mu.Unlock()
	for t, mt := range metas {
		b, err := json.Marshal(mt)
		if err != nil {
			return err
		}
		if err := x.b.Set(metaKey(t.name), b, nil); err != nil {
			return err
		}
	}
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	if x.m.failCommit != nil {
		if err := x.m.failCommit(); err != nil {
			return fmt.Errorf("mirror: commit: %w", err)
		}
	}
	if err := x.b.Commit(opt); err != nil {
		return fmt.Errorf("mirror: commit: %w", err)
	}
	x.m.mu.Lock()
	for t := range metas {
		t.meta.Objects += x.objects[t]
		t.meta.EventsApplied += x.events[t]
		t.meta.Backfilled += x.backfill[t]
	}
	x.m.mu.Unlock()
	return nil
}

// abort drops the batch.
func (x *txn) abort() { _ = x.b.Close() }
