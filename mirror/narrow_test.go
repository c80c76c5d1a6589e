package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// TestNarrowPathsFromColumnTypes: the narrow columns are chosen by the
// catalog's types: every integer (money) column of every mirrorable table,
// floats, booleans, timestamps and top-level strings that are not
// references;
// never text, JSON, references, id or created (the key).
func TestNarrowPathsFromColumnTypes(t *testing.T) {
	cat := catalog.All()
	for _, def := range Mirrorable(cat) {
		paths := narrowPaths(def)
		for _, c := range def.Columns {
			in := slices.Contains(paths, c.Path)
			var want bool
			switch {
			case c.Path == "" || c.Path == "id" || c.Path == "created":
			case c.Type == catalog.Integer || c.Type == catalog.Float || c.Type == catalog.Boolean || c.Type == catalog.Timestamp:
				want = true
			case c.Type == catalog.String:
				want = c.Ref == "" && !strings.Contains(c.Path, ".")
			}
			if in != want && !slices.ContainsFunc(paths, func(p string) bool { return len(c.Path) > len(p) && c.Path[:len(p)+1] == p+"." }) {
				t.Errorf("%s.%s (%s, path %q, ref %q): narrow = %v, want %v", def.Name, c.Name, c.Type, c.Path, c.Ref, in, want)
			}
		}
	}
	ch, _ := cat.Lookup("Charges")
	got := narrowPaths(ch)
	for _, p := range []string{"amount", "amount_captured", "amount_refunded", "application_fee_amount", "currency", "status", "paid", "outcome.risk_score"} {
		if !slices.Contains(got, p) {
			t.Errorf("Charges narrow paths %v lack %s", got, p)
		}
	}
	for _, p := range []string{"customer", "description", "metadata", "id", "created", "billing_details", "outcome.type"} {
		if slices.Contains(got, p) {
			t.Errorf("Charges narrow paths %v hold %s", got, p)
		}
	}
}

// randCharge is a charge with random values in the narrow columns (and
// some that are not), including missing fields, nulls and nested ones.
func randCharge(r *rand.Rand, id string, created int64) map[string]any {
	o := map[string]any{
		"id": id, "object": "charge", "created": created,
		"amount": r.Int64N(100000), "currency": []string{"usd", "eur", "EUR", "gbp"}[r.IntN(4)],
		"status": []string{"succeeded", "pending", "failed"}[r.IntN(3)], "paid": r.IntN(2) == 0,
		"customer": fmt.Sprintf("cus_%d", r.IntN(5)), "description": "some words about it",
		"metadata": map[string]any{"order": id},
	}
	switch r.IntN(4) {
	case 0:
		o["amount_refunded"] = r.Int64N(1000)
	case 1:
		o["amount_refunded"] = nil
	case 2:
		o["amount_refunded"] = int64(1) << 62 // beyond a double's exact range
	}
	switch r.IntN(3) {
	case 0:
		o["outcome"] = map[string]any{"risk_score": r.IntN(100), "type": "authorized", "seller_message": "ok"}
	case 1:
		o["outcome"] = nil
	}
	if r.IntN(3) == 0 {
		o["captured"] = r.IntN(2) == 0
	}
	return o
}

// checkNarrowInStep fails unless the narrow keyspace of table holds,
// under exactly the object keyspace's keys, the narrow values of the
// stored objects.
func checkNarrowInStep(t *testing.T, m *Mirror, table string) int {
	t.Helper()
	tb := m.tables[table]
	if tb.narrow == nil {
		t.Fatalf("%s has no narrow columns", table)
	}
	scan := func(kind byte) map[string][]byte {
		p := tablePrefix(kind, tb.name)
		it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		out := map[string][]byte{}
		for ok := it.First(); ok; ok = it.Next() {
			out[string(it.Key()[1:])] = slices.Clone(it.Value())
		}
		return out
	}
	objects, narrow := scan(kindObject), scan(kindNarrow)
	for k, enc := range objects {
		obj, err := newDecoder().decodeObject(enc, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tb.narrow.encode(nil, obj)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := narrow[k]
		switch {
		case !ok:
			t.Errorf("%s %s: no narrow value", table, obj.ID())
		case !bytes.Equal(got, want):
			t.Errorf("%s %s: narrow value %x, want %x (of %v)", table, obj.ID(), got, want, obj)
		}
	}
	for k := range narrow {
		if _, ok := objects[k]; !ok {
			t.Errorf("%s: a narrow value without an object: %q", table, k)
		}
	}
	return len(objects)
}

// TestNarrowKeyspaceFollowsWritesDeletesAndTombstones: random writes,
// events (some stale, some conflicting), deletions and resurrection
// attempts keep the narrow keyspace equal to the projection of the
// objects; so do a backfill and the sweep of the objects it did not see.
func TestNarrowKeyspaceFollowsWritesDeletesAndTombstones(t *testing.T) {
	e := newEnv(t, "Charges")
	r := rand.New(rand.NewPCG(7, 13))
	now := e.clock.now().Unix()
	created := map[string]int64{}
	var objs []map[string]any
	for i := range 300 {
		id := fmt.Sprintf("ch_%03d", i)
		created[id] = now - 10000 + int64(r.IntN(5000))
		objs = append(objs, randCharge(r, id, created[id]))
	}
	e.read.set("Charges", objs...)
	m := e.start()
	waitReady(t, m)
	if n := checkNarrowInStep(t, m, "charges"); n != 300 {
		t.Fatalf("after the backfill: %d objects, want 300", n)
	}
	deleted := 0
	for i := range 600 {
		id := fmt.Sprintf("ch_%03d", r.IntN(350))
		c, ok := created[id]
		if !ok {
			c = now + int64(i)
			created[id] = c
		}
		switch op := r.IntN(10); {
		case op < 4:
			// A write's answer for a deleted charge is refused (and kept out).
			if err := m.Applied(t.Context(), "Charges", jsonObject(randCharge(r, id, c)), false); err != nil && !errors.Is(err, ErrDeletedInMirror) {
				t.Fatal(err)
			}
		case op < 8:
			// Events of random seconds: some older than what is stored.
			applyAll(t, m, ev(fmt.Sprintf("evt_%d", i), "charge.updated", now+int64(r.IntN(600)), randCharge(r, id, c)))
		default:
			applyAll(t, m, ev(fmt.Sprintf("evt_%d", i), "charge.deleted", now+int64(r.IntN(600)), map[string]any{"id": id, "object": "charge", "deleted": true}))
			deleted++
		}
	}
	n := checkNarrowInStep(t, m, "charges")
	if n == 0 || n == 350 || deleted == 0 {
		t.Fatalf("after the workload: %d objects, %d deletions: the workload deleted nothing or everything", n, deleted)
	}
	// A new backfill that does not see a third of the objects sweeps them.
	e.read.set("Charges", objs[:200]...)
	if err := m.rebackfill(e.clock.now(), "test"); err != nil {
		t.Fatal(err)
	}
	waitReady(t, m)
	after := checkNarrowInStep(t, m, "charges")
	if after >= n {
		t.Errorf("after a backfill of 200 objects: %d objects (was %d), want fewer", after, n)
	}
	if got := count(t, m, "Charges"); got != int64(after) {
		t.Errorf("Count = %d, stored objects %d", got, after)
	}
}

// randQuery is a random query of Charges: random narrow (and sometimes
// other) paths, created bounds, ids and equalities.
func randQuery(r *rand.Rand, narrow []string, created []int64) Query {
	var q Query
	if r.IntN(8) != 0 {
		q.Paths = []string{"created"}
		if r.IntN(2) == 0 {
			q.Paths = append(q.Paths, "id")
		}
		for _, p := range narrow {
			if r.IntN(6) == 0 {
				q.Paths = append(q.Paths, p)
			}
		}
		if r.IntN(6) == 0 {
			q.Paths = append(q.Paths, []string{"description", "metadata", "outcome.type", "customer"}[r.IntN(4)])
		}
	}
	if r.IntN(3) == 0 {
		v := created[r.IntN(len(created))]
		q.CreatedGTE = &v
	}
	if r.IntN(3) == 0 {
		v := created[r.IntN(len(created))] + int64(r.IntN(500))
		q.CreatedLTE = &v
	}
	if r.IntN(6) == 0 {
		q.IDs = []string{}
		for range r.IntN(6) {
			q.IDs = append(q.IDs, fmt.Sprintf("ch_%03d", r.IntN(260)))
		}
	}
	if r.IntN(3) == 0 {
		q.Equal = map[string][]string{}
		switch r.IntN(5) {
		case 0:
			q.Equal["status"] = []string{"succeeded", "PENDING"}[:1+r.IntN(2)]
		case 1:
			q.Equal["currency"] = []string{"eur"}
		case 2:
			q.Equal["paid"] = []string{"true"}
		case 3:
			q.Equal["outcome.risk_score"] = []string{fmt.Sprint(r.IntN(100)), fmt.Sprint(r.IntN(100))}
		case 4:
			q.Equal["customer"] = []string{"cus_1"} // not narrow: whole objects
		}
	}
	return q
}

// queryAnswer reads q and returns, per object in order, its id and the
// values at every path the query names (as the rows built of it would
// hold them), and whether the read used the narrow keyspace.
func queryAnswer(t *testing.T, m *Mirror, table string, q Query) ([]string, bool) {
	t.Helper()
	it, err := m.Objects(t.Context(), table, q)
	if err != nil {
		t.Fatal(err)
	}
	narrow := it.(*iter).narrow != nil
	_ = it.Close()
	paths := append([]string{"id", "created"}, q.Paths...)
	for p := range q.Equal {
		paths = append(paths, p)
	}
	if q.Paths == nil {
		paths = append(paths, "amount", "description", "metadata", "outcome.risk_score", "status", "captured")
	}
	var out []string
	for _, obj := range all(t, m, table, q) {
		row := ""
		for _, p := range paths {
			v, ok := lookup(obj, p)
			row += fmt.Sprintf("%s=%#v/%v ", p, v, ok)
		}
		out = append(out, row)
	}
	return out, narrow
}

// TestNarrowReadsAnswerAsWholeObjects: over a seeded store, random queries
// give the same objects, in the same order, with the same values at every
// path they read, whether they read the narrow keyspace or whole objects.
func TestNarrowReadsAnswerAsWholeObjects(t *testing.T) {
	e := newEnv(t, "Charges")
	m := e.openStore()
	r := rand.New(rand.NewPCG(42, 1))
	var created []int64
	for i := range 250 {
		c := int64(1_700_000_000 + r.IntN(2000))
		created = append(created, c)
		if err := m.Applied(t.Context(), "Charges", jsonObject(randCharge(r, fmt.Sprintf("ch_%03d", i), c)), false); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		if err := m.Applied(t.Context(), "Charges", stripeapi.Object{"id": fmt.Sprintf("ch_%03d", i*6)}, true); err != nil {
			t.Fatal(err)
		}
	}
	tb := m.tables["charges"]
	if !tb.narrowReady.Load() {
		t.Fatal("the narrow keyspace of a new store is not ready")
	}
	usedNarrow, usedValues, rows := 0, 0, 0
	for i := range 1000 {
		q := randQuery(r, tb.narrow.paths, created)
		got, narrow := queryAnswer(t, m, "Charges", q)
		tb.narrowReady.Store(false)
		want, whole := queryAnswer(t, m, "Charges", q)
		tb.narrowReady.Store(true)
		if whole {
			t.Fatalf("query %d read narrow values with the keyspace not ready", i)
		}
		keysOnly := len(q.Equal) == 0 && !slices.ContainsFunc(q.Paths, func(p string) bool { return p != "id" && p != "created" })
		if wantNarrow := q.Paths != nil && tb.narrow.covers(q.Paths) && q.Equal["customer"] == nil && !keysOnly; narrow != wantNarrow {
			t.Errorf("query %d %+v: narrow read = %v, want %v", i, q, narrow, wantNarrow)
		}
		if narrow {
			usedNarrow++
		}
		if checkValues(t, m, q) {
			usedValues++
		}
		rows += len(want)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d %+v (narrow %v):\n got  %d: %v\n want %d: %v", i, q, narrow, len(got), got, len(want), want)
		}
	}
	if usedNarrow < 200 || usedValues < 200 || rows < 10000 {
		t.Errorf("%d of 1000 queries read narrow values, %d through NextValues, %d rows compared: too few to show anything", usedNarrow, usedValues, rows)
	}
	t.Logf("1000 random queries, %d read narrow values, %d through NextValues, %d rows compared", usedNarrow, usedValues, rows)
}

// TestOldStoreOpensAnswersAndBuildsNarrowKeyspace: a store written before
// the narrow keyspace existed (or with other narrow columns) opens, answers
// from whole objects, and builds the keyspace in the background, in
// batches a writer may come between; then answers from it, equally.
func TestOldStoreOpensAnswersAndBuildsNarrowKeyspace(t *testing.T) {
	e := newEnv(t, "Charges")
	m := e.openStore()
	r := rand.New(rand.NewPCG(3, 4))
	const n = 3*narrowBatch + 100
	for i := range n {
		if err := m.Applied(t.Context(), "Charges", jsonObject(randCharge(r, fmt.Sprintf("ch_%04d", i), int64(1_700_000_000+i))), false); err != nil {
			t.Fatal(err)
		}
	}
	q := Query{Paths: []string{"created", "amount", "amount_refunded"}}
	want, narrow := queryAnswer(t, m, "Charges", q)
	if !narrow || len(want) != n {
		t.Fatalf("new store: narrow %v, %d objects; want true, %d", narrow, len(want), n)
	}
	for _, old := range []struct {
		name  string
		paths []string
		stale bool // narrow values of another layout are left in the store
	}{
		{"before the narrow keyspace", nil, false},
		{"with other narrow columns", []string{"amount", "status"}, true},
	} {
		// Make the store look as an older binary left it.
		m.wmu.Lock()
		x := m.newTxn()
		p := tablePrefix(kindNarrow, "Charges")
		if err := x.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			t.Fatal(err)
		}
		tb := m.tables["charges"]
		if old.stale {
			if err := x.b.Set(narrowKey("Charges", 1_700_000_005, "ch_0005"), []byte{tagTrue, tagNull}, nil); err != nil {
				t.Fatal(err)
			}
		}
		m.mu.Lock()
		tb.meta.Narrow = old.paths
		m.mu.Unlock()
		x.tableMeta[tb] = true
		if err := x.commit(true); err != nil {
			t.Fatal(err)
		}
		m.wmu.Unlock()
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}

		m = e.openStore()
		got, narrow := queryAnswer(t, m, "Charges", q)
		if narrow || !slices.Equal(got, want) {
			t.Fatalf("%s: reopened: narrow %v, %d objects equal: %v; want whole objects, equal", old.name, narrow, len(got), slices.Equal(got, want))
		}
		// The rebuild, a batch at a time, with writes between batches.
		tb = m.tables["charges"]
		start, end := tablePrefix(kindObject, "Charges"), prefixEnd(tablePrefix(kindObject, "Charges"))
		batches := 0
		for {
			next, done, err := m.narrowRebuildBatch(tb, start, end)
			if err != nil {
				t.Fatal(err)
			}
			batches++
			if done {
				break
			}
			if tb.narrowReady.Load() {
				t.Fatal("ready before the rebuild's last batch")
			}
			// A write ahead of the rebuild, one behind it, a deletion.
			for _, i := range []int{r.IntN(n), r.IntN(n)} {
				o := randCharge(r, fmt.Sprintf("ch_%04d", i), int64(1_700_000_000+i))
				if err := m.Applied(t.Context(), "Charges", jsonObject(o), false); err != nil && !errors.Is(err, ErrDeletedInMirror) {
					t.Fatal(err)
				}
			}
			if err := m.Applied(t.Context(), "Charges", stripeapi.Object{"id": fmt.Sprintf("ch_%04d", r.IntN(n))}, true); err != nil {
				t.Fatal(err)
			}
			start = next
		}
		if batches != 4 {
			t.Errorf("%s: %d batches, want 4", old.name, batches)
		}
		checkNarrowInStep(t, m, "charges")
		got, narrow = queryAnswer(t, m, "Charges", q)
		tb.narrowReady.Store(false)
		want, _ = queryAnswer(t, m, "Charges", q)
		tb.narrowReady.Store(true)
		if !narrow || !slices.Equal(got, want) {
			t.Fatalf("%s: after the rebuild: narrow %v, equal %v; want narrow, equal", old.name, narrow, slices.Equal(got, want))
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		// The meta records the rebuild: the next open uses it at once.
		m = e.openStore()
		if _, narrow := queryAnswer(t, m, "Charges", q); !narrow {
			t.Fatalf("%s: reopened after the rebuild: not narrow", old.name)
		}
	}
	// Opened with the background work running, a store without the
	// keyspace builds it by itself.
	m.wmu.Lock()
	x := m.newTxn()
	tb := m.tables["charges"]
	m.mu.Lock()
	tb.meta.Narrow = nil
	m.mu.Unlock()
	x.tableMeta[tb] = true
	if err := x.commit(true); err != nil {
		t.Fatal(err)
	}
	m.wmu.Unlock()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = e.start()
	waitFor(t, func() bool { return m.tables["charges"].narrowReady.Load() })
	checkNarrowInStep(t, m, "charges")
}

// checkValues fails unless, for a read that gives values (ValueReader),
// NextValues gives for each object the values a lookup of each path finds
// in the object Next gives; it reports whether the read gave values.
func checkValues(t *testing.T, m *Mirror, q Query) bool {
	t.Helper()
	it, err := m.Objects(t.Context(), "Charges", q)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	vr := it.(ValueReader)
	if !vr.Values() {
		return false
	}
	var got []string
	vals := make([]any, len(q.Paths))
	for {
		err := vr.NextValues(vals)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%#v", vals))
	}
	var want []string
	for _, obj := range all(t, m, "Charges", q) {
		row := make([]any, len(q.Paths))
		for i, p := range q.Paths {
			row[i], _ = lookup(obj, p)
		}
		want = append(want, fmt.Sprintf("%#v", row))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%+v: NextValues\n got  %d: %v\n want %d: %v", q, len(got), got, len(want), want)
	}
	return true
}
