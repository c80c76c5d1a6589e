package mirror

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stripesql/stripesql/stripeapi"
)

// TestBackfillKeepsAnObjectCreatedInItsFirstSecond: an object created in
// the second the backfill started, after the read passed its place, comes
// only as an event, whose snapshot is dated the start of that second; the
// sweep at the end of the backfill must not take it for one the read did
// not see.
func TestBackfillKeepsAnObjectCreatedInItsFirstSecond(t *testing.T) {
	e := newEnv(t, "Customers")
	e.clock.add(300 * time.Millisecond) // the backfill starts 0.3 s into a second
	sec := e.clock.now().Unix()
	var m *Mirror
	e.cfg.ReadAll = func(ctx context.Context, table string, emit func(stripeapi.Object) error) error {
		if err := emit(jsonObject(cus("cus_old", sec-100))); err != nil {
			return err
		}
		e.clock.add(200 * time.Millisecond)
		return m.applyEvents(ctx, []event{ev("evt_new", "customer.created", sec, cus("cus_new", sec, "name", "new"))})
	}
	m = e.openStore()
	if err := m.backfillTable(t.Context(), m.tables["customers"]); err != nil {
		t.Fatal(err)
	}
	if got := sortedIDs(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_new", "cus_old"}) {
		t.Errorf("after the backfill Customers = %v, want [cus_new cus_old] (cus_new was created in its first second)", got)
	}
	if n := count(t, m, "Customers"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}

	// A second backfill, a second later, that does not list cus_new: it
	// is gone now (its deletion's event may be late), and swept.
	e.clock.add(time.Second)
	e.cfg.ReadAll = e.read.read
	m.cfg.ReadAll = e.read.read
	e.read.set("Customers", cus("cus_old", sec-100))
	if err := m.backfillTable(t.Context(), m.tables["customers"]); err != nil {
		t.Fatal(err)
	}
	if got := sortedIDs(all(t, m, "Customers", Query{})); !slices.Equal(got, []string{"cus_old"}) {
		t.Errorf("after a later backfill without it Customers = %v, want [cus_old]", got)
	}
}
