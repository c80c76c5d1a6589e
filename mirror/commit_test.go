package mirror

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// storedCursor is the events cursor on disk (0 if none).
func storedCursor(t *testing.T, m *Mirror) int64 {
	t.Helper()
	v, ok, err := m.getDB(cursorKey)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0
	}
	c, ok := bytesInt64(v)
	if !ok {
		t.Fatalf("corrupt cursor %x", v)
	}
	return c
}

func memCursor(m *Mirror) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursor
}

// TestFailedCommitMovesNoCursor: a store that cannot commit fails the
// backfill's start and a poll with its error; the events cursor, in memory
// and on disk, stays where it was, and nothing is counted as applied. Once
// the store writes again, everything is applied.
func TestFailedCommitMovesNoCursor(t *testing.T) {
	e := newEnv(t, "Customers")
	m := e.openStore()
	now := e.clock.now().Unix()
	e.read.set("Customers", cus("cus_a", now-100))
	e.fake.add("evt_1", "customer.created", now-5, cus("cus_b", now-5), true)
	diskFull := errors.New("disk full")
	m.failCommit = func() error { return diskFull }

	tb := m.tables["customers"]
	if err := m.backfillTable(t.Context(), tb); !errors.Is(err, diskFull) {
		t.Fatalf("backfill with a failing store = %v, want %v", err, diskFull)
	}
	if c := memCursor(m); c != 0 {
		t.Errorf("after a failed backfill start the cursor in memory is %d, want 0 (as on disk)", c)
	}
	if err := m.poll(t.Context()); !errors.Is(err, diskFull) || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("poll with a failing store = %v, want the commit's %v", err, diskFull)
	}
	if c, d := memCursor(m), storedCursor(t, m); c != 0 || d != 0 {
		t.Errorf("after a failed poll cursor = %d in memory, %d on disk; want 0 and 0", c, d)
	}
	if n, st := appliedIDs(t, m), m.Status()[0]; n != 0 || st.EventsApplied != 0 || st.Objects != 0 {
		t.Errorf("after a failed poll: %d applied ids, status %+v; want nothing applied", n, st)
	}

	m.failCommit = nil
	if err := m.backfillTable(t.Context(), tb); err != nil {
		t.Fatal(err)
	}
	if err := m.poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := e.clock.now().Add(-time.Minute).Unix()
	if c, d := memCursor(m), storedCursor(t, m); c != want || d != want {
		t.Errorf("cursor = %d in memory, %d on disk; want now−overlap = %d", c, d, want)
	}
	if got := sortedIDs(all(t, m, "Customers", Query{})); len(got) != 2 || got[0] != "cus_a" || got[1] != "cus_b" {
		t.Errorf("Customers = %v, want [cus_a cus_b]", got)
	}
	if st := m.Status()[0]; st.EventsApplied != 1 || st.Objects != 2 || st.State != StateReady {
		t.Errorf("Status = %+v, want 1 event applied, 2 objects, ready", st)
	}
}
