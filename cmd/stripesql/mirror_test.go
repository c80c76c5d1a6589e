package main

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// TestMirrorFlagRefusesTablesItCannotMirror: an unknown name and a table
// whose changes Stripe reports no events for stop the start, naming what
// can be mirrored.
func TestMirrorFlagRefusesTablesItCannotMirror(t *testing.T) {
	const can = "mirrorable tables: Cards, Charges, Customers, Invoices, Prices, Products, Refunds, Subscriptions, TestClocks (or all)"
	cases := []struct{ spec, want string }{
		{"Customers,Nope", "--mirror: no table Nope; " + can},
		{"Quotes", "--mirror: table Quotes cannot be mirrored (Stripe sends no quote.updated: edits of a draft quote come as no event); " + can},
		{" , ", "--mirror: no table named; " + can},
	}
	for _, tc := range cases {
		err := run(t.Context(), []string{"--listen", "127.0.0.1:0", "--mirror", tc.spec}, envOf(nil), io.Discard, io.Discard)
		if err == nil || err.Error() != tc.want {
			t.Errorf("--mirror %q: error %v\n want %q", tc.spec, err, tc.want)
		}
	}
	defs, err := mirrorTables("customer, Invoices,all_wrong", catalog.Builtin())
	if err == nil {
		t.Errorf("a bad name among good ones gave %v", defs)
	}
	defs, err = mirrorTables("customer, Invoices, Customers", catalog.Builtin())
	if err != nil || len(defs) != 2 || defs[0].Name != "Customers" || defs[1].Name != "Invoices" {
		t.Errorf("aliases and repeats: %v, %v; want Customers, Invoices", defs, err)
	}
}

// TestDefaultMirrorDir: under the user's cache directory, one per key and
// account, never showing the key.
func TestDefaultMirrorDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	base, _ := os.UserCacheDir()
	a, err := defaultMirrorDir(serveConfig{apiKey: "sk_test_SECRETKEY1"}, stripeapi.ModeTest)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := defaultMirrorDir(serveConfig{apiKey: "sk_test_SECRETKEY2"}, stripeapi.ModeTest)
	c, _ := defaultMirrorDir(serveConfig{apiKey: "sk_test_SECRETKEY1", account: "acct_1"}, stripeapi.ModeTest)
	if !strings.HasPrefix(a, filepath.Join(base, "stripesql", "mirror", "test-")) || a == b || a == c || !strings.HasSuffix(c, "-acct_1") {
		t.Errorf("dirs %s, %s, %s: want one per key and account under %s/stripesql/mirror", a, b, c, base)
	}
	if strings.Contains(a+b+c, "SECRET") {
		t.Errorf("a mirror dir shows the key: %s %s %s", a, b, c)
	}
}

// TestServeWithMirror: the binary's wiring. The demo's Customers and
// Invoices are backfilled into a temporary store, their state changes are
// logged and shown by SHOW STATUS, reads come from the mirror with no
// Stripe call and equal live reads, and the store goes on shutdown.
func TestServeWithMirror(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--rate", "-1", "--mirror", "Customers,Invoices", "--mirror-interval", "100ms"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	waitLogged(t, r, "mirror: Customers ready")
	waitLogged(t, r, "mirror: Invoices ready")
	dir := regexp.MustCompile(`msg=mirroring .*dir=(\S+)`).FindStringSubmatch(r.stderr.String())
	if dir == nil {
		t.Fatalf("no mirroring line with the store's directory:\n%s", r.stderr)
	}
	if _, err := os.Stat(dir[1]); err != nil {
		t.Fatalf("store directory: %v", err)
	}

	db := openDB(t, addr, user, database)
	db.SetMaxOpenConns(1) // one session: its variables and status
	var name, state string
	if err := db.QueryRow("SHOW STATUS LIKE 'Stripe_mirror_Customers_state'").Scan(&name, &state); err != nil || state != "ready" {
		t.Errorf("Stripe_mirror_Customers_state = %q (%v), want ready", state, err)
	}
	routed := queryString(t, db, "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(Balance), 0)) FROM Customers WHERE Created > '2000-01-01'")
	var calls string
	if err := db.QueryRow("SHOW STATUS LIKE 'Stripe_calls'").Scan(&name, &calls); err != nil || calls != "0" {
		t.Errorf("Stripe_calls after a read through the mirror = %q (%v), want 0", calls, err)
	}
	if _, err := db.Exec("SET stripe_source = 'live'"); err != nil {
		t.Fatal(err)
	}
	live := queryString(t, db, "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(Balance), 0)) FROM Customers WHERE Created > '2000-01-01'")
	if routed != live || strings.HasPrefix(live, "0 ") {
		t.Errorf("count and balance: mirror %q, live %q", routed, live)
	}
	if err := db.QueryRow("SHOW STATUS LIKE 'Stripe_calls'").Scan(&name, &calls); err != nil || calls == "0" {
		t.Errorf("Stripe_calls after a live read = %q (%v), want some", calls, err)
	}

	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir[1]); !os.IsNotExist(err) {
		t.Errorf("the demo's store %s outlived the server: %v", dir[1], err)
	}
}

// waitLogged waits until run has logged s; a backfill takes longer than
// the start-up lines waitFor is for.
func waitLogged(t *testing.T, r *running, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for !strings.Contains(r.stderr.String(), s) {
		select {
		case <-ctx.Done():
			t.Fatalf("logs lack %q:\n%s", s, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestMirrorSetsASoftMemoryLimitUnlessGOMEMLIMITDoes(t *testing.T) {
	saved := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(saved) })

	debug.SetMemoryLimit(math.MaxInt64)
	if _, set := mirrorMemoryLimit(func(string) string { return "1GiB" }); set {
		t.Error("GOMEMLIMIT given, yet the mirror set its own limit")
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT the limit changed to %d", got)
	}
	limit, set := mirrorMemoryLimit(func(string) string { return "" })
	if !set || limit != mirrorMemoryBytes {
		t.Errorf("no GOMEMLIMIT: set %v, limit %d; want %d", set, limit, mirrorMemoryBytes)
	}
	if got := debug.SetMemoryLimit(-1); got != mirrorMemoryBytes {
		t.Errorf("runtime limit %d, want %d", got, mirrorMemoryBytes)
	}
}
