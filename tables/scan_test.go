package tables

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/stripeapi"
)

// These tests read the emulator (over HTTP, as Stripe) and assert the
// rows and the requests of its log; none is timed.

var (
	seedFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	seedTo   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// emulatorEngine seeds an emulator with n customers over 2025 and returns
// an engine on it whose client may go as fast as it likes (unlimited rate:
// the scans' concurrency is then their cap), and the customers' ids.
func emulatorEngine(t *testing.T, n int) (*emulator.Emulator, *sqle.Engine, func() *sql.Context, []string) {
	t.Helper()
	e := emulator.New()
	ids, err := e.Seed(emulator.Seeding{Customers: n, From: seedFrom, To: seedTo})
	if err != nil {
		t.Fatal(err)
	}
	tdb := newTestDB(t, e, stripeapi.Config{Rate: -1})
	return e, tdb.engine, tdb.newCtx, ids["customer"]
}

// customerLists returns the query strings of the log's GET /v1/customers
// requests (test-clock reads aside).
func customerLists(e *emulator.Emulator) []url.Values {
	var out []url.Values
	for _, r := range e.Requests() {
		if r.Method != "GET" || r.Path != "/v1/customers" {
			continue
		}
		q, _ := url.ParseQuery(r.RawQuery)
		if q.Get("test_clock") == "" {
			out = append(out, q)
		}
	}
	return out
}

func TestRangeScanExactUnderConcurrentInserts(t *testing.T) {
	const n = 6_000
	e, engine, newCtx, ids := emulatorEngine(t, n)
	e.ResetRequests()

	// Customers are created all through the scan, now (after every seeded
	// one), as Stripe would.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("cus_new%06d", i)
			e.Put(map[string]any{"object": "customer", "id": id})
			added = append(added, id)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	rows := query(t, engine, newCtx, "SELECT Id FROM Customers")
	close(stop)
	wg.Wait()

	count := map[string]int{}
	for _, r := range rows {
		count[r[0].(string)]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Fatalf("customer %s, older than the scan, returned %d times; want exactly once", id, count[id])
		}
	}
	newSeen := 0
	for _, id := range added {
		switch count[id] {
		case 0:
		case 1:
			newSeen++
		default:
			t.Errorf("customer %s, created during the scan, returned %d times; want at most once", id, count[id])
		}
	}
	if len(rows) != n+newSeen {
		t.Errorf("%d rows, want the %d seeded and the %d new ones seen", len(rows), n, newSeen)
	}
	lists := customerLists(e)
	ranges := 0
	for _, q := range lists {
		if q.Get("created[gt]") != "" && q.Get("starting_after") == "" {
			ranges++
		}
	}
	if ranges < 2 {
		t.Errorf("%d created ranges started; the scan of %d customers did not split", ranges, n)
	}
	// Each range wastes up to its last, partial page. With no latency
	// and no rate limit, idle readers split as often as they may (down to
	// two pages a half), so a 60-page table allows 1.2×; the benchmark's
	// 1,000-page scans stay under 1.05×.
	pages := (n + 99) / 100
	if float64(len(lists)) > 1.2*float64(pages) {
		t.Errorf("%d list requests for %d pages", len(lists), pages)
	}
	t.Logf("%d seeded once each, %d created during the scan (%d seen), %d list requests in %d ranges for %d pages", n, len(added), newSeen, len(lists), ranges+1, pages)
}

func TestRangeScanKeepsBoundsAndFilters(t *testing.T) {
	e, engine, newCtx, _ := emulatorEngine(t, 8_000)
	lo, hi := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	// How many the emulator holds in the window, by a plain read.
	want := 0
	for _, r := range query(t, engine, newCtx, "SELECT Created FROM Customers") {
		c := r[0].(time.Time)
		if !c.Before(lo) && c.Before(hi) {
			want++
		}
	}
	e.ResetRequests()
	rows := query(t, engine, newCtx, "SELECT Id FROM Customers WHERE Created >= '2025-03-01' AND Created < '2025-11-01'")
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r[0].(string)] {
			t.Fatalf("%s returned twice", r[0])
		}
		seen[r[0].(string)] = true
	}
	if len(rows) != want {
		t.Errorf("%d rows, want the emulator's %d", len(rows), want)
	}
	lists := customerLists(e)
	if len(lists) < 4 {
		t.Fatalf("%d list requests: too few to have split", len(lists))
	}
	// The plain read before left statistics of the whole list, so this
	// scan is planned from them: no page alone with the plan's own
	// created[gte] and created[lt], every request a range inside the
	// user's bounds, with created as gt/lte only (the cold path's first
	// pages are rangescan's TestSplitKeepsTheCallersBounds).
	ranges := 0
	for _, q := range lists {
		gt, err1 := strconv.ParseInt(q.Get("created[gt]"), 10, 64)
		lte, err2 := strconv.ParseInt(q.Get("created[lte]"), 10, 64)
		if q.Get("created[gte]") != "" || q.Get("created[lt]") != "" {
			t.Errorf("range request %v repeats the user's bounds beside its own", q)
		}
		if err1 != nil || gt < lo.Unix()-1 {
			t.Errorf("range request %v starts below the user's created >= %d", q, lo.Unix())
		}
		if err2 == nil && lte > hi.Unix()-1 {
			t.Errorf("range request %v ends above the user's created < %d", q, hi.Unix())
		}
		if q.Get("limit") != "100" {
			t.Errorf("range request %v: want limit=100", q)
		}
		if q.Get("starting_after") == "" {
			ranges++
		}
	}
	if ranges < 2 {
		t.Errorf("%d ranges: the scan did not split", ranges)
	}
}

func TestSmallTableIsNotSplit(t *testing.T) {
	e, engine, newCtx, ids := emulatorEngine(t, 250)
	e.ResetRequests()
	rows := query(t, engine, newCtx, "SELECT Id FROM Customers")
	if len(rows) != len(ids) {
		t.Errorf("%d rows, want %d", len(rows), len(ids))
	}
	var got []string
	for _, q := range customerLists(e) {
		got = append(got, q.Encode())
	}
	// Three pages on one cursor, exactly as a sequential read.
	want := []string{"limit=100", "limit=100&starting_after=" + ids[99], "limit=100&starting_after=" + ids[199]}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n %s\nwant:\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
}
