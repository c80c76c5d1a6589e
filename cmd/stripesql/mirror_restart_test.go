package main

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// The mirror through the real binary: it follows the event stream, is
// killed (SIGKILL) while following, and restarted on the same store; it
// resumes from its last applied event without reading the table again,
// loses no change and applies no event twice. Restarted after the
// emulator has dropped the events since its cursor (retention), it
// backfills the table again.
func TestBinaryMirrorRestart(t *testing.T) {
	emu := emulator.New()
	if _, err := emu.Seed(emulator.Seeding{Customers: 250}); err != nil {
		t.Fatal(err)
	}
	stripe := startFakeStripe(t, emu)
	args := []string{"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", "sk_test_mirrorrestart",
		"--mirror", "Customers", "--mirror-dir", t.TempDir(), "--mirror-interval", "100ms", "--mirror-retention", "100s"}
	ch := &changer{t: t, base: stripe.URL, ids: emu.IDs("customer")}
	before := ch.customerEvents() // seeding may have recorded some

	// First run: backfill, then follow.
	p := startBinary(t, nil, args...)
	db := mirrorDB(t, p)
	waitMirrorState(t, db, "Customers", "ready")
	if n := countLists(emu.Requests()); n == 0 {
		t.Fatalf("ready without listing customers: %v", endpoints(emu.Requests()))
	}
	ch.make(3, 3, 2) // while it follows
	waitMirrorRows(t, db, emu)
	waitEventsApplied(t, db, "Customers", 8)
	ch.make(1, 1, 0) // and kill it while it may be applying these
	p.once.Do(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	ch.make(2, 2, 1) // while it is down

	// Second run, same store: no backfill, every change, none twice.
	emu.ResetRequests()
	p2 := startBinary(t, nil, args...)
	db2 := mirrorDB(t, p2)
	waitMirrorState(t, db2, "Customers", "ready")
	waitMirrorRows(t, db2, emu)
	reqs := emu.Requests()
	if n := countLists(reqs); n != 0 {
		t.Errorf("the restart listed customers again (%d lists): %v", n, endpoints(reqs))
	}
	if !slices.ContainsFunc(reqs, func(r emulator.Request) bool { return r.Path == "/v1/events" }) {
		t.Errorf("the restart never polled /v1/events: %v", endpoints(reqs))
	}
	events := ch.customerEvents() - before
	if events != ch.made {
		t.Errorf("the emulator has %d new customer events for %d changes", events, ch.made)
	}
	waitEventsApplied(t, db2, "Customers", events)
	p2.stop(t)

	// Down longer than the retention: the events since the cursor are
	// gone, so the restart backfills. The mirror's cursor trails by the
	// overlap its full polls re-read (60 s), and moves only with a full
	// poll (every 30 s): a following mirror's cursor is 60 to 90 s old, so
	// with --mirror-retention 100s it never passes it while following,
	// and one down for 41 s always does. The emulator drops events after
	// 1 s, so the changes made while it is down are gone from the stream,
	// as on Stripe after 30 days.
	emu.SetEventVisibility(emulator.EventVisibility{Retention: time.Second})
	ch.make(1, 1, 1) // its events will have expired
	time.Sleep(41 * time.Second)
	if n := ch.customerEvents(); n != 0 {
		t.Fatalf("%d customer events still listed past the retention", n)
	}
	ch.make(1, 0, 0)                                                // a change the event stream still shows
	emu.SetLimits(emulator.Limits{Latency: 200 * time.Millisecond}) // a backfill long enough to be seen
	emu.ResetRequests()
	p3 := startBinary(t, nil, args...)
	db3 := mirrorDB(t, p3)
	// The store says ready until the first poll finds the cursor too old.
	states := waitMirrorState(t, db3, "Customers", "backfilling")
	for _, st := range waitMirrorState(t, db3, "Customers", "ready") {
		if st != states[len(states)-1] {
			states = append(states, st)
		}
	}
	t.Logf("states after a restart past the retention: %v", states)
	if n := countLists(emu.Requests()); n == 0 {
		t.Errorf("no backfill after a restart past the retention: %v", endpoints(emu.Requests()))
	}
	emu.SetLimits(emulator.Limits{})
	waitMirrorRows(t, db3, emu)
}

// changer makes changes at the emulator over HTTP, as another Stripe
// client would: creates, name updates and deletes of seeded customers.
type changer struct {
	t    *testing.T
	base string
	ids  []string // seeded customers not yet updated or deleted
	made int      // changes made, each one event
	n    int
}

func (c *changer) make(creates, updates, deletes int) {
	c.t.Helper()
	for range creates {
		c.call(http.MethodPost, "/v1/customers", url.Values{"name": {c.name()}})
	}
	for range updates {
		c.call(http.MethodPost, "/v1/customers/"+c.take(), url.Values{"name": {c.name()}})
	}
	for range deletes {
		c.call(http.MethodDelete, "/v1/customers/"+c.take(), nil)
	}
}

func (c *changer) name() string {
	c.n++
	return fmt.Sprintf("Changed %d", c.n)
}

func (c *changer) take() string {
	id := c.ids[0]
	c.ids = c.ids[1:]
	return id
}

func (c *changer) call(method, path string, form url.Values) {
	c.t.Helper()
	c.get(method, path, form)
	c.made++
}

func (c *changer) get(method, path string, form url.Values) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_otherclient")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return out
}

// customerEvents counts the emulator's events about customers, newest
// first through every page of GET /v1/events.
func (c *changer) customerEvents() int {
	c.t.Helper()
	n, after := 0, ""
	for {
		q := "/v1/events?limit=100"
		if after != "" {
			q += "&starting_after=" + after
		}
		page := c.get(http.MethodGet, q, nil)
		data, _ := page["data"].([]any)
		for _, d := range data {
			ev, _ := d.(map[string]any)
			after, _ = ev["id"].(string)
			if typ, _ := ev["type"].(string); strings.HasPrefix(typ, "customer.") && strings.Count(typ, ".") == 1 {
				n++
			}
		}
		if page["has_more"] != true || len(data) == 0 {
			return n
		}
	}
}

// mirrorDB connects to the server p announces with sessions that read the
// mirror only (stripe_source = 'mirror').
func mirrorDB(t *testing.T, p *proc) *dbsql.DB {
	t.Helper()
	addr, user, database := connectFrom(t, p.waitLine(t, "mysql -h "))
	db, err := dbsql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/%s?timeout=5s&stripe_source=%%27mirror%%27", user, addr, database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mirrorStatusOf returns the table's Stripe_mirror_<table>_* status
// variables by suffix (state, objects, backfilled, events_applied, lag_ms).
func mirrorStatusOf(t *testing.T, db *dbsql.DB, table string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefix := "Stripe_mirror_" + table + "_"
	rows, err := db.QueryContext(ctx, "SHOW STATUS LIKE '"+prefix+"%'")
	if err != nil {
		t.Fatalf("SHOW STATUS: %v", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, val string
		if err := rows.Scan(&name, &val); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(name, prefix)] = val
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitMirrorState polls the table's state every 10 ms until it is want,
// and returns the distinct states seen in order; a failed state, or 60 s
// without want, fails the test.
func waitMirrorState(t *testing.T, db *dbsql.DB, table, want string) []string {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := mirrorStatusOf(t, db, table)["state"]
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == want {
			return seen
		}
		if strings.HasPrefix(st, "failed") || time.Now().After(deadline) {
			t.Fatalf("mirror of %s: states %v, want %s", table, seen, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEventsApplied waits until the table's events_applied is want: an
// event is counted in the same commit that applies it, but a row can show
// before its event is counted (an object re-read after a same-second
// conflict, say). More than want, or want not reached in 30 s, fails: an
// event applied twice, or one lost.
func waitEventsApplied(t *testing.T, db *dbsql.DB, table string, want int) {
	t.Helper()
	start := time.Now()
	var got string
	for time.Since(start) < 30*time.Second {
		got = mirrorStatusOf(t, db, table)["events_applied"]
		n, err := strconv.Atoi(got)
		if err != nil {
			t.Fatalf("events_applied %q: %v", got, err)
		}
		if n > want {
			t.Fatalf("events applied = %d, more than the %d events: some applied twice", n, want)
		}
		if n == want {
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Logf("events_applied reached %d %s after the rows", want, d.Round(time.Millisecond))
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("events applied = %s after 30 s, want %d", got, want)
}

// waitMirrorRows waits until the customers read through the mirror are
// the emulator's (ids and names), failing with the difference.
func waitMirrorRows(t *testing.T, db *dbsql.DB, emu *emulator.Emulator) {
	t.Helper()
	want := map[string]string{}
	emu.Each("customer", func(c map[string]any) {
		name, _ := c["name"].(string)
		want[c["id"].(string)] = name
	})
	var got map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if got, err = mirrorCustomers(db); err != nil {
			t.Fatal(err)
		}
		if maps.Equal(got, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var diff []string
	for id, n := range want {
		if g, ok := got[id]; !ok || g != n {
			diff = append(diff, fmt.Sprintf("%s: mirror %q (present %v), emulator %q", id, g, ok, n))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			diff = append(diff, id+": in the mirror only")
		}
	}
	slices.Sort(diff)
	t.Fatalf("the mirror's customers differ from the emulator's after 60 s (%d rows, want %d):\n%s", len(got), len(want), strings.Join(diff, "\n"))
}

func mirrorCustomers(db *dbsql.DB) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT Id, Name FROM Customers")
	if err != nil {
		return nil, fmt.Errorf("SELECT through the mirror: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id string
		var name dbsql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name.String
	}
	return out, errors.Join(rows.Err())
}

// listRE matches the requests that read the customers table whole: its
// list, and the lists under test clocks that SELECT * includes.
var listRE = regexp.MustCompile(`^/v1/(customers|test_helpers/test_clocks)$`)

func countLists(reqs []emulator.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == http.MethodGet && listRE.MatchString(r.Path) {
			n++
		}
	}
	return n
}

// endpoints summarizes requests for failure messages.
func endpoints(reqs []emulator.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Method+" "+r.Path]++
	}
	return out
}
