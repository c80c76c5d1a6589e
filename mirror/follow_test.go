package mirror

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/stripeapi"
)

func caughtUp(t *testing.T, m *Mirror) {
	t.Helper()
	if err := m.CaughtUp(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestLateAndOutOfOrderEventsAcrossPolls(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.start()
	waitReady(t, m)
	now := e.clock.now().Unix()

	// Poll 1 sees the update of second now+2 but not the creation (now+1)
	// nor a later update (now+3): both become visible only later.
	e.clock.add(5 * time.Second)
	e.fake.add("evt_1", "customer.created", now+1, cus("cus_a", now+1, "name", "v1"), false)
	e.fake.add("evt_2", "customer.updated", now+2, cus("cus_a", now+1, "name", "v2"), true)
	e.fake.add("evt_3", "customer.updated", now+3, cus("cus_a", now+1, "name", "v3"), false)
	caughtUp(t, m)
	if got := name(t, m, "cus_a"); got != "v2" {
		t.Fatalf("after poll 1 name = %v, want v2", got)
	}

	// 30 s later (within the 60 s overlap) both late events are listed.
	e.clock.add(30 * time.Second)
	e.fake.show("evt_1")
	e.fake.show("evt_3")
	caughtUp(t, m)
	if got := name(t, m, "cus_a"); got != "v3" {
		t.Errorf("after the late events name = %v, want v3 (evt_1 is older than v2 and must not win)", got)
	}

	// More polls re-list the same events; none is applied twice.
	for range 3 {
		e.clock.add(time.Second)
		caughtUp(t, m)
	}
	if st := m.Status()[0]; st.EventsApplied != 3 || st.Objects != 1 {
		t.Errorf("Status = %+v, want 3 events applied once each, 1 object", st)
	}
	e.fake.mu.Lock()
	lists := e.fake.lists
	e.fake.mu.Unlock()
	if lists < 5 {
		t.Errorf("%d event list calls, want at least 5 (one per poll)", lists)
	}

	// Once the overlap has passed, the cursor moves on and the applied ids
	// older than it are forgotten.
	e.clock.add(2 * time.Minute)
	caughtUp(t, m)
	m.mu.Lock()
	cursor := m.cursor
	m.mu.Unlock()
	if want := e.clock.now().Add(-time.Minute).Unix(); cursor != want {
		t.Errorf("cursor = %d, want now−overlap = %d", cursor, want)
	}
	if n := appliedIDs(t, m); n != 0 {
		t.Errorf("%d applied ids kept after the overlap, want 0", n)
	}
}

func appliedIDs(t *testing.T, m *Mirror) int {
	t.Helper()
	prefix := []byte{kindApplied}
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}

func TestRestartAppliesNothingTwiceAndLosesNothing(t *testing.T) {
	e := newEnv(t, "Customers")
	now := e.clock.now().Unix()
	e.read.set("Customers", cus("cus_a", now-100, "name", "A"))
	m := e.start()
	waitReady(t, m)
	e.clock.add(5 * time.Second)
	e.fake.add("evt_1", "customer.created", now+1, cus("cus_b", now+1, "name", "B"), true)
	e.fake.add("evt_2", "customer.updated", now+2, cus("cus_a", now-100, "name", "A2"), true)
	caughtUp(t, m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// While it is down: a new event, and an old one made visible late.
	e.clock.add(10 * time.Second)
	e.fake.add("evt_3", "customer.updated", now+12, cus("cus_b", now+1, "name", "B2"), true)
	e.fake.add("evt_0", "customer.created", now+3, cus("cus_c", now+3, "name", "C"), true)
	m2 := e.start()
	caughtUp(t, m2)
	if n := e.read.count("Customers"); n != 1 {
		t.Errorf("ReadAll called %d times over a restart, want 1 (no new backfill)", n)
	}
	st := m2.Status()[0]
	if st.State != StateReady || st.EventsApplied != 4 || st.Objects != 3 {
		t.Errorf("after restart Status = %+v, want ready, 4 events (2 before, 2 after: none twice), 3 objects", st)
	}
	got := all(t, m2, "Customers", Query{})
	names := map[string]any{}
	for _, o := range got {
		names[o.ID()] = o["name"]
	}
	if names["cus_a"] != "A2" || names["cus_b"] != "B2" || names["cus_c"] != "C" {
		t.Errorf("names after restart = %v, want cus_a A2, cus_b B2, cus_c C", names)
	}
}

func TestCursorOlderThanRetentionBackfillsAgain(t *testing.T) {
	e := newEnv(t, "Customers")
	now := e.clock.now().Unix()
	e.read.set("Customers", cus("cus_a", now-100), cus("cus_b", now-90))
	m := e.start()
	waitReady(t, m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Down for longer than the retention (1h in these tests): cus_b was
	// deleted and cus_c created, and their events are gone.
	e.clock.add(2 * time.Hour)
	e.read.set("Customers", cus("cus_a", now-100), cus("cus_c", now+3600))
	m2 := e.start()
	waitReady(t, m2)
	if n := e.read.count("Customers"); n != 2 {
		t.Errorf("ReadAll called %d times, want 2 (a new backfill)", n)
	}
	if got := sortedIDs(all(t, m2, "Customers", Query{})); !slices.Equal(got, []string{"cus_a", "cus_c"}) {
		t.Errorf("after the new backfill = %v, want [cus_a cus_c] (cus_b swept)", got)
	}
	if n := count(t, m2, "Customers"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
}

func TestStripeRefusingTheCursorBackfillsAgain(t *testing.T) {
	e := newEnv(t, "Customers")
	now := e.clock.now().Unix()
	e.read.set("Customers", cus("cus_a", now-100))
	m := e.start()
	waitReady(t, m)
	// Stripe keeps events less long than configured here (100 s < 1 h): it
	// refuses the cursor, and the mirror reads everything again.
	e.fake.mu.Lock()
	e.fake.retention = 100
	e.fake.mu.Unlock()
	e.read.set("Customers", cus("cus_a", now-100), cus("cus_z", now+5))
	e.clock.add(300 * time.Second)
	m.kickPoll()
	waitFor(t, func() bool { return e.read.count("Customers") >= 2 })
	waitReady(t, m)
	if got := sortedIDs(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_a", "cus_z"}) {
		t.Errorf("after the refusal = %v, want [cus_a cus_z]", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShortPollsAndFullPolls(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.start()
	waitReady(t, m)
	lastGTE := func() (int64, int) {
		e.fake.mu.Lock()
		defer e.fake.mu.Unlock()
		return e.fake.gtes[len(e.fake.gtes)-1], len(e.fake.gtes)
	}
	_, n := lastGTE()
	e.clock.add(5 * time.Second)
	now := e.clock.now().Unix()
	// A straggler: created 30 s ago, visible only now.
	e.fake.add("evt_late", "customer.created", now-30, cus("cus_late", now-30), true)
	m.kickPoll()
	waitFor(t, func() bool { _, k := lastGTE(); return k > n })
	if gte, _ := lastGTE(); gte != now-10 {
		t.Errorf("short poll listed from %d, want now−10s = %d", gte, now-10)
	}
	// CaughtUp asks for a full poll, which reads the whole overlap.
	caughtUp(t, m)
	if gte, _ := lastGTE(); gte > now-60 {
		t.Errorf("full poll listed from %d, want at most now−60s = %d", gte, now-60)
	}
	if got := ids(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_late"}) {
		t.Errorf("after the full poll = %v, want [cus_late]", got)
	}
}

func TestRetentionErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&stripeapi.Error{HTTPStatus: 400, Param: "created", Message: "x"}, true},
		{&stripeapi.Error{HTTPStatus: 400, Param: "created[gte]", Message: "x"}, true},
		{&stripeapi.Error{HTTPStatus: 404, Code: "resource_missing", Param: "starting_after", Message: "No such event: 'evt_1'"}, true},
		{&stripeapi.Error{HTTPStatus: 400, Message: "Events older than 30 days are not available"}, true},
		{&stripeapi.Error{HTTPStatus: 400, Param: "limit", Message: "bad limit"}, false},
		{&stripeapi.Error{HTTPStatus: 500, Param: "created", Message: "x"}, false},
		{errors.New("connection refused"), false},
	} {
		if got := isRetentionError(c.err); got != c.want {
			t.Errorf("isRetentionError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestLocalClockAheadOfStripe: with the local clock two minutes ahead of
// Stripe's (more than the overlap), polls read from Stripe's time, so no
// event is missed, and a write's snapshot is dated in Stripe's time, so a
// later change's event still wins.
func TestLocalClockAheadOfStripe(t *testing.T) {
	e := newEnv(t, "Customers")
	e.fake.skew = 2 * time.Minute
	m := e.start()
	waitReady(t, m)
	caughtUp(t, m) // the first poll measured the skew; this one used it
	stripeNow := e.clock.now().Add(-2 * time.Minute).Unix()
	if err := m.Applied(t.Context(), "Customers", jsonObject(cus("cus_a", stripeNow, "name", "written")), false); err != nil {
		t.Fatal(err)
	}
	e.clock.add(5 * time.Second)
	e.fake.add("evt_1", "customer.created", stripeNow+2, cus("cus_b", stripeNow+2, "name", "B"), true)
	e.fake.add("evt_2", "customer.updated", stripeNow+3, cus("cus_a", stripeNow, "name", "changed"), true)
	caughtUp(t, m)
	got := map[string]any{}
	for _, o := range all(t, m, "Customers", Query{}) {
		got[o.ID()] = o["name"]
	}
	if got["cus_b"] != "B" || got["cus_a"] != "changed" {
		t.Errorf("names = %v, want cus_b B (event not missed) and cus_a changed (the later event wins over the write)", got)
	}
	if skew := time.Duration(m.skew.Load()); skew < 115*time.Second || skew > 125*time.Second {
		t.Errorf("measured skew %v, want ~2m", skew)
	}
}

// TestSlowPollStillAdvancesTheCursor: a poll whose applying takes long
// (here five re-fetches of a second each, between its two pages) is no
// clock skew: the skew is measured on a page's own round trip, so the
// poll applies everything and moves the cursor.
func TestSlowPollStillAdvancesTheCursor(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	start := e.clock.now()
	now := start.Unix()
	for i := range 5 {
		id := fmt.Sprint("cus_", i)
		applyAll(t, m, ev("evt_a"+id, "customer.created", now-2, cus(id, now-2, "name", "a")))
		// The same second, other values: a conflict, settled by a re-fetch.
		e.fake.add("evt_b"+id, "customer.updated", now-2, cus(id, now-2, "name", "b"), true)
		e.fake.objects["/v1/customers/"+id] = cus(id, now-2, "name", "c")
	}
	for i := range 145 {
		id := fmt.Sprint("cus_n", i)
		e.fake.add("evt_"+id, "customer.created", now-50+int64(i/10), cus(id, now-50+int64(i/10)), true)
	}
	e.fake.onGet = func() { e.clock.add(time.Second) }
	if err := m.poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.gets) != 5 || e.fake.lists != 2 {
		t.Fatalf("%d re-fetches, %d event pages; want 5 and 2 (the re-fetches between the pages)", len(e.fake.gets), e.fake.lists)
	}
	if skew := time.Duration(m.skew.Load()); skew != 0 {
		t.Errorf("skew = %v after a slow poll, want 0 (the clocks agree)", skew)
	}
	if c, want := memCursor(m), start.Add(-time.Minute).Unix(); c != want {
		t.Errorf("cursor = %d, want the poll's start − overlap = %d", c, want)
	}
	if st := m.Status()[0]; st.EventsApplied != 155 || st.Objects != 150 {
		t.Errorf("Status = %+v, want 155 events applied (5 before, 150 in the poll), 150 objects", st)
	}
	for i := range 5 {
		if got := name(t, m, fmt.Sprint("cus_", i)); got != "c" {
			t.Errorf("cus_%d name = %v, want c (re-fetched)", i, got)
		}
	}
}
