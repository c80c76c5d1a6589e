package mirror

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripesql/stripesql/stripeapi"
)

type env struct {
	t     *testing.T
	dir   string
	clock *clock
	fake  *fakeStripe
	read  *readAll
	cfg   Config
}

func newEnv(t *testing.T, tables ...string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: newClock(), read: newReadAll()}
	var client *stripeapi.Client
	e.fake, client = newFakeStripe(t, e.clock.now)
	cat, tbs := testCatalogTables(t, tables...)
	e.cfg = Config{
		Dir: e.dir, Tables: tbs, Catalog: cat, Client: client, Interval: time.Hour,
		ReadAll: e.read.read, Now: e.clock.now, Overlap: 60 * time.Second, Retention: time.Hour,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	return e
}

// openStore opens the store without background work, for tests that drive
// applies directly.
func (e *env) openStore() *Mirror {
	e.t.Helper()
	m, err := open(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = m.Close() })
	return m
}

// start opens the mirror with its backfill and follower running.
func (e *env) start() *Mirror {
	e.t.Helper()
	m, err := Open(e.t.Context(), e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	closed := false
	e.t.Cleanup(func() {
		if !closed {
			_ = m.Close()
		}
	})
	return m
}

// waitReady waits for every table's backfill, then for the events.
func waitReady(t *testing.T, m *Mirror) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		all := true
		for _, s := range m.Status() {
			all = all && s.State == StateReady
		}
		if all {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tables not ready: %+v", m.Status())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := m.CaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
}

// all reads a table through Objects.
func all(t *testing.T, m *Mirror, table string, q Query) []stripeapi.Object {
	t.Helper()
	it, err := m.Objects(t.Context(), table, q)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []stripeapi.Object
	for {
		o, err := it.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
}

func ids(objs []stripeapi.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.ID())
	}
	return out
}

func sortedIDs(objs []stripeapi.Object) []string {
	return slices.Sorted(slices.Values(ids(objs)))
}

func count(t *testing.T, m *Mirror, table string) int64 {
	t.Helper()
	n, err := m.Count(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppliedThenObjectsAndCount(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	ctx := t.Context()
	for i, id := range []string{"cus_a", "cus_b", "cus_c"} {
		if err := m.Applied(ctx, "customers", jsonObject(cus(id, int64(100+i), "email", id+"@x.io")), false); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_c", "cus_b", "cus_a"}) {
		t.Errorf("Objects = %v, want newest first [cus_c cus_b cus_a]", got)
	}
	if n := count(t, m, "Customers"); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
	if err := m.Applied(ctx, "Customers", stripeapi.Object{"id": "cus_b", "object": "customer", "deleted": true}, true); err != nil {
		t.Fatal(err)
	}
	if got := ids(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_c", "cus_a"}) {
		t.Errorf("after delete Objects = %v, want [cus_c cus_a]", got)
	}
	if n := count(t, m, "Customers"); n != 2 {
		t.Errorf("after delete Count = %d, want 2", n)
	}
	if err := m.Applied(ctx, "Charges", stripeapi.Object{"id": "ch_1"}, false); err != nil {
		t.Errorf("Applied to a table not mirrored = %v, want nil (ignored)", err)
	}
	if _, err := m.Objects(ctx, "Charges", Query{}); err == nil {
		t.Error("Objects of a table not mirrored: no error")
	}
}

func TestBackfillThenEvents(t *testing.T) {
	e := newEnv(t, "Customers")
	now := e.clock.now().Unix()
	e.read.set("Customers", cus("cus_a", now-500, "name", "A"), cus("cus_b", now-400, "name", "B"))
	m := e.start()
	waitReady(t, m)
	if got := sortedIDs(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_a", "cus_b"}) {
		t.Fatalf("after backfill = %v, want [cus_a cus_b]", got)
	}
	e.clock.add(5 * time.Second)
	e.fake.add("evt_1", "customer.updated", now+3, cus("cus_a", now-500, "name", "A2"), true)
	e.fake.add("evt_2", "customer.created", now+4, cus("cus_c", now+4, "name", "C"), true)
	e.fake.add("evt_3", "customer.deleted", now+4, cus("cus_b", now-400, "name", "B"), true)
	if err := m.CaughtUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := all(t, m, "Customers", Query{})
	if ids := ids(got); !slices.Equal(ids, []string{"cus_c", "cus_a"}) {
		t.Fatalf("after events = %v, want [cus_c cus_a]", ids)
	}
	if got[1]["name"] != "A2" {
		t.Errorf("cus_a name = %v, want A2 (the update event)", got[1]["name"])
	}
	st := m.Status()[0]
	if st.Objects != 2 || st.EventsApplied != 3 || st.Backfilled != 2 || st.State != StateReady {
		t.Errorf("Status = %+v, want 2 objects, 3 events, 2 backfilled, ready", st)
	}
	if ready, _ := m.Ready("customers"); !ready {
		t.Error("Ready = false")
	}
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestBackfillRunsUnderTheShareLimiter(t *testing.T) {
	e := newEnv(t, "Customers")
	_, client := newFakeStripe(t, e.clock.now)
	e.cfg.Client = nil // no polling: only the backfill's request spends the share
	e.cfg.Rate = 0.01  // one token, refilled every 100 s
	requests := 0
	e.cfg.ReadAll = func(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
		requests++
		if _, err := client.Get(ctx, "/v1/events", nil); err != nil {
			return err
		}
		return emit(jsonObject(cus("cus_a", 1)))
	}
	m := e.start()
	waitFor(t, func() bool { ready, _ := m.Ready("Customers"); return ready })
	if requests != 1 {
		t.Fatalf("ReadAll called %d times, want 1", requests)
	}
	if tok := m.share.Tokens(); tok > 0.5 {
		t.Errorf("share limiter has %.2f tokens after the backfill's request, want ~0 (it was not spent)", tok)
	}
}

func TestFirstBackfillWritesBlindButCountsExactly(t *testing.T) {
	e := newEnv(t, "Customers")
	var m *Mirror
	now := e.clock.now().Unix()
	e.cfg.ReadAll = func(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
		for _, o := range []map[string]any{cus("cus_a", 1, "name", "v1"), cus("cus_b", 2), cus("cus_a", 1, "name", "v1")} {
			if err := emit(jsonObject(o)); err != nil {
				return err
			}
		}
		// An event during the backfill, newer than its snapshots.
		if err := m.applyEvents(ctx, []event{ev("evt_1", "customer.updated", now+10, cus("cus_a", 1, "name", "v2"))}); err != nil {
			return err
		}
		return emit(jsonObject(cus("cus_b", 2)))
	}
	m = e.openStore()
	if err := m.backfillTable(t.Context(), m.tables["customers"]); err != nil {
		t.Fatal(err)
	}
	if n := count(t, m, "Customers"); n != 2 {
		t.Errorf("Count = %d, want 2 (duplicates counted once)", n)
	}
	if got := name(t, m, "cus_a"); got != "v2" {
		t.Errorf("cus_a name = %v, want v2 (the event is newer than the backfill)", got)
	}
	if st := m.Status()[0]; st.Backfilled != 4 || st.State != StateReady {
		t.Errorf("Status = %+v, want 4 backfilled (as emitted), ready", st)
	}
	if m.tables["customers"].fresh != nil {
		t.Error("the fresh set outlived the backfill")
	}
}

func TestUseAfterCloseIsAnError(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	if err := m.Applied(t.Context(), "Customers", jsonObject(cus("cus_a", 1)), false); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Objects(t.Context(), "Customers", Query{}); !errors.Is(err, errClosed) {
		t.Errorf("Objects after Close = %v, want %v", err, errClosed)
	}
	if err := m.Applied(t.Context(), "Customers", jsonObject(cus("cus_b", 1)), false); !errors.Is(err, errClosed) {
		t.Errorf("Applied after Close = %v, want %v", err, errClosed)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestFailedBackfillIsRetried(t *testing.T) {
	e := newEnv(t, "Customers")
	var mu sync.Mutex
	calls := 0
	e.cfg.ReadAll = func(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			return errors.New("stripe is down")
		}
		return emit(jsonObject(cus("cus_a", 1)))
	}
	m, err := open(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	m.retry = time.Millisecond
	var states []string
	m.start(t.Context())
	waitFor(t, func() bool {
		s := m.Status()[0].State
		if len(states) == 0 || states[len(states)-1] != s {
			states = append(states, s)
		}
		return s == StateReady
	})
	if n := count(t, m, "Customers"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("ReadAll called %d times, want 2 (a failure, then the retry)", calls)
	}
	t.Logf("states seen: %q", states)
}
